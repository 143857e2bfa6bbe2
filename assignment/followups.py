"""Follow-ups (跟进记录, SPEC §6): recording one moves a pending lead to `following`; the
owner's first follow-up since the assignment answers it (first-response time) and, when it
comes before the running deadline, satisfies that deadline.

A follow-up after the deadline does not satisfy it: the breach happened, and the sweep (at
most a minute behind) records it and acts, as the policy says."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from assignment.models import FollowUp, FollowUpKind
from leadcrm.tenancy.models import ApiKey, Membership, Tenant
from leads.models import Lead, LeadStatus
from leads.services import StatusChange, lead_status_change_many

MAX_CONTENT = 5000


def follow_up_create(
    *, tenant: Tenant, lead_id: int, by_id: int | None, kind: str, content: str = "", outcome: str = "",
    next_at: datetime | None = None, actor: User | None = None, api_key: ApiKey | None = None,
) -> FollowUp:
    """Record a follow-up of a lead by `by_id` (None: the lead's owner). Call inside the
    tenant's scope and a transaction; the lead is locked so the deadline is read and cleared
    by one writer at a time."""
    lead = Lead.objects.select_for_update().filter(id=lead_id).first()
    if lead is None:
        raise Lead.DoesNotExist(f"No lead {lead_id}.")
    errors: dict[str, list[str]] = {}
    if kind not in FollowUpKind.values:
        errors["kind"] = [f"Use one of: {', '.join(FollowUpKind.values)}."]
    if len(content) > MAX_CONTENT:
        errors["content"] = [f"At most {MAX_CONTENT} characters."]
    if len(outcome) > 200:
        errors["outcome"] = ["At most 200 characters."]
    by_id = by_id if by_id is not None else lead.owner_id
    if by_id is None:
        errors["by"] = ["The lead has no owner: say who followed it up."]
    elif not Membership.objects.filter(user_id=by_id, is_active=True).exists():
        errors["by"] = [f"User {by_id} is not a member of this workspace."]
    now = timezone.now()
    if next_at is not None and next_at < now - timedelta(minutes=1):
        errors["next_at"] = ["The next follow-up date is in the past."]
    if errors:
        raise ValidationError(errors)

    is_owner = by_id == lead.owner_id
    first_since_assignment = (
        is_owner and lead.owner_assigned_at is not None
        and not FollowUp.objects.filter(lead_id=lead.id, by_id=by_id, created_at__gte=lead.owner_assigned_at).exists()
    )
    met = is_owner and lead.deadline_at is not None and now <= lead.deadline_at
    follow_up = FollowUp.objects.create(
        tenant=tenant, lead_id=lead.id, by_id=by_id, kind=kind, content=content.strip(), outcome=outcome.strip(),
        next_at=next_at, assignment_at=lead.owner_assigned_at if first_since_assignment else None,
        met_deadline_at=lead.deadline_at if met else None,
    )
    if met:
        Lead.objects.filter(id=lead.id).update(deadline_at=None)
    if lead.status == LeadStatus.PENDING:
        lead_status_change_many(
            tenant=tenant, changes=[StatusChange(lead_id=lead.id, status=LeadStatus.FOLLOWING, reason="follow_up")],
            actor=actor, api_key=api_key,
        )
    return follow_up


def follow_up_list(*, lead_id: int) -> QuerySet[FollowUp]:
    """The lead's follow-ups, newest first."""
    return FollowUp.objects.filter(lead_id=lead_id).order_by("-created_at", "-id")
