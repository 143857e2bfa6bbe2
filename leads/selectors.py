from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from leadcrm.tenancy.models import Membership, Role
from leads.models import IntakeRecord, Lead



def lead_visible_to(*, membership: Membership | None) -> QuerySet[Lead]:
    """Leads a member may see: reps their own; managers, admins, read-only all (teams come
    with assignment). API keys (membership None) see the whole tenant."""
    qs = Lead.objects.all()
    if membership is not None and membership.role == Role.REP:
        qs = qs.filter(owner_id=membership.user_id)
    return qs


def lead_list(*, membership: Membership | None = None, filters: dict[str, Any] | None = None) -> QuerySet[Lead]:
    qs = lead_visible_to(membership=membership)
    filters = filters or {}
    if q := (filters.get("q") or "").strip().lower():
        qs = qs.filter(search_text__contains=q)
    return qs


def lead_get(*, lead_id: int, membership: Membership | None = None) -> Lead | None:
    return lead_visible_to(membership=membership).filter(id=lead_id).select_related("owner", "pool").first()


def intake_record_list() -> QuerySet[IntakeRecord]:
    return IntakeRecord.objects.order_by("-created_at", "-id")


def owner_display_names(*, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = Membership.objects.filter(user_id__in=user_ids).values_list("user_id", "display_name")
    names = dict(rows)
    missing = user_ids - names.keys()
    if missing:
        names.update({u.id: u.get_full_name() or u.email for u in User.objects.filter(id__in=missing)})
    return names
