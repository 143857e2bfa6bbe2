from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from leadcrm.tenancy.models import AuditLog, Membership, Role
from leadcrm.tenancy.scoping import current_tenant_id
from leads.models import OWNER_CHANGE_ACTION, POOL_CHANGE_ACTION, STATUS_CHANGE_ACTION, Lead, LeadSubmission


def lead_visible_to(*, membership: Membership | None) -> QuerySet[Lead]:
    """Leads a member may see: reps their own; managers, admins, read-only all (teams come
    with assignment). API keys (membership None) see the whole tenant."""
    qs = Lead.objects.all()
    if membership is not None and membership.role == Role.REP:
        qs = qs.filter(owner_id=membership.user_id)
    return qs


def lead_is_visible_to(*, lead: Lead, membership: Membership | None) -> bool:
    """`lead_visible_to` for one lead in hand, without a query; the two must agree."""
    return membership is None or membership.role != Role.REP or lead.owner_id == membership.user_id


def lead_get(*, lead_id: int, membership: Membership | None = None) -> Lead | None:
    return lead_visible_to(membership=membership).filter(id=lead_id).select_related("owner", "pool").first()


def owner_display_names(*, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = Membership.objects.filter(user_id__in=user_ids).values_list("user_id", "display_name")
    names = dict(rows)
    missing = user_ids - names.keys()
    if missing:
        names.update({u.id: u.get_full_name() or u.email for u in User.objects.filter(id__in=missing)})
    return names


# --- workbench (UI) -----------------------------------------------------------------------------

LEAD_PAGE_SIZE = 50
# Large columns the list never shows: keep the 50-row page narrow.
_LIST_DEFERRED_FIELDS = ("search_text", "notes", "custom", "utm_source", "utm_medium", "utm_campaign")


class InvalidLeadCursor(ValueError):
    """A page cursor that was tampered with, truncated, or made for another sort order."""


@dataclass(frozen=True)
class LeadKeysetPage:
    leads: list[Lead]
    next_cursor: str | None
    previous_cursor: str | None
    page_size: int


def _cursor_encode(*, direction: str, lead: Lead, ordering: tuple[str, ...]) -> str:
    sort_field = ordering[0].lstrip("-")
    value = getattr(lead, sort_field)
    raw = json.dumps([direction, sort_field, value.isoformat() if isinstance(value, datetime) else str(value), lead.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(*, cursor: str, ordering: tuple[str, ...]) -> tuple[str, Any, int]:
    sort_field = ordering[0].lstrip("-")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, field, value, lead_id = json.loads(raw)
        if direction not in {"next", "previous"} or field != sort_field or not isinstance(lead_id, int):
            raise InvalidLeadCursor(cursor)
        parsed = datetime.fromisoformat(value) if sort_field == "created_at" else Decimal(value)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, InvalidOperation) as exc:
        raise InvalidLeadCursor(cursor) from exc
    return direction, parsed, lead_id


def lead_keyset_page(
    *,
    queryset: QuerySet[Lead],
    ordering: tuple[str, ...],
    cursor: str = "",
    page_size: int = LEAD_PAGE_SIZE,
    deferred_fields: tuple[str, ...] = _LIST_DEFERRED_FIELDS,
) -> LeadKeysetPage:
    """One page of `queryset` in `ordering` (a `leads.filters.ORDERING_CHOICES` value), after or
    before `cursor`. Keyset only: `(sort, id) < (?, ?) ORDER BY sort, id LIMIT n+1` rides the
    (tenant, …, sort, id) indexes at any depth; there is no OFFSET and no COUNT(*)."""
    sort_field = ordering[0].lstrip("-")
    is_descending = ordering[0].startswith("-")
    # The row value `(sort, id) < (?, ?)` (Django 5.2's tuple lookups) is the shape PostgreSQL
    # turns into one index range; `sort < ? OR (sort = ? AND id < ?)` is not.
    direction, position = "next", None
    if cursor:
        direction, sort_value, lead_id = _cursor_decode(cursor=cursor, ordering=ordering)
        position = (sort_value, lead_id)

    forward = direction == "next"
    page_ordering = ordering if forward else tuple(f[1:] if f.startswith("-") else f"-{f}" for f in ordering)
    qs = queryset.defer(*deferred_fields).order_by(*page_ordering)
    if position is not None:
        # Moving forward through a descending order means smaller values, and so on.
        lookup = TupleLessThan if is_descending == forward else TupleGreaterThan
        qs = qs.filter(lookup(Tuple(F(sort_field), F("id")), position))
    rows = list(qs[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if not forward:
        rows.reverse()
    if not rows:
        return LeadKeysetPage(leads=[], next_cursor=None, previous_cursor=None, page_size=page_size)

    has_next = has_more if forward else True
    has_previous = position is not None if forward else has_more
    return LeadKeysetPage(
        leads=rows,
        next_cursor=_cursor_encode(direction="next", lead=rows[-1], ordering=ordering) if has_next else None,
        previous_cursor=_cursor_encode(direction="previous", lead=rows[0], ordering=ordering) if has_previous else None,
        page_size=page_size,
    )


def lead_submission_list(*, lead_id: int, limit: int = 100) -> list[LeadSubmission]:
    """Submissions collected (归集) into a lead, newest first."""
    return list(LeadSubmission.objects.filter(lead_id=lead_id).order_by("-created_at", "-id")[:limit])


def lead_duplicate_list(*, lead_id: int, membership: Membership | None, limit: int = 20) -> list[Lead]:
    """Leads tagged as duplicates of this one that the member may see."""
    return list(
        lead_visible_to(membership=membership)
        .filter(duplicate_of_id=lead_id)
        .only("id", "name", "company", "status", "owner_id", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )


def lead_history_list(*, lead_id: int, limit: int = 100) -> list[AuditLog]:
    """The lead's audited pool, owner and status changes, newest first."""
    return list(
        AuditLog.objects.filter(
            object_type="lead", object_id=str(lead_id), action__in=[POOL_CHANGE_ACTION, OWNER_CHANGE_ACTION, STATUS_CHANGE_ACTION]
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def lead_pool_names() -> dict[int, str]:
    """The tenant's pools by id, for the list's pool filter and the lead's labels (a tenant
    has a handful). Pools belong to assignment, which leads must not import: the model is
    reached through the lead's own foreign key to it."""
    pool_model = Lead._meta.get_field("pool").related_model
    assert isinstance(pool_model, type)
    return dict(pool_model._default_manager.filter(tenant_id=current_tenant_id()).order_by("name").values_list("id", "name"))
