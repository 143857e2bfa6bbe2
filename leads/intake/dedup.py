"""The dedup stage: who is already known. Takes the contact locks, upserts by (source,
external id), and applies the duplicate rules (API.md defaults: same mobile or same e-mail
within 180 days → collect (归集) into the source lead; same company and contact name → a new
lead tagged as a duplicate and routed to the existing owner)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection

from leadcrm.db import joined_ints, model_build
from leads.fields import WRITABLE_FIELD_NAMES
from leads.intake.batch import IntakeBatch, IntakeItem, IntakeOutcome
from leads.models import Lead, LeadSubmission, OwnerChangeReason
from leads.normalization import search_columns

DEDUP_WINDOW = timedelta(days=180)
DUPLICATE_TAG = "疑似重复"

# The columns the duplicate rules compare, in the model's field order (`Model.from_db` wants it).
_MATCH_ATTNAMES = ("id", "tenant_id", "mobile", "email", "company_key", "name", "owner_id", "created_at")
_MATCH_FIELDS = [f.attname for f in Lead._meta.concrete_fields if f.attname in _MATCH_ATTNAMES]
_MATCH_COLUMNS = ", ".join(f"l.{name}" for name in _MATCH_FIELDS)
# Written out rather than built with the ORM: intake runs it on every submission, and compiling
# the equivalent QuerySet cost more than PostgreSQL's work. One branch per duplicate rule, each
# taking only the oldest lead per key from its index (a common company + name can match
# hundreds), company and name matched as pairs rather than as the cross product of a batch.
# Each branch repeats its partial index's predicate (x <> '').
_MATCH_SQL = f"""
    SELECT {_MATCH_COLUMNS} FROM jsonb_array_elements_text(%(mobiles)s::jsonb) AS k(mobile) CROSS JOIN LATERAL (
        SELECT * FROM leads_lead WHERE tenant_id = %(tenant_id)s AND created_at >= %(since)s
        AND mobile = k.mobile AND mobile <> '' ORDER BY created_at, id LIMIT 1) AS l
    UNION
    SELECT {_MATCH_COLUMNS} FROM jsonb_array_elements_text(%(emails)s::jsonb) AS k(email) CROSS JOIN LATERAL (
        SELECT * FROM leads_lead WHERE tenant_id = %(tenant_id)s AND created_at >= %(since)s
        AND email = k.email AND email <> '' ORDER BY created_at, id LIMIT 1) AS l
    UNION
    SELECT {_MATCH_COLUMNS}
    FROM ROWS FROM (jsonb_array_elements_text(%(company_keys)s::jsonb), jsonb_array_elements_text(%(names)s::jsonb))
        AS k(company_key, name)
    CROSS JOIN LATERAL (
        SELECT * FROM leads_lead WHERE tenant_id = %(tenant_id)s AND created_at >= %(since)s
        AND company_key = k.company_key AND name = k.name AND company_key <> '' ORDER BY created_at, id LIMIT 1) AS l
    ORDER BY created_at, id
"""  # noqa: S608 - column names come from the model; values are parameters

# Sorted keys are inserted in order, so two batches sharing contacts wait for each other
# without deadlocking.
_CONTACT_LOCK_SQL = (
    "INSERT INTO leads_contactlock (tenant_id, key) "
    "SELECT %(tenant_id)s, k FROM unnest(string_to_array(%(lock_keys)s, ',')::bigint[]) AS k ON CONFLICT DO NOTHING;"
)
_CONTACT_UNLOCK_SQL = (
    "DELETE FROM leads_contactlock WHERE tenant_id = %s AND key = ANY(string_to_array(%s, ',')::bigint[])"
)


def contact_lock_keys(keys: set[str]) -> list[int]:
    """The `ContactLock` keys (64-bit hashes; the rows carry the tenant) that serialise
    concurrent intake of the same contact or external id, so two racing submissions cannot
    both create a lead. Sorted: taken in one order by everyone, they cannot deadlock."""
    return sorted(
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True) for key in keys
    )


def contact_locks_release(*, tenant_id: int, lock_keys: list[int]) -> None:
    """Delete this transaction's `ContactLock` rows. Whoever waits on one goes on when we
    commit (or roll back), and finds the table empty behind us."""
    if lock_keys:
        with connection.cursor() as cursor:
            cursor.execute(_CONTACT_UNLOCK_SQL, [tenant_id, joined_ints(lock_keys)])


def _lock_and_match(
    *, tenant_id: int, since: datetime, mobiles: set[str], emails: set[str], company_names: set[tuple[str, str]],
    lock_keys: list[int],
) -> list[Lead]:
    """Take the contact locks, then, for each mobile, e-mail and (company key, name) pair, the
    oldest lead created since `since` that has it; oldest first, with only the matching
    columns loaded. One round trip for the whole batch. The match is a separate statement, so
    (READ COMMITTED) it sees every lead committed by whoever held one of the keys before us."""
    lock = _CONTACT_LOCK_SQL if lock_keys else ""
    match = _MATCH_SQL if mobiles or emails or company_names else ""
    if not (lock or match):
        return []
    # Lists travel as one JSON (or comma-separated) string each: psycopg's client-side binding
    # quotes a Python list element by element, which cost more than the query for a batch.
    params: dict[str, str | int | datetime] = {
        "lock_keys": joined_ints(lock_keys), "tenant_id": tenant_id, "since": since,
        "mobiles": json.dumps(list(mobiles), ensure_ascii=False), "emails": json.dumps(list(emails), ensure_ascii=False),
        "company_keys": json.dumps([key for key, _ in company_names], ensure_ascii=False),
        "names": json.dumps([name for _, name in company_names], ensure_ascii=False),
    }
    with connection.cursor() as cursor:
        cursor.execute(lock + match, params)
        if not match:
            return []
        if lock:
            cursor.nextset()
        return [Lead.from_db(connection.alias, _MATCH_FIELDS, row) for row in cursor.fetchall()]


def _revenue(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def lead_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The lead row's submitted columns from normalised fields."""
    values = {name: fields.get(name, "") for name in WRITABLE_FIELD_NAMES}
    values["annual_revenue"] = _revenue(fields.get("annual_revenue"))
    values["custom"] = fields.get("custom") or {}
    return values


