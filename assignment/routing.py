"""Routing unowned leads to reps by their pool's assignment rules (SPEC §5, API.md Routing).

INTERFACE: other parts of assignment call only `leads_route` (and `rep_days_lock` to change a
rep's daily counters the same way).

Locks, always in this order so concurrent routers, claims and sweeps queue rather than
deadlock: the leads (by id), then the rules that route them (by id), then the reps' `RepDay`
rows (by user id). Holding the rule row makes round-robin a single sequence however many
workers route at once; holding the `RepDay` rows makes "under the cap" and "raise the count"
one step, so no cap is ever exceeded."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assignment import engine
from assignment.models import AssignmentRule, Pool, PoolKind, PoolMember, RoutingProfile, Strategy
from assignment.sla import deadlines_start
from leadcrm.db import json_param
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.models import ADMIN_ROLES, AuditLog, Membership, Tenant
from leadcrm.tenancy.scoping import current_tenant_id
from leads.models import OWNER_CHANGE_ACTION, Lead, LeadStatus
from leads.services import OwnerChange, StatusChange, lead_owner_change_many, lead_status_change_many

# A lead is open (counts against `max_open` and `max_held`) while a rep works it.
OPEN_STATUSES = (LeadStatus.PENDING, LeadStatus.FOLLOWING, LeadStatus.TRANSFERRED)
# Unowned leads in these statuses may be routed (a returned lead is picked up again).
ROUTABLE_STATUSES = frozenset({LeadStatus.PENDING, LeadStatus.RETURNED})


@dataclass
class RoutingResult:
    assigned: dict[int, int] = field(default_factory=dict)  # lead id -> rep's user id
    waiting: list[int] = field(default_factory=list)  # no eligible rep (the pool's admins are told)
    skipped: list[int] = field(default_factory=list)  # owned already, not mature, or gone


def tenant_today(tenant: Tenant, now: datetime | None = None) -> date:
    """The tenant's calendar day, which daily caps count in."""
    try:
        zone = zoneinfo.ZoneInfo(tenant.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    return (now or timezone.now()).astimezone(zone).date()


_REPDAY_ENSURE_SQL = """
    INSERT INTO assignment_repday (tenant_id, created_at, updated_at, user_id, day, received, claimed)
    SELECT %(tenant)s, %(now)s, %(now)s, u, %(day)s, 0, 0 FROM unnest(%(users)s::integer[]) AS u
    ORDER BY u
    ON CONFLICT (tenant_id, user_id, day) DO NOTHING
"""
_REPDAY_LOCK_SQL = """
    SELECT user_id, received, claimed FROM assignment_repday
     WHERE tenant_id = %(tenant)s AND day = %(day)s AND user_id = ANY(%(users)s::integer[])
     ORDER BY user_id FOR UPDATE
"""
_REPDAY_WRITE_SQL = """
    UPDATE assignment_repday AS d SET received = v.received, claimed = v.claimed, updated_at = %(now)s
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(user_id integer, received integer, claimed integer)
     WHERE d.tenant_id = %(tenant)s AND d.day = %(day)s AND d.user_id = v.user_id
"""


def rep_days_lock(*, tenant: Tenant, user_ids: Sequence[int], day: date) -> dict[int, list[int]]:
    """Each rep's [received, claimed] for `day`, their rows locked (in user-id order) until
    the transaction ends; write changes back with `rep_days_write`."""
    users = sorted(set(user_ids))
    if not users:
        return {}
    params: dict[str, Any] = {"tenant": tenant.id, "now": timezone.now(), "day": day, "users": users}
    with connection.cursor() as cursor:
        cursor.execute(_REPDAY_ENSURE_SQL, params)
        cursor.execute(_REPDAY_LOCK_SQL, params)
        return {user_id: [received, claimed] for user_id, received, claimed in cursor.fetchall()}


def rep_days_write(*, tenant: Tenant, day: date, counters: dict[int, list[int]]) -> None:
    if not counters:
        return
    rows = [{"user_id": u, "received": c[0], "claimed": c[1]} for u, c in counters.items()]
    with connection.cursor() as cursor:
        cursor.execute(_REPDAY_WRITE_SQL, {"tenant": tenant.id, "day": day, "now": timezone.now(), "rows": json_param(rows)})


# One index range per rep (tenant, owner), stopped after `limit` rows when one is given.
_OPEN_COUNTS_SQL = """
SELECT u.id, (
    SELECT count(*) FROM (
        SELECT 1 FROM leads_lead AS l
        WHERE l.tenant_id = %(tenant)s AND l.owner_id = u.id AND l.status = ANY(%(statuses)s)
          AND (%(pool)s::bigint IS NULL OR l.pool_id = %(pool)s::bigint)
        LIMIT %(limit)s
    ) AS held
)
FROM unnest(%(users)s::integer[]) AS u(id)
"""


def open_counts(*, user_ids: Sequence[int], pool_id: int | None = None, up_to: int | None = None) -> dict[int, int]:
    """Open leads each rep holds (in one pool, when given), counted up to `up_to` when given:
    a picker showing "1000+" need not count a big tenant's every lead."""
    tenant_id = current_tenant_id()
    if not user_ids or tenant_id is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_COUNTS_SQL, {
            "tenant": tenant_id, "users": list(user_ids), "statuses": list(OPEN_STATUSES), "pool": pool_id,
            "limit": up_to,
        })
        return {user_id: count for user_id, count in cursor.fetchall() if count}


