"""The SLA sweep (SPEC §6): leads past their follow-up deadline get one violation each, with
evidence, and are recycled to their pool or redistributed; their owner is penalised and told,
and so are the owner's managers. Leads nearing their deadline warn the owner once.

Exactly once, whatever number of sweeps run: a batch locks its overdue leads (`FOR UPDATE SKIP
LOCKED`, so concurrent sweeps take different leads) and inserts the violations with `ON
CONFLICT DO NOTHING` on (lead, deadline); only the rows it inserted are acted on. Violation,
recycle, penalty and notices of a batch are one transaction: a worker killed mid-batch leaves
nothing half done, and the redelivered task does the batch again from the start.

Index-driven: every statement starts from `lead_tenant_deadline_idx` (deadline not null), so a
sweep costs what is due, not what is open."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assignment.models import BreachAction
from assignment.recycle import idle_leads_recycle_batch, recycling_pools_exist
from assignment.routing import leads_route
from assignment.sla import LEAD_POLICY_SQL
from leadcrm.db import json_param
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.models import Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import LeadStatus, OwnerChangeReason
from leads.services import ReturnedLead, lead_returned_record_many

DEFAULT_PENALTY_DAYS = 3
# Statuses a lead can be returned from (leads.models.STATUS_TRANSITIONS); a deadline left on a
# lead in any other status (closed, or unowned) is stale and is simply cleared.
RECYCLABLE_STATUSES = (LeadStatus.PENDING, LeadStatus.FOLLOWING, LeadStatus.TRANSFERRED)

# The selecting statement (the bench prints its plan): the due leads, oldest deadline first.
DUE_SQL = """
    SELECT l.id FROM leads_lead l
     WHERE l.tenant_id = %(tenant)s AND l.deadline_at IS NOT NULL AND l.deadline_at <= %(now)s
     ORDER BY l.deadline_at
     LIMIT %(limit)s
     FOR UPDATE SKIP LOCKED
"""

_BREACH_SQL = f"""
    WITH due AS ({DUE_SQL}),
    lead AS (
        SELECT l.id, l.owner_id, l.pool_id, l.status, l.deadline_at, l.owner_assigned_at, l.name, l.company,
               l.source, l.grade, l.tier, l.score_total, {LEAD_POLICY_SQL} AS policy_id,
               (l.owner_id IS NOT NULL AND l.status = ANY(%(recyclable)s)) AS is_breach
          FROM leads_lead l JOIN due ON due.id = l.id
         WHERE l.tenant_id = %(tenant)s
    ),
    inserted AS (
        INSERT INTO assignment_violation
            (tenant_id, created_at, updated_at, lead_id, owner_id, policy_id, deadline_at, detected_at, action, snapshot)
        SELECT %(tenant)s, %(now)s, %(now)s, d.id, d.owner_id, d.policy_id, d.deadline_at, %(now)s,
               COALESCE(p.on_breach, 'recycle'),
               jsonb_build_object(
                   'lead', jsonb_build_object(
                       'id', d.id, 'name', d.name, 'company', d.company, 'status', d.status, 'pool', d.pool_id,
                       'source', d.source, 'grade', d.grade, 'tier', d.tier, 'score', d.score_total),
                   'owner', d.owner_id, 'deadline_at', d.deadline_at, 'assigned_at', d.owner_assigned_at,
                   'detected_at', %(now)s::timestamptz,
                   'last_follow_up', (
                       SELECT jsonb_build_object('at', f.created_at, 'by', f.by_id, 'kind', f.kind)
                         FROM assignment_followup f
                        WHERE f.tenant_id = %(tenant)s AND f.lead_id = d.id
                        ORDER BY f.created_at DESC LIMIT 1),
                   'policy', CASE WHEN p.id IS NULL THEN NULL ELSE jsonb_build_object(
                       'id', p.id, 'name', p.name, 'within', p.within_value, 'unit', p.within_unit,
                       'on_breach', p.on_breach, 'penalty_days', p.penalty_days) END)
          FROM lead d LEFT JOIN assignment_slapolicy p ON p.id = d.policy_id
         WHERE d.is_breach
        ON CONFLICT ON CONSTRAINT violation_once_per_deadline DO NOTHING
        RETURNING id, lead_id, owner_id, action, policy_id
    ),
    -- One write per lead (22 indexes take each new row version): the deadline goes; a breach
    -- recorded here also returns the lead to its pool (audited by the caller).
    cleared AS (
        UPDATE leads_lead l SET deadline_at = NULL,
               owner_id = CASE WHEN i.id IS NULL THEN l.owner_id END,
               owner_assigned_at = CASE WHEN i.id IS NULL THEN l.owner_assigned_at END,
               status = CASE WHEN i.id IS NULL THEN l.status ELSE 'returned' END,
               updated_at = CASE WHEN i.id IS NULL THEN l.updated_at ELSE GREATEST(l.updated_at, %(now)s) END
          FROM lead d LEFT JOIN inserted i ON i.lead_id = d.id
         WHERE l.tenant_id = %(tenant)s AND l.id = d.id
    )
    SELECT d.id, i.id, i.owner_id, i.action, COALESCE(p.penalty_days, %(penalty)s), d.name, d.company, d.status
      FROM lead d LEFT JOIN inserted i ON i.lead_id = d.id LEFT JOIN assignment_slapolicy p ON p.id = i.policy_id
