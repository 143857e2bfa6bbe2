"""Pools, rules and lead actions over the API (API.md), with another tenant's ids as 404s."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from assignment.selectors import pool_default
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.assignment.helpers import mature_leads_make, pool_with_rule, reps_make
from tests.conftest import add_member
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def session(created: CreatedTenant, email: str) -> APIClient:
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.get(email=email))
    return client


def test_pool_create_list_patch_and_rules(tenant_a: CreatedTenant, key_client: APIClient) -> None:
    reps = reps_make(tenant_a, 2)
    made = key_client.post("/api/v1/pools", {
        "name": "华南池", "kind": "public", "position": 1, "entry_conditions": {"province": ["广东"]},
        "members": reps, "admins": [reps[0]], "daily_claim_cap": 5, "max_held": 20, "recycle_after_days": 7,
        "mask_contacts": True,
    }, format="json")
    assert made.status_code == 201, made.content
    pool = made.json()
    assert pool["members"] == [reps[1]] and pool["admins"] == [reps[0]] and pool["mask_contacts"] is True
    names = [p["name"] for p in key_client.get("/api/v1/pools").json()["results"]]
    assert names == ["华南池", "公海池"]  # the default pool stays last
    patched = key_client.patch(f"/api/v1/pools/{pool['id']}", {"daily_claim_cap": None}, format="json")
    assert patched.status_code == 200 and patched.json()["daily_claim_cap"] is None

    rule = key_client.post(f"/api/v1/pools/{pool['id']}/rules", {
        "position": 0, "conditions": {"grade": ["A"]}, "strategy": "weighted",
        "reps": [{"user": reps[0], "weight": 3}, {"user": reps[1], "weight": 1}],
        "respect_working_hours": True, "exclude_previous_owner": False,
    }, format="json")
    assert rule.status_code == 201, rule.content
    rule_id = rule.json()["id"]
    assert [r["id"] for r in key_client.get(f"/api/v1/pools/{pool['id']}/rules").json()["results"]] == [rule_id]
    changed = key_client.patch(f"/api/v1/pools/{pool['id']}/rules/{rule_id}", {"strategy": "round_robin"}, format="json")
    assert changed.json()["strategy"] == "round_robin"
    assert key_client.delete(f"/api/v1/pools/{pool['id']}/rules/{rule_id}").status_code == 204


def test_pool_validation_problems(tenant_a: CreatedTenant, key_client: APIClient) -> None:
    bad = key_client.post("/api/v1/pools", {"name": "公海池", "kind": "open", "entry_conditions": {"planet": ["x"]},
                                             "members": [999999]}, format="json")
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/problem+json")
    assert set(bad.json()["errors"]) == {"name", "kind", "entry_conditions", "members"}
    too_long = key_client.post("/api/v1/pools", {"name": "池" * 101}, format="json")
    assert too_long.status_code == 400 and "100" in too_long.json()["errors"]["name"][0]  # was a 500
    huge = key_client.post("/api/v1/pools", {"name": "大池", "daily_claim_cap": 10**27, "position": 2**40}, format="json")
    assert huge.status_code == 400 and set(huge.json()["errors"]) == {"daily_claim_cap", "position"}  # was a 500
    with tenant_scope(tenant_a.tenant.id):
        default_id = pool_default().id
    refused = key_client.patch(f"/api/v1/pools/{default_id}", {"is_active": False}, format="json")
    assert refused.status_code == 400
    no_reps = key_client.post(f"/api/v1/pools/{default_id}/rules", {"strategy": "round_robin", "reps": []}, format="json")
    assert no_reps.status_code == 400 and "reps" in no_reps.json()["errors"]


def test_rep_cannot_configure_pools(tenant_a: CreatedTenant) -> None:
    add_member(tenant_a, "rep@a.test")
    assert session(tenant_a, "rep@a.test").post("/api/v1/pools", {"name": "x"}, format="json").status_code == 403


def _public_pool(created: CreatedTenant, client: APIClient, members: list[int], **fields: Any) -> int:
    made = client.post("/api/v1/pools", {"name": "公海二", "kind": "public", "members": members, **fields}, format="json")
    assert made.status_code == 201, made.content
    return int(made.json()["id"])


def test_claim_within_caps_and_409_beyond(tenant_a: CreatedTenant, key_client: APIClient) -> None:
    rep = add_member(tenant_a, "rep@a.test").user_id
    add_member(tenant_a, "outsider@a.test")
    pool_id = _public_pool(tenant_a, key_client, [rep], daily_claim_cap=2, max_held=5)
    with tenant_scope(tenant_a.tenant.id):
        from assignment.models import Pool

        pool = Pool.objects.get(id=pool_id)
    leads = mature_leads_make(tenant_a, pool, 3)
    client = session(tenant_a, "rep@a.test")
    first = client.post(f"/api/v1/leads/{leads[0]}/claim")
    assert first.status_code == 200 and first.json()["owner"] == rep
    again = client.post(f"/api/v1/leads/{leads[0]}/claim")
    assert again.status_code == 409 and "hold this lead" in again.json()["detail"]
    assert client.post(f"/api/v1/leads/{leads[1]}/claim").status_code == 200
    beyond = client.post(f"/api/v1/leads/{leads[2]}/claim")
    assert beyond.status_code == 409 and "allows 2 a day" in beyond.json()["detail"]
    outsider = session(tenant_a, "outsider@a.test").post(f"/api/v1/leads/{leads[2]}/claim")
    assert outsider.status_code == 409 and "not a member" in outsider.json()["detail"]


def test_claim_respects_max_held(tenant_a: CreatedTenant, key_client: APIClient) -> None:
    rep = add_member(tenant_a, "rep@a.test").user_id
    pool_id = _public_pool(tenant_a, key_client, [rep], max_held=1)
    with tenant_scope(tenant_a.tenant.id):
        from assignment.models import Pool

        pool = Pool.objects.get(id=pool_id)
    leads = mature_leads_make(tenant_a, pool, 2)
    client = session(tenant_a, "rep@a.test")
    assert client.post(f"/api/v1/leads/{leads[0]}/claim").status_code == 200
    held = client.post(f"/api/v1/leads/{leads[1]}/claim")
    assert held.status_code == 409 and "allows 1" in held.json()["detail"]


def test_claim_of_a_private_pool_lead_is_refused(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 1)
    pool, _rule = pool_with_rule(tenant_a, reps, pool={"members": reps})
    leads = mature_leads_make(tenant_a, pool, 1)
    refused = session(tenant_a, f"rep0@{tenant_a.tenant.slug}.test").post(f"/api/v1/leads/{leads[0]}/claim")
    assert refused.status_code == 409 and "public pool" in refused.json()["detail"]


def test_assign_return_and_status_transitions(tenant_a: CreatedTenant, key_client: APIClient) -> None:
    rep = add_member(tenant_a, "rep@a.test").user_id
    add_member(tenant_a, "boss@a.test", role=Role.MANAGER)
    lead = lead_make(tenant_a)
    manager = session(tenant_a, "boss@a.test")
    assigned = manager.post(f"/api/v1/leads/{lead.id}/assign", {"owner": rep, "reason": "熟客"}, format="json")
    assert assigned.status_code == 200 and assigned.json()["owner"] == rep
    rep_client = session(tenant_a, "rep@a.test")
    assert rep_client.post(f"/api/v1/leads/{lead.id}/assign", {"owner": rep}, format="json").status_code == 403
    no_reason = rep_client.post(f"/api/v1/leads/{lead.id}/status", {"status": "invalid"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    following = rep_client.post(f"/api/v1/leads/{lead.id}/status", {"status": "following"}, format="json")
    assert following.status_code == 200 and following.json()["status"] == "following"
    returned = rep_client.post(f"/api/v1/leads/{lead.id}/return", {"reason": "不是我的区域"}, format="json")
    assert returned.status_code == 200
    assert (returned.json()["status"], returned.json()["owner"]) == ("returned", None)
    assert manager.post(f"/api/v1/leads/{lead.id}/status", {"status": "converted"}, format="json").status_code == 409
    key_client.post(f"/api/v1/leads/{lead.id}/status", {"status": "voided", "reason": "测试数据"}, format="json")
    wrong = key_client.post(f"/api/v1/leads/{lead.id}/status", {"status": "pending"}, format="json")
    assert wrong.status_code == 409 and "'voided'" in wrong.json()["detail"]
    closed = key_client.post(f"/api/v1/leads/{lead.id}/assign", {"owner": rep}, format="json")
    assert closed.status_code == 409


def test_another_tenants_ids_are_404(tenant_a: CreatedTenant, tenant_b: CreatedTenant, key_client: APIClient) -> None:
    reps_b = reps_make(tenant_b, 1)
    pool_b, rule_b = pool_with_rule(tenant_b, reps_b)
    lead_b = mature_leads_make(tenant_b, pool_b, 1)[0]
    rep_a = add_member(tenant_a, "rep@a.test").user_id
    assert key_client.get(f"/api/v1/pools/{pool_b.id}").status_code == 404
    assert key_client.patch(f"/api/v1/pools/{pool_b.id}", {"name": "x"}, format="json").status_code == 404
    assert key_client.get(f"/api/v1/pools/{pool_b.id}/rules").status_code == 404
    assert key_client.post(f"/api/v1/pools/{pool_b.id}/rules", {"reps": [{"user": rep_a}]}, format="json").status_code == 404
    assert key_client.patch(f"/api/v1/pools/{pool_b.id}/rules/{rule_b.id}", {}, format="json").status_code == 404
    assert key_client.delete(f"/api/v1/pools/{pool_b.id}/rules/{rule_b.id}").status_code == 404
    for action, body in (("assign", {"owner": rep_a}), ("claim", {}), ("return", {"reason": "x"}),
                         ("status", {"status": "following"})):
        answer = key_client.post(f"/api/v1/leads/{lead_b}/{action}", body, format="json")
        assert answer.status_code == 404, (action, answer.content)
    with tenant_scope(tenant_b.tenant.id):
        assert Lead.objects.get(id=lead_b).owner_id is None
