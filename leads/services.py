"""Lead intake: the one pipeline every channel uses (REST single and bulk, import, web form,
manual entry): normalise → validate → cleanse → upsert/dedup → save → (score → route).

It works on a batch, so bulk intake costs a handful of set-based queries rather than a few
per lead; a single lead is a batch of one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from leadcrm.db import insert_many, joined_ints, json_param, model_build
from leadcrm.tenancy.models import ApiKey, AuditLog, Tenant
from leads.cleansing import BUILTIN_SENSITIVE_WORDS, has_contact, sensitive_words_found
from leads.fields import WRITABLE_FIELD_NAMES
from leads.models import (
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    STATUS_CHANGE_ACTION,
    STATUS_TRANSITIONS,
    STATUSES_NEEDING_REASON,
    CustomField,
    CustomFieldType,
    IntakeRecord,
    Lead,
    LeadSubmission,
    OwnerChangeReason,
)
from leads.normalization import NormalisedLead, normalise_lead, search_columns
from leads.selectors import lead_match_candidates

# Default duplicate rules of a new tenant (API.md); configurable rules arrive with cleansing.
DEDUP_WINDOW = timedelta(days=180)
LEAD_WRITABLE_FIELDS = WRITABLE_FIELD_NAMES


@dataclass
class IntakeOutcome:
    outcome: str  # created | merged | updated | quarantined
    lead: Lead | None = None
    intake_record: IntakeRecord | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Item:
    index: int
    raw: dict[str, Any]
    normalised: NormalisedLead
    at: datetime
    reasons: list[str] = field(default_factory=list)
    outcome: IntakeOutcome | None = None

    @property
    def fields(self) -> dict[str, Any]:
        return self.normalised.fields


def custom_field_definitions(*, tenant: Tenant) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(tenant=tenant)}


def custom_fields_validate(
    *, tenant: Tenant, custom: Any, definitions: dict[str, CustomField] | None = None
) -> dict[str, Any]:
    """Check `custom` against the tenant's custom fields; returns the cleaned object."""
    if custom in (None, ""):
        return {}
    if not isinstance(custom, dict):
        raise ValidationError({"custom": ["Must be a JSON object of custom field keys to values."]})
    if definitions is None:
        definitions = custom_field_definitions(tenant=tenant)
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in custom.items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none defined"
            errors[f"custom.{key}"] = [f"Unknown custom field '{key}'. Known fields: {known}."]
            continue
        problem = _custom_value_problem(definition, value)
        if problem:
            errors[f"custom.{key}"] = [problem]
        else:
            cleaned[key] = value
    for key, definition in definitions.items():
        if definition.is_required and key not in custom:
            errors[f"custom.{key}"] = ["This custom field is required."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _custom_value_problem(definition: CustomField, value: Any) -> str | None:
    if value is None:
        return None
    kind = definition.field_type
    if kind == CustomFieldType.TEXT and not isinstance(value, str):
        return "Must be a string."
    if kind == CustomFieldType.TEXT and len(value) > 1000:
        return "At most 1000 characters."
    if kind == CustomFieldType.NUMBER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "Must be a number."
    if kind == CustomFieldType.BOOLEAN and not isinstance(value, bool):
        return "Must be true or false."
    if kind == CustomFieldType.DATE:
        from django.utils.dateparse import parse_date

        if not isinstance(value, str) or parse_date(value) is None:
            return "Must be a date as YYYY-MM-DD."
    if kind == CustomFieldType.CHOICE and value not in definition.choices:
        return f"Must be one of: {', '.join(map(str, definition.choices))}."
    return None


def _contact_lock_keys(keys: set[str]) -> list[int]:
    """The `ContactLock` keys (64-bit hashes; the rows carry the tenant) that serialise
    concurrent intake of the same contact or external id, so two racing submissions cannot
    both create a lead. Sorted: taken in one order by everyone, they cannot deadlock."""
    return sorted(
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True) for key in keys
    )


_CONTACT_UNLOCK_SQL = (
    "DELETE FROM leads_contactlock WHERE tenant_id = %s AND key = ANY(string_to_array(%s, ',')::bigint[])"
)


def _contact_locks_release(*, tenant: Tenant, lock_keys: list[int]) -> None:
    """Delete this transaction's `ContactLock` rows. Whoever waits on one goes on when we
    commit (or roll back), and finds the table empty behind us."""
    if lock_keys:
        with connection.cursor() as cursor:
            cursor.execute(_CONTACT_UNLOCK_SQL, [tenant.id, joined_ints(lock_keys)])