@dataclass
class RepState:
    """What the filters need of one rep, and their counters as routing raises them."""

    user_id: int
    static_ok: bool  # member, on duty now, not penalised
    on_duty_hours: bool  # inside their working hours
    weight: Decimal
    cap: int | None
    max_open: int | None
    received: int = 0
    open: int = 0

    def eligible(self, *, respect_hours: bool) -> bool:
        if not self.static_ok or (respect_hours and not self.on_duty_hours):
            return False
        if self.cap is not None and self.received >= self.cap:
            return False
        return self.max_open is None or self.open < self.max_open


def rep_states(*, tenant: Tenant, user_ids: Sequence[int], now: datetime) -> dict[int, RepState]:
    """Every rep's filters (membership, profile) for `now`, without counters."""
    members = set(Membership.objects.filter(user_id__in=user_ids, is_active=True).values_list("user_id", flat=True))
    profiles = {p.user_id: p for p in RoutingProfile.objects.filter(user_id__in=user_ids)}
    states = {}
    for user_id in user_ids:
        profile = profiles.get(user_id)
        if profile is None:
            states[user_id] = RepState(
                user_id=user_id, static_ok=user_id in members, on_duty_hours=True, weight=Decimal(1), cap=None,
                max_open=None,
            )
            continue
        penalised = profile.penalty_until is not None and profile.penalty_until > now
        states[user_id] = RepState(
            user_id=user_id, static_ok=user_id in members and profile.on_duty and not penalised,
            on_duty_hours=engine.on_duty_at(working_hours=profile.working_hours, timezone_name=profile.timezone, now=now),
            weight=profile.weight,
            cap=None if profile.daily_receive_cap is None else profile.daily_receive_cap + profile.cap_bonus,
            max_open=profile.max_open,
        )
    return states


_LEAD_COLUMNS = ("id", "owner_id", "pool_id", "is_mature", "status", "province", "city", "industry", "source",
                 "grade", "tier")


def leads_route(
    *, tenant: Tenant, lead_ids: Sequence[int], reason: str, exclude_owner_ids: dict[int, int] | None = None
) -> RoutingResult:
    """Route the given unowned, mature leads (inside the tenant's scope and a transaction):
    first matching rule of each lead's pool, eligible reps only (on duty in their working
    hours, under their daily receive cap and max open, not penalised, not the excluded
    previous owner `exclude_owner_ids[lead_id]`), caps checked and raised under row locks,
    each owner change audited with `reason`, and each routed lead's SLA deadline started
    (`assignment.sla.deadlines_start`). Idempotent: an owned lead is skipped."""
    result = RoutingResult()
    if not lead_ids:
        return result
    exclude = exclude_owner_ids or {}
    with transaction.atomic():
        rows = list(
            Lead.objects.select_for_update().filter(id__in=set(lead_ids)).order_by("id").values(*_LEAD_COLUMNS)
        )
        found = {row["id"] for row in rows}
        result.skipped.extend(i for i in dict.fromkeys(lead_ids) if i not in found)
        leads = []
        for row in rows:
            if row["owner_id"] is not None or not row["is_mature"] or row["status"] not in ROUTABLE_STATUSES:
                result.skipped.append(row["id"])
            else:
                leads.append(row)
        if not leads:
            return result
        default_pool_id = None
        if any(row["pool_id"] is None for row in leads):
            default_pool_id = Pool.objects.filter(is_default=True).values_list("id", flat=True).first()
        for row in leads:
            row["placed"] = row["pool_id"] is None and default_pool_id is not None
            row["pool_id"] = row["pool_id"] or default_pool_id
        _route_locked(tenant=tenant, leads=leads, reason=reason, exclude=exclude, result=result)
    return result


