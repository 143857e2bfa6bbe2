"""The follow-up form on the lead page, its timeline, the SLA policies page and the statistics."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from assignment.models import FollowUp, SlaPolicy
from assignment.sweep import sla_sweep
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from tests.assignment.sla_helpers import assigned_lead, hours_ago, policy_make, rep_make

pytestmark = pytest.mark.django_db


def _streamed(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_follow_up_in_two_clicks_without_javascript_and_on_the_timeline(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id)
    client = browser(rep)
    page = client.get(f"/tenant-a/leads/{lead.id}").content.decode()
    assert f'href="/tenant-a/leads/{lead.id}/follow-up"' in page  # click one: the form
    form = client.get(f"/tenant-a/leads/{lead.id}/follow-up")
    assert form.status_code == 200 and 'name="kind"' in form.content.decode()
    done = client.post(f"/tenant-a/leads/{lead.id}/follow-up", {"kind": "visit", "content": "上门拜访了老板"})  # two
    assert done.status_code == 302
    timeline = client.get(f"/tenant-a/leads/{lead.id}").content.decode()
    assert "上门拜访了老板" in timeline and "拜访跟进" in timeline
    with tenant_scope(tenant_a.tenant.id):
        assert FollowUp.objects.get().met_deadline_at is not None


def test_follow_up_form_shows_errors_next_to_fields_and_htmx_gets_the_fragment(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    lead = assigned_lead(tenant_a, rep.id)
    client = browser(rep)
    response = client.post(f"/tenant-a/leads/{lead.id}/follow-up", {"kind": "fax", "next_at": "yesterday"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 400
    assert body.count('class="field-error"') == 2 and "<html" not in body
    ok = client.post(f"/tenant-a/leads/{lead.id}/follow-up", {"kind": "call"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 204 and ok["HX-Redirect"] == f"/tenant-a/leads/{lead.id}"


def test_violation_is_on_the_lead_timeline_in_english_too(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    admin = tenant_a.owner.user
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id, at=hours_ago(3))
    sla_sweep(tenant=tenant_a.tenant)
    client = browser(admin)
    zh = client.get(f"/tenant-a/leads/{lead.id}").content.decode()
    assert "超过跟进时限未跟进" in zh
    client.cookies["django_language"] = "en"
    en = client.get(f"/tenant-a/leads/{lead.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "missed the follow-up deadline" in en


def test_other_reps_and_tenants_get_404_on_the_follow_up_form(tenant_a, tenant_b):
    rep = rep_make(tenant_a, "rep@a.test")
    other = rep_make(tenant_a, "other@a.test")
    lead = assigned_lead(tenant_a, other.id)
    rep_b = rep_make(tenant_b, "rep@b.test")
    lead_b = assigned_lead(tenant_b, rep_b.id)
    assert browser(rep).get(f"/tenant-a/leads/{lead.id}/follow-up").status_code == 404
    assert browser(rep).get(f"/tenant-a/leads/{lead_b.id}/follow-up").status_code == 404
    assert browser(rep).get(f"/tenant-b/leads/{lead_b.id}/follow-up").status_code == 404


def test_admin_creates_edits_and_deletes_a_policy_on_its_page(tenant_a):
    client = browser(tenant_a.owner.user)
    assert client.get("/tenant-a/settings/sla").status_code == 200
    bad = client.post("/tenant-a/settings/sla", {"name": "", "within_value": "-1", "within_unit": "hours",
                                                 "on_breach": "recycle", "penalty_days": "3"})
    assert bad.status_code == 400 and bad.content.decode().count('class="field-error"') >= 2
    created = client.post("/tenant-a/settings/sla", {"name": "两小时", "within_value": "2", "within_unit": "working_hours",
                                                     "warn_before_value": "30", "warn_before_unit": "minutes",
                                                     "on_breach": "redistribute", "penalty_days": "3"})
    assert created.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        policy = SlaPolicy.objects.get()
    assert (policy.within_unit, policy.on_breach, policy.warn_before_unit) == ("working_hours", "redistribute", "minutes")
    client.post(f"/tenant-a/settings/sla/{policy.id}", {"name": "两小时", "within_value": "4", "within_unit": "hours",
                                                         "on_breach": "recycle", "penalty_days": "1"})
    with tenant_scope(tenant_a.tenant.id):
        policy.refresh_from_db()
        assert (int(policy.within_value), policy.penalty_days, policy.warn_before_value) == (4, 1, None)
    client.post(f"/tenant-a/settings/sla/{policy.id}", {"delete": "1"})
    with tenant_scope(tenant_a.tenant.id):
        assert not SlaPolicy.objects.exists()


def test_policies_page_is_for_admins_and_other_tenants_policies_are_404(tenant_a, tenant_b):
    rep = rep_make(tenant_a, "rep@a.test")
    assert browser(rep).get("/tenant-a/settings/sla").status_code == 403
    policy_b = policy_make(tenant_b)
    assert browser(tenant_a.owner.user).get(f"/tenant-a/settings/sla/{policy_b.id}").status_code == 404


def test_stats_page_filters_sorts_and_exports_safe_csv(tenant_a):
    good = rep_make(tenant_a, "good@a.test", team="华东")
    late = rep_make(tenant_a, "late@a.test", team="华南")
    manager = rep_make(tenant_a, "boss@a.test", role=Role.MANAGER, team="华东")
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, good.id, name="=HYPERLINK(\"x\")")
    browser(good).post(f"/tenant-a/leads/{lead.id}/follow-up", {"kind": "call"})
    assigned_lead(tenant_a, late.id, at=hours_ago(3))
    sla_sweep(tenant=tenant_a.tenant)
    client = browser(manager)
    page = client.get("/tenant-a/follow-up-stats").content.decode()
    assert "100.0%" in page and "0.0%" in page
    east = client.get("/tenant-a/follow-up-stats?team=华东").content.decode()
    assert "good@a.test" not in east or "late" not in east.split("按线索")[0]
    csv_reps = _streamed(client.get("/tenant-a/follow-up-stats?export=reps&rep_order=-violations"))
    lines = csv_reps.lstrip("\ufeff").splitlines()
    assert lines[1].startswith("late")  # most violations first
    csv_leads = _streamed(client.get("/tenant-a/follow-up-stats?export=leads"))
    assert "'=HYPERLINK" in csv_leads and ",=HYPERLINK" not in csv_leads
    assert browser(good).get("/tenant-a/follow-up-stats").status_code == 403
