"""The quarantine API (`/api/v1/intake`): read, count, restore and purge; scopes and roles;
problem+json for every refusal; another tenant's record is a 404."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import IntakeRecord, IntakeStatus, Lead
from leads.quarantine import RESTORE_ACTION
from tests.conftest import add_member, client_with_scopes
from tests.factories import intake_record_make, lead_make, next_mobile
from tests.leads.test_quarantine import quarantine

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def post(client: Any, path: str, body: Any = None, **headers: Any) -> Any:
    if body is None:
        return client.post(path, **headers)
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].endswith(str(status))
    return body


@pytest.fixture
def fake_mobile(tenant_a: CreatedTenant) -> IntakeRecord:
    return quarantine(tenant_a, {"name": "孙八", "mobile": "13800000000", "email": "sun.ba@yunfan-tech.cn"}, channel="api")


# --- read ---------------------------------------------------------------------------------------


def test_the_intake_id_of_a_202_can_be_looked_up(key_client):
    response = post(key_client, "/api/v1/leads", {"name": "王五", "mobile": "12345678901", "source": "抖音"})
    assert response.status_code == 202
    intake_id = response.json()["intake_id"]
    record = key_client.get(f"/api/v1/intake/{intake_id}")
    assert record.status_code == 200
    body = record.json()
    assert body["id"] == intake_id and body["channel"] == "api" and body["status"] == "quarantined"
    assert body["reasons"] == ["invalid.mobile"]
    assert body["payload"] == {"name": "王五", "mobile": "12345678901", "source": "抖音"}
    assert body["lead"] is None and body["restored_at"] is None and body["restored_by"] is None
    assert body["waived"] == [] and body["restore_outcome"] is None and body["purged_at"] is None
    assert body["created_at"]


def test_list_filters_and_pages_newest_first(key_client, tenant_a):
    no_contact = quarantine(tenant_a, {"name": "甲"}, channel="api")
    bad_email = quarantine(tenant_a, {"name": "乙", "email": "x@@y.cn"}, channel="import")
    fake = quarantine(tenant_a, {"name": "丙", "mobile": "13800000000"}, channel="form")

    def ids(query: str = "") -> list[int]:
        response = key_client.get(f"/api/v1/intake{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [fake.id, bad_email.id, no_contact.id]
    assert ids("?reason=invalid") == [fake.id, bad_email.id]
    assert ids("?reason=invalid.email") == [bad_email.id]
    assert ids("?channel=api") == [no_contact.id]
    assert ids("?status=restored") == []
    assert ids("?q=%E4%B9%99") == [bad_email.id]  # 乙
    first = key_client.get("/api/v1/intake?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [fake.id, bad_email.id] and first["previous"] is None
    second = key_client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [no_contact.id] and second["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"), ("channel=fax", "channel"), ("created_after=yesterday", "created_after"),
        ("page_size=0", "page_size"), ("page_size=501", "page_size"), ("cursor=garbage", "cursor"),
        ("status=", "status"), ("reason=", "reason"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_field(key_client, query, field):
    body = assert_problem(key_client.get(f"/api/v1/intake?{query}"), 400)
    assert field in body["errors"]


def test_counts_by_reason_and_channel_since_a_time(key_client, tenant_a):
    quarantine(tenant_a, {"name": "甲"}, channel="api")
    quarantine(tenant_a, {"name": "乙", "mobile": "13800000000", "notes": "代开发票"}, channel="form")
    body = key_client.get("/api/v1/intake/counts").json()
    assert body == {
        "total": 2, "by_reason": {"invalid.mobile": 1, "no_contact": 1, "sensitive_word": 1},
        "by_channel": {"api": 1, "form": 1},
    }
    assert key_client.get("/api/v1/intake/counts?since=2999-01-01T00:00:00Z").json() == {
        "total": 0, "by_reason": {}, "by_channel": {},
    }
    assert "since" in assert_problem(key_client.get("/api/v1/intake/counts?since=soon"), 400)["errors"]


# --- restore ------------------------------------------------------------------------------------


def test_restore_answers_like_post_leads_and_links_the_record(key_client, tenant_a, fake_mobile):
    response = post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "created"
    lead = body["lead"]
    assert lead["name"] == "孙八" and lead["email"] == "sun.ba@yunfan-tech.cn" and "score" in lead
    assert body["intake"]["status"] == "restored" and body["intake"]["lead"] == lead["id"]
    assert body["intake"]["waived"] == ["invalid.mobile"] and body["intake"]["restore_outcome"] == "created"
    assert body["intake"]["restored_at"] and body["intake"]["restored_by"] == tenant_a.owner.user.id
    with tenant_scope(tenant_a.tenant.id):
        audit = AuditLog.objects.get(action=RESTORE_ACTION)
        assert audit.actor_api_key_id == tenant_a.api_key.api_key.id
    assert key_client.get(f"/api/v1/intake/{fake_mobile.id}").json()["lead"] == lead["id"]


def test_restore_into_a_known_mobile_answers_merged(key_client, tenant_a):
    mobile = next_mobile()
    record = quarantine(tenant_a, {"name": "韩梅梅", "mobile": mobile, "notes": "博彩"})
    known = lead_make(tenant_a, name="韩梅梅", mobile=mobile)
    body = post(key_client, f"/api/v1/intake/{record.id}/restore", {"waive": ["sensitive_word"]}).json()
    assert body["outcome"] == "merged" and body["lead"]["id"] == known.id and body["intake"]["lead"] == known.id


def test_restoring_twice_is_a_409_problem(key_client, tenant_a, fake_mobile):
    assert post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore").status_code == 200
    body = assert_problem(post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore"), 409)
    assert "already restored as lead" in body["detail"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1


def test_restoring_a_purged_record_is_a_409_problem(key_client, fake_mobile):
    assert post(key_client, f"/api/v1/intake/{fake_mobile.id}/purge").status_code == 200
    body = assert_problem(post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore"), 409)
    assert "purged" in body["detail"]


def test_a_restore_that_would_be_quarantined_again_is_a_422_naming_the_reasons(key_client, tenant_a):
    record = quarantine(tenant_a, {"name": "丁", "mobile": "13800000000", "notes": "代开发票"})
    response = post(key_client, f"/api/v1/intake/{record.id}/restore", {"waive": ["invalid.mobile"]})
    body = assert_problem(response, 422)
    assert body["reasons"] == ["sensitive_word"] and "waive these reasons too" in body["detail"]
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists() and IntakeRecord.objects.count() == 1
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED


@pytest.mark.parametrize(
    "body",
    [{"waive": ["invalid.mobil"]}, {"waive": "invalid.mobile"}, {"waive": [7]}, {"waive": None}],
)
def test_a_bad_waive_is_a_400_naming_the_field_and_changes_nothing(key_client, tenant_a, fake_mobile, body):
    problem = assert_problem(post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore", body), 400)
    assert any(field.startswith("waive") for field in problem["errors"])
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()


def test_restore_with_an_idempotency_key_replays_instead_of_a_409(key_client, fake_mobile):
    first = post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore", {}, HTTP_IDEMPOTENCY_KEY="restore-1")
    again = post(key_client, f"/api/v1/intake/{fake_mobile.id}/restore", {}, HTTP_IDEMPOTENCY_KEY="restore-1")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"


# --- purge --------------------------------------------------------------------------------------


def test_purge_drops_the_payload_and_keeps_the_reasons(key_client, fake_mobile):
    response = post(key_client, f"/api/v1/intake/{fake_mobile.id}/purge")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "purged" and body["payload"] is None and body["purged_at"]
    assert body["reasons"] == ["invalid.mobile"] and body["channel"] == "api"
    assert key_client.get(f"/api/v1/intake/{fake_mobile.id}").json()["payload"] is None
    assert key_client.get("/api/v1/intake/counts").json()["by_reason"] == {"invalid.mobile": 1}
    assert_problem(post(key_client, f"/api/v1/intake/{fake_mobile.id}/purge"), 409)


def test_purge_many(key_client, tenant_a, tenant_b):
    mine = [intake_record_make(tenant_a) for _ in range(3)]
    foreign = intake_record_make(tenant_b)
    post(key_client, f"/api/v1/intake/{mine[2].id}/restore")
    response = post(key_client, "/api/v1/intake/purge", {"ids": [mine[0].id, mine[1].id, mine[2].id, foreign.id]})
    assert response.status_code == 200
    assert response.json() == {"purged": [mine[0].id, mine[1].id], "skipped": sorted([mine[2].id, foreign.id])}
    with tenant_scope(tenant_b.tenant.id):
        foreign.refresh_from_db()
        assert foreign.status == IntakeStatus.QUARANTINED
    assert "ids" in assert_problem(post(key_client, "/api/v1/intake/purge", {"ids": []}), 400)["errors"]
    assert "ids" in assert_problem(post(key_client, "/api/v1/intake/purge", {"ids": list(range(1, 502))}), 400)["errors"]
    assert_problem(post(key_client, "/api/v1/intake/purge"), 400)  # no body


# --- scopes, roles, tenants ---------------------------------------------------------------------


def test_scopes_reading_needs_read_and_working_needs_leads_write(tenant_a, fake_mobile):
    writer = client_with_scopes(tenant_a, ["leads:write"])
    reader = client_with_scopes(tenant_a, ["read"])
    assert_problem(writer.get(f"/api/v1/intake/{fake_mobile.id}"), 403)
    assert_problem(writer.get("/api/v1/intake"), 403)
    assert reader.get(f"/api/v1/intake/{fake_mobile.id}").status_code == 200
    assert_problem(post(reader, f"/api/v1/intake/{fake_mobile.id}/restore"), 403)
    assert_problem(post(reader, f"/api/v1/intake/{fake_mobile.id}/purge"), 403)
    # a writer that may not read is told the lead's id only
    body = post(writer, f"/api/v1/intake/{fake_mobile.id}/restore").json()
    assert body["outcome"] == "created" and set(body["lead"]) == {"id"}


def test_sessions_managers_read_masked_admins_work_reps_are_refused(api_client, tenant_a, fake_mobile):
    manager = add_member(tenant_a, "manager@tenant-a.test", role=Role.MANAGER)
    rep = add_member(tenant_a, "rep@tenant-a.test", role=Role.REP)
    api_client.force_login(rep.user)
    assert_problem(api_client.get(f"/api/v1/intake/{fake_mobile.id}"), 403)
    assert_problem(post(api_client, f"/api/v1/intake/{fake_mobile.id}/restore"), 403)
    api_client.force_login(manager.user)
    payload = api_client.get(f"/api/v1/intake/{fake_mobile.id}").json()["payload"]
    assert payload == {"name": "孙八", "mobile": "138****0000", "email": "s****@yunfan-tech.cn"}
    assert "admins" in assert_problem(post(api_client, f"/api/v1/intake/{fake_mobile.id}/restore"), 403)["detail"]
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()
    api_client.force_login(tenant_a.owner.user)
    assert api_client.get(f"/api/v1/intake/{fake_mobile.id}").json()["payload"]["mobile"] == "13800000000"
    response = api_client.post(f"/api/v1/intake/{fake_mobile.id}/restore", {"waive": ["invalid.mobile"]}, format="json")
    assert response.status_code == 200 and response.json()["lead"]["name"] == "孙八"


def test_another_tenants_record_is_404_everywhere(key_client, tenant_b):
    foreign = intake_record_make(tenant_b)
    assert_problem(key_client.get(f"/api/v1/intake/{foreign.id}"), 404)
    assert_problem(post(key_client, f"/api/v1/intake/{foreign.id}/restore"), 404)
    assert_problem(post(key_client, f"/api/v1/intake/{foreign.id}/purge"), 404)
    assert key_client.get("/api/v1/intake").json()["results"] == []
    assert key_client.get("/api/v1/intake/counts").json()["total"] == 0
    with tenant_scope(tenant_b.tenant.id):
        foreign.refresh_from_db()
        assert foreign.status == IntakeStatus.QUARANTINED


def test_the_schema_documents_the_quarantine_endpoints(key_client):
    paths = key_client.get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/intake", "/api/v1/intake/{id}", "/api/v1/intake/{id}/restore", "/api/v1/intake/{id}/purge",
                 "/api/v1/intake/purge", "/api/v1/intake/counts"):
        assert path in paths, sorted(paths)
    restore = paths["/api/v1/intake/{id}/restore"]["post"]
    assert {"200", "400", "404", "409", "422"} <= set(restore["responses"])