def _route_locked(
    *, tenant: Tenant, leads: list[dict[str, Any]], reason: str, exclude: dict[int, int], result: RoutingResult
) -> None:
    now = timezone.now()
    pool_ids = {row["pool_id"] for row in leads if row["pool_id"] is not None}
    rules_by_pool: dict[int, list[AssignmentRule]] = defaultdict(list)
    for rule in AssignmentRule.objects.filter(pool_id__in=pool_ids, is_active=True).order_by("pool_id", "position", "id"):
        rules_by_pool[rule.pool_id].append(rule)
    matched: dict[int, list[dict[str, Any]]] = defaultdict(list)  # rule id -> leads
    unruled: list[dict[str, Any]] = []
    for row in leads:
        first = next((r for r in rules_by_pool.get(row["pool_id"], ()) if engine.conditions_match(r.conditions, row)), None)
        if first is None:
            unruled.append(row)
        else:
            matched[first.id].append(row)
    # The rules again, locked, with their cursors as the last router left them.
    rules = {r.id: r for r in AssignmentRule.objects.select_for_update().filter(id__in=matched).order_by("id")}
    flagged = [row["id"] for rule_id, rows in matched.items() if rule_id in rules and rules[rule_id].exclude_previous_owner
               for row in rows if row["id"] not in exclude]
    if flagged:
        exclude = {**previous_owners(tenant=tenant, lead_ids=flagged), **exclude}
    user_ids = sorted({int(rep["user"]) for rule in rules.values() for rep in rule.reps if "user" in rep})
    states = rep_states(tenant=tenant, user_ids=user_ids, now=now)
    candidates = [u for u, s in states.items() if s.static_ok]
    day = tenant_today(tenant, now)
    counters = rep_days_lock(tenant=tenant, user_ids=candidates, day=day)
    for user_id, (received, _claimed) in counters.items():
        states[user_id].received = received
    with_max_open = [u for u in candidates if states[u].max_open is not None]
    for user_id, count in open_counts(user_ids=with_max_open).items():
        states[user_id].open = count

    changes: list[OwnerChange] = []
    reopened: list[StatusChange] = []
    waiting_rows: list[dict[str, Any]] = []
    cursors: dict[int, int] = {}
    for rule_id in sorted(matched):
        if rule_id not in rules:  # deleted between the read and the lock
            waiting_rows.extend(matched[rule_id])
            continue
        rule = rules[rule_id]
        reps = [int(rep["user"]) for rep in rule.reps if "user" in rep]
        rule_weights = [Decimal(str(rep.get("weight", 1))) for rep in rule.reps if "user" in rep]
        cursor = rule.rr_cursor
        for row in matched[rule_id]:
            excluded = exclude.get(row["id"])

            def eligible(user_id: int, excluded: int | None = excluded, rule: AssignmentRule = rule) -> bool:
                state = states.get(user_id)
                return (
                    state is not None and user_id != excluded and state.eligible(respect_hours=rule.respect_working_hours)
                )

            if rule.strategy == Strategy.WEIGHTED:
                weights = [w * (states[u].weight if u in states else 1) for u, w in zip(reps, rule_weights, strict=True)]
                pick = engine.pick_weighted(reps=reps, weights=weights, cursor=cursor, eligible=eligible)
            elif rule.strategy == Strategy.DESIGNATED:
                pick = engine.pick_designated(reps=reps, cursor=cursor, eligible=eligible)
            else:
                pick = engine.pick_round_robin(reps=reps, cursor=cursor, eligible=eligible)
            if pick is None:
                waiting_rows.append(row)
                continue
            cursor = pick.cursor
            state = states[pick.user_id]
            state.received += 1
            state.open += 1
            counters[pick.user_id][0] = state.received
            result.assigned[row["id"]] = pick.user_id
            changes.append(OwnerChange(lead_id=row["id"], owner_id=pick.user_id, pool_id=row["pool_id"] if row["placed"] else None, at=now))
            if row["status"] == LeadStatus.RETURNED:
                reopened.append(StatusChange(lead_id=row["id"], status=LeadStatus.PENDING, at=now))
        if cursor != rule.rr_cursor:
            cursors[rule_id] = cursor

    if changes:
        lead_owner_change_many(tenant=tenant, changes=changes, reason=reason)
        if reopened:
            lead_status_change_many(tenant=tenant, changes=reopened)
        rep_days_write(tenant=tenant, day=day, counters={u: counters[u] for u in set(result.assigned.values())})
        with connection.cursor() as db:
            db.execute(
                "UPDATE assignment_assignmentrule AS r SET rr_cursor = v.c FROM jsonb_to_recordset(%s::jsonb)"
                " AS v(id bigint, c bigint) WHERE r.tenant_id = %s AND r.id = v.id",
                [json_param([{"id": i, "c": c} for i, c in cursors.items()]), tenant.id],
            )
        deadlines_start(tenant=tenant, lead_ids=list(result.assigned), at=now)

    # Leads of a public pool without a matching rule wait to be claimed; anywhere else a lead
    # that found no rep is a problem for the pool's admins.
    kinds = dict(Pool.objects.filter(id__in={r["pool_id"] for r in unruled}).values_list("id", "kind"))
    alarming = waiting_rows + [r for r in unruled if kinds.get(r["pool_id"]) != PoolKind.PUBLIC]
    result.waiting.extend(r["id"] for r in waiting_rows + unruled)
    _admins_notify(tenant=tenant, rows=alarming)


