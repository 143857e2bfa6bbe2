"""The integrator contract of API.md for leads: outcomes, normalisation, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import api_key_revoke
from leads.models import IntakeRecord, Lead, LeadSubmission
from tests.conftest import add_member, client_with_scopes
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def post(client: Any, path: str, body: Any, **headers: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def counts(created) -> tuple[int, int]:
    with tenant_scope(created.tenant.id):
        return Lead.objects.count(), IntakeRecord.objects.count()


# --- outcomes -------------------------------------------------------------------------------


def test_create_normalises_contact_fields(key_client):
    response = post(
        key_client, "/api/v1/leads",
        {"name": " 张三 ", "mobile": "１３９ １２３４ ０５８６", "email": "Zhang.San@Fenyang.COM", "company": "北京纷扬科技有限公司"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created"
    lead = body["lead"]
    assert lead["name"] == "张三"
    assert lead["mobile"] == "+8613912340586"
    assert lead["email"] == "zhang.san@fenyang.com"
    assert (lead["province"], lead["city"]) == ("江苏省", "常州市")  # 手机号属地
    assert lead["status"] == "pending" and lead["owner"] is None
    assert set(lead["score"]) >= {"total", "static", "dynamic", "smart", "grade", "level", "group", "tier", "mature"}


def test_invisible_characters_are_dropped_and_do_not_hide_a_duplicate(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司", owner_id=rep.user_id)
    response = post(key_client, "/api/v1/leads", {
        "name": "王\u200b萱强\x07", "company": "合汇\ufeff软件", "mobile": "15186570704", "notes": "第一行\n第二\x1b行",
    })
    assert response.status_code == 201
    lead = response.json()["lead"]
    assert (lead["name"], lead["company"], lead["notes"]) == ("王萱强", "合汇软件", "第一行\n第二行")
    assert lead["duplicate_of"] == first.id


def test_given_province_is_kept_over_the_mobile_region(key_client):
    response = post(key_client, "/api/v1/leads", {"mobile": "13912340586", "province": "广东省", "city": "深圳市"})
    assert (response.json()["lead"]["province"], response.json()["lead"]["city"]) == ("广东省", "深圳市")


def test_same_mobile_in_another_format_is_collected_into_the_first_lead(key_client, tenant_a):
    first = post(key_client, "/api/v1/leads", {"name": "张三", "mobile": "13912340586"}).json()["lead"]
    second = post(key_client, "/api/v1/leads", {"name": "张三", "mobile": "+86 139-1234-0586", "source": "抖音"})
    assert second.status_code == 200
    assert second.json()["outcome"] == "merged"
    assert second.json()["lead"]["id"] == first["id"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1
        submission = LeadSubmission.objects.get()
        assert submission.lead_id == first["id"] and submission.payload["source"] == "抖音"


def test_same_email_in_another_case_is_collected(key_client):
    first = post(key_client, "/api/v1/leads", {"email": "a144@163.com"}).json()["lead"]
    second = post(key_client, "/api/v1/leads", {"email": "A144@163.COM", "name": "林刚"}).json()
    assert second["outcome"] == "merged" and second["lead"]["id"] == first["id"]


def test_same_company_written_differently_with_same_contact_is_tagged_and_routed(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司", owner_id=rep.user_id)
    response = post(key_client, "/api/v1/leads", {"name": "王萱强", "company": "合汇软件", "mobile": "15186570704"})
    assert response.status_code == 201
    lead = response.json()["lead"]
    assert lead["duplicate_of"] == first.id
    assert lead["owner"] == rep.user_id


def test_external_id_and_source_upsert_updates_the_lead(key_client):
    body = {"external_id": "crm-42", "source": "官网", "name": "旧名字", "mobile": "13712345670"}
    created = post(key_client, "/api/v1/leads", body).json()["lead"]
    response = post(key_client, "/api/v1/leads", {**body, "name": "新名字", "title": "总经理"})
    assert response.status_code == 200
    assert response.json()["outcome"] == "updated"
    assert response.json()["lead"]["id"] == created["id"]
    assert response.json()["lead"]["name"] == "新名字" and response.json()["lead"]["title"] == "总经理"


def test_same_external_id_from_another_source_is_another_lead(key_client):
    post(key_client, "/api/v1/leads", {"external_id": "x1", "source": "官网", "mobile": "13712345671"})
    response = post(key_client, "/api/v1/leads", {"external_id": "x1", "source": "抖音", "mobile": "13712345672"})
    assert response.json()["outcome"] == "created"


@pytest.mark.parametrize(
    ("payload", "reasons"),
    [
        ({"name": "没有联系方式"}, ["no_contact"]),
        ({"mobile": "13800000000"}, ["invalid.mobile"]),
        ({"mobile": "12345678901"}, ["invalid.mobile"]),
        ({"mobile": "1391234"}, ["invalid.mobile"]),
        ({"email": "not-an-email@"}, ["invalid.email"]),
        ({"mobile": "13912340586", "notes": "可以代开发票"}, ["sensitive_word"]),
    ],
)
def test_rejected_submissions_are_quarantined_with_reasons(key_client, tenant_a, payload, reasons):
    response = post(key_client, "/api/v1/leads", payload)
    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "quarantined" and body["reasons"] == reasons
    with tenant_scope(tenant_a.tenant.id):
        record = IntakeRecord.objects.get(id=body["intake_id"])
        assert record.payload == payload and record.reasons == reasons
        assert Lead.objects.count() == 0


# --- bulk -----------------------------------------------------------------------------------


def test_bulk_reports_each_item_and_one_bad_item_fails_no_other(key_client, tenant_a):
    leads = [
        {"name": "甲", "mobile": "13705281643"},
        {"name": 7},  # wrong type
        {"name": "乙"},  # no contact
        {"name": "甲", "mobile": "137 0528 1643"},  # same mobile as item 0, in the same batch
        {"name": "丙", "email": "c@corp.cn"},
    ]
    response = post(key_client, "/api/v1/leads/bulk", {"leads": leads})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["outcome"] for r in results] == ["created", "invalid", "quarantined", "merged", "created"]
    assert "name" in results[1]["errors"]
    assert results[3]["lead"]["id"] == results[0]["lead"]["id"]
    assert counts(tenant_a) == (2, 1)


def test_bulk_items_with_the_same_new_external_id_update_the_lead_the_first_one_created(key_client, tenant_a):
    leads = [
        {"external_id": "crm-7", "source": "官网", "name": "旧名字", "mobile": "13705282216"},
        {"external_id": "crm-7", "source": "官网", "name": "新名字", "title": "总经理", "mobile": "13705282216"},
        {"external_id": "crm-7", "source": "抖音", "mobile": "13705283317"},  # another source: another lead
        {"external_id": "crm-7", "source": "官网", "company": "合汇软件", "mobile": "13705285519"},
    ]
    response = post(key_client, "/api/v1/leads/bulk", {"leads": leads})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "updated", "created", "updated"]
    first_id = results[0]["lead"]["id"]
    assert results[1]["lead"]["id"] == first_id and results[3]["lead"]["id"] == first_id
    assert results[2]["lead"]["id"] != first_id
    assert counts(tenant_a) == (2, 0)
    # as if the items had come in separate calls: each later one changes only what it sends
    lead = key_client.get(f"/api/v1/leads/{first_id}").json()
    assert (lead["name"], lead["title"], lead["company"]) == ("新名字", "总经理", "合汇软件")
    assert lead["mobile"] == "+8613705285519"
    for query in ("新名字", "合汇软件", "13705285519"):
        found = key_client.get("/api/v1/leads", {"q": query}).json()["results"]
        assert [row["id"] for row in found] == [first_id], query


@pytest.mark.parametrize(
    "leads",
    [
        [None, {"name": "甲", "mobile": "13705284413"}, "a string", 42, ["a", "list"], None, {"email": "d@corp.cn"}],
        [{"name": "甲", "mobile": "13705284413"}, None, None, {"email": "d@corp.cn"}, True, {}],
    ],
)
def test_bulk_null_and_non_object_items_fail_only_themselves(key_client, tenant_a, leads):
    response = post(key_client, "/api/v1/leads/bulk", {"leads": leads})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(leads)))
    for item, result in zip(leads, results, strict=True):
        if isinstance(item, dict) and item:
            assert result["outcome"] == "created"
        elif isinstance(item, dict):
            assert result["outcome"] == "quarantined"  # an empty object is a lead without contact
        else:
            assert result["outcome"] == "invalid"
            assert result["errors"] == {"non_field_errors": [result["errors"]["non_field_errors"][0]]}
            assert "JSON object" in result["errors"]["non_field_errors"][0]
    assert counts(tenant_a)[0] == 2


def test_bulk_of_only_nulls_reports_each(key_client, tenant_a):
    response = post(key_client, "/api/v1/leads/bulk", {"leads": [None, None]})
    assert response.status_code == 200
    assert [r["outcome"] for r in response.json()["results"]] == ["invalid", "invalid"]
    assert counts(tenant_a) == (0, 0)


def test_bulk_over_1000_is_refused_whole(key_client, tenant_a):
    leads = [{"mobile": f"1370000{i:04d}"} for i in range(1001)]
    response = post(key_client, "/api/v1/leads/bulk", {"leads": leads})
    assert response.status_code == 400
    assert "leads" in response.json()["errors"]
    assert counts(tenant_a) == (0, 0)


# --- reading --------------------------------------------------------------------------------


def test_get_one_and_other_tenants_lead_is_404(key_client, tenant_a, tenant_b):
    own = lead_make(tenant_a)
    foreign = lead_make(tenant_b)
    assert key_client.get(f"/api/v1/leads/{own.id}").json()["id"] == own.id
    for path in (f"/api/v1/leads/{foreign.id}", f"/api/v1/leads/{foreign.id}/score"):
        response = key_client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


def test_list_shows_only_own_tenants_leads(key_client, tenant_a, tenant_b):
    own = lead_make(tenant_a)
    lead_make(tenant_b)
    assert [row["id"] for row in key_client.get("/api/v1/leads").json()["results"]] == [own.id]


def test_list_filters(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    hot = lead_make(tenant_a, company="星云软件", source="官网", status="following", score_total=88, grade="A", tier="hot",
                    owner_id=rep.user_id)
    cold = lead_make(tenant_a, company="远山物流", source="抖音", score_total=10)

    def ids(query: str) -> list[int]:
        response = key_client.get(f"/api/v1/leads?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=following") == [hot.id]
    assert ids("grade=A") == [hot.id]
    assert ids("tier=cold") == [cold.id]
    assert ids(f"owner={rep.user_id}") == [hot.id]
    assert ids("source=抖音") == [cold.id]
    assert ids("min_score=50") == [hot.id]
    assert ids("max_score=50") == [cold.id]
    assert ids("q=星云") == [hot.id]
    assert ids("ordering=-score") == [hot.id, cold.id]
    assert ids("ordering=score") == [cold.id, hot.id]
    later = timezone.now().isoformat().replace("+00:00", "Z")
    assert ids(f"created_before={later}") == [cold.id, hot.id]
    assert ids(f"created_after={later}") == []


def test_list_cursor_pagination_walks_every_lead_once(key_client, tenant_a):
    made = [lead_make(tenant_a).id for _ in range(7)]
    seen: list[int] = []
    url = "/api/v1/leads?page_size=3"
    while url:
        body = key_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted(made, reverse=True)


def test_rep_session_sees_only_own_leads(api_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    mine = lead_make(tenant_a, owner_id=rep.user_id)
    other = lead_make(tenant_a)
    api_client.force_login(rep.user)
    assert [row["id"] for row in api_client.get("/api/v1/leads").json()["results"]] == [mine.id]
    assert api_client.get(f"/api/v1/leads/{other.id}").status_code == 404


def test_read_only_member_cannot_post(api_client, tenant_a):
    viewer = add_member(tenant_a, "viewer@tenant-a.test", Role.READ_ONLY)
    api_client.force_login(viewer.user)
    response = post(api_client, "/api/v1/leads", {"mobile": "13912340586"})
    assert response.status_code == 403
    assert counts(tenant_a) == (0, 0)


# --- what a caller that may not read a lead is told ----------------------------------------


def test_a_key_without_read_scope_learns_only_the_outcome_and_the_lead_id(tenant_a):
    existing = lead_make(tenant_a, name="王经理", company="合汇软件", mobile="13912340586")
    writer = client_with_scopes(tenant_a, ["leads:write"])

    merged = post(writer, "/api/v1/leads", {"mobile": "+86 139 1234 0586"})  # a guessed mobile
    assert merged.status_code == 200
    assert merged.json() == {"outcome": "merged", "lead": {"id": existing.id}}

    created = post(writer, "/api/v1/leads", {"external_id": "w-1", "source": "官网", "mobile": "13712340000"})
    assert created.status_code == 201
    new_id = created.json()["lead"]["id"]
    assert created.json() == {"outcome": "created", "lead": {"id": new_id}}
    updated = post(writer, "/api/v1/leads", {"external_id": "w-1", "source": "官网", "name": "新", "mobile": "13712340000"})
    assert updated.json() == {"outcome": "updated", "lead": {"id": new_id}}

    quarantined = post(writer, "/api/v1/leads", {"name": "无联系方式"})
    assert quarantined.status_code == 202 and set(quarantined.json()) == {"outcome", "intake_id", "reasons"}

    bulk = post(writer, "/api/v1/leads/bulk", {"leads": [{"mobile": "13912340586"}, {"email": "x@corp.cn"}, None]})
    results = bulk.json()["results"]
    assert results[0] == {"index": 0, "outcome": "merged", "lead": {"id": existing.id}}
    assert results[1] == {"index": 1, "outcome": "created", "lead": {"id": results[1]["lead"]["id"]}}
    assert results[2]["outcome"] == "invalid"


def test_a_key_with_read_scope_gets_the_whole_lead(key_client, tenant_a):
    existing = lead_make(tenant_a, name="王经理", mobile="13912340586")
    body = post(key_client, "/api/v1/leads", {"mobile": "13912340586"}).json()
    assert body["outcome"] == "merged" and body["lead"]["name"] == "王经理" and body["lead"]["id"] == existing.id
    bulk = post(key_client, "/api/v1/leads/bulk", {"leads": [{"mobile": "13912340586"}]}).json()
    assert bulk["results"][0]["lead"]["name"] == "王经理"


def test_a_rep_session_sees_the_whole_lead_only_when_it_is_theirs(api_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    manager = add_member(tenant_a, "manager@tenant-a.test", Role.MANAGER)
    theirs = lead_make(tenant_a, name="自己的", owner_id=rep.user_id)
    others = lead_make(tenant_a, name="别人的", owner_id=manager.user_id)
    api_client.force_login(rep.user)
    assert post(api_client, "/api/v1/leads", {"mobile": theirs.mobile}).json()["lead"]["name"] == "自己的"
    assert post(api_client, "/api/v1/leads", {"mobile": others.mobile}).json() == {
        "outcome": "merged", "lead": {"id": others.id}
    }
    api_client.force_login(manager.user)
    assert post(api_client, "/api/v1/leads", {"mobile": theirs.mobile}).json()["lead"]["name"] == "自己的"


# --- bad input: a clear problem+json and nothing written ------------------------------------


BAD_INPUTS = [
    ("malformed json", "/api/v1/leads", "{not json", 400, None),
    ("wrong type", "/api/v1/leads", {"name": ["张三"], "mobile": "13912340586"}, 400, "name"),
    ("number as text", "/api/v1/leads", {"mobile": 13912340586}, 400, "mobile"),
    ("unknown field", "/api/v1/leads", {"moblie": "13912340586"}, 400, "moblie"),
    ("unknown custom field", "/api/v1/leads", {"mobile": "13912340586", "custom": {"budget": 1}}, 400, "custom.budget"),
    ("custom not an object", "/api/v1/leads", {"mobile": "13912340586", "custom": [1]}, 400, "custom"),
    ("too long", "/api/v1/leads", {"mobile": "13912340586", "name": "张" * 101}, 400, "name"),
    ("negative revenue", "/api/v1/leads", {"mobile": "13912340586", "annual_revenue": -1}, 400, "annual_revenue"),
    ("not an object", "/api/v1/leads", ["13912340586"], 400, None),
    ("bulk not a list", "/api/v1/leads/bulk", {"leads": {"mobile": "13912340586"}}, 400, "leads"),
    ("bulk empty", "/api/v1/leads/bulk", {"leads": []}, 400, "leads"),
]


@pytest.mark.parametrize(("case", "path", "body", "status", "field"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_problem_json_and_writes_nothing(key_client, tenant_a, case, path, body, status, field):
    data = body if isinstance(body, str) else json.dumps(body)
    response = key_client.post(path, data=data, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem) and problem["status"] == status
    if field:
        assert field in problem["errors"], problem
        assert all(isinstance(m, str) and m for m in problem["errors"][field])
    assert counts(tenant_a) == (0, 0)


def test_oversize_single_body_is_413(key_client, tenant_a):
    body = json.dumps({"mobile": "13912340586", "notes": "x" * 1_000_100})
    response = key_client.post("/api/v1/leads", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "1000000" in response.json()["detail"]
    assert counts(tenant_a) == (0, 0)


def test_oversize_bulk_body_is_413(key_client, tenant_a):
    leads = [{"mobile": "13912340586", "notes": "x" * 11_000}] * 1000
    response = key_client.post("/api/v1/leads/bulk", data=json.dumps({"leads": leads}), content_type="application/json")
    assert response.status_code == 413
    assert counts(tenant_a) == (0, 0)


def test_form_encoded_body_is_415(key_client, tenant_a):
    response = key_client.post("/api/v1/leads", data={"mobile": "13912340586"})
    assert response.status_code == 415
    assert counts(tenant_a) == (0, 0)


def test_missing_key_is_401(api_client, tenant_a):
    response = post(api_client, "/api/v1/leads", {"mobile": "13912340586"})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert counts(tenant_a) == (0, 0)


@pytest.mark.parametrize("header", ["Bearer lc_000000000000_nope", "Bearer garbage", "Bearer "])
def test_wrong_key_is_401(api_client, tenant_a, header):
    response = post(api_client, "/api/v1/leads", {"mobile": "13912340586"}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert counts(tenant_a) == (0, 0)


def test_revoked_key_is_401_with_reason(key_client, tenant_a):
    api_key_revoke(tenant=tenant_a.tenant, api_key_id=tenant_a.api_key.api_key.id)
    response = post(key_client, "/api/v1/leads", {"mobile": "13912340586"})
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert counts(tenant_a) == (0, 0)


def test_key_without_scope_is_403(tenant_a):
    reader = client_with_scopes(tenant_a, ["read"])
    response = post(reader, "/api/v1/leads", {"mobile": "13912340586"})
    assert response.status_code == 403
    assert "leads:write" in response.json()["detail"]
    writer = client_with_scopes(tenant_a, ["leads:write"])
    assert writer.get("/api/v1/leads").status_code == 403
    assert counts(tenant_a) == (0, 0)


@pytest.mark.parametrize("query", ["page_size=1000000", "page_size=0", "page_size=abc", "ordering=name", "status=nope",
                                   "created_after=yesterday", "min_score=high"])
def test_bad_list_parameters_are_400(key_client, query):
    response = key_client.get(f"/api/v1/leads?{query}")
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.parametrize("path", ["/api/v1/leads/abc", "/api/v1/leads/99999999999999999999", "/api/v1/leads/0"])
def test_nonexistent_lead_ids_are_404(key_client, path):
    assert key_client.get(path).status_code == 404


def test_bulk_links_a_company_duplicate_to_a_lead_created_earlier_in_the_same_batch(key_client, tenant_a):
    leads = [
        {"name": "王萱强", "company": "天津合汇软件股份有限公司", "mobile": "15241586834"},
        {"name": "王萱强", "company": "合汇软件", "mobile": "15186570704"},
    ]
    results = post(key_client, "/api/v1/leads/bulk", {"leads": leads}).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "created"]
    with tenant_scope(tenant_a.tenant.id):
        second = Lead.objects.get(id=results[1]["lead"]["id"])
    assert second.duplicate_of_id == results[0]["lead"]["id"]


def test_bulk_matches_company_and_name_as_pairs_not_across_the_batch(key_client, tenant_a):
    # 王萱强 @ 合汇 and 李娜 @ 鼎安 exist; 李娜 @ 合汇 is someone else and must not be tagged.
    lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司")
    known = lead_make(tenant_a, name="李娜", company="北京鼎安餐饮管理有限公司")
    leads = [
        {"name": "李娜", "company": "合汇软件", "mobile": "15241586834"},
        {"name": "李娜", "company": "鼎安餐饮管理", "mobile": "15186570704"},
    ]
    results = post(key_client, "/api/v1/leads/bulk", {"leads": leads}).json()["results"]
    assert [r["lead"]["duplicate_of"] for r in results] == [None, known.id]


def test_company_duplicate_points_at_the_oldest_of_many_matches(key_client, tenant_a):
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司")
    for _ in range(3):
        lead_make(tenant_a, name="王萱强", company="合汇软件")
    response = post(key_client, "/api/v1/leads", {"name": "王萱强", "company": "合汇软件有限公司", "mobile": "15186570704"})
    assert response.json()["lead"]["duplicate_of"] == first.id


def test_custom_fields_are_validated_against_the_tenants_definitions(key_client, tenant_a):
    from leads.models import CustomField

    with tenant_scope(tenant_a.tenant.id):
        CustomField.objects.create(tenant=tenant_a.tenant, key="budget", label="预算", field_type="number")
        CustomField.objects.create(
            tenant=tenant_a.tenant, key="stage", label="阶段", field_type="choice", choices=["新建", "试用"]
        )
    ok = post(key_client, "/api/v1/leads", {"mobile": "13912340586", "custom": {"budget": 5000, "stage": "试用"}})
    assert ok.status_code == 201 and ok.json()["lead"]["custom"] == {"budget": 5000, "stage": "试用"}
    leads = [{"mobile": "13712340001", "custom": {"budget": "很多"}}, {"mobile": "13712340002", "custom": {"stage": "x"}}]
    results = post(key_client, "/api/v1/leads/bulk", {"leads": leads}).json()["results"]
    assert results[0]["errors"] == {"custom.budget": ["Must be a number."]}
    assert "custom.stage" in results[1]["errors"]
    assert counts(tenant_a) == (1, 0)


@pytest.mark.parametrize("body", ["null", '"text"', "42"])
def test_a_body_that_is_not_an_object_is_400(key_client, tenant_a, body):
    response = key_client.post("/api/v1/leads", data=body, content_type="application/json")
    assert response.status_code == 400
    assert counts(tenant_a) == (0, 0)


def test_score_ordered_pages_with_equal_scores_walk_every_lead_once_both_ways(key_client, tenant_a):
    made = {lead_make(tenant_a).id for _ in range(7)}  # all score 0: ties broken by id
    seen: list[int] = []
    url = "/api/v1/leads?page_size=3&ordering=-score"
    pages = []
    while url:
        body = key_client.get(url).json()
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made) and len(seen) == len(made)
    back = key_client.get(pages[-1]["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in pages[-2]["results"]]
