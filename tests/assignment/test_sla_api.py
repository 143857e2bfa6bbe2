"""The follow-up, timeline, SLA policy, sweep and violation endpoints (API.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.assignment.sla_helpers import assigned_lead, hours_ago, policy_make, rep_make
from tests.conftest import client_with_scopes
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def logged_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_rep_records_a_follow_up_that_satisfies_the_deadline(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id)
    client = logged_in(rep)
    response = client.post(f"/api/v1/leads/{lead.id}/follow-ups", {
        "kind": "wechat", "content": "加了微信，约周三演示", "outcome": "有意向", "next_at": "2099-01-01T10:00:00+08:00",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["by"] == rep.id and body["met_deadline_at"] is not None
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.filter(id=lead.id).values_list("status", "deadline_at").get() == ("following", None)
    listing = client.get(f"/api/v1/leads/{lead.id}/follow-ups").json()
    assert [row["content"] for row in listing["results"]] == ["加了微信，约周三演示"]


def test_api_key_follow_up_defaults_to_the_owner(tenant_a, key_client):
    rep = rep_make(tenant_a, "rep@a.test")
    lead = assigned_lead(tenant_a, rep.id)
    response = key_client.post(f"/api/v1/leads/{lead.id}/follow-ups", {"kind": "call", "content": "呼叫中心外呼"},
                               format="json")
    assert response.status_code == 201
    assert response.json()["by"] == rep.id


def test_follow_up_errors_are_problems_by_field(tenant_a, key_client):
    lead = lead_make(tenant_a)  # no owner
    response = key_client.post(f"/api/v1/leads/{lead.id}/follow-ups", {"kind": "fax"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == {"kind"}
    response = key_client.post(f"/api/v1/leads/{lead.id}/follow-ups", {"kind": "call"}, format="json")
    assert response.status_code == 400 and "by" in response.json()["errors"]


def test_rep_cannot_follow_up_someone_elses_lead_or_as_someone_else(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    other = rep_make(tenant_a, "other@a.test")
    others_lead = assigned_lead(tenant_a, other.id)
    own_lead = assigned_lead(tenant_a, rep.id)
    client = logged_in(rep)
    assert client.post(f"/api/v1/leads/{others_lead.id}/follow-ups", {"kind": "call"}, format="json").status_code == 404
    response = client.post(f"/api/v1/leads/{own_lead.id}/follow-ups", {"kind": "call", "by": other.id}, format="json")
    assert response.status_code == 400


def test_timeline_lists_follow_ups_violations_and_owner_changes_newest_first_in_pages(tenant_a, key_client):
    rep = rep_make(tenant_a, "rep@a.test", )
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id, at=hours_ago(3))
    posted = key_client.post(f"/api/v1/leads/{lead.id}/follow-ups", {"kind": "call", "by": rep.id}, format="json")
    assert posted.status_code == 201, posted.json()
    assert key_client.post("/api/v1/sla/sweep").json() == {"violations": 1, "recycled": 1, "redistributed": 0}
    first = key_client.get(f"/api/v1/leads/{lead.id}/timeline?page_size=2").json()
    assert [item["kind"] for item in first["results"]] == ["status_change", "owner_change"]
    assert first["next"]
    items, url = list(first["results"]), first["next"]
    while url:
        page = key_client.get(url).json()
        items += page["results"]
        url = page["next"]
    kinds = [item["kind"] for item in items]
    assert kinds.index("violation") < kinds.index("follow_up") < kinds.index("created")
    assert len(items) == len({(i["kind"], i["id"]) for i in items})
    violation = next(item for item in items if item["kind"] == "violation")
    assert "missed" in violation["text"].lower() or "违规" in violation["text"]
    assert key_client.get(f"/api/v1/leads/{lead.id}/timeline?cursor=nonsense").status_code == 400


def test_timeline_pages_walk_back_with_previous_to_the_same_pages(tenant_a, key_client):
    rep = rep_make(tenant_a, "rep@a.test")
    lead = assigned_lead(tenant_a, rep.id)
    for n in range(6):
        posted = key_client.post(f"/api/v1/leads/{lead.id}/follow-ups", {"kind": "call", "content": f"第{n}次"},
                                 format="json")
        assert posted.status_code == 201
    url: str | None = f"/api/v1/leads/{lead.id}/timeline?page_size=3"
    forward: list[list[tuple[str, int]]] = []
    last: dict = {}
    while url:
        last = key_client.get(url).json()
        forward.append([(item["kind"], item["id"]) for item in last["results"]])
        assert (last["previous"] is None) == (len(forward) == 1)
        url = last["next"]
    assert len(forward) >= 3 and sum(map(len, forward)) == len({i for page in forward for i in page})
    backward = []
    url = last["previous"]
    while url:
        page = key_client.get(url).json()
        assert "page_size=3" in url and page["next"]
        backward.append([(item["kind"], item["id"]) for item in page["results"]])
        url = page["previous"]
    assert backward == forward[:-1][::-1]
    # A previous page's next leads back to where it came from.
    second = key_client.get(key_client.get(f"/api/v1/leads/{lead.id}/timeline?page_size=3").json()["next"]).json()
    first_again = key_client.get(second["previous"]).json()
    assert [(i["kind"], i["id"]) for i in first_again["results"]] == forward[0] and first_again["previous"] is None
    assert [(i["kind"], i["id"]) for i in key_client.get(first_again["next"]).json()["results"]] == forward[1]


def test_sla_policy_crud_and_validation(tenant_a, key_client):
    response = key_client.post("/api/v1/sla-policies", {
        "name": "两小时", "pool": None, "within": {"value": 2, "unit": "working_hours"},
        "warn_before": {"value": 30, "unit": "minutes"}, "on_breach": "redistribute",
    }, format="json")
    assert response.status_code == 201, response.json()
    policy = response.json()
    assert policy["within"] == {"value": 2.0, "unit": "working_hours"} and policy["penalty_days"] == 3
    duplicate = key_client.post("/api/v1/sla-policies", {"name": "另一个", "pool": None,
                                                         "within": {"value": 1, "unit": "days"}}, format="json")
    assert duplicate.status_code == 400 and "pool" in duplicate.json()["errors"]
    bad = key_client.post("/api/v1/sla-policies", {"name": "坏", "within": {"value": -1, "unit": "weeks"}}, format="json")
    assert bad.status_code == 400 and "within" in bad.json()["errors"]
    patched = key_client.patch(f"/api/v1/sla-policies/{policy['id']}", {"penalty_days": 5}, format="json")
    assert patched.status_code == 200 and patched.json()["penalty_days"] == 5
    assert [p["id"] for p in key_client.get("/api/v1/sla-policies").json()["results"]] == [policy["id"]]
    assert key_client.delete(f"/api/v1/sla-policies/{policy['id']}").status_code == 204


def test_only_admins_and_admin_keys_change_policies_or_sweep(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    manager = rep_make(tenant_a, "boss@a.test", role=Role.MANAGER)
    body = {"name": "x", "within": {"value": 1, "unit": "hours"}}
    for user in (rep, manager):
        client = logged_in(user)
        assert client.post("/api/v1/sla-policies", body, format="json").status_code == 403
        assert client.post("/api/v1/sla/sweep").status_code == 403
        assert client.get("/api/v1/sla-policies").status_code == 200
    reader = client_with_scopes(tenant_a, ["read", "leads:write"])
    assert reader.post("/api/v1/sla/sweep").status_code == 403
    assert reader.post("/api/v1/sla-policies", body, format="json").status_code == 403


def test_violations_list_filters_and_reps_see_their_own(tenant_a, key_client):
    rep = rep_make(tenant_a, "rep@a.test")
    other = rep_make(tenant_a, "other@a.test")
    policy_make(tenant_a)
    mine = assigned_lead(tenant_a, rep.id, at=hours_ago(3))
    assigned_lead(tenant_a, other.id, at=hours_ago(4))
    key_client.post("/api/v1/sla/sweep")
    everything = key_client.get("/api/v1/violations").json()["results"]
    assert len(everything) == 2
    assert set(everything[0]) >= {"id", "lead", "owner", "policy", "deadline_at", "detected_at", "action", "snapshot"}
    assert [v["lead"] for v in key_client.get(f"/api/v1/violations?owner={rep.id}").json()["results"]] == [mine.id]
    assert [v["lead"] for v in key_client.get(f"/api/v1/violations?lead={mine.id}").json()["results"]] == [mine.id]
    assert key_client.get("/api/v1/violations?created_after=2999-01-01T00:00:00Z").json()["results"] == []
    assert key_client.get("/api/v1/violations?owner=abc").status_code == 400
    assert [v["owner"] for v in logged_in(rep).get("/api/v1/violations").json()["results"]] == [rep.id]


def test_another_tenants_ids_are_404(tenant_a, tenant_b, key_client):
    rep_b = rep_make(tenant_b, "rep@b.test")
    policy_b = policy_make(tenant_b)
    lead_b = assigned_lead(tenant_b, rep_b.id)
    assert key_client.get(f"/api/v1/leads/{lead_b.id}/follow-ups").status_code == 404
    assert key_client.post(f"/api/v1/leads/{lead_b.id}/follow-ups", {"kind": "call"}, format="json").status_code == 404
    assert key_client.get(f"/api/v1/leads/{lead_b.id}/timeline").status_code == 404
    assert key_client.get(f"/api/v1/sla-policies/{policy_b.id}").status_code == 404
    assert key_client.patch(f"/api/v1/sla-policies/{policy_b.id}", {"penalty_days": 1}, format="json").status_code == 404
    assert key_client.delete(f"/api/v1/sla-policies/{policy_b.id}").status_code == 404
    assigned_lead(tenant_b, rep_b.id, at=hours_ago(5))
    assert key_client.post("/api/v1/sla/sweep").json()["violations"] == 0
    assert key_client.get("/api/v1/violations").json()["results"] == []