def _revenue(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _lead_values(fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name, "") for name in LEAD_WRITABLE_FIELDS}
    values["annual_revenue"] = _revenue(fields.get("annual_revenue"))
    values["custom"] = fields.get("custom") or {}
    return values


def lead_intake_many(
    *,
    tenant: Tenant,
    payloads: list[dict[str, Any]],
    channel: str,
    submitted_by: User | None = None,
    api_key: ApiKey | None = None,
    waived_reasons: frozenset[str] = frozenset(),
    received_at: list[datetime] | None = None,
) -> list[IntakeOutcome]:
    """Run the intake pipeline over validated payloads; one outcome per payload, same order.
    Must run inside `tenant_scope(tenant.id)`.

    `received_at`: when each payload arrived, for submissions taken in after the fact (a file
    of past leads, the demo's history); the leads, collected submissions and quarantine records
    carry it as their creation time. Never from a client's request body."""
    now = timezone.now()
    if received_at is not None and len(received_at) != len(payloads):
        raise ValueError("received_at needs one time per payload")
    items = [
        _Item(index=i, raw=raw, normalised=normalise_lead(raw), at=received_at[i] if received_at else now)
        for i, raw in enumerate(payloads)
    ]

    # validate + cleanse
    for item in items:
        fields = item.fields
        if not has_contact(fields):
            item.reasons.append("no_contact")
        for problem in (item.normalised.mobile_problem, item.normalised.email_problem):
            if problem:
                item.reasons.append(problem)
        if sensitive_words_found(fields, BUILTIN_SENSITIVE_WORDS):
            item.reasons.append("sensitive_word")
        item.reasons = [reason for reason in item.reasons if reason not in waived_reasons]
    accepted = [item for item in items if not item.reasons]

    lock_keys: set[str] = set()
    for item in accepted:
        fields = item.fields
        if fields["external_id"]:
            lock_keys.add(f"ext:{fields['source']}:{fields['external_id']}")
        if fields["mobile"]:
            lock_keys.add(f"mobile:{fields['mobile']}")
        if fields["email"]:
            lock_keys.add(f"email:{fields['email']}")

    # duplicates: same mobile, then same email, within the window → collect (归集); the
    # locks are taken in the same round trip, before the match reads.
    cutoff = now - DEDUP_WINDOW
    mobiles = {i.fields["mobile"] for i in accepted if i.fields["mobile"]}
    emails = {i.fields["email"] for i in accepted if i.fields["email"]}
    name_company = {(i.fields["company_key"], i.fields["name"]) for i in accepted if i.fields["company_key"] and i.fields["name"]}
    contact_lock_keys = _contact_lock_keys(lock_keys)
    candidates = lead_match_candidates(
        tenant_id=tenant.id, since=cutoff, mobiles=mobiles, emails=emails, company_names=name_company,
        after_locking=contact_lock_keys,
    )

    # upsert by (source, external_id)
    external_keys = {(i.fields["source"], i.fields["external_id"]) for i in accepted if i.fields["external_id"]}
    existing_by_external: dict[tuple[str, str], Lead] = {}
    if external_keys:
        same_external_id = Lead.objects.filter(external_id__in={ext for _, ext in external_keys})
        existing_by_external = {
            (lead.source, lead.external_id): lead for lead in same_external_id if (lead.source, lead.external_id) in external_keys
        }

    by_mobile: dict[str, Lead] = {}
    by_email: dict[str, Lead] = {}
    by_company_name: dict[tuple[str, str], Lead] = {}
    for lead in candidates:  # oldest first: the oldest match wins for each key
        if lead.mobile in mobiles:
            by_mobile.setdefault(lead.mobile, lead)
        if lead.email in emails:
            by_email.setdefault(lead.email, lead)
        if (lead.company_key, lead.name) in name_company:
            by_company_name.setdefault((lead.company_key, lead.name), lead)

    to_create: list[Lead] = []
    submissions: list[LeadSubmission] = []
    audits: list[AuditLog] = []
    for item in accepted:
        fields = item.fields
        values = _lead_values(fields)
        existing = existing_by_external.get((fields["source"], fields["external_id"])) if fields["external_id"] else None
        if existing is not None:
            provided = {name for name in item.raw if name in LEAD_WRITABLE_FIELDS}
            if "company" in provided:
                provided.add("company_key")
            for name in provided:
                setattr(existing, name, values[name])
            if "mobile" in provided and not {"province", "city"} & provided and not existing.province:
                existing.province, existing.city = fields["province"], fields["city"]
            for name, value in search_columns(existing.__dict__).items():
                setattr(existing, name, value)
            if existing.pk is not None:
                existing.save()
            # else created earlier in this batch: it is inserted below, with these changes
            item.outcome = IntakeOutcome(outcome="updated", lead=existing)
            continue
        source = (fields["mobile"] and by_mobile.get(fields["mobile"])) or (fields["email"] and by_email.get(fields["email"]))
        if source:
            submissions.append(
                LeadSubmission(
                    tenant=tenant, lead=source, channel=channel, payload=item.raw, created_at=item.at, updated_at=item.at,
                    rule="same_mobile" if fields["mobile"] and by_mobile.get(fields["mobile"]) is source else "same_email",
                )
            )
            item.outcome = IntakeOutcome(outcome="merged", lead=source)
            continue
        values.update(tenant_id=tenant.id, created_by_id=submitted_by.id if submitted_by else None,
                      created_at=item.at, updated_at=item.at, **search_columns(fields))
        lead = model_build(Lead, values)
        if fields["company_key"] and fields["name"] and (match := by_company_name.get((fields["company_key"], fields["name"]))):
            # tag and route to the existing owner
            lead.duplicate_of = match
            lead.tags = ["疑似重复"]
            if match.owner_id:
                lead.owner_id = match.owner_id
                lead.owner_assigned_at = item.at
                audits.append(
                    model_build(AuditLog, {
                        "tenant_id": tenant.id, "actor_id": submitted_by.id if submitted_by else None,
                        "actor_api_key_id": api_key.id if api_key else None, "action": OWNER_CHANGE_ACTION,
                        "object_type": "lead", "object_id": "", "created_at": item.at, "updated_at": item.at,
                        "changes": {"from": None, "to": match.owner_id, "reason": OwnerChangeReason.DUPLICATE_OF},
                    })
                )
        # later items of the same batch collect into this one
        if lead.mobile:
            by_mobile.setdefault(lead.mobile, lead)
        if lead.email:
            by_email.setdefault(lead.email, lead)
        if lead.company_key and lead.name:
            by_company_name.setdefault((lead.company_key, lead.name), lead)
        if fields["external_id"]:  # a later item with this key updates this lead, as a later call would
            existing_by_external[(fields["source"], fields["external_id"])] = lead
        to_create.append(lead)
        item.outcome = IntakeOutcome(outcome="created", lead=lead)

    if to_create:
        # A lead may point at one created earlier in this batch, which had no id when linked.
        in_batch_links = [(lead, lead.duplicate_of) for lead in to_create if lead.duplicate_of and not lead.duplicate_of.pk]
        for lead, _ in in_batch_links:
            lead.duplicate_of = None
        insert_many(to_create)
        for lead, source in in_batch_links:
            lead.duplicate_of = source
        if in_batch_links:
            Lead.objects.bulk_update([lead for lead, _ in in_batch_links], ["duplicate_of"])
    for submission in submissions:
        submission.lead_id = submission.lead.id  # the source may have been created in this batch
    insert_many(submissions)
    if audits:
        routed = [lead for lead in to_create if lead.owner_id]
        for audit, lead in zip(audits, routed, strict=True):
            audit.object_id = str(lead.id)
        insert_many(audits)

    _contact_locks_release(tenant=tenant, lock_keys=contact_lock_keys)

    quarantined = [item for item in items if item.reasons]
    if quarantined:
        records = [
            IntakeRecord(
                tenant=tenant, channel=channel, payload=item.raw, reasons=item.reasons,
                submitted_by=submitted_by, api_key=api_key, created_at=item.at, updated_at=item.at,
            )
            for item in quarantined
        ]
        insert_many(records)
        for item, record in zip(quarantined, records, strict=True):
            item.outcome = IntakeOutcome(outcome="quarantined", intake_record=record, reasons=item.reasons)
    merged = [item.outcome for item in accepted if item.outcome and item.outcome.outcome == "merged"]
    if merged:
        whole = Lead.objects.in_bulk({outcome.lead.id for outcome in merged if outcome.lead is not None})
        for outcome in merged:
            if outcome.lead is not None:  # a merge always names its lead
                outcome.lead = whole[outcome.lead.id]
    return [item.outcome for item in items if item.outcome is not None]


def lead_intake(
    *, tenant: Tenant, payload: dict[str, Any], channel: str, submitted_by: User | None = None,
    api_key: ApiKey | None = None,
) -> IntakeOutcome:
    return lead_intake_many(
        tenant=tenant, payloads=[payload], channel=channel, submitted_by=submitted_by, api_key=api_key
    )[0]


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
