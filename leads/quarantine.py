"""Working the quarantine (隔离区, SPEC §3): restore a rejected submission (the intake pipeline
run again on its payload with reasons waived) or purge its personal data. Nothing rejected is
ever dropped: a purge keeps the record with its reasons, channel and time, for the counts.

Each action locks its record row (SELECT … FOR UPDATE) for the rest of the transaction, so two
people restoring one record at once make one lead: the second waits, then finds it restored.
A restore is all or nothing: when the submission would still be rejected (a reason not
waived, a custom field that is no longer valid) the pipeline's writes are rolled back with
their savepoint and the record stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leadcrm.db import insert_many, model_build
from leadcrm.tenancy.models import ADMIN_ROLES, ApiKey, AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.services import audit_log_record
from leads.intake import IntakeOutcome, lead_intake_many
from leads.models import IntakeRecord, IntakeStatus
from leads.reasons import reason_is_known

RESTORE_ACTION = "intake.restore"
PURGE_ACTION = "intake.purge"
AUDIT_OBJECT_TYPE = "intake_record"
MAX_PURGE_BATCH = 500

# Who works the quarantine (the page and a session on the API; API keys go by their scopes):
# managers may look, to see what their channels lose; only admins restore or purge, since a
# restore overrides the tenant's own rules and a purge cannot be undone.
QUARANTINE_READ_ROLES = frozenset({*ADMIN_ROLES, Role.MANAGER})
QUARANTINE_WORK_ROLES = ADMIN_ROLES


def quarantine_may_read(*, membership: Membership) -> bool:
    return membership.role in QUARANTINE_READ_ROLES


def quarantine_may_work(*, membership: Membership) -> bool:
    return membership.role in QUARANTINE_WORK_ROLES


class IntakeRecordNotFound(Exception):
    """No such record in the tenant (another tenant's looks the same)."""


class IntakeRecordNotQuarantined(Exception):
    """The record was already restored or purged: there is nothing left to do with it."""

    def __init__(self, record: IntakeRecord) -> None:
        self.record = record
        if record.status == IntakeStatus.RESTORED:
            lead = f" as lead {record.lead_id}" if record.lead_id else ""
            message = f"Intake record {record.id} was already restored{lead}"
            if record.restored_at:
                message += f" at {record.restored_at.isoformat()}"
        else:
            message = f"Intake record {record.id} was purged"
            if record.purged_at:
                message += f" at {record.purged_at.isoformat()}"
            message += "; its personal data is gone and it cannot be restored"
        super().__init__(message + ".")


class IntakeStillRejected(Exception):
    """Run again, the submission would still be rejected: quarantined for `reasons` that were
    not waived, or invalid (`errors`: e.g. a custom field the tenant has changed since)."""

    def __init__(self, *, record: IntakeRecord, reasons: list[str], errors: dict[str, list[str]]) -> None:
        self.record, self.reasons, self.errors = record, reasons, errors
        if reasons:
            message = (
                f"Intake record {record.id} would be quarantined again for {', '.join(reasons)}; nothing was "
                "changed. To restore it anyway, waive these reasons too."
            )
        else:
            message = f"Intake record {record.id} is not a valid submission any more; nothing was changed."
        super().__init__(message)


@dataclass(frozen=True)
class IntakeRestored:
    record: IntakeRecord
    outcome: IntakeOutcome  # created | merged | updated, with the lead


def _locked_record(record_id: int) -> IntakeRecord:
    record = IntakeRecord.objects.select_for_update().filter(id=record_id).first()
    if record is None:
        raise IntakeRecordNotFound(record_id)
    return record


def intake_waive_validate(*, record: IntakeRecord, waive: Iterable[str] | None) -> frozenset[str]:
    """The reasons to waive: by default every reason of the record. A code neither on the record
    nor among the known reason codes is a mistake (a typo would waive nothing)."""
    if waive is None:
        return frozenset(record.reasons)
    codes = list(waive)
    unknown = [code for code in codes if code not in record.reasons and not reason_is_known(code)]
    if unknown:
        raise ValidationError({"waive": [
            f"Unknown reason code '{code}'. Waive the record's own reasons ({', '.join(record.reasons) or 'none'}) "
            "or other known reason codes (no_contact, invalid.mobile, invalid.email, sensitive_word, blacklist.phone, …)."
            for code in unknown
        ]})
    return frozenset(codes)


class _Rejected(Exception):
    def __init__(self, outcome: IntakeOutcome) -> None:
        self.outcome = outcome


def intake_record_restore(
    *, tenant: Tenant, record_id: int, actor: User | None, api_key: ApiKey | None = None,
    waive: Iterable[str] | None = None,
) -> IntakeRestored:
    """Run the record's payload through the intake pipeline again with `waive` (default: all its
    reasons) waived; link the record to the lead it became, was collected into or updated,
    and mark it restored, audited. Raises IntakeRecordNotFound, IntakeRecordNotQuarantined,
    IntakeStillRejected (nothing changed), or ValidationError for an unknown `waive` code.

    The lead is taken in now, not at the record's arrival: routing, SLA deadlines and score
    decay count from the lead's time, and a lead dated weeks back would be overdue the moment
    it is routed and sit at the bottom of every newest-first list. The arrival stays on the
    record, which the lead is linked to."""
    with transaction.atomic():
        record = _locked_record(record_id)
        if record.status != IntakeStatus.QUARANTINED:
            raise IntakeRecordNotQuarantined(record)
        waived = intake_waive_validate(record=record, waive=waive)
        try:
            with transaction.atomic():  # a savepoint: a rejection leaves no lead, record or hook behind
                (outcome,) = lead_intake_many(
                    tenant=tenant, payloads=[record.payload], channel=record.channel, submitted_by=actor,
                    api_key=api_key, waived_reasons=waived,
                )
                if outcome.outcome in {"quarantined", "invalid"}:
                    raise _Rejected(outcome)
        except _Rejected as rejected:
            raise IntakeStillRejected(
                record=record, reasons=rejected.outcome.reasons, errors=rejected.outcome.errors
            ) from None
        assert outcome.lead is not None
        record.status = IntakeStatus.RESTORED
        record.lead = outcome.lead
        record.restored_at = timezone.now()
        record.restored_by = actor
        record.waived_reasons = sorted(waived)
        record.restore_outcome = outcome.outcome
        record.save(update_fields=[
            "status", "lead", "restored_at", "restored_by", "waived_reasons", "restore_outcome", "updated_at",
        ])
        audit_log_record(
            tenant=tenant, action=RESTORE_ACTION, object_type=AUDIT_OBJECT_TYPE, object_id=record.id, actor=actor,
            actor_api_key=api_key,
            changes={
                "from": IntakeStatus.QUARANTINED, "to": IntakeStatus.RESTORED, "waived": sorted(waived),
                "outcome": outcome.outcome, "lead": outcome.lead.id,
            },
        )
        return IntakeRestored(record=record, outcome=outcome)


@dataclass(frozen=True)
class IntakePurged:
    purged: list[int]  # record ids, now without personal data
    skipped: list[int]  # already restored or purged (or not the tenant's): left as they were


def intake_record_purge_many(
    *, tenant: Tenant, record_ids: Iterable[int], actor: User | None, api_key: ApiKey | None = None
) -> IntakePurged:
    """Drop the personal data of quarantined records: the payload goes, the reasons, channel
    and time stay (status purged), each purge audited. Restored and purged records are
    skipped: a restored record's data lives on in its lead. Set-based: three statements."""
    ids = sorted(set(record_ids))
    if len(ids) > MAX_PURGE_BATCH:
        raise ValidationError({"ids": [f"At most {MAX_PURGE_BATCH} records at a time; {len(ids)} were sent."]})
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            IntakeRecord.objects.select_for_update().filter(id__in=ids).order_by("id").values_list("id", "status", "reasons")
        )
        purgeable = [(record_id, reasons) for record_id, status, reasons in locked if status == IntakeStatus.QUARANTINED]
        purged = [record_id for record_id, _ in purgeable]
        if purged:
            IntakeRecord.objects.filter(id__in=purged).update(
                payload={}, status=IntakeStatus.PURGED, purged_at=now, purged_by=actor, updated_at=now
            )
            insert_many([
                model_build(AuditLog, {
                    "tenant_id": tenant.id, "actor_id": actor.id if actor else None,
                    "actor_api_key_id": api_key.id if api_key else None, "action": PURGE_ACTION,
                    "object_type": AUDIT_OBJECT_TYPE, "object_id": str(record_id),
                    # the reasons, never the payload: the audit log must not keep what was purged
                    "changes": {"from": IntakeStatus.QUARANTINED, "to": IntakeStatus.PURGED, "reasons": reasons},
                    "created_at": now, "updated_at": now,
                })
                for record_id, reasons in purgeable
            ])
    purged_set = set(purged)
    return IntakePurged(purged=purged, skipped=[record_id for record_id in ids if record_id not in purged_set])


def intake_record_purge(
    *, tenant: Tenant, record_id: int, actor: User | None, api_key: ApiKey | None = None
) -> IntakeRecord:
    """`intake_record_purge_many` for one record, which must exist and be quarantined
    (IntakeRecordNotFound, IntakeRecordNotQuarantined otherwise)."""
    with transaction.atomic():
        record = _locked_record(record_id)
        if record.status != IntakeStatus.QUARANTINED:
            raise IntakeRecordNotQuarantined(record)
        intake_record_purge_many(tenant=tenant, record_ids=[record_id], actor=actor, api_key=api_key)
        record.refresh_from_db()
        return record
