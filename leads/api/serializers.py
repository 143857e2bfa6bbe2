from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from leads.masking import CONTACT_FIELDS, payload_masked
from leads.models import Lead, LeadStatus, Tier


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 12 or 1.5 into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(max_length: int) -> StrictCharField:
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, allow_null=True)


class _LeadProfileFields(serializers.Serializer):
    """The contact and profile fields a submission and an edit share (same types, same lengths)."""

    name = _text(100)
    mobile = _text(40)
    phone = _text(40)
    email = _text(254)
    wechat = _text(64)
    company = _text(200)
    title = _text(100)
    industry = _text(100)
    company_size = _text(50)
    annual_revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, min_value=0, coerce_to_string=False
    )
    province = _text(50)
    city = _text(50)


class LeadCreateInputSerializer(_LeadProfileFields):
    """One submitted lead. Every field is optional; unknown fields are rejected so a typo
    ("moblie") never drops data silently."""

    source = _text(50)  # type: ignore[assignment]  # a field: DRF pops it from the class
    campaign = _text(100)
    utm_source = _text(100)
    utm_medium = _text(100)
    utm_campaign = _text(100)
    external_id = _text(100)
    notes = _text(5000)
    custom = serializers.DictField(required=False, allow_null=True, allow_empty=True)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object with lead fields."]}, code="invalid"
            )
        # Only the fields sent are looked at, and a plain string within its length takes a
        # short path that gives what StrictCharField would (stripped; None stays None):
        # bulk intake validates 1000 leads a call, and the full field machinery was a third
        # of its time. Anything else goes through the field itself, errors included.
        fields = self.fields
        text_limits = _text_limits(self)
        validated: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, value in data.items():
            limit = text_limits.get(name)
            if limit is not None:
                if value is None:
                    validated[name] = None
                    continue
                if type(value) is str:
                    stripped = value.strip()
                    if len(stripped) <= limit and "\x00" not in stripped and (
                        stripped.isascii() or not _SURROGATES.search(stripped)
                    ):
                        validated[name] = stripped
                        continue
            field = fields.get(name)
            if field is None:
                errors[name] = [f"Unknown field '{name}'. Put tenant-specific data under 'custom'."]
                continue
            try:
                validated[name] = field.run_validation(value)
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
        if errors:
            raise serializers.ValidationError(errors)
        if validated.get("annual_revenue") is not None:
            validated["annual_revenue"] = str(validated["annual_revenue"])
        return validated


_SURROGATES = re.compile("[\ud800-\udfff]")


def _text_limits(serializer: serializers.Serializer) -> dict[str, int]:
    """Max length of each plain text field of the serializer class, computed once per class."""
    limits: dict[str, int] | None = type(serializer).__dict__.get("_text_limits_cache")
    if limits is None:
        limits = {
            name: field.max_length
            for name, field in serializer.fields.items()
            if type(field) is StrictCharField and field.trim_whitespace and field.allow_null and field.allow_blank
            and not field.read_only and field.max_length is not None and field.min_length is None
        }
        type(serializer)._text_limits_cache = limits  # type: ignore[attr-defined]  # a cache on the class, set once
    return limits


@extend_schema_field(LeadCreateInputSerializer)
class BulkItemField(serializers.Field):
    """One item of a bulk body, as parsed: each is validated on its own afterwards, so one bad
    item gets its own error. (DRF's JSONField would re-encode every item to check it is JSON,
    which the parser already guarantees.)"""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # A null item passes here, like any other item that is not an object: each gets its
        # own error later, and the schema keeps documenting an item as a lead (not nullable).
        if data is None:
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class LeadBulkInputSerializer(serializers.Serializer):
    leads = serializers.ListField(
        child=BulkItemField(), min_length=1, max_length=1000, allow_empty=False,
        help_text="1 to 1000 leads, each with the fields of a single submission. Each item is checked on its own: "
        "one that is not valid gets the outcome `invalid` with its errors, and the others go ahead.",
    )


_JSON_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
               list: "an array"}


def not_an_object_error(item: Any) -> dict[str, list[str]] | None:
    """The error of a bulk item that is not a JSON object (null, a string, a number, an array)."""
    if isinstance(item, dict):
        return None
    kind = _JSON_KINDS.get(type(item), type(item).__name__)
    return {"non_field_errors": [f"Expected a JSON object with lead fields, got {kind}."]}


class ScoreOutputSerializer(serializers.Serializer):
    """A lead's score. Until the lead is scored `scored_at` is null and so are grade, level,
    group and tier: "not scored" is not a D3/cold it was never given."""

    total = serializers.FloatField()
    static = serializers.FloatField()
    dynamic = serializers.FloatField()
    smart = serializers.FloatField(allow_null=True)
    grade = serializers.ChoiceField(choices=["A", "B", "C", "D"], allow_null=True)
    level = serializers.IntegerField(min_value=1, max_value=3, allow_null=True)
    group = serializers.CharField(allow_null=True)
    tier = serializers.ChoiceField(choices=Tier.choices, allow_null=True)
    mature = serializers.BooleanField()
    scored_at = serializers.DateTimeField(allow_null=True, help_text="When the lead was last scored; null: not yet.")
    version = serializers.IntegerField(allow_null=True, help_text="The version of the rules that gave this score.")


def score_block(lead: Lead) -> dict[str, Any]:
    scored = lead.scored_at is not None
    return {
        "total": float(lead.score_total),
        "static": float(lead.score_static),
        "dynamic": float(lead.score_dynamic),
        "smart": float(lead.score_smart) if lead.score_smart is not None else None,
        "grade": lead.grade if scored else None,
        "level": lead.level if scored else None,
        "group": lead.group if scored else None,
        "tier": lead.tier if scored else None,
        "mature": lead.is_mature,
        "scored_at": lead.scored_at.isoformat().replace("+00:00", "Z") if lead.scored_at is not None else None,
        "version": lead.score_version,
    }


