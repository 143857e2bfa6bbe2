"""What happens to a lead after intake (leads/intake/): pool, owner and status changes, each
audited and on the lead's timeline. Set-based, so routing a thousand leads costs a few
statements. Also the customers and contacts duplicate rules compare, and the notice a previous
owner gets when a duplicate moves their lead to the customer's owner."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leadcrm.db import insert_many, json_param, model_build
from leadcrm.tenancy.models import ApiKey, AuditLog, Tenant
from leadcrm.tenancy.services import audit_log_record
from leads.models import (
    DUPLICATE_NOTICE_ACTION,
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    STATUS_CHANGE_ACTION,
    STATUS_TRANSITIONS,
    STATUSES_NEEDING_REASON,
    Contact,
    Customer,
    Lead,
    OwnerChangeReason,
)
from leads.normalization import clean_text, match_keys, normalise_lead

logger = logging.getLogger(__name__)

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
    api_key: ApiKey | None = None, note: str = "",
) -> int:
    """Give leads a new owner (or none) and maybe a new pool, each change audited with its
    reason (and the person's own words, `note`, when they gave some); set-based (three
    statements for any number of leads). Returns how many changed. Leads that are gone (or not
    the tenant's) are skipped."""
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
        if note.strip():
            audit["note"] = note.strip()[:500]
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


@dataclass(frozen=True)
class ReturnedLead:
    lead_id: int
    owner_id: int  # the owner it had
    status: str  # the status it had


def lead_returned_record_many(
    *, tenant: Tenant, leads: list[ReturnedLead], owner_reason: str, status_reason: str, at: datetime,
    status: str = "returned",
) -> None:
    """Audit leads a caller's own statement already returned to their pool (owner cleared,
    `status` set): the owner change and the status change, worded as `lead_owner_change_many`
    and `lead_status_change_many` record them. The SLA sweep writes each due lead once this way
    (owner, status and deadline in one UPDATE) instead of three times."""
    if owner_reason not in OwnerChangeReason.values:
        raise ValidationError({"reason": [f"Unknown reason '{owner_reason}'."]})
    owners = [(lead.lead_id, {"from": lead.owner_id, "to": None, "reason": owner_reason}, at) for lead in leads]
    statuses = [(lead.lead_id, {"from": lead.status, "to": status, "reason": status_reason}, at) for lead in leads]
    insert_many(_audit_rows(tenant=tenant, action=OWNER_CHANGE_ACTION, entries=owners, actor=None, api_key=None))
    insert_many(_audit_rows(tenant=tenant, action=STATUS_CHANGE_ACTION, entries=statuses, actor=None, api_key=None))


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


# --- duplicates: telling a previous owner (SPEC §3 action 4) ------------------------------------


@dataclass(frozen=True)
class DuplicateNotice:
    lead_id: int
    previous_owner_id: int
    new_owner_id: int
    rule_name: str


def lead_duplicate_notify_many(
    *, tenant: Tenant, notices: list[DuplicateNotice], actor: User | None = None, api_key: ApiKey | None = None
) -> None:
    """Tell each previous owner that their lead came in again and went to the customer's owner.
    Until in-app notifications exist: an audit row now, and an e-mail through Django's mail
    backend once the transaction commits (nothing is sent for a change that rolls back). The
    notification system replaces this function."""
    if not notices:
        return
    now = timezone.now()
    insert_many(_audit_rows(
        tenant=tenant, action=DUPLICATE_NOTICE_ACTION, actor=actor, api_key=api_key,
        entries=[
            (notice.lead_id, {"notified": notice.previous_owner_id, "to": notice.new_owner_id, "rule": notice.rule_name}, now)
            for notice in notices
        ],
    ))
    transaction.on_commit(lambda: _duplicate_notices_send(tenant=tenant, notices=notices))


def _duplicate_notices_send(*, tenant: Tenant, notices: list[DuplicateNotice]) -> None:
    users = User.objects.in_bulk({n.previous_owner_id for n in notices} | {n.new_owner_id for n in notices})
    messages = []
    with translation.override(tenant.locale):
        for notice in notices:
            previous, new = users.get(notice.previous_owner_id), users.get(notice.new_owner_id)
            if previous is None or not previous.email:
                continue
            new_name = (new.get_full_name() or new.email) if new else "—"
            messages.append(EmailMessage(
                subject=str(_("【LeadCRM】线索 #%(lead)s 重复进入，已转给客户负责人") % {"lead": notice.lead_id}),
                body=str(_(
                    "你负责的线索 #%(lead)s 再次提交，命中查重规则「%(rule)s」。它属于已有客户，"
                    "现已转给客户负责人 %(owner)s 跟进，关键信息已按最新提交更新。"
                ) % {"lead": notice.lead_id, "rule": notice.rule_name, "owner": new_name}),
                to=[previous.email],
            ))
    if not messages:
        return
    try:
        get_connection().send_messages(messages)
    except Exception:  # the data is committed; a mail outage must not turn the answer into a 500
        logger.exception("duplicate notices: e-mail to %d previous owner(s) failed", len(messages))


# --- customers and contacts (conversion fills them; duplicate rules compare them) ----------------


@transaction.atomic
def customer_create(
    *, tenant: Tenant, name: str, owner: User | None = None, created_by: User | None = None
) -> Customer:
    """A customer company, with the company keys duplicate rules compare."""
    name = clean_text(name)
    if not name:
        raise ValidationError({"name": ["Give the customer's company name."]})
    keys = match_keys({"company": name})
    customer = Customer.objects.create(
        tenant=tenant, name=name, company_key=keys["company_key"], company_brand=keys["company_brand"], owner=owner,
        created_by=created_by,
    )
    audit_log_record(
        tenant=tenant, actor=created_by, action="customer.create", object_type="customer", object_id=customer.id,
        changes={"name": name, "owner": owner.id if owner else None},
    )
    return customer


def contact_create(
    *, tenant: Tenant, customer: Customer, name: str = "", mobile: str = "", phone: str = "", email: str = "",
    wechat: str = "", owner: User | None = None,
) -> Contact:
    """A person at a customer, normalised as intake normalises a lead (E.164, lower-case e-mail,
    the name key). A contact needs a way to reach them."""
    normalised = normalise_lead({"name": name, "mobile": mobile, "phone": phone, "email": email, "wechat": wechat})
    fields = normalised.fields
    errors: dict[str, list[str]] = {}
    for problem, field_name in ((normalised.mobile_problem, "mobile"), (normalised.phone_problem, "phone"),
                                (normalised.email_problem, "email")):
        if problem:
            errors[field_name] = [f"Not a usable {field_name} ({problem})."]
    if not any(fields[n] for n in ("mobile", "phone", "email", "wechat")):
        errors["mobile"] = ["A contact needs a mobile, phone, e-mail or WeChat id."]
    if errors:
        raise ValidationError(errors)
    return Contact.objects.create(
        tenant=tenant, customer=customer, name=fields["name"], name_key=fields["name_key"], mobile=fields["mobile"],
        phone=fields["phone"], email=fields["email"], wechat=fields["wechat"], owner=owner,
    )