def dedup(batch: IntakeBatch) -> None:
    items = batch.open_items()
    tenant_id = batch.tenant.id
    lock_keys: set[str] = set()
    for item in items:
        fields = item.fields
        if fields["external_id"]:
            lock_keys.add(f"ext:{fields['source']}:{fields['external_id']}")
        if fields["mobile"]:
            lock_keys.add(f"mobile:{fields['mobile']}")
        if fields["email"]:
            lock_keys.add(f"email:{fields['email']}")
    batch.lock_keys = contact_lock_keys(lock_keys)
    mobiles = {i.fields["mobile"] for i in items if i.fields["mobile"]}
    emails = {i.fields["email"] for i in items if i.fields["email"]}
    name_company = {(i.fields["company_key"], i.fields["name"]) for i in items if i.fields["company_key"] and i.fields["name"]}
    candidates = _lock_and_match(
        tenant_id=tenant_id, since=batch.now - DEDUP_WINDOW, mobiles=mobiles, emails=emails,
        company_names=name_company, lock_keys=batch.lock_keys,
    )

    # upsert by (source, external_id)
    external_keys = {(i.fields["source"], i.fields["external_id"]) for i in items if i.fields["external_id"]}
    by_external: dict[tuple[str, str], Lead] = {}
    if external_keys:
        same_external_id = Lead.objects.filter(external_id__in={ext for _, ext in external_keys})
        by_external = {
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

    for item in items:
        fields = item.fields
        existing = by_external.get((fields["source"], fields["external_id"])) if fields["external_id"] else None
        if existing is not None:
            _update_existing(batch, item, existing)
            continue
        source = (fields["mobile"] and by_mobile.get(fields["mobile"])) or (fields["email"] and by_email.get(fields["email"]))
        if source:
            rule = "same_mobile" if fields["mobile"] and by_mobile.get(fields["mobile"]) is source else "same_email"
            batch.submissions.append(
                LeadSubmission(
                    tenant=batch.tenant, lead=source, channel=batch.channel, payload=item.raw, rule=rule,
                    created_at=item.at, updated_at=item.at,
                )
            )
            item.outcome = IntakeOutcome(outcome="merged", lead=source, rule=rule)
            continue
        lead = _new_lead(batch, item)
        if fields["company_key"] and fields["name"] and (match := by_company_name.get((fields["company_key"], fields["name"]))):
            # tag, and route to the existing owner
            lead.duplicate_of = match
            lead.tags = [*lead.tags, DUPLICATE_TAG]
            item.outcome = IntakeOutcome(outcome="created", lead=lead, rule="same_company_name")
            if match.owner_id:
                lead.owner_id = match.owner_id
                lead.owner_assigned_at = item.at
                batch.owner_changes.append(
                    (lead, {"from": None, "to": match.owner_id, "reason": OwnerChangeReason.DUPLICATE_OF}, item.at)
                )
        else:
            item.outcome = IntakeOutcome(outcome="created", lead=lead)
        # later items of the same batch collect into this one
        if lead.mobile:
            by_mobile.setdefault(lead.mobile, lead)
        if lead.email:
            by_email.setdefault(lead.email, lead)
        if lead.company_key and lead.name:
            by_company_name.setdefault((lead.company_key, lead.name), lead)
        if fields["external_id"]:  # a later item with this key updates this lead, as a later call would
            by_external[(fields["source"], fields["external_id"])] = lead
        batch.to_create.append(lead)


def _new_lead(batch: IntakeBatch, item: IntakeItem) -> Lead:
    fields = item.fields
    values = lead_values(fields)
    values.update(
        tenant_id=batch.tenant.id, created_by_id=batch.actor_id, created_at=item.at, updated_at=item.at,
        **search_columns(fields),
    )
    if item.tags:
        values["tags"] = list(item.tags)
    return model_build(Lead, values)


def _update_existing(batch: IntakeBatch, item: IntakeItem, existing: Lead) -> None:
    """The fields the submission names overwrite the lead's (an integrator's upsert)."""
    fields = item.fields
    values = lead_values(fields)
    provided = {name for name in item.raw if name in WRITABLE_FIELD_NAMES}
    if "company" in provided:
        provided.add("company_key")
    for name in provided:
        setattr(existing, name, values[name])
    if "mobile" in provided and not {"province", "city"} & provided and not existing.province:
        existing.province, existing.city = fields["province"], fields["city"]
    for name, value in search_columns(existing.__dict__).items():
        setattr(existing, name, value)
    if existing.pk is not None and existing not in batch.to_update:
        batch.to_update.append(existing)
    # else created earlier in this batch: it is inserted with these changes
    item.outcome = IntakeOutcome(outcome="updated", lead=existing)