"""

_PENALTY_SQL = """
    INSERT INTO assignment_routingprofile
        (tenant_id, created_at, updated_at, user_id, on_duty, timezone, working_hours, weight, penalty_until, cap_bonus)
    SELECT %(tenant)s, %(now)s, %(now)s, v.user_id, true, %(tz)s, '[]'::jsonb, 1, %(now)s + make_interval(days => v.days), 0
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(user_id integer, days integer)
     ORDER BY v.user_id  -- one lock order for every sweep: concurrent batches penalising the same reps never deadlock
    ON CONFLICT ON CONSTRAINT routingprofile_unique_user DO UPDATE
       SET penalty_until = GREATEST(COALESCE(assignment_routingprofile.penalty_until, EXCLUDED.penalty_until),
                                    EXCLUDED.penalty_until),
           updated_at = EXCLUDED.updated_at
"""

# Leads whose warning time has come: deadline within the policy's `warn_before` (working
# hours read as clock hours here), owner still on it. From the deadline index, bounded by the
# longest warning any policy gives.
_WARN_SQL = f"""
    SELECT w.id, w.owner_id, w.deadline_at, w.name, w.company FROM (
        SELECT l.id, l.owner_id, l.deadline_at, l.name, l.company, {LEAD_POLICY_SQL} AS policy_id
          FROM leads_lead l
         WHERE l.tenant_id = %(tenant)s AND l.deadline_at IS NOT NULL
           AND l.deadline_at > %(now)s AND l.deadline_at <= %(now)s + %(horizon)s
           AND l.owner_id IS NOT NULL
    ) w JOIN assignment_slapolicy p ON p.id = w.policy_id
     WHERE p.warn_before_value IS NOT NULL
       AND w.deadline_at - p.warn_before_value * CASE p.warn_before_unit
             WHEN 'minutes' THEN interval '1 minute' WHEN 'days' THEN interval '1 day' ELSE interval '1 hour' END
           <= %(now)s
"""

_HORIZON_SQL = """
    SELECT max(warn_before_value * CASE warn_before_unit
             WHEN 'minutes' THEN interval '1 minute' WHEN 'days' THEN interval '1 day' ELSE interval '1 hour' END)
      FROM assignment_slapolicy WHERE tenant_id = %s AND is_active AND warn_before_value IS NOT NULL
