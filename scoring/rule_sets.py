"""Changing the scoring rules (SPEC §4): a draft (a copy of the published set), edited, then
published. Publishing archives the old set (it stays readable: a lead's explanation names its
version), makes the draft the published one and queues the rescore of every lead, all in one
transaction; a publish while a rescore of the tenant runs is refused with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from leadcrm.tenancy.models import Tenant
from scoring import engine
from scoring.models import (
    AttributeRule,
    Dimension,
    EventType,
    RescoreJob,
    RuleSetStatus,
    ScoreChangeReason,
    ScoringRuleSet,
)
from scoring.rescore import RescoreBusy, rescore_job_create, rescore_job_enqueue
from scoring.services import (
    RULE_FIELD_NAMES,
    _attribute_rule_problems,
    _event_type_problems,
    rule_set_validate,
)

THRESHOLD_FIELDS = ("grade_a", "grade_b", "grade_c", "level_1", "level_2", "tier_hot", "tier_warm", "mature")
# The ideal customer profile: which lead field each answer is matched against, in which dimension.
ICP_FIELDS: dict[str, tuple[str, str, str]] = {
    # key: (lead field, operator, dimension)
    "industries": ("industry", "in", Dimension.COMPANY),
    "sizes": ("company_size", "in", Dimension.COMPANY),
    "regions": ("province", "in", Dimension.COMPANY),
    "titles": ("title", "contains", Dimension.CONTACT),
}
ICP_LABEL_PREFIX = "ICP · "


class NotADraft(Exception):
    """Only a draft is edited or published; a published or archived set never changes."""


def _copy_rules(*, source: ScoringRuleSet, target: ScoringRuleSet) -> None:
    AttributeRule.objects.bulk_create(
        AttributeRule(
            tenant_id=target.tenant_id, rule_set=target, dimension=rule.dimension, label=rule.label, field=rule.field,
            operator=rule.operator, value=rule.value, points=rule.points, position=rule.position,
        )
        for rule in source.attribute_rules.order_by("position", "id")
    )
    EventType.objects.bulk_create(
        EventType(
            tenant_id=target.tenant_id, rule_set=target, key=item.key, label=item.label, strength=item.strength,
            points=item.points, cap_count=item.cap_count, cap_period=item.cap_period,
            half_life_days=item.half_life_days,
        )
        for item in source.event_types.order_by("id")
    )


@transaction.atomic
def rule_set_draft_get_or_create(*, tenant: Tenant) -> ScoringRuleSet:
    """The tenant's draft, or a new one copied from the published set (the next version)."""
    _lock_tenant_rules(tenant_id=tenant.id)
    draft = ScoringRuleSet.objects.filter(status=RuleSetStatus.DRAFT).order_by("-version").first()
    if draft is not None:
        return draft
    published = ScoringRuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).first()
    last_version = ScoringRuleSet.objects.aggregate(last=Max("version"))["last"] or 0
    draft = ScoringRuleSet(tenant=tenant, version=last_version + 1, status=RuleSetStatus.DRAFT)
    if published is not None:
        for name in (*THRESHOLD_FIELDS, "inactivity_days", "inactivity_points", "dimension_caps"):
            setattr(draft, name, getattr(published, name))
    draft.save()
    if published is not None:
        _copy_rules(source=published, target=draft)
    return draft


