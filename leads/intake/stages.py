"""The checking stages of intake: normalise, validate, cleanse. Each takes the batch and marks
its items; none writes to the database."""

from __future__ import annotations

from leads.cleansing import ScanText, validity_reasons
from leads.cleansing_selectors import SENSITIVE_TAG, cleansing_rules_from_policy
from leads.intake.batch import IntakeBatch
from leads.intake.custom_fields import custom_field_definitions, custom_fields_problems
from leads.normalization import normalise_lead

SENSITIVE_REASON = "sensitive_word"


def normalise(batch: IntakeBatch) -> None:
    """Full-width to half-width, phones to E.164 (and their region), e-mail lower-cased, the
    company key: what every later stage compares."""
    for item in batch.items:
        item.normalised = normalise_lead(item.raw)


def validate(batch: IntakeBatch) -> None:
    """Custom fields against the tenant's definitions (one query, only when an item sends any
    or the tenant requires one). A bad or missing required value makes the item `invalid`: the
    sender must fix it, nothing is kept."""
    if batch.config.get("leads.custom_required"):
        with_custom = batch.items
    else:
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
    e-mail, the tenant's blacklist (`blacklist.<kind>`), sensitive words (the built-in lexicon
    unless the tenant turned it off, plus its own). With the tenant's action "flag" a sensitive
    word tags the lead instead. Reasons the caller waives (a restore) are dropped; a waived
    sensitive word still tags the lead, so people see what let it in.

    The tenant's policy and list versions come with the batch's configuration probes; the matchers are built
    once per process and list version, and both read one normalised text per lead."""
    items = [item for item in batch.items if not item.errors]
    if not items:
        return
    rules = cleansing_rules_from_policy(tenant_id=batch.tenant.id, policy=batch.config.get("leads.cleansing"))
    blacklist, sensitive, waived = rules.blacklist, rules.sensitive, batch.waived_reasons
    for item in items:
        assert item.normalised is not None
        fields = item.fields
        item.reasons.extend(validity_reasons(item.normalised))
        scan = ScanText.of_fields(fields) if blacklist is not None and sensitive is not None else None
        if blacklist is not None:
            item.reasons.extend(blacklist.reasons(fields, scan=scan))
        if sensitive is not None and sensitive.match(fields, scan=scan):
            if rules.flag_sensitive or SENSITIVE_REASON in waived:
                item.tags.append(SENSITIVE_TAG)
            else:
                item.reasons.append(SENSITIVE_REASON)
        if waived:
            item.reasons = [reason for reason in item.reasons if reason not in waived]
