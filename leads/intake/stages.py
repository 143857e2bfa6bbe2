"""The checking stages of intake: normalise, validate, cleanse. Each takes the batch and marks
its items; none writes to the database."""

from __future__ import annotations

from leads.cleansing import BUILTIN_SENSITIVE_WORDS, sensitive_words_found, validity_reasons
from leads.intake.batch import IntakeBatch
from leads.intake.custom_fields import custom_field_definitions, custom_fields_problems
from leads.normalization import normalise_lead


def normalise(batch: IntakeBatch) -> None:
    """Full-width to half-width, phones to E.164 (and their region), e-mail lower-cased, the
    company key: what every later stage compares."""
    for item in batch.items:
        item.normalised = normalise_lead(item.raw)


def validate(batch: IntakeBatch) -> None:
    """Custom fields against the tenant's definitions (one query, only when an item has any).
    A bad value makes the item `invalid`: the sender must fix it, nothing is kept."""
    with_custom = [item for item in batch.items if item.raw.get("custom") not in (None, "", {})]
    if not with_custom:
        return
    definitions = custom_field_definitions(tenant=batch.tenant)
    for item in with_custom:
        cleaned, errors = custom_fields_problems(item.raw.get("custom"), definitions)
        if errors:
            item.errors.update(errors)
        else:
            item.fields["custom"] = cleaned


def cleanse(batch: IntakeBatch) -> None:
    """Reasons to quarantine (API.md codes): no way to reach the person, an unusable mobile or
    e-mail, sensitive words. Reasons the caller waives (a restore) are dropped."""
    for item in batch.items:
        if item.errors:
            continue
        assert item.normalised is not None
        item.reasons.extend(validity_reasons(item.normalised))
        if sensitive_words_found(item.fields, BUILTIN_SENSITIVE_WORDS):
            item.reasons.append("sensitive_word")
        if batch.waived_reasons:
            item.reasons = [reason for reason in item.reasons if reason not in batch.waived_reasons]
