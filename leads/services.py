"""Lead intake: the one pipeline every channel uses (REST single and bulk, import, web form,
manual entry): normalise → validate → cleanse → upsert/dedup → save → (score → route).

It works on a batch, so bulk intake costs a handful of set-based queries rather than a few
per lead; a single lead is a batch of one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from leadcrm.db import insert_many, joined_ints, model_build
from leadcrm.tenancy.models import ApiKey, AuditLog, Tenant
from leads.cleansing import BUILTIN_SENSITIVE_WORDS, has_contact, sensitive_words_found
from leads.models import CustomField, CustomFieldType, IntakeRecord, Lead, LeadSubmission
from leads.normalization import NormalisedLead, normalise_lead, search_columns
from leads.selectors import lead_match_candidates

# Default duplicate rules of a new tenant (API.md); configurable rules arrive with cleansing.
DEDUP_WINDOW = timedelta(days=180)
LEAD_WRITABLE_FIELDS = (
    "name", "mobile", "phone", "email", "wechat", "company", "company_key", "title", "industry", "company_size",
    "annual_revenue", "province", "city", "source", "campaign", "utm_source", "utm_medium", "utm_campaign",
    "external_id", "notes", "custom",
)


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
) -> list[IntakeOutcome]:
    """Run the intake pipeline over validated payloads; one outcome per payload, same order.
    Must run inside `tenant_scope(tenant.id)`."""
    now = timezone.now()
    items = [_Item(index=i, raw=raw, normalised=normalise_lead(raw)) for i, raw in enumerate(payloads)]

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
                    tenant=tenant, lead=source, channel=channel, payload=item.raw,
                    rule="same_mobile" if fields["mobile"] and by_mobile.get(fields["mobile"]) is source else "same_email",
                )
            )
            item.outcome = IntakeOutcome(outcome="merged", lead=source)
            continue
        values.update(tenant_id=tenant.id, created_by_id=submitted_by.id if submitted_by else None,
                      **search_columns(fields))
        lead = model_build(Lead, values)
        if fields["company_key"] and fields["name"] and (match := by_company_name.get((fields["company_key"], fields["name"]))):
            # tag and route to the existing owner
            lead.duplicate_of = match
            lead.tags = ["疑似重复"]
            if match.owner_id:
                lead.owner_id = match.owner_id
                lead.owner_assigned_at = now
                audits.append(
                    model_build(AuditLog, {
                        "tenant_id": tenant.id, "actor_id": submitted_by.id if submitted_by else None,
                        "actor_api_key_id": api_key.id if api_key else None, "action": "lead.owner_change",
                        "object_type": "lead", "object_id": "", "changes": {"to": match.owner_id, "reason": "duplicate_of"},
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
        records = IntakeRecord.objects.bulk_create(
            [
                IntakeRecord(
                    tenant=tenant, channel=channel, payload=item.raw, reasons=item.reasons,
                    submitted_by=submitted_by, api_key=api_key,
                )
                for item in quarantined
            ]
        )
        for item, record in zip(quarantined, records, strict=True):
            item.outcome = IntakeOutcome(outcome="quarantined", intake_record=record, reasons=item.reasons)
    merged_into = {item.outcome.lead.id for item in accepted if item.outcome and item.outcome.outcome == "merged"}
    if merged_into:
        whole = Lead.objects.in_bulk(merged_into)
        for item in accepted:
            if item.outcome and item.outcome.outcome == "merged":
                item.outcome.lead = whole[item.outcome.lead.id]
    return [item.outcome for item in items if item.outcome is not None]


def lead_intake(
    *, tenant: Tenant, payload: dict[str, Any], channel: str, submitted_by: User | None = None,
    api_key: ApiKey | None = None,
) -> IntakeOutcome:
    return lead_intake_many(
        tenant=tenant, payloads=[payload], channel=channel, submitted_by=submitted_by, api_key=api_key
    )[0]
