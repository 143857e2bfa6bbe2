"""Routing by a pool's rules: strategies, every filter, caps under locks, waiting leads."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from assignment.models import AssignmentRule, RepDay
from assignment.routing import RoutingResult, leads_route
from leadcrm.notifications.models import Notification
from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.assignment.helpers import mature_leads_make, owners, pool_with_rule, profile_set, reps_make

pytestmark = pytest.mark.django_db


def route(created: CreatedTenant, lead_ids: list[int], exclude_owner_ids: dict[int, int] | None = None) -> RoutingResult:
    with tenant_scope(created.tenant.id):
        return leads_route(
            tenant=created.tenant, lead_ids=lead_ids, reason="assignment_rule", exclude_owner_ids=exclude_owner_ids
        )


def test_round_robin_spreads_evenly_and_continues_where_it_stopped(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 3)
    pool, rule = pool_with_rule(tenant_a, reps)
    first = mature_leads_make(tenant_a, pool, 7)
    route(tenant_a, first[:4])
    route(tenant_a, first[4:])  # a second batch (another worker, after a restart) continues the turn
    counts = Counter(owners(tenant_a, first).values())
    assert sorted(counts.values()) == [2, 2, 3]
    assert [owners(tenant_a, first)[i] for i in first] == [reps[i % 3] for i in range(7)]
    with tenant_scope(tenant_a.tenant.id):
        assert AssignmentRule.objects.get(id=rule.id).rr_cursor == 7
        assert dict(RepDay.objects.values_list("user_id", "received")) == {reps[0]: 3, reps[1]: 2, reps[2]: 2}


def test_weighted_gives_leads_in_proportion_to_rule_and_profile_weights(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 3)
    profile_set(tenant_a, reps[0], weight=2)  # rule weight 2 × profile weight 2 = 4
    pool, _rule = pool_with_rule(tenant_a, reps, strategy="weighted", weights=[2, 1, 1])
    leads = mature_leads_make(tenant_a, pool, 60)
    route(tenant_a, leads[:25])
    route(tenant_a, leads[25:])
    counts = Counter(owners(tenant_a, leads).values())
    assert counts == {reps[0]: 40, reps[1]: 10, reps[2]: 10}


def test_designated_goes_to_the_first_eligible_rep_in_order(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 2)
    profile_set(tenant_a, reps[0], on_duty=False)
    pool, _rule = pool_with_rule(tenant_a, reps, strategy="designated")
    leads = mature_leads_make(tenant_a, pool, 3)
    route(tenant_a, leads)
    assert set(owners(tenant_a, leads).values()) == {reps[1]}


def test_rules_match_conditions_in_order(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 2)
    pool, _first = pool_with_rule(tenant_a, [reps[0]], rule={"position": 0, "conditions": {"province": ["广东"]}})
    from assignment.pool_services import rule_create

    with tenant_scope(tenant_a.tenant.id):
        rule_create(tenant=tenant_a.tenant, pool=pool, data={"position": 1, "strategy": "round_robin",
                                                             "reps": [{"user": reps[1], "weight": 1}]})
    guangdong = mature_leads_make(tenant_a, pool, 2, province="广东")
    beijing = mature_leads_make(tenant_a, pool, 2, province="北京")
    route(tenant_a, guangdong + beijing)
    assert set(owners(tenant_a, guangdong).values()) == {reps[0]}
    assert set(owners(tenant_a, beijing).values()) == {reps[1]}


def test_off_duty_rep_is_passed_over_for_the_next(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 3)
    never = [{"weekday": d, "start": "09:00", "end": "09:00"} for d in range(7)]  # never opens
    profile_set(tenant_a, reps[1], working_hours=never)
    pool, _rule = pool_with_rule(tenant_a, reps)
    leads = mature_leads_make(tenant_a, pool, 6)
    route(tenant_a, leads)
    assert Counter(owners(tenant_a, leads).values()) == {reps[0]: 3, reps[2]: 3}


def test_working_hours_are_ignored_when_the_rule_says_so(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 1)
    profile_set(tenant_a, reps[0], working_hours=[{"weekday": 0, "start": "09:00", "end": "09:00"}])
    pool, _rule = pool_with_rule(tenant_a, reps, rule={"respect_working_hours": False})
    leads = mature_leads_make(tenant_a, pool, 2)
    route(tenant_a, leads)
    assert set(owners(tenant_a, leads).values()) == {reps[0]}


def test_daily_cap_with_bonus_max_open_and_penalty(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 4)
    profile_set(tenant_a, reps[0], daily_receive_cap=1, cap_bonus=1)  # 2 a day
    profile_set(tenant_a, reps[1], max_open=1)
    profile_set(tenant_a, reps[2], penalty_until=timezone.now() + timedelta(days=2))
    pool, _rule = pool_with_rule(tenant_a, reps)
    leads = mature_leads_make(tenant_a, pool, 10)
    result = route(tenant_a, leads)
    assert Counter(owners(tenant_a, leads).values()) == {reps[0]: 2, reps[1]: 1, reps[3]: 7}
    assert result.waiting == []


def test_caps_of_zero_leave_leads_waiting_and_admins_are_told_once(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 2)
    admin = reps_make(tenant_a, 1, prefix="pooladmin")[0]
    for rep in reps:
        profile_set(tenant_a, rep, daily_receive_cap=0)
    pool, _rule = pool_with_rule(tenant_a, reps, pool={"admins": [admin]})
    leads = mature_leads_make(tenant_a, pool, 2)
    assert route(tenant_a, leads).waiting == leads
    assert route(tenant_a, leads).waiting == leads  # a retried task, a second trigger
    assert set(owners(tenant_a, leads).values()) == {None}
    with tenant_scope(tenant_a.tenant.id):
        notices = list(Notification.objects.values_list("recipient_id", "kind", "dedup_key"))
        assert RepDay.objects.filter(received__gt=0).count() == 0
    assert sorted(notices) == sorted((admin, "pool.no_eligible_rep", f"pool.no_eligible_rep:{i}") for i in leads)


def test_excluded_previous_owner_gets_another_rep(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 2)
    pool, _rule = pool_with_rule(tenant_a, reps, strategy="designated")
    leads = mature_leads_make(tenant_a, pool, 2)
    route(tenant_a, leads, exclude_owner_ids={leads[0]: reps[0]})
    assert owners(tenant_a, leads) == {leads[0]: reps[1], leads[1]: reps[0]}


def test_not_mature_owned_and_other_tenants_leads_are_skipped(tenant_a: CreatedTenant, tenant_b: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 1)
    pool, _rule = pool_with_rule(tenant_a, reps)
    nurture = mature_leads_make(tenant_a, pool, 1)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id__in=nurture).update(is_mature=False)
    foreign = mature_leads_make(tenant_b, None, 1)
    result = route(tenant_a, nurture + foreign)
    assert sorted(result.skipped) == sorted(nurture + foreign)
    assert owners(tenant_a, nurture) == {nurture[0]: None}
    assert owners(tenant_b, foreign) == {foreign[0]: None}


def test_owner_change_is_audited_with_the_rule_reason(tenant_a: CreatedTenant) -> None:
    reps = reps_make(tenant_a, 1)
    pool, _rule = pool_with_rule(tenant_a, reps)
    leads = mature_leads_make(tenant_a, pool, 1)
    route(tenant_a, leads)
    route(tenant_a, leads)  # idempotent
    with tenant_scope(tenant_a.tenant.id):
        audits = list(AuditLog.objects.filter(action="lead.owner_change", object_id=str(leads[0])).values_list("changes", flat=True))
        lead = Lead.objects.get(id=leads[0])
    assert audits == [{"from": None, "to": reps[0], "reason": "assignment_rule"}]
    assert lead.owner_assigned_at is not None


def test_a_lead_without_a_pool_is_routed_by_the_default_pool(tenant_a: CreatedTenant) -> None:
    from assignment.pool_services import rule_create
    from assignment.selectors import pool_default

    reps = reps_make(tenant_a, 1)
    with tenant_scope(tenant_a.tenant.id):
        default = pool_default()
        rule_create(tenant=tenant_a.tenant, pool=default, data={"strategy": "round_robin", "reps": [{"user": reps[0]}]})
    leads = mature_leads_make(tenant_a, None, 1)
    route(tenant_a, leads)
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.filter(id=leads[0]).values_list("owner_id", "pool_id").get() == (reps[0], default.id)