def _lock_tenant_rules(*, tenant_id: int) -> None:
    """Serialise changes of one tenant's rule sets (drafts, publishes) for the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('scoring.rule_sets'), %s)", [tenant_id])


def _draft_for_update(*, rule_set_id: int) -> ScoringRuleSet:
    rule_set = ScoringRuleSet.objects.select_for_update().get(id=rule_set_id)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise NotADraft
    return rule_set


def _decimal(value: Any, field: str, errors: dict[str, list[str]], *, required: bool = True) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if text == "":
        if required:
            errors.setdefault(field, []).append(_("必填。"))
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.setdefault(field, []).append(_("“%(text)s”不是数字。") % {"text": text})
        return None
    if not number.is_finite() or abs(number) >= 10000:
        errors.setdefault(field, []).append(_("请填写 -9999 到 9999 之间的数。"))
        return None
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def rule_set_draft_settings_update(*, rule_set: ScoringRuleSet, data: dict[str, Any]) -> ScoringRuleSet:
    """Thresholds, dimension caps and the inactivity penalty. ValidationError (field →
    messages) and nothing saved when they contradict each other."""
    draft = _draft_for_update(rule_set_id=rule_set.id)
    errors: dict[str, list[str]] = {}
    for name in THRESHOLD_FIELDS:
        number = _decimal(data.get(name), name, errors)
        if number is not None:
            setattr(draft, name, number)
    days = str(data.get("inactivity_days") or "").strip()
    if days == "":
        draft.inactivity_days = None
    elif days.isdigit() and 0 < int(days) <= 3650:
        draft.inactivity_days = int(days)
    else:
        errors.setdefault("inactivity_days", []).append(_("请填写 1–3650 的整数天数，或留空。"))
    points = _decimal(data.get("inactivity_points"), "inactivity_points", errors, required=False)
    draft.inactivity_points = points if points is not None else Decimal(0)
    caps: dict[str, str] = {}
    for dimension in Dimension.values:
        cap = _decimal(data.get(f"cap_{dimension}"), f"cap_{dimension}", errors, required=False)
        if cap is not None:
            if cap <= 0:
                errors.setdefault(f"cap_{dimension}", []).append(_("上限须为正的分数。"))
            caps[dimension] = str(cap)
    draft.dimension_caps = caps
    # The whole set's contradictions too (bands out of order), beside the fields' own.
    try:
        rule_set_validate(rule_set=draft)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            if name not in ("attribute_rules", "event_types", "dimension_caps"):  # shown where they are edited
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    draft.save()
    return draft


def _rule_value(operator: str, raw: str, low: str, high: str) -> Any:
    if operator == "range":
        return {"min": low.strip() or None, "max": high.strip() or None}
    if operator == "is_empty":
        return raw.strip().lower() not in ("false", "0", "no", "否")
    if operator in ("in", "contains"):
        return [item.strip() for item in raw.replace("，", ",").split(",") if item.strip()]
    return raw.strip()


@transaction.atomic
def attribute_rule_save(*, rule_set: ScoringRuleSet, rule_id: int | None, data: dict[str, Any]) -> AttributeRule:
    """Add (rule_id None) or change a rule of the draft. ValidationError field → messages."""
    draft = _draft_for_update(rule_set_id=rule_set.id)
    rule = AttributeRule(tenant_id=draft.tenant_id, rule_set=draft) if rule_id is None else (
        AttributeRule.objects.get(id=rule_id, rule_set=draft)
    )
    errors: dict[str, list[str]] = {}
    rule.label = str(data.get("label", "")).strip()[:100]
    if not rule.label:
        errors.setdefault("label", []).append(_("请给规则起个名字。"))
    rule.dimension = str(data.get("dimension", ""))
    if rule.dimension not in Dimension.values:
        errors.setdefault("dimension", []).append(_("请选择维度。"))
    rule.field = str(data.get("field", ""))
    if rule.field not in RULE_FIELD_NAMES:
        errors.setdefault("field", []).append(_("线索没有“%(field)s”这个字段。") % {"field": rule.field})
    rule.operator = str(data.get("operator", ""))
    if rule.operator not in engine.OPERATORS:
        errors.setdefault("operator", []).append(_("请选择比较方式。"))
    points = _decimal(data.get("points"), "points", errors)
    if points is not None:
        if abs(points) > 100:
            errors.setdefault("points", []).append(_("分数须在 -100 到 100 之间。"))
        rule.points = points
    if rule.operator == "range":
        for bound in ("min", "max"):
            _decimal(data.get(bound), bound, errors, required=False)
    rule.value = _rule_value(rule.operator, str(data.get("value", "")), str(data.get("min", "")),
                             str(data.get("max", "")))
    if not errors:
        for problem in _attribute_rule_problems(rule):
            errors.setdefault("value", []).append(problem)
    if errors:
        raise ValidationError(errors)
    if rule_id is None:
        rule.position = (draft.attribute_rules.aggregate(last=Max("position"))["last"] or 0) + 1
    rule.save()
    return rule


@transaction.atomic
def attribute_rule_delete(*, rule_set: ScoringRuleSet, rule_id: int) -> None:
    draft = _draft_for_update(rule_set_id=rule_set.id)
    AttributeRule.objects.filter(id=rule_id, rule_set=draft).delete()


@transaction.atomic
def event_type_save(*, rule_set: ScoringRuleSet, event_type_id: int | None, data: dict[str, Any]) -> EventType:
    draft = _draft_for_update(rule_set_id=rule_set.id)
    item = EventType(tenant_id=draft.tenant_id, rule_set=draft) if event_type_id is None else (
        EventType.objects.get(id=event_type_id, rule_set=draft)
    )
    errors: dict[str, list[str]] = {}
    item.key = str(data.get("key", "")).strip()
    item.label = str(data.get("label", "")).strip()[:100]
    if not item.label:
        errors.setdefault("label", []).append(_("请给事件类型起个名字。"))
    item.strength = str(data.get("strength", "medium"))
    if item.strength not in ("strong", "medium", "weak"):
        errors.setdefault("strength", []).append(_("请选择强度。"))
    points = _decimal(data.get("points"), "points", errors)
    if points is not None:
        if abs(points) > 100:
            errors.setdefault("points", []).append(_("分数须在 -100 到 100 之间。"))
        item.points = points
    cap = str(data.get("cap_count") or "").strip()
    item.cap_count = None
    if cap:
        if cap.isdigit() and int(cap) >= 1:
            item.cap_count = int(cap)
        else:
            errors.setdefault("cap_count", []).append(_("上限至少为 1 次。"))
    item.cap_period = str(data.get("cap_period", "day"))
    if item.cap_period not in engine.CAP_PERIODS:
        errors.setdefault("cap_period", []).append(_("请选择周期。"))
    half_life = _decimal(data.get("half_life_days"), "half_life_days", errors, required=False)
    item.half_life_days = None if half_life is None else half_life.quantize(Decimal("0.1"))
    if half_life is not None and half_life <= 0:
        errors.setdefault("half_life_days", []).append(_("半衰期须为正的天数。"))
    if not errors:
        for problem in _event_type_problems(item):
            errors.setdefault("key", []).append(problem)
        if EventType.objects.filter(rule_set=draft, key=item.key).exclude(id=item.id).exists():
            errors.setdefault("key", []).append(_("这套规则里已有事件类型“%(key)s”。") % {"key": item.key})
    if errors:
        raise ValidationError(errors)
    item.save()
    return item


@transaction.atomic
def event_type_delete(*, rule_set: ScoringRuleSet, event_type_id: int) -> None:
    draft = _draft_for_update(rule_set_id=rule_set.id)
    EventType.objects.filter(id=event_type_id, rule_set=draft).delete()


@transaction.atomic
def ideal_customer_profile_apply(*, rule_set: ScoringRuleSet, data: dict[str, Any]) -> list[AttributeRule]:
    """The ideal customer profile (industries, sizes, regions, titles, each with points) as
    attribute rules: the draft's earlier profile rules are replaced by these."""
    draft = _draft_for_update(rule_set_id=rule_set.id)
    errors: dict[str, list[str]] = {}
    wanted: list[tuple[str, list[str], Decimal]] = []
    for key in ICP_FIELDS:
        values = [item.strip() for item in str(data.get(key, "")).replace("，", ",").split(",") if item.strip()]
        points = _decimal(data.get(f"{key}_points"), f"{key}_points", errors, required=bool(values))
        if values and points is not None:
            if not Decimal(0) < points <= 100:
                errors.setdefault(f"{key}_points", []).append(_("请填写 0 到 100 之间的分数。"))
            wanted.append((key, values, points))
    if not wanted and not errors:
        errors.setdefault("industries", []).append(_("请至少填写画像中的一项。"))
    if errors:
        raise ValidationError(errors)
    AttributeRule.objects.filter(rule_set=draft, label__startswith=ICP_LABEL_PREFIX).delete()
    position = draft.attribute_rules.aggregate(last=Max("position"))["last"] or 0
    created = []
    for offset, (key, values, points) in enumerate(wanted, start=1):
        field, operator, dimension = ICP_FIELDS[key]
        created.append(AttributeRule(
            tenant_id=draft.tenant_id, rule_set=draft, dimension=dimension, label=f"{ICP_LABEL_PREFIX}{key}",
            field=field, operator=operator, value=values, points=points, position=position + offset,
        ))
    return AttributeRule.objects.bulk_create(created)


