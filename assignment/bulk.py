"""Bulk actions on the lead list: assign to a rep, return to the pool, mark invalid — for
every selected lead the action allows, in one transaction and one call of each lead-action
service, and a word for every lead it skips (wrong status, not yours, already theirs).

The selection is read once under row locks (the order routing and claims lock in), then
sorted into done and skipped in Python; nothing is queried per lead. Ids the member cannot
see — another tenant's (row-level security hides them), or unknown ones — are ignored: they
are never touched and never counted, so a POST cannot probe for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assignment.lead_actions import CLOSED_STATUSES, leads_assign, leads_return
from leadcrm.tenancy.models import Membership, Role, Tenant
from leads.models import STATUS_TRANSITIONS, Lead, LeadStatus
from leads.services import StatusChange, lead_status_change_many

ASSIGN, RETURN, INVALID = "assign", "return", "invalid"
BULK_ACTIONS = (ASSIGN, RETURN, INVALID)
# The most ids one POST may carry: a page is 50 rows; the cap keeps a forged POST small.
MAX_SELECTION = 500

# Why a lead was skipped (the page words these; see bulk_views.SKIP_WORDS).
NOT_YOURS = "not_yours"  # a rep's selection held a lead someone else owns
WRONG_STATUS = "wrong_status"  # the lead's status does not allow the action
ALREADY_OWNED = "already_owned"  # assign: the lead is already the chosen rep's
NOT_OWNED = "not_owned"  # return: the lead has no owner, it is in its pool already


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # why → lead ids

    @property
    def skipped_count(self) -> int:
        return sum(len(ids) for ids in self.skipped.values())


def bulk_actions_allowed(*, membership: Membership) -> tuple[str, ...]:
    """The bulk actions a member's role offers: managers and admins all three; a rep return
    and invalid (on their own leads); read-only members none."""
    if membership.is_admin or membership.role == Role.MANAGER:
        return BULK_ACTIONS
    if membership.role == Role.REP:
        return (RETURN, INVALID)
    return ()


def _sorted_out(
    leads: Sequence[Lead], *, action: str, membership: Membership, owner_id: int | None
) -> BulkOutcome:
    outcome = BulkOutcome()
    manages = membership.is_admin or membership.role == Role.MANAGER
    for lead in leads:
        why = ""
        if not manages and lead.owner_id != membership.user_id:
            why = NOT_YOURS
        elif action == ASSIGN:
            if lead.status in CLOSED_STATUSES:
                why = WRONG_STATUS
            elif lead.owner_id == owner_id:
                why = ALREADY_OWNED
        elif action == RETURN:
            if lead.owner_id is None:
                why = NOT_OWNED
            elif LeadStatus.RETURNED not in STATUS_TRANSITIONS.get(lead.status, frozenset()):
                why = WRONG_STATUS
        elif LeadStatus.INVALID not in STATUS_TRANSITIONS.get(lead.status, frozenset()):
            why = WRONG_STATUS
        if why:
            outcome.skipped.setdefault(why, []).append(lead.id)
        else:
            outcome.done.append(lead.id)
    return outcome


def bulk_preview(*, lead_ids: Sequence[int], action: str, membership: Membership, owner_id: int | None = None) -> BulkOutcome:
    """What `leads_bulk_act` would do now, without locking or writing (the confirm step)."""
    leads = list(Lead.objects.filter(id__in=list(lead_ids)[:MAX_SELECTION]).only("id", "owner_id", "status").order_by("id"))
    return _sorted_out(leads, action=action, membership=membership, owner_id=owner_id)


@transaction.atomic
def leads_bulk_act(
    *, tenant: Tenant, membership: Membership, actor: User, lead_ids: Sequence[int], action: str,
    owner_id: int | None = None, reason: str = "",
) -> BulkOutcome:
    """Apply `action` to the selected leads the member may act on; the rest are skipped with
    why. The caller checks the role offers the action (`bulk_actions_allowed`) and, for
    assign, that `owner_id` is a rep they may pick; return and invalid need a reason (the
    services refuse without one)."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"Unknown bulk action {action!r}.")
    ids = sorted(set(lead_ids))[:MAX_SELECTION]
    locked = list(Lead.objects.select_for_update().filter(id__in=ids).only("id", "owner_id", "status").order_by("id"))
    outcome = _sorted_out(locked, action=action, membership=membership, owner_id=owner_id)
    if not outcome.done:
        return outcome
    if action == ASSIGN:
        assert owner_id is not None
        leads_assign(tenant=tenant, lead_ids=outcome.done, owner_id=owner_id, actor=actor, note=reason)
    elif action == RETURN:
        leads_return(tenant=tenant, lead_ids=outcome.done, reason=reason, actor=actor)
    else:
        now = timezone.now()
        lead_status_change_many(
            tenant=tenant, actor=actor,
            changes=[StatusChange(lead_id=lead_id, status=LeadStatus.INVALID, reason=reason.strip(), at=now)
                     for lead_id in outcome.done],
        )
    return outcome
