"""Reads for assignment's pages: pools with their lead counts, the 公海 a member may browse,
and the reps a manager may give a lead to. Reads only; nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from assignment import engine
from assignment.models import AssignmentRule, Pool, PoolKind, PoolMember, RoutingProfile
from assignment.routing import open_counts
from leadcrm.tenancy.models import Membership, Role
from leads.models import Lead
from leads.selectors import PersonLabel, owner_labels


@dataclass
class PoolRow:
    pool: Pool
    leads: int = 0
    unowned: int = 0
    members: list[PersonLabel] = field(default_factory=list)
    admins: list[PersonLabel] = field(default_factory=list)
    rules: int = 0
    conditions: list[tuple[str, str]] = field(default_factory=list)  # worded by the page


def pool_rows() -> list[PoolRow]:
    """Every pool in entry order (the default last) with its lead counts, members and rule
    count: one grouped count per table, whatever the number of pools."""
    pools = list(Pool.objects.order_by("is_default", "position", "id"))
    counts = {
        row["pool_id"]: row
        for row in Lead.objects.filter(pool_id__isnull=False).order_by().values("pool_id").annotate(
            n=Count("id"), unowned=Count("id", filter=Q(owner_id__isnull=True))
        )
    }
    rule_counts = dict(AssignmentRule.objects.order_by().values("pool_id").annotate(n=Count("id")).values_list("pool_id", "n"))
    memberships = list(PoolMember.objects.values_list("pool_id", "user_id", "is_admin"))
    labels = owner_labels(user_ids={user_id for _pool, user_id, _admin in memberships})
    rows = {pool.id: PoolRow(pool=pool, leads=counts.get(pool.id, {}).get("n", 0),
                             unowned=counts.get(pool.id, {}).get("unowned", 0), rules=rule_counts.get(pool.id, 0))
            for pool in pools}
    for pool_id, user_id, is_admin in memberships:
        if pool_id in rows and user_id in labels:
            (rows[pool_id].admins if is_admin else rows[pool_id].members).append(labels[user_id])
    return [rows[pool.id] for pool in pools]


def member_choices() -> list[tuple[int, PersonLabel]]:
    """The tenant's active members by name, for pickers."""
    ids = set(Membership.objects.filter(is_active=True).values_list("user_id", flat=True))
    labels = owner_labels(user_ids=ids)
    return sorted(labels.items(), key=lambda item: item[1].name)


def public_pools_for(*, membership: Membership) -> list[Pool]:
    """The public pools a member may browse: admins all; managers the pools they or someone
    of their team belong to; everyone else the pools they are a member of."""
    pools = Pool.objects.filter(kind=PoolKind.PUBLIC, is_active=True).order_by("is_default", "position", "id")
    if membership.is_admin:
        return list(pools)
    users = [membership.user_id]
    if membership.role == Role.MANAGER and membership.team:
        users += list(Membership.objects.filter(team=membership.team, is_active=True).values_list("user_id", flat=True))
    return list(pools.filter(memberships__user_id__in=users).distinct())


def public_pool_leads(*, pools: list[Pool], filters: dict[str, Any]) -> QuerySet[Lead]:
    """Unowned, open leads of the given pools, filtered and sorted as the 公海 page asks."""
    qs = Lead.objects.filter(pool_id__in=[pool.id for pool in pools], owner_id__isnull=True,
                             status__in=("pending", "returned"))
    if filters.get("pool"):
        qs = qs.filter(pool_id=filters["pool"])
    for key in ("province", "industry", "grade", "tier", "source"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    if filters.get("q"):
        q = filters["q"]
        qs = qs.filter(Q(name__icontains=q) | Q(company__icontains=q))
    order = ("-score_total", "-id") if filters.get("sort") == "score" else ("-created_at", "-id")
    return qs.order_by(*order)


# The pickers count a rep's open leads up to this many and show more as "1000+": counting every
# open lead of a big tenant rep by rep cost half a second on each list page (1M leads), and past
# this the number no longer changes whom a manager picks.
OPEN_LEADS_COUNTED_TO = 1000


@dataclass(frozen=True)
class RepChoice:
    user_id: int
    label: PersonLabel
    open_leads: int  # counted up to OPEN_LEADS_COUNTED_TO + 1
    on_duty: bool

    @property
    def open_leads_text(self) -> str:
        if self.open_leads > OPEN_LEADS_COUNTED_TO:
            return f"{OPEN_LEADS_COUNTED_TO}+"
        return str(self.open_leads)


def rep_choices() -> list[RepChoice]:
    """Active reps and managers with their open-lead count and whether they are on duty now."""
    ids = list(Membership.objects.filter(is_active=True, role__in=(Role.REP, Role.MANAGER)).values_list("user_id", flat=True))
    labels = owner_labels(user_ids=set(ids))
    counts = open_counts(user_ids=ids, up_to=OPEN_LEADS_COUNTED_TO + 1)
    now = timezone.now()
    duty: dict[int, bool] = defaultdict(lambda: True)
    for profile in RoutingProfile.objects.filter(user_id__in=ids):
        penalised = profile.penalty_until is not None and profile.penalty_until > now
        duty[profile.user_id] = profile.on_duty and not penalised and engine.on_duty_at(
            working_hours=profile.working_hours, timezone_name=profile.timezone, now=now
        )
    choices = [RepChoice(user_id=u, label=labels[u], open_leads=counts.get(u, 0), on_duty=duty[u]) for u in ids if u in labels]
    return sorted(choices, key=lambda c: c.label.name)


def mask_contacts_for(*, lead: Lead, membership: Membership) -> bool:
    """Whether this member sees the lead's contact details masked: its pool masks them, they
    do not own it and are not an admin."""
    if membership.is_admin or lead.owner_id == membership.user_id or lead.pool_id is None:
        return False
    return bool(Pool.objects.filter(id=lead.pool_id, mask_contacts=True).exists())
