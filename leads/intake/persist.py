"""The persist stage: the `persisting` hooks, then write what dedup decided, in a handful of
statements, then the quarantine records. Audit rows are built from their own lead once it has an id."""

from __future__ import annotations

from django.db import connection

from leadcrm.db import insert_many, json_param, model_build
from leadcrm.tenancy.models import AuditLog
from leads.intake.batch import IntakeBatch, IntakeOutcome
from leads.intake.dedup import REOWN_CONTACT_FIELDS
from leads.intake.hooks import IntakePersisting, hooks_run_persisting
from leads.models import OWNER_CHANGE_ACTION, IntakeRecord, Lead
from leads.services import DuplicateNotice, lead_duplicate_notify_many

_CONTACT_COLUMNS = ", ".join(f"{name} = COALESCE(v.{name}, c.{name})" for name in REOWN_CONTACT_FIELDS)
_CONTACT_TYPES = ", ".join(f"{name} text" for name in REOWN_CONTACT_FIELDS)
# update_and_reown on customers' contacts (their name key follows their name).
_CONTACT_UPDATE_SQL = f"""
    UPDATE leads_contact AS c SET {_CONTACT_COLUMNS}, name_key = COALESCE(v.name_key, c.name_key),
        updated_at = GREATEST(c.updated_at, v.at)
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, {_CONTACT_TYPES}, name_key text, at timestamptz)
    WHERE c.tenant_id = %s AND c.id = v.id
"""  # noqa: S608 - column names are ours; values are one parameter


def persist(batch: IntakeBatch) -> None:
    to_create = batch.to_create
    if to_create or batch.to_update:  # other apps set their fields (scores) on what is written next
        hooks_run_persisting(IntakePersisting(
            tenant_id=batch.tenant.id, channel=batch.channel, created=to_create, updated=batch.to_update,
            config=batch.config, now=batch.now,
        ))
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
    for lead in batch.to_update:
        lead.save()
    for submission in batch.submissions:
        submission.lead_id = submission.lead.id  # the source may have been created in this batch
    insert_many(batch.submissions)
    audits = [
        model_build(AuditLog, {
            "tenant_id": batch.tenant.id, "actor_id": batch.actor_id,
            "actor_api_key_id": batch.api_key.id if batch.api_key else None, "action": OWNER_CHANGE_ACTION,
            "object_type": "lead", "object_id": str(lead.id), "changes": changes, "created_at": at, "updated_at": at,
        })
        for lead, changes, at in batch.owner_changes
    ]
    insert_many([*audits, *batch.audits])
    if batch.contact_updates:
        with connection.cursor() as cursor:
            cursor.execute(_CONTACT_UPDATE_SQL, [json_param(batch.contact_updates), batch.tenant.id])
    if batch.reown_notices:
        lead_duplicate_notify_many(
            tenant=batch.tenant, actor=batch.submitted_by, api_key=batch.api_key,
            notices=[
                DuplicateNotice(lead_id=lead.id, previous_owner_id=previous, new_owner_id=new, rule_name=rule.name)
                for lead, previous, new, rule in batch.reown_notices
            ],
        )

    quarantined = [item for item in batch.items if item.reasons and not item.errors]
    if quarantined:
        records = [
            IntakeRecord(
                tenant=batch.tenant, channel=batch.channel, payload=item.raw, reasons=item.reasons,
                submitted_by=batch.submitted_by, api_key=batch.api_key, created_at=item.at, updated_at=item.at,
            )
            for item in quarantined
        ]
        insert_many(records)
        for item, record in zip(quarantined, records, strict=True):
            item.outcome = IntakeOutcome(outcome="quarantined", intake_record=record, reasons=item.reasons)
    for item in batch.items:
        if item.errors:
            item.outcome = IntakeOutcome(outcome="invalid", errors=item.errors)

    # A merge answers with the whole lead it was collected into (dedup loaded a few columns).
    merged = [item.outcome for item in batch.items if item.outcome and item.outcome.outcome == "merged"]
    if merged:
        whole = Lead.objects.in_bulk({outcome.lead.id for outcome in merged if outcome.lead is not None})
        for outcome in merged:
            if outcome.lead is not None:
                outcome.lead = whole[outcome.lead.id]