_PREVIOUS_OWNERS_SQL = f"""
    SELECT DISTINCT ON (object_id) object_id::bigint, (changes ->> 'from')::integer
      FROM {AuditLog._meta.db_table}
     WHERE tenant_id = %(tenant)s AND object_type = 'lead' AND action = %(action)s
       AND object_id = ANY(%(ids)s::text[]) AND changes ->> 'from' IS NOT NULL
     ORDER BY object_id, created_at DESC, id DESC
"""


def previous_owners(*, tenant: Tenant, lead_ids: Sequence[int]) -> dict[int, int]:
    """Each lead's last owner before its current one (its latest audited owner change away
    from someone), by the audit log's (tenant, object) index; leads never owned are absent."""
    with connection.cursor() as cursor:
        cursor.execute(_PREVIOUS_OWNERS_SQL, {
            "tenant": tenant.id, "action": OWNER_CHANGE_ACTION, "ids": [str(i) for i in lead_ids],
        })
        return dict(cursor.fetchall())


def _admins_notify(*, tenant: Tenant, rows: list[dict[str, Any]]) -> None:
    """Tell each pool's admins (the tenant's admins when it has none) once per lead."""
    if not rows:
        return
    pool_ids = {row["pool_id"] for row in rows}
    admins: dict[int, list[int]] = defaultdict(list)
    for pool_id, user_id in PoolMember.objects.filter(pool_id__in=pool_ids, is_admin=True).values_list("pool_id", "user_id"):
        admins[pool_id].append(user_id)
    tenant_admins: list[int] | None = None
    names = dict(Pool.objects.filter(id__in=pool_ids).values_list("id", "name"))
    notices: list[Notice] = []
    with translation.override(tenant.locale):
        for row in rows:
            recipients = admins.get(row["pool_id"])
            if not recipients:
                if tenant_admins is None:
                    tenant_admins = list(
                        Membership.objects.filter(role__in=ADMIN_ROLES, is_active=True).values_list("user_id", flat=True)
                    )
                recipients = tenant_admins
            title = _("线索 #%(lead)s 没有可分配的销售，正在「%(pool)s」等待") % {
                "lead": row["id"], "pool": names.get(row["pool_id"], "—"),
            }
            body = _("没有符合条件的销售：可能都不在工作时间、已达每日上限或持有线索上限、处于处罚期。请调整分配规则或手动分配。")
            notices.extend(
                Notice(recipient_id=user_id, kind="pool.no_eligible_rep", title=title, body=body,
                       url=f"/{tenant.slug}/leads/{row['id']}", data={"lead": row["id"], "pool": row["pool_id"]},
                       dedup_key=f"pool.no_eligible_rep:{row['id']}")
                for user_id in recipients
            )
    notify_many(tenant_id=tenant.id, notices=notices)
