"""Input and output shapes of the quarantine API (`/api/v1/intake`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from leads.api.serializers import IntakeLeadField, StrictCharField
from leads.masking import payload_masked
from leads.models import IntakeRecord, IntakeStatus
from leads.quarantine import MAX_PURGE_BATCH

# The channels intake records name (leads.intake callers); the filter accepts only these.
INTAKE_CHANNELS = ("api", "bulk", "import", "form", "manual")


class IntakeRecordOutputSerializer(serializers.Serializer):
    """One rejected submission in the quarantine. `payload` is what was submitted (null once
    purged; contact fields masked for a manager's session)."""

    id = serializers.IntegerField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=IntakeStatus.choices)
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Reason codes, e.g. `invalid.mobile`.")
    payload = serializers.DictField(allow_null=True)
    lead = serializers.IntegerField(
        allow_null=True, help_text="Restored: the lead it created, was collected into, or updated."
    )
    created_at = serializers.DateTimeField(help_text="When the submission arrived.")
    restored_at = serializers.DateTimeField(allow_null=True)
    restored_by = serializers.IntegerField(allow_null=True, help_text="The user who restored it.")
    waived = serializers.ListField(child=serializers.CharField(), help_text="The reasons the restore waived.")
    restore_outcome = serializers.ChoiceField(choices=["created", "merged", "updated"], allow_null=True)
    purged_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: IntakeRecord) -> dict[str, Any]:
        payload: dict[str, Any] | None = None
        if instance.status != IntakeStatus.PURGED:
            payload = payload_masked(instance.payload) if self.context.get("mask_contacts") else instance.payload
        return {
            "id": instance.id,
            "channel": instance.channel,
            "status": instance.status,
            "reasons": list(instance.reasons),
            "payload": payload,
            "lead": instance.lead_id,
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
            "restored_at": serializers.DateTimeField().to_representation(instance.restored_at)
            if instance.restored_at else None,
            "restored_by": instance.restored_by_id,
            "waived": list(instance.waived_reasons),
            "restore_outcome": instance.restore_outcome or None,
            "purged_at": serializers.DateTimeField().to_representation(instance.purged_at)
            if instance.purged_at else None,
        }


class IntakeRecordListQuerySerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, max_length=64,
        help_text="A reason code (`invalid.mobile`) or a family of them (`blacklist` matches `blacklist.phone`, "
        "`blacklist.email`, …).",
    )
    channel = serializers.ChoiceField(
        choices=INTAKE_CHANNELS, required=False, help_text="Where it was submitted: `api`, `bulk`, `import`, `form`, `manual`."
    )
    status = serializers.ChoiceField(
        choices=IntakeStatus.choices, required=False,
        help_text="`quarantined` (still to review), `restored` or `purged`.",
    )
    created_after = serializers.DateTimeField(required=False, help_text="Arrived at or after (ISO-8601).")
    created_before = serializers.DateTimeField(required=False, help_text="Arrived before (ISO-8601).")
    q = serializers.CharField(
        required=False, max_length=100,
        help_text="Part of the submitted name, mobile, phone, e-mail, WeChat id or company.",
    )


class IntakeCountsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Arrived at or after (ISO-8601); default: ever.")
    until = serializers.DateTimeField(required=False, help_text="Arrived before (ISO-8601); default: now.")
    channel = serializers.ChoiceField(choices=INTAKE_CHANNELS, required=False, help_text="Only this channel.")
    status = serializers.ChoiceField(choices=IntakeStatus.choices, required=False, help_text="Only this status.")


class IntakeCountsOutputSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Records in the period.")
    by_reason = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Records per reason code, most frequent first; a record with two reasons counts under both.",
    )
    by_channel = serializers.DictField(child=serializers.IntegerField(), help_text="Records per channel.")


class IntakeRestoreInputSerializer(serializers.Serializer):
    waive = serializers.ListField(
        child=StrictCharField(max_length=64), required=False, max_length=50,
        help_text="The reason codes to waive. Default: every reason of the record.",
    )


class IntakeRestoreOutputSerializer(serializers.Serializer):
    # A string rather than an enum: the schema already has an `outcome` enum of POST /leads,
    # of which these are three.
    outcome = serializers.CharField(help_text="`created`, `merged` or `updated`, as POST /leads answers.")
    lead = IntakeLeadField()
    intake = IntakeRecordOutputSerializer()


class IntakeRestoreRejectedSerializer(serializers.Serializer):
    """problem+json (422): run again, the submission would still be rejected; nothing changed."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The reasons it would be quarantined for (not waived)."
    )
    errors = serializers.DictField(  # type: ignore[assignment]  # a field: DRF pops it from the class
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="When it is no longer a valid submission at all (e.g. a custom field changed): field → messages.",
    )


class IntakePurgeManyInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=MAX_PURGE_BATCH,
        help_text=f"1 to {MAX_PURGE_BATCH} intake record ids.",
    )


class IntakePurgeManyOutputSerializer(serializers.Serializer):
    purged = serializers.ListField(child=serializers.IntegerField(), help_text="Records purged now.")
    skipped = serializers.ListField(
        child=serializers.IntegerField(), help_text="Records left as they were: already restored or purged, or unknown."
    )
