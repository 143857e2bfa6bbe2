"""Deadlines, follow-ups, the sweep, warnings, penalties, the incentive (real PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from assignment.followups import follow_up_create
from assignment.incentive import cap_bonuses_recompute
from assignment.models import FollowUp, Pool, RoutingProfile, Violation
from assignment.sla import deadlines_start
from assignment.sweep import sla_sweep
from leadcrm.notifications.models import Notification
from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.assignment.sla_helpers import assigned_lead, hours_ago, policy_make, rep_make
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def test_deadline_is_the_owner_change_plus_the_pools_policy_else_the_tenant_wide_one(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a, name="全局 2 小时")
    with tenant_scope(tenant_a.tenant.id):
        vip = Pool.objects.create(tenant=tenant_a.tenant, name="VIP", kind="private",
                                   entry_conditions={"source": ["vip"]}, position=5)
    policy_make(tenant_a, name="VIP 30 分钟", pool=vip.id, within={"value": 30, "unit": "minutes"})
    at = timezone.now().replace(microsecond=0)
    general = assigned_lead(tenant_a, rep.id, at=at)
    special = assigned_lead(tenant_a, rep.id, at=at, pool_id=vip.id)
    assert general.deadline_at == at + timedelta(hours=2)
    assert special.deadline_at == at + timedelta(minutes=30)


def test_no_policy_or_no_owner_means_no_deadline(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    lead = assigned_lead(tenant_a, rep.id)
    assert lead.deadline_at is None
    policy_make(tenant_a)
    unowned = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        deadlines_start(tenant=tenant_a.tenant, lead_ids=[unowned.id], at=timezone.now())
        assert Lead.objects.get(id=unowned.id).deadline_at is None


def test_working_hours_deadline_uses_the_owners_profile(tenant_a):
    hours = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]
    rep = rep_make(tenant_a, "rep@a.test", working_hours=hours, timezone="Asia/Shanghai")
    policy_make(tenant_a, within={"value": 4, "unit": "working_hours"})
    from zoneinfo import ZoneInfo

    friday_5pm = datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    lead = assigned_lead(tenant_a, rep.id, at=friday_5pm)
    assert lead.deadline_at == datetime(2026, 3, 9, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_owners_follow_up_satisfies_the_deadline_and_starts_following(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id)
    assert lead.status == "pending" and lead.deadline_at is not None
    with tenant_scope(tenant_a.tenant.id):
        follow_up = follow_up_create(tenant=tenant_a.tenant, lead_id=lead.id, by_id=rep.id, kind="call", content="聊了需求")
        lead.refresh_from_db()
    assert lead.deadline_at is None
    assert lead.status == "following"
    assert follow_up.met_deadline_at is not None and follow_up.assignment_at == lead.owner_assigned_at


def test_someone_elses_follow_up_does_not_satisfy_the_deadline(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    manager = rep_make(tenant_a, "boss@a.test", role=Role.MANAGER)
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id)
    with tenant_scope(tenant_a.tenant.id):
        follow_up_create(tenant=tenant_a.tenant, lead_id=lead.id, by_id=manager.id, kind="visit")
        lead.refresh_from_db()
    assert lead.deadline_at is not None
    assert lead.status == "following"  # the lead is being worked, but the owner still owes the follow-up


def test_sweep_records_one_violation_with_evidence_recycles_and_penalises(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test", team="华东")
    manager = rep_make(tenant_a, "boss@a.test", team="华东", role=Role.MANAGER)
    policy = policy_make(tenant_a, penalty_days=3)
    late = assigned_lead(tenant_a, rep.id, at=hours_ago(3), company="迟到科技")
    on_time = assigned_lead(tenant_a, rep.id, at=hours_ago(1))

    result = sla_sweep(tenant=tenant_a.tenant)
    again = sla_sweep(tenant=tenant_a.tenant)

    assert (result.violations, result.recycled, result.redistributed) == (1, 1, 0)
    assert (again.violations, again.recycled) == (0, 0)
    with tenant_scope(tenant_a.tenant.id):
        violation = Violation.objects.get()
        late.refresh_from_db()
        on_time.refresh_from_db()
        profile = RoutingProfile.objects.get(user_id=rep.id)
        notices = {(n.recipient_id, n.kind) for n in Notification.objects.all()}
        audit = AuditLog.objects.filter(object_id=str(late.id), action="lead.owner_change").order_by("-id").first()
    assert violation.lead_id == late.id and violation.owner_id == rep.id and violation.policy_id == policy.id
    assert violation.snapshot["lead"]["company"] == "迟到科技"
    assert violation.snapshot["policy"]["name"] == policy.name
    assert violation.snapshot["assigned_at"] is not None and violation.snapshot["deadline_at"] is not None
    assert (late.owner_id, late.status, late.deadline_at, late.pool_id is not None) == (None, "returned", None, True)
    assert audit is not None and audit.changes["reason"] == "recycle"
    assert on_time.owner_id == rep.id and on_time.deadline_at is not None
    assert profile.penalty_until is not None
    assert timedelta(days=2, hours=23) < profile.penalty_until - timezone.now() <= timedelta(days=3)
    assert (rep.id, "sla.violation") in notices and (manager.id, "sla.violation.team") in notices


def test_redistribute_leaves_the_lead_waiting_in_its_pool_until_routing_gives_it_out(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a, on_breach="redistribute")
    late = assigned_lead(tenant_a, rep.id, at=hours_ago(3))
    result = sla_sweep(tenant=tenant_a.tenant)
    with tenant_scope(tenant_a.tenant.id):
        late.refresh_from_db()
        assert Violation.objects.get().action == "redistribute"
    assert result.violations == 1 and result.recycled + result.redistributed == 1
    assert late.pool_id is not None


def test_warning_before_the_deadline_is_sent_once(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a, warn_before={"value": 30, "unit": "minutes"})
    soon = assigned_lead(tenant_a, rep.id, at=hours_ago(1.75))  # 15 minutes left
    assigned_lead(tenant_a, rep.id, at=hours_ago(0.5))  # 90 minutes left: not yet
    first = sla_sweep(tenant=tenant_a.tenant)
    second = sla_sweep(tenant=tenant_a.tenant)
    with tenant_scope(tenant_a.tenant.id):
        warnings = list(Notification.objects.filter(kind="sla.warning").values_list("recipient_id", "data"))
    assert (first.warned, second.warned) == (1, 0)
    assert soon.deadline_at is not None
    assert warnings == [(rep.id, {"lead": soon.id, "deadline_at": soon.deadline_at.isoformat()})]


def test_stale_deadlines_on_closed_leads_are_cleared_without_a_violation(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    policy_make(tenant_a)
    lead = assigned_lead(tenant_a, rep.id, at=hours_ago(3))
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(status="converted")
    assert sla_sweep(tenant=tenant_a.tenant).violations == 0
    with tenant_scope(tenant_a.tenant.id):
        lead.refresh_from_db()
        assert not Violation.objects.exists()
    assert lead.deadline_at is None and lead.owner_id == rep.id


def test_nightly_incentive_raises_the_cap_of_timely_reps(tenant_a):
    timely = rep_make(tenant_a, "good@a.test", daily_receive_cap=20)
    late = rep_make(tenant_a, "late@a.test", daily_receive_cap=20)
    policy_make(tenant_a)
    for _ in range(5):
        lead = assigned_lead(tenant_a, timely.id)
        with tenant_scope(tenant_a.tenant.id):
            follow_up_create(tenant=tenant_a.tenant, lead_id=lead.id, by_id=timely.id, kind="call")
        assigned_lead(tenant_a, late.id, at=hours_ago(3))
    sla_sweep(tenant=tenant_a.tenant)
    with tenant_scope(tenant_a.tenant.id):
        cap_bonuses_recompute(tenant=tenant_a.tenant)
        bonuses = dict(RoutingProfile.objects.values_list("user_id", "cap_bonus"))
        assert FollowUp.objects.filter(met_deadline_at__isnull=False).count() == 5
    assert bonuses == {timely.id: 4, late.id: 0}
