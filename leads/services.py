"""What happens to a lead after intake (leads/intake/): pool, owner and status changes, each
audited and on the lead's timeline. Set-based, so routing a thousand leads costs a few
statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from leadcrm.db import insert_many, json_param, model_build
from leadcrm.tenancy.models import ApiKey, AuditLog, Tenant
from leads.models import (
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    STATUS_CHANGE_ACTION,
    STATUS_TRANSITIONS,
    STATUSES_NEEDING_REASON,
    Lead,
    OwnerChangeReason,
)

# --- lifecycle: owner and status changes, each audited (SPEC §1, §5) ----------------------------


class InvalidTransition(Exception):
    """A status change the lead's current status does not allow (the API answers 409)."""

    def __init__(self, *, lead_id: int, current: str, requested: str) -> None:
        self.lead_id, self.current, self.requested = lead_id, current, requested
        super().__init__(f"Lead {lead_id} is '{current}'; it cannot become '{requested}'.")


@dataclass(frozen=True)
class OwnerChange:
    lead_id: int
    owner_id: int | None  # None: back to its pool, unowned
    pool_id: int | None = None  # None: stays in its pool
    at: datetime | None = None  # when it happened (None: now); only imports and the demo pass the past


@dataclass(frozen=True)
class PoolPlacement:
    lead_id: int
    pool_id: int
    at: datetime | None = None


@dataclass(frozen=True)
class StatusChange:
    lead_id: int
    status: str
    reason: str = ""
    at: datetime | None = None


_OWNER_UPDATE_SQL = """
    UPDATE leads_lead AS l SET
        owner_id = v.owner_id, pool_id = COALESCE(v.pool_id, l.pool_id),
        owner_assigned_at = CASE WHEN v.owner_id IS NULL THEN NULL ELSE v.at END,
        updated_at = GREATEST(l.updated_at, v.at)
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, owner_id integer, pool_id bigint, at timestamptz)
    WHERE l.tenant_id = %s AND l.id = v.id
"""
_POOL_UPDATE_SQL = """
    UPDATE leads_lead AS l SET pool_id = v.pool_id, updated_at = GREATEST(l.updated_at, v.at)
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, pool_id bigint, at timestamptz)
    WHERE l.tenant_id = %s AND l.id = v.id
"""
_STATUS_UPDATE_SQL = """
    UPDATE leads_lead AS l SET status = v.status, updated_at = GREATEST(l.updated_at, v.at)
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, status text, at timestamptz)
    WHERE l.tenant_id = %s AND l.id = v.id
"""


def _locked_leads(lead_ids: list[int], *columns: str) -> dict[int, tuple[Any, ...]]:
    """The leads' current `columns`, locked until the transaction ends (so two changes of one
    lead queue up instead of both reading the same 'before')."""
    rows = Lead.objects.select_for_update().filter(id__in=lead_ids).order_by("id").values_list("id", *columns)
    return {row[0]: row[1:] for row in rows}


def _audit_rows(
    *, tenant: Tenant, action: str, entries: list[tuple[int, dict[str, Any], datetime]], actor: User | None,
    api_key: ApiKey | None,
) -> list[AuditLog]:
    return [
        model_build(AuditLog, {
            "tenant_id": tenant.id, "actor_id": actor.id if actor else None,
            "actor_api_key_id": api_key.id if api_key else None, "action": action, "object_type": "lead",
            "object_id": str(lead_id), "changes": changes, "created_at": at, "updated_at": at,
        })
        for lead_id, changes, at in entries
    ]


def lead_owner_change_many(
    *, tenant: Tenant, changes: list[OwnerChange], reason: str, actor: User | None = None,
    api_key: ApiKey | None = None,
) -> int:
    """Give leads a new owner (or none) and maybe a new pool, each change audited with its
    reason; set-based (three statements for any number of leads). Returns how many changed.
    Leads that are gone (or not the tenant's) are skipped."""
    if reason not in OwnerChangeReason.values:
        raise ValidationError({"reason": [f"Unknown reason '{reason}'. Use one of: {', '.join(OwnerChangeReason.values)}."]})
    now = timezone.now()
    current = _locked_leads([change.lead_id for change in changes], "owner_id")
    # One UPDATE row per lead (its last change: an UPDATE … FROM with two rows for one lead
    # would apply either); the audit keeps every step, each starting where the last ended.
    rows: dict[int, dict[str, Any]] = {}
    entries = []
    for change in changes:
        if change.lead_id not in current:
            continue
        at = change.at or now
        rows[change.lead_id] = {"id": change.lead_id, "owner_id": change.owner_id, "pool_id": change.pool_id, "at": at}
        audit = {"from": current[change.lead_id][0], "to": change.owner_id, "reason": reason}
        if change.pool_id is not None:
            audit["pool"] = change.pool_id
        entries.append((change.lead_id, audit, at))
        current[change.lead_id] = (change.owner_id,)
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(_OWNER_UPDATE_SQL, [json_param(list(rows.values())), tenant.id])
        insert_many(_audit_rows(tenant=tenant, action=OWNER_CHANGE_ACTION, entries=entries, actor=actor, api_key=api_key))
    return len(rows)


def lead_status_change_many(
    *, tenant: Tenant, changes: list[StatusChange], actor: User | None = None, api_key: ApiKey | None = None
) -> int:
    """Move leads to new statuses along the allowed transitions, each change audited. All or
    nothing: one wrong transition (InvalidTransition) or a missing reason changes no lead."""
    now = timezone.now()
    current = _locked_leads([change.lead_id for change in changes], "status")
    rows: dict[int, dict[str, Any]] = {}
    entries = []
    for change in changes:
        if change.lead_id not in current:
            continue
        status = current[change.lead_id][0]
        if change.status not in STATUS_TRANSITIONS.get(status, frozenset()):
            raise InvalidTransition(lead_id=change.lead_id, current=status, requested=change.status)
        if change.status in STATUSES_NEEDING_REASON and not change.reason.strip():
            raise ValidationError({"reason": [f"Say why the lead is {change.status}: a reason is required."]})
        at = change.at or now
        rows[change.lead_id] = {"id": change.lead_id, "status": change.status, "at": at}
        entries.append((change.lead_id, {"from": status, "to": change.status, "reason": change.reason.strip()}, at))
        current[change.lead_id] = (change.status,)  # a second change of the same lead starts from here
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(_STATUS_UPDATE_SQL, [json_param(list(rows.values())), tenant.id])
        insert_many(_audit_rows(tenant=tenant, action=STATUS_CHANGE_ACTION, entries=entries, actor=actor, api_key=api_key))
    return len(rows)


def lead_pool_place_many(
    *, tenant: Tenant, placements: list[PoolPlacement], actor: User | None = None, api_key: ApiKey | None = None
) -> int:
    """Put leads into pools (their owners stay), each move audited. Returns how many moved."""
    now = timezone.now()
    current = _locked_leads([placement.lead_id for placement in placements], "pool_id")
    rows: dict[int, dict[str, Any]] = {}
    entries = []
    for placement in placements:
        if placement.lead_id not in current:
            continue
        at = placement.at or now
        rows[placement.lead_id] = {"id": placement.lead_id, "pool_id": placement.pool_id, "at": at}
        entries.append((placement.lead_id, {"from": current[placement.lead_id][0], "to": placement.pool_id}, at))
        current[placement.lead_id] = (placement.pool_id,)
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(_POOL_UPDATE_SQL, [json_param(list(rows.values())), tenant.id])
        insert_many(_audit_rows(tenant=tenant, action=POOL_CHANGE_ACTION, entries=entries, actor=actor, api_key=api_key))
    return len(rows)