class LeadOutputSerializer(serializers.Serializer):
    """A lead: its contact and company fields, source and campaign, owner and pool, and score."""

    # Integrators read the docstring above in the API docs. `to_representation` builds the dict
    # directly: bulk responses carry up to 1000 of these and DRF's per-field machinery would
    # dominate the request time.

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LeadStatus.choices)
    owner = serializers.IntegerField(allow_null=True, help_text="User id of the owner.")
    pool = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    mobile = serializers.CharField(help_text="E.164, e.g. +8613912340586")
    phone = serializers.CharField()
    email = serializers.CharField()
    wechat = serializers.CharField()
    company = serializers.CharField()
    title = serializers.CharField()
    industry = serializers.CharField()
    company_size = serializers.CharField()
    annual_revenue = serializers.FloatField(allow_null=True)
    province = serializers.CharField()
    city = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field: DRF pops it from the class
    campaign = serializers.CharField()
    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    external_id = serializers.CharField()
    notes = serializers.CharField()
    custom = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    duplicate_of = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    score = ScoreOutputSerializer()

    def to_representation(self, lead: Lead) -> dict[str, Any]:
        data = self._fields(lead)
        # The view's word on masking (a pool with mask_contacts, a member who does not own the lead).
        masked = self.context.get("contacts_masked")
        if masked is not None and masked(lead):
            data.update(payload_masked({name: data[name] for name in CONTACT_FIELDS}))
        return data

    @staticmethod
    def _fields(lead: Lead) -> dict[str, Any]:
        return {
            "id": lead.id,
            "status": lead.status,
            "owner": lead.owner_id,
            "pool": lead.pool_id,
            "name": lead.name,
            "mobile": lead.mobile,
            "phone": lead.phone,
            "email": lead.email,
            "wechat": lead.wechat,
            "company": lead.company,
            "title": lead.title,
            "industry": lead.industry,
            "company_size": lead.company_size,
            "annual_revenue": float(lead.annual_revenue) if lead.annual_revenue is not None else None,
            "province": lead.province,
            "city": lead.city,
            "source": lead.source,
            "campaign": lead.campaign,
            "utm_source": lead.utm_source,
            "utm_medium": lead.utm_medium,
            "utm_campaign": lead.utm_campaign,
            "external_id": lead.external_id,
            "notes": lead.notes,
            "custom": lead.custom,
            "tags": list(lead.tags),
            "duplicate_of": lead.duplicate_of_id,
            "created_at": lead.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": lead.updated_at.isoformat().replace("+00:00", "Z"),
            "score": score_block(lead),
        }


@extend_schema_field({
    "oneOf": [
        {"$ref": "#/components/schemas/LeadOutput"},
        {
            "type": "object",
            "title": "LeadReference",
            "description": "The lead's id only: the answer to a caller that may not read the lead "
            "(an API key without the `read` scope; a rep, for a lead that is not theirs).",
            "properties": {"id": {"type": "integer"}},
            "required": ["id"],
            "additionalProperties": False,
        },
    ]
})
class IntakeLeadField(serializers.Field):
    """The lead of an intake outcome, for the schema: the whole lead, or only its id (the
    views build the dict; see `outcome_body`)."""

    def to_representation(self, value: Any) -> Any:
        return value


class MatchedDedupRuleSerializer(serializers.Serializer):
    """The duplicate rule that matched the submission (see /api/v1/dedup-rules)."""

    id = serializers.IntegerField(allow_null=True, help_text="Null once the rule has been deleted.")
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=["route_to_owner", "assign", "collect", "update_and_reown", "tag"])


class LeadIntakeOutputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["created", "merged", "updated", "quarantined"])
    lead = IntakeLeadField(required=False)
    intake_id = serializers.IntegerField(required=False)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    dedup_rule = MatchedDedupRuleSerializer(
        required=False, help_text="Present when a duplicate rule matched: the submission was collected (merged), "
        "updated an existing lead, or made a lead linked to what it duplicates (`lead.duplicate_of`).",
    )


class LeadBulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "merged", "updated", "quarantined", "invalid"])
    lead = IntakeLeadField(required=False)
    intake_id = serializers.IntegerField(required=False)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    dedup_rule = MatchedDedupRuleSerializer(required=False)
    errors = serializers.DictField(required=False)  # type: ignore[assignment]  # a field: DRF pops it from the class


class LeadBulkOutputSerializer(serializers.Serializer):
    results = LeadBulkResultSerializer(many=True)



class LeadUpdateInputSerializer(_LeadProfileFields):
    """The fields a lead's edit may change; every one optional, only those sent are changed.
    Contacts are normalised and checked as intake checks them. `source`, `external_id` and the
    UTM parameters are the channel's and cannot be changed; a rep may not change `campaign`."""

    campaign = _text(100)
    notes = _text(5000)
    updated_at = serializers.DateTimeField(
        required=False,
        help_text="The lead's `updated_at` as you last read it. When given and the lead changed since, the edit is "
        "refused with 409 and nothing is written.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object with the lead fields to change."]}, code="invalid"
            )
        unknown = {
            name: [
                "This field is set by the channel that brought the lead and cannot be changed."
                if name in ("source", "external_id", "utm_source", "utm_medium", "utm_campaign")
                else f"Unknown field '{name}'. Fields that can be changed: {', '.join(self.fields)}."
            ]
            for name in data if name not in self.fields
        }
        if unknown:
            raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)