"""


@dataclass
class SweepResult:
    violations: int = 0
    recycled: int = 0
    redistributed: int = 0
    warned: int = 0

    def add(self, other: SweepResult) -> None:
        self.violations += other.violations
        self.recycled += other.recycled
        self.redistributed += other.redistributed
        self.warned += other.warned

    def as_dict(self) -> dict[str, int]:
        return {"violations": self.violations, "recycled": self.recycled, "redistributed": self.redistributed}


@dataclass(frozen=True)
class _Breach:
    violation_id: int
    lead_id: int
    owner_id: int
    action: str
    penalty_days: int
    label: str
    status: str  # before the breach


def sla_sweep_batch(*, tenant: Tenant, now: datetime | None = None, limit: int | None = None) -> tuple[SweepResult, int]:
    """One batch, inside the tenant's scope and transaction: returns what it did and how many
    due leads it took (fewer than `limit`: none are left)."""
    now = now or timezone.now()
    limit = limit or settings.SLA_SWEEP_BATCH
    with connection.cursor() as cursor:
        cursor.execute(_BREACH_SQL, {
            "tenant": tenant.id, "now": now, "limit": limit, "recyclable": list(RECYCLABLE_STATUSES),
            "penalty": DEFAULT_PENALTY_DAYS,
        })
        rows = cursor.fetchall()
    breaches = [
        _Breach(violation_id=r[1], lead_id=r[0], owner_id=r[2], action=r[3], penalty_days=r[4], label=r[5] or r[6] or f"#{r[0]}",
                status=r[7])
        for r in rows
        if r[1] is not None  # recorded by this batch (not stale, not recorded by a racing sweep)
    ]
    result = SweepResult(violations=len(breaches))
    if not breaches:
        return result, len(rows)
    lead_returned_record_many(
        tenant=tenant, owner_reason=OwnerChangeReason.RECYCLE, status_reason="sla", at=now,
        leads=[ReturnedLead(lead_id=b.lead_id, owner_id=b.owner_id, status=b.status) for b in breaches],
    )
    redistribute = [b for b in breaches if b.action == BreachAction.REDISTRIBUTE]
    result.recycled = len(breaches) - len(redistribute)
    if redistribute:
        routed = leads_route(
            tenant=tenant, lead_ids=[b.lead_id for b in redistribute], reason=OwnerChangeReason.ASSIGNMENT_RULE,
            exclude_owner_ids={b.lead_id: b.owner_id for b in redistribute},
        )
        result.redistributed = len(routed.assigned)
        result.recycled += len(redistribute) - len(routed.assigned)  # no eligible rep: it waits in its pool
    _penalise(tenant=tenant, breaches=breaches, now=now)
    _violations_notify(tenant=tenant, breaches=breaches)
    return result, len(rows)


def _penalise(*, tenant: Tenant, breaches: list[_Breach], now: datetime) -> None:
    """No new leads for the policy's penalty days (SPEC §5): `penalty_until` only moves later."""
    days: dict[int, int] = {}
    for breach in breaches:
        days[breach.owner_id] = max(days.get(breach.owner_id, 0), breach.penalty_days)
    rows = [{"user_id": user_id, "days": n} for user_id, n in sorted(days.items()) if n > 0]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(_PENALTY_SQL, {"tenant": tenant.id, "now": now, "tz": tenant.timezone, "rows": json_param(rows)})


def managers_of(*, user_ids: set[int]) -> dict[int, list[int]]:
    """Each rep's managers: the managers of the rep's team, else every manager of the tenant
    (a rep without a team, or a team without a manager), else its admins."""
    members = list(Membership.objects.filter(is_active=True).values_list("user_id", "role", "team"))
    managers = [(uid, team) for uid, role, team in members if role == Role.MANAGER]
    admins = [uid for uid, role, _team in members if role in (Role.ADMIN, Role.OWNER)]
    team_of = {uid: team for uid, _role, team in members}
    result: dict[int, list[int]] = {}
    for user_id in user_ids:
        team = team_of.get(user_id, "")
        in_team = [uid for uid, t in managers if team and t == team and uid != user_id]
        result[user_id] = in_team or [uid for uid, _t in managers if uid != user_id] or admins
    return result