def icp_current(*, rule_set: ScoringRuleSet) -> dict[str, str]:
    """The profile as the draft's profile rules say (to fill the form again)."""
    values: dict[str, str] = {}
    for rule in rule_set.attribute_rules.filter(label__startswith=ICP_LABEL_PREFIX):
        key = rule.label.removeprefix(ICP_LABEL_PREFIX)
        if key in ICP_FIELDS and isinstance(rule.value, list):
            values[key] = ", ".join(str(item) for item in rule.value)
            values[f"{key}_points"] = str(rule.points)
    return values


@dataclass(frozen=True)
class Published:
    rule_set: ScoringRuleSet
    job: RescoreJob


@transaction.atomic
def rule_set_publish(*, tenant: Tenant, rule_set: ScoringRuleSet, user: Any) -> Published:
    """Publish the draft and queue the rescore of every lead. Raises RescoreBusy (a rescore of
    the tenant is queued or running), NotADraft, or ValidationError (field → messages); in
    every case nothing has changed."""
    _lock_tenant_rules(tenant_id=tenant.id)
    draft = _draft_for_update(rule_set_id=rule_set.id)
    rule_set_validate(rule_set=draft)
    if RescoreJob.objects.filter(status__in=("queued", "running")).exists():
        raise RescoreBusy
    now = timezone.now()
    ScoringRuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).update(status=RuleSetStatus.ARCHIVED, updated_at=now)
    draft.status, draft.published_at, draft.published_by = RuleSetStatus.PUBLISHED, now, user
    draft.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    job = rescore_job_create(tenant=tenant, rule_set=draft, reason=ScoreChangeReason.RESCORE, created_by=user)
    rescore_job_enqueue(job=job)
    return Published(rule_set=draft, job=job)


def validation_messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            "form" if name == "__all__" else name: [str(message) for item in items for message in item.messages]
            for name, items in error.error_dict.items()
        }
    return {"form": [str(message) for message in error.messages]}

