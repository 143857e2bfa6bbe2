"""Per-tenant custom fields (`Lead.custom`): checked in intake's validate stage, so every
channel gets the same rules."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date

from leadcrm.tenancy.models import Tenant
from leads.models import CustomField, CustomFieldType

# Intake's configuration probe (leads.intake.config): whether the tenant requires a custom
# field, so a batch that sends no `custom` object at all reads the definitions only then.
REQUIRED_PROBE_SQL = (
    "SELECT true FROM leads_customfield WHERE tenant_id = %(tenant_id)s AND is_required LIMIT 1"
)


def custom_field_definitions(*, tenant: Tenant) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(tenant=tenant)}


def custom_fields_problems(custom: Any, definitions: dict[str, CustomField]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(cleaned values, errors by `custom.<key>`) of a submitted `custom` object."""
    if custom in (None, ""):
        custom = {}
    if not isinstance(custom, dict):
        return {}, {"custom": ["Must be a JSON object of custom field keys to values."]}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in custom.items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none defined"
            errors[f"custom.{key}"] = [f"Unknown custom field '{key}'. Known fields: {known}."]
            continue
        problem = _value_problem(definition, value)
        if problem:
            errors[f"custom.{key}"] = [problem]
        else:
            cleaned[key] = value
    for key, definition in definitions.items():
        if definition.is_required and key not in custom:
            errors[f"custom.{key}"] = ["This custom field is required."]
    return cleaned, errors


def custom_fields_validate(
    *, tenant: Tenant, custom: Any, definitions: dict[str, CustomField] | None = None
) -> dict[str, Any]:
    """Check `custom` against the tenant's custom fields; returns the cleaned object or raises
    a ValidationError naming each bad key."""
    cleaned, errors = custom_fields_problems(
        custom, definitions if definitions is not None else custom_field_definitions(tenant=tenant)
    )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _value_problem(definition: CustomField, value: Any) -> str | None:
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
    if kind == CustomFieldType.DATE and (not isinstance(value, str) or parse_date(value) is None):
        return "Must be a date as YYYY-MM-DD."
    if kind == CustomFieldType.CHOICE and value not in definition.choices:
        return f"Must be one of: {', '.join(map(str, definition.choices))}."
    return None
