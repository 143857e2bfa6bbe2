"""The cleansing-rule endpoints: /api/v1/blacklist, /api/v1/sensitive-words,
/api/v1/cleansing-policy. Shapes, problem+json errors, scopes and roles, other tenants' 404s."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.cleansing import clear_matcher_caches
from leads.cleansing_services import blacklist_entry_add, sensitive_word_add
from leads.models import BlacklistEntry, CleansingPolicy, SensitiveWord
from tests.conftest import add_member, client_with_scopes
from tests.factories import next_mobile

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_matchers() -> None:
    clear_matcher_caches()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    return body


# --- blacklist --------------------------------------------------------------------------------


def test_adding_an_entry_answers_201_with_the_entry_and_it_applies_to_the_next_lead(key_client):
    response = key_client.post("/api/v1/blacklist", {"kind": "phone", "value": "139 5281 6437", "note": "骚扰"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("kind", "value", "original", "note", "reason")} == {
        "kind": "phone", "value": "+8613952816437", "original": "139 5281 6437", "note": "骚扰", "reason": "blacklist.phone",
    }
    assert isinstance(body["id"], int) and body["created_at"]
    lead = key_client.post("/api/v1/leads", {"name": "张伟", "mobile": "13952816437"}, format="json")
    assert (lead.status_code, lead.json()["reasons"]) == (202, ["blacklist.phone"])


def test_an_entry_that_is_not_a_phone_says_what_to_fix_in_errors_value(key_client):
    body = problem(key_client.post("/api/v1/blacklist", {"kind": "phone", "value": "张三的电话"}, format="json"), 400)
    (message,) = body["errors"]["value"]
    assert message.startswith("'张三的电话' is not a phone number: give a mobile like 13812345678")
    body = problem(key_client.post("/api/v1/blacklist", {"kind": "email", "value": "zhang.san#qq.com"}, format="json"), 400)
    assert "is not an e-mail address" in body["errors"]["value"][0]


def test_an_unknown_kind_names_the_kinds(key_client):
    body = problem(key_client.post("/api/v1/blacklist", {"kind": "mobile", "value": "13952816437"}, format="json"), 400)
    assert body["errors"]["kind"] == [
        "Unknown kind 'mobile'. Use one of: phone, email, email_domain, company, keyword."
    ]


def test_a_missing_or_empty_value_and_an_empty_body_are_400s(key_client):
    assert "value" in problem(key_client.post("/api/v1/blacklist", {"kind": "phone"}, format="json"), 400)["errors"]
    body = problem(key_client.post("/api/v1/blacklist", {"kind": "phone", "value": ""}, format="json"), 400)
    assert body["errors"]["value"] == ["Give the phone number, e-mail address, domain, company or keyword to block."]
    problem(key_client.post("/api/v1/blacklist", content_type="application/json"), 400)


def test_a_duplicate_entry_is_a_409_naming_the_entry_there(key_client):
    first = key_client.post("/api/v1/blacklist", {"kind": "email_domain", "value": "spam.cn"}, format="json").json()
    body = problem(key_client.post("/api/v1/blacklist", {"kind": "email_domain", "value": "@SPAM.CN"}, format="json"), 409)
    assert body["existing_id"] == first["id"]
    assert "already on the blacklist" in body["detail"] and body["errors"]["value"] == [body["detail"]]


def test_the_list_pages_with_a_cursor_and_filters_by_kind_and_q(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        for i in range(5):
            blacklist_entry_add(tenant=tenant_a.tenant, kind="keyword", value=f"竞品{i}号", note="季度复盘")
        blacklist_entry_add(tenant=tenant_a.tenant, kind="email_domain", value="spam.cn")
    first = key_client.get("/api/v1/blacklist", {"page_size": 4}).json()
    assert set(first) == {"next", "previous", "results"} and len(first["results"]) == 4
    assert first["results"][0]["value"] == "spam.cn"  # newest first
    second = key_client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert [row["kind"] for row in key_client.get("/api/v1/blacklist", {"kind": "email_domain"}).json()["results"]] == ["email_domain"]
    assert len(key_client.get("/api/v1/blacklist", {"q": "复盘"}).json()["results"]) == 5
    assert problem(key_client.get("/api/v1/blacklist", {"kind": "mobile"}), 400)["errors"]["kind"]
    assert problem(key_client.get("/api/v1/blacklist", {"page_size": 0}), 400)["errors"]["page_size"]
    assert problem(key_client.get("/api/v1/blacklist", {"cursor": "garbage"}), 400)["errors"]["cursor"]


def test_get_and_delete_one_entry_and_another_tenants_is_404(key_client, tenant_a, tenant_b):
    with tenant_scope(tenant_a.tenant.id):
        own = blacklist_entry_add(tenant=tenant_a.tenant, kind="keyword", value="竞品")
    with tenant_scope(tenant_b.tenant.id):
        foreign = blacklist_entry_add(tenant=tenant_b.tenant, kind="keyword", value="竞品")
    assert key_client.get(f"/api/v1/blacklist/{own.id}").json()["value"] == "竞品"
    problem(key_client.get(f"/api/v1/blacklist/{foreign.id}"), 404)
    problem(key_client.delete(f"/api/v1/blacklist/{foreign.id}"), 404)
    with tenant_scope(tenant_b.tenant.id):
        assert BlacklistEntry.objects.count() == 1
    response = key_client.delete(f"/api/v1/blacklist/{own.id}")
    assert response.status_code == 204 and response.content == b""
    problem(key_client.delete(f"/api/v1/blacklist/{own.id}"), 404)
    assert key_client.get("/api/v1/blacklist").json()["results"] == []
    assert key_client.get(f"/api/v1/blacklist/{foreign.id}").status_code == 404
    assert key_client.get("/api/v1/blacklist/not-a-number").status_code == 404


def upload(content: str, name: str = "list.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(encoding), content_type="text/csv")


def test_import_reports_added_duplicates_and_refused_lines(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        blacklist_entry_add(tenant=tenant_a.tenant, kind="email_domain", value="spam.cn")
    data = "手机,13952816437\n域名,spam.cn\n手机,12345\n公司,北京纷扬科技有限公司\n"
    refused = key_client.post("/api/v1/blacklist/import", {"file": upload(data, encoding="gbk")}, format="multipart")
    body = problem(refused, 400)
    assert body["errors"]["file"] == [body["detail"]] and "nothing was imported" in body["detail"]
    assert body["refused"] == [{"line": 3, "text": "手机,12345", "message": body["refused"][0]["message"]}]
    assert "is not a phone number" in body["refused"][0]["message"]
    with tenant_scope(tenant_a.tenant.id):
        assert BlacklistEntry.objects.count() == 1
    response = key_client.post(
        "/api/v1/blacklist/import", {"file": upload(data, encoding="gbk"), "skip_invalid": "true", "note": "名单"},
        format="multipart",
    )
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("added", "duplicates", "refused_count", "encoding")} == {
        "added": 2, "duplicates": 1, "refused_count": 1, "encoding": "gb18030",
    }
    assert [line["line"] for line in body["refused"]] == [3]


def test_import_of_a_file_that_is_not_text_or_without_a_file(key_client):
    body = problem(key_client.post("/api/v1/blacklist/import", {"file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04\x00\x00binary")}, format="multipart"), 400)
    assert "The file is not text" in body["detail"] and body["refused"] == []
    assert "file" in problem(key_client.post("/api/v1/blacklist/import", {"kind": "phone"}, format="multipart"), 400)["errors"]
    problem(key_client.post("/api/v1/blacklist/import", {"file": "x"}, format="json"), 415)


def test_an_import_retried_with_its_idempotency_key_is_answered_once(key_client, tenant_a):
    def send():
        return key_client.post(
            "/api/v1/blacklist/import", {"file": upload("13952816437\nspam.cn\n")}, format="multipart",
            headers={"Idempotency-Key": "import-2025-03"},
        )

    first, again = send(), send()
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    with tenant_scope(tenant_a.tenant.id):
        assert BlacklistEntry.objects.count() == 2


# --- sensitive words and the policy -----------------------------------------------------------


def test_sensitive_words_create_list_get_delete(key_client, tenant_a, tenant_b):
    response = key_client.post("/api/v1/sensitive-words", {"word": "某某竞品"}, format="json")
    assert response.status_code == 201
    word = response.json()
    assert {key: word[key] for key in ("word", "original", "category")} == {"word": "某某竞品", "original": "某某竞品", "category": "custom"}
    assert key_client.post("/api/v1/leads", {"mobile": next_mobile(), "company": "某某竞品"}, format="json").json()["reasons"] == ["sensitive_word"]
    problem(key_client.post("/api/v1/sensitive-words", {"word": "某某竞品"}, format="json"), 409)
    assert "too short" in problem(key_client.post("/api/v1/sensitive-words", {"word": "赌"}, format="json"), 400)["errors"]["word"][0]
    assert problem(key_client.post("/api/v1/sensitive-words", {"word": "赌场大全", "category": "x"}, format="json"), 400)["errors"]["category"]
    key_client.post("/api/v1/sensitive-words", {"word": "特色赌场", "category": "allow"}, format="json")
    assert [w["word"] for w in key_client.get("/api/v1/sensitive-words", {"category": "allow"}).json()["results"]] == ["特色赌场"]
    assert [w["word"] for w in key_client.get("/api/v1/sensitive-words", {"q": "竞品"}).json()["results"]] == ["某某竞品"]
    with tenant_scope(tenant_b.tenant.id):
        foreign = sensitive_word_add(tenant=tenant_b.tenant, word="外人的词")
    problem(key_client.get(f"/api/v1/sensitive-words/{foreign.id}"), 404)
    problem(key_client.delete(f"/api/v1/sensitive-words/{foreign.id}"), 404)
    assert key_client.delete(f"/api/v1/sensitive-words/{word['id']}").status_code == 204
    with tenant_scope(tenant_a.tenant.id):
        assert list(SensitiveWord.objects.values_list("word", flat=True)) == ["特色赌场"]


def test_sensitive_word_import(key_client):
    response = key_client.post(
        "/api/v1/sensitive-words/import", {"file": upload("竞品甲\n赌博,网上赌场\n竞品甲\n", "words.txt"), "category": "custom"},
        format="multipart",
    )
    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("added", "duplicates", "refused_count")} == {"added": 2, "duplicates": 1, "refused_count": 0}


def test_the_policy_reads_and_changes_and_flag_mode_tags_leads(key_client, tenant_a):
    policy = key_client.get("/api/v1/cleansing-policy").json()
    assert policy == {
        "sensitive_action": "quarantine", "use_builtin_words": True, "flag_tag": "敏感词", "version": 0,
        "updated_at": policy["updated_at"],
    }
    changed = key_client.patch("/api/v1/cleansing-policy", {"sensitive_action": "flag"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["sensitive_action"], changed.json()["version"]) == ("flag", 1)
    lead = key_client.post("/api/v1/leads", {"mobile": next_mobile(), "notes": "可代开发票"}, format="json")
    assert lead.status_code == 201 and lead.json()["lead"]["tags"] == ["敏感词"]
    assert "sensitive_action" in problem(key_client.patch("/api/v1/cleansing-policy", {"sensitive_action": "drop"}, format="json"), 400)["errors"]
    assert "non_field_errors" in problem(key_client.patch("/api/v1/cleansing-policy", {}, format="json"), 400)["errors"]
    problem(key_client.patch("/api/v1/cleansing-policy", content_type="application/json"), 400)
    assert key_client.post("/api/v1/cleansing-policy", {}, format="json").status_code == 405
    with tenant_scope(tenant_a.tenant.id):
        assert CleansingPolicy.objects.get().sensitive_action == "flag"


def test_a_tenant_without_a_policy_row_reads_the_defaults_and_can_change_them(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        CleansingPolicy.objects.all().delete()  # as a tenant made before cleansing rules existed
    policy = key_client.get("/api/v1/cleansing-policy").json()
    assert (policy["sensitive_action"], policy["use_builtin_words"], policy["version"], policy["updated_at"]) == (
        "quarantine", True, 0, None,
    )
    changed = key_client.patch("/api/v1/cleansing-policy", {"use_builtin_words": False}, format="json").json()
    assert (changed["use_builtin_words"], changed["version"]) == (False, 1) and changed["updated_at"]


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/api/v1/blacklist", {"kind": "keyword", "value": "竞品"}),
        ("post", "/api/v1/sensitive-words", {"word": "竞品"}),
        ("patch", "/api/v1/cleansing-policy", {"sensitive_action": "flag"}),
    ],
)
def test_writing_needs_the_admin_scope_and_reading_the_read_scope(tenant_a, method, path, data):
    writer = client_with_scopes(tenant_a, ["leads:write", "read"])
    body = problem(getattr(writer, method)(path, data, format="json"), 403)
    assert "lacks the 'admin' scope" in body["detail"]
    assert writer.get(path).status_code == 200
    problem(client_with_scopes(tenant_a, ["leads:write"]).get(path), 403)
    assert getattr(client_with_scopes(tenant_a, ["admin"]), method)(path, data, format="json").status_code in (200, 201)
    with tenant_scope(tenant_a.tenant.id):
        assert CleansingPolicy.objects.get().version == 1  # only the admin key's change


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.READ_ONLY])
def test_signed_in_members_must_be_admins(tenant_a, role):
    member = add_member(tenant_a, f"{role}@tenant-a.test", role=role)
    client = APIClient()
    client.force_authenticate(member.user)
    body = problem(client.get("/api/v1/blacklist"), 403)
    assert body["detail"] == "Only the workspace's owner and admins can see or change its cleansing rules."
    problem(client.post("/api/v1/blacklist", {"kind": "keyword", "value": "竞品"}, format="json"), 403)
    problem(client.get("/api/v1/cleansing-policy"), 403)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_signed_in_admins_may(tenant_a, role):
    user = tenant_a.owner.user if role == Role.OWNER else add_member(tenant_a, "admin@tenant-a.test", role=role).user
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/blacklist", {"kind": "keyword", "value": "竞品"}, format="json")
    assert response.status_code == 201 and response.json()["created_by"] == user.id
    assert len(client.get("/api/v1/blacklist").json()["results"]) == 1


def test_anonymous_callers_get_a_401(api_client):
    problem(api_client.get("/api/v1/blacklist"), 401)
    problem(api_client.post("/api/v1/sensitive-words", {"word": "竞品"}, format="json"), 401)
