"""Removing a member (API.md PATCH /members/{user_id} {"active": false}): their membership
closes (leadcrm.tenancy.members), the open leads they hold go back to their pools unowned,
each owner change audited with the reason `member_removed`, their running deadlines stop, and
their routing profile goes off duty so no rule gives them another lead. One transaction: a
failure leaves them a member with their leads."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from assignment.models import Pool, RoutingProfile
from assignment.sla import deadlines_start
from leadcrm.tenancy.members import membership_deactivate
from leadcrm.tenancy.models import Membership, Tenant
from leads.models import Lead, LeadStatus, OwnerChangeReason
from leads.services import OwnerChange, lead_owner_change_many

# Leads still being worked: these go back to a pool when their owner leaves. Converted,
# invalid and voided leads keep the owner they had, for the record.
OPEN_STATUSES = (LeadStatus.PENDING, LeadStatus.FOLLOWING, LeadStatus.TRANSFERRED, LeadStatus.RETURNED)


@dataclass(frozen=True)
class PoolReturn:
    pool_id: int | None
    pool_name: str  # "" when the lead has no pool (it goes to the default pool)
    lead_count: int


@dataclass(frozen=True)
class MemberRemoval:
    membership: Membership
    returned_count: int
    pools: list[PoolReturn]


def member_open_leads_by_pool(*, user_id: int) -> list[PoolReturn]:
    """How many open leads the member holds, per pool: what removing them hands back."""
    rows = (
        Lead.objects.filter(owner_id=user_id, status__in=OPEN_STATUSES)
        .values("pool_id").annotate(n=Count("id")).order_by("-n", "pool_id")
    )
    names = dict(Pool.objects.values_list("id", "name"))
    default = Pool.objects.filter(is_default=True).values_list("name", flat=True).first() or ""
    return [
        PoolReturn(pool_id=row["pool_id"], pool_name=names.get(row["pool_id"], default), lead_count=row["n"])
        for row in rows
    ]


@transaction.atomic
def member_remove(*, tenant: Tenant, user_id: int, actor: User | None) -> MemberRemoval:
    """Remove a member from the tenant and hand back what they held (idempotent: removing a
    removed member changes nothing)."""
    membership, _was_active = membership_deactivate(tenant=tenant, user_id=user_id, actor=actor)
    pools = member_open_leads_by_pool(user_id=user_id)
    lead_rows = list(Lead.objects.filter(owner_id=user_id, status__in=OPEN_STATUSES).values_list("id", "pool_id"))
    default_pool_id = Pool.objects.filter(is_default=True).values_list("id", flat=True).first()
    changes = [
        # A lead that never entered a pool goes to the default one: "back to its pool" must not
        # mean "nowhere", where no one would ever find it.
        OwnerChange(lead_id=lead_id, owner_id=None, pool_id=None if pool_id is not None else default_pool_id)
        for lead_id, pool_id in lead_rows
    ]
    returned = 0
    if changes:
        returned = lead_owner_change_many(
            tenant=tenant, changes=changes, reason=OwnerChangeReason.MEMBER_REMOVED, actor=actor
        )
        # No owner, no deadline (the SLA seam clears it for unowned leads).
        deadlines_start(tenant=tenant, lead_ids=[change.lead_id for change in changes], at=timezone.now())
    RoutingProfile.objects.filter(user_id=user_id).update(on_duty=False, updated_at=timezone.now())
    return MemberRemoval(membership=membership, returned_count=returned, pools=pools)