def _violations_notify(*, tenant: Tenant, breaches: list[_Breach]) -> None:
    """One notice per rep and one per manager for the batch (a batch of a thousand breaches
    is not a thousand e-mails); keyed by the batch's first violation."""
    by_owner: dict[int, list[_Breach]] = defaultdict(list)
    for breach in breaches:
        by_owner[breach.owner_id].append(breach)
    managers = managers_of(user_ids=set(by_owner))
    names = dict(Membership.objects.filter(user_id__in=set(by_owner)).values_list("user_id", "display_name"))
    key = f"{breaches[0].violation_id}"
    notices: list[Notice] = []
    by_manager: dict[int, list[tuple[int, list[_Breach]]]] = defaultdict(list)
    with translation.override(tenant.locale):
        for owner_id, owned in by_owner.items():
            labels = "、".join(b.label for b in owned[:5]) + ("…" if len(owned) > 5 else "")
            notices.append(Notice(
                recipient_id=owner_id, kind="sla.violation",
                title=ngettext(
                    "%(count)d 条线索超时未跟进，已收回", "%(count)d 条线索超时未跟进，已收回", len(owned)
                ) % {"count": len(owned)},
                body=_("超过跟进时限未记录跟进：%(leads)s。按规定暂停分配新线索。") % {"leads": labels},
                url=f"/{tenant.slug}/leads/{owned[0].lead_id}", data={"leads": [b.lead_id for b in owned]},
                dedup_key=f"sla.violation:{key}:{owner_id}", email=True,
            ))
            for manager_id in managers.get(owner_id, []):
                by_manager[manager_id].append((owner_id, owned))
        for manager_id, entries in by_manager.items():
            count = sum(len(owned) for _owner, owned in entries)
            reps = "、".join(names.get(owner_id) or str(owner_id) for owner_id, _owned in entries)
            notices.append(Notice(
                recipient_id=manager_id, kind="sla.violation.team",
                title=ngettext(
                    "团队有 %(count)d 条线索超时未跟进", "团队有 %(count)d 条线索超时未跟进", count
                ) % {"count": count},
                body=_("负责人：%(reps)s。线索已按规则收回或重新分配，违规记录见跟进统计。") % {"reps": reps},
                url=f"/{tenant.slug}/follow-up-stats",
                data={"leads": [b.lead_id for _owner, owned in entries for b in owned]},
                dedup_key=f"sla.violation.team:{key}:{manager_id}", email=True,
            ))
    notify_many(tenant_id=tenant.id, notices=notices)


def sla_warnings_send(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Warn each owner once per deadline that it is near; returns how many were new."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL, [tenant.id])
        horizon = cursor.fetchone()[0]
        if horizon is None:
            return 0
        cursor.execute(_WARN_SQL, {"tenant": tenant.id, "now": now, "horizon": horizon})
        rows = cursor.fetchall()
    if not rows:
        return 0
    with translation.override(tenant.locale):
        notices = [
            Notice(
                recipient_id=owner_id, kind="sla.warning",
                title=_("线索「%(lead)s」即将超过跟进时限") % {"lead": name or company or f"#{lead_id}"},
                body=_("请在 %(deadline)s 前记录跟进，否则线索将被收回。") % {
                    "deadline": timezone.localtime(deadline, timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")
                },
                url=f"/{tenant.slug}/leads/{lead_id}", data={"lead": lead_id, "deadline_at": deadline.isoformat()},
                dedup_key=f"sla.warning:{lead_id}:{deadline.isoformat()}",
            )
            for lead_id, owner_id, deadline, name, company in rows
        ]
    return notify_many(tenant_id=tenant.id, notices=notices)


def sla_sweep(*, tenant: Tenant, now: datetime | None = None, batch_size: int | None = None) -> SweepResult:
    """Sweep one tenant, batch by batch (each its own transaction when called outside one;
    savepoints inside the API's request transaction): the overdue leads, then the leads idle
    beyond their pool's `recycle_after_days` (counted in `recycled`), then the due warnings."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH
    total = SweepResult()
    while True:
        with tenant_scope(tenant.id):
            result, taken = sla_sweep_batch(tenant=tenant, now=now, limit=batch_size)
        total.add(result)
        if taken < batch_size:
            break
    with tenant_scope(tenant.id):
        recycling = recycling_pools_exist()
    while recycling:
        with tenant_scope(tenant.id):
            idle = idle_leads_recycle_batch(tenant=tenant, now=now, limit=batch_size)
        total.recycled += idle
        recycling = idle == batch_size
    with tenant_scope(tenant.id):
        total.warned = sla_warnings_send(tenant=tenant, now=now)
    return total


def sla_sweep_all(*, now: datetime | None = None) -> SweepResult:
    """Every active tenant (the beat's job). Runs as the app role: tenant by tenant under RLS."""
    total = SweepResult()
    for tenant in Tenant.objects.filter(is_active=True).order_by("id"):
        total.add(sla_sweep(tenant=tenant, now=now))
    return total

