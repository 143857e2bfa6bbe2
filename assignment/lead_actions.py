"""What people do to a lead by hand (API.md "Lead actions", the lead page and the list's bulk
actions): assign or transfer to a rep, claim from a public pool, return to the pool, change
status. Locks in routing's order (leads, then `RepDay` rows), so a claim racing the router
or another claim can neither take a lead twice nor pass a cap."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assignment.models import Pool, PoolKind, PoolMember
from assignment.routing import ROUTABLE_STATUSES, open_counts, rep_days_lock, rep_days_write, tenant_today
from assignment.sla import deadlines_start
from leadcrm.tenancy.models import ApiKey, Membership, Tenant
from leads.models import Lead, LeadStatus, OwnerChangeReason
from leads.services import (
    InvalidTransition,
    OwnerChange,
    StatusChange,
    lead_owner_change_many,
    lead_status_change_many,
)

# A lead in these statuses is closed: nobody is given it (reopen it first).
CLOSED_STATUSES = frozenset({LeadStatus.CONVERTED, LeadStatus.INVALID, LeadStatus.VOIDED})


class ActionRefused(Exception):
    """A claim or assignment the rules do not allow (the API answers 409 with this text)."""


def _locked(lead_ids: Sequence[int]) -> dict[int, Lead]:
    return {lead.id: lead for lead in Lead.objects.select_for_update().filter(id__in=lead_ids).order_by("id")}


@transaction.atomic
def leads_assign(
    *, tenant: Tenant, lead_ids: Sequence[int], owner_id: int, actor: User | None = None,
    api_key: ApiKey | None = None, transfer: bool = False, note: str = "",
) -> int:
    """Give leads to a rep by hand (a manager's assignment, or a transfer): counted in the
    rep's received leads for the day under the same lock routing takes, the deadline started.
    A closed lead refuses (InvalidTransition); a transfer marks the lead `transferred`. `note`:
    the person's reason in their words, kept with the audited owner change."""
    if not Membership.objects.filter(user_id=owner_id, is_active=True).exists():
        raise ValidationError({"owner": [f"User {owner_id} is not an active member of this tenant."]})
    leads = _locked(lead_ids)
    for lead in leads.values():
        if lead.status in CLOSED_STATUSES:
            raise InvalidTransition(lead_id=lead.id, current=lead.status, requested="assigned")
    moving = [lead for lead in leads.values() if lead.owner_id != owner_id]
    if not moving:
        return 0
    now = timezone.now()
    day = tenant_today(tenant, now)
    counters = rep_days_lock(tenant=tenant, user_ids=[owner_id], day=day)
    reason = OwnerChangeReason.TRANSFER if transfer else OwnerChangeReason.MANUAL
    lead_owner_change_many(
        tenant=tenant, reason=reason, actor=actor, api_key=api_key, note=note,
        changes=[OwnerChange(lead_id=lead.id, owner_id=owner_id, at=now) for lead in moving],
    )
    status_changes = [
        StatusChange(lead_id=lead.id, status=LeadStatus.TRANSFERRED, at=now)
        for lead in moving if transfer and lead.owner_id is not None and lead.status != LeadStatus.TRANSFERRED
    ] + [
        StatusChange(lead_id=lead.id, status=LeadStatus.PENDING, at=now)
        for lead in moving if lead.status == LeadStatus.RETURNED
    ]
    if status_changes:
        lead_status_change_many(tenant=tenant, changes=status_changes, actor=actor, api_key=api_key)
    counters[owner_id][0] += len(moving)
    rep_days_write(tenant=tenant, day=day, counters=counters)
    deadlines_start(tenant=tenant, lead_ids=[lead.id for lead in moving], at=now)
    return len(moving)


def claim_allowance(*, tenant: Tenant, user_id: int, pool: Pool) -> int | None:
    """Claims the rep has left today in this pool (None: no cap). A read, nothing locked."""
    if pool.daily_claim_cap is None:
        return None
    from assignment.models import RepDay

    claimed = RepDay.objects.filter(user_id=user_id, day=tenant_today(tenant)).values_list("claimed", flat=True).first()
    return max(0, pool.daily_claim_cap - (claimed or 0))


@transaction.atomic
def lead_claim(*, tenant: Tenant, lead_id: int, user: User) -> Lead:
    """The rep takes an unowned lead from a public pool they are a member of, within the
    pool's daily claim cap and max held; ActionRefused (409) says which rule stops them."""
    lead = _locked([lead_id]).get(lead_id)
    if lead is None:
        raise Lead.DoesNotExist
    pool = Pool.objects.filter(id=lead.pool_id).first() if lead.pool_id else None
    if pool is None or pool.kind != PoolKind.PUBLIC:
        raise ActionRefused(_("只能领取公海里的线索；这条线索不在公海里。"))
    if not PoolMember.objects.filter(pool=pool, user_id=user.id).exists():
        raise ActionRefused(_("你不是线索池「%(pool)s」的成员，不能领取其中的线索。") % {"pool": pool.name})
    if lead.owner_id is not None:
        raise ActionRefused(_("这条线索已被别人领取。") if lead.owner_id != user.id else _("这条线索已经是你的了。"))
    if lead.status not in ROUTABLE_STATUSES:
        raise InvalidTransition(lead_id=lead.id, current=lead.status, requested="claimed")
    now = timezone.now()
    day = tenant_today(tenant, now)
    counters = rep_days_lock(tenant=tenant, user_ids=[user.id], day=day)
    if pool.daily_claim_cap is not None and counters[user.id][1] >= pool.daily_claim_cap:
        raise ActionRefused(
            _("你今天已领取 %(claimed)s 条线索；线索池「%(pool)s」每天最多允许领取 %(cap)s 条。请明天再来。")
            % {"claimed": counters[user.id][1], "pool": pool.name, "cap": pool.daily_claim_cap}
        )
    if pool.max_held is not None:
        held = open_counts(user_ids=[user.id], pool_id=pool.id).get(user.id, 0)
        if held >= pool.max_held:
            raise ActionRefused(
                _("你持有线索池「%(pool)s」的 %(held)s 条未结束线索，已达上限 %(max)s 条。请先结束或退回一些。")
                % {"pool": pool.name, "held": held, "max": pool.max_held}
            )
    lead_owner_change_many(
        tenant=tenant, reason=OwnerChangeReason.CLAIM, actor=user,
        changes=[OwnerChange(lead_id=lead.id, owner_id=user.id, at=now)],
    )
    if lead.status == LeadStatus.RETURNED:
        lead_status_change_many(tenant=tenant, actor=user, changes=[StatusChange(lead_id=lead.id, status="pending", at=now)])
    counters[user.id][1] += 1
    rep_days_write(tenant=tenant, day=day, counters=counters)
    deadlines_start(tenant=tenant, lead_ids=[lead.id], at=now)
    lead.refresh_from_db()
    return lead


@transaction.atomic
def leads_return(
    *, tenant: Tenant, lead_ids: Sequence[int], reason: str, actor: User | None = None, api_key: ApiKey | None = None
) -> int:
    """Back to their pools, unowned, status `returned` with the reason (audited). A lead whose
    status cannot become returned refuses (InvalidTransition) and nothing changes."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the lead goes back to the pool."]})
    leads = _locked(lead_ids)
    now = timezone.now()
    changes = [StatusChange(lead_id=i, status=LeadStatus.RETURNED, reason=reason.strip(), at=now) for i in leads]
    lead_status_change_many(tenant=tenant, changes=changes, actor=actor, api_key=api_key)
    owned = [lead for lead in leads.values() if lead.owner_id is not None]
    if owned:
        lead_owner_change_many(
            tenant=tenant, reason=OwnerChangeReason.RETURN, actor=actor, api_key=api_key,
            changes=[OwnerChange(lead_id=lead.id, owner_id=None, at=now) for lead in owned],
        )
        deadlines_start(tenant=tenant, lead_ids=[lead.id for lead in owned], at=now)  # no owner: no deadline
    return len(leads)
