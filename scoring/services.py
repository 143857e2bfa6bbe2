"""Scoring as tenant data and its writes (SPEC §4): the defaults of a new tenant, validation of a
rule set, the published rules as the engine's `RuleSet` (cached per tenant and version), and
scoring leads: at intake in memory before the insert, elsewhere set-based (one UPDATE for a
batch, whatever its size)."""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadcrm.db import json_param
from leadcrm.tenancy.models import Tenant
from leads.fields import LEAD_FIELDS
from leads.intake.hooks import IntakePersisting
from leads.models import Lead
from scoring import engine
from scoring.models import AttributeRule, EventType, RuleSetStatus, ScoringRuleSet
from scoring.selectors import lead_events_for_scoring
from scoring.signals import score_crossings_send

# --- the defaults of a new tenant (API.md) ------------------------------------------------------

# (key, label, strength, points, cap_count, half_life_days). Labels are stored as written here
# and translated on the page when they are still these words (gettext_noop marks them).
DEFAULT_EVENT_TYPES: tuple[tuple[str, str, str, int, int | None, int | None], ...] = (
    ("demo_request", gettext_noop("申请演示"), "strong", 25, None, 90),
    ("webinar_attend", gettext_noop("参加线上研讨会"), "strong", 15, None, 90),
    ("whitepaper_download", gettext_noop("下载白皮书"), "medium", 10, None, 60),
    ("pricing_page_view", gettext_noop("查看定价页"), "medium", 8, None, 60),
    ("email_reply", gettext_noop("回复邮件"), "medium", 8, None, 60),
    ("page_view", gettext_noop("浏览页面"), "weak", 1, 5, 30),
    ("email_open", gettext_noop("打开邮件"), "weak", 2, None, 30),
    # Negative signals do not fade: an unsubscribe means "no" until the person says otherwise.
    ("unsubscribe", gettext_noop("退订"), "strong", -20, None, None),
    ("spam_report", gettext_noop("举报垃圾邮件"), "strong", -30, None, None),
    ("email_bounce", gettext_noop("邮件退信"), "medium", -10, None, None),
)
DECISION_MAKER_TITLES = [
    "CEO", "CTO", "CFO", "COO", "CIO", "VP", "总经理", "总裁", "副总裁", "董事长", "总监", "采购总监", "负责人", "创始人",
]
# (dimension, label, field, operator, value, points)
DEFAULT_ATTRIBUTE_RULES: tuple[tuple[str, str, str, str, Any, int], ...] = (
    ("contact", gettext_noop("决策层职位"), "title", "contains", DECISION_MAKER_TITLES, 10),
    ("company", gettext_noop("没有公司名称"), "company", "is_empty", True, -5),
    ("contact", gettext_noop("学生"), "title", "contains", ["学生", "student"], -20),
)
DEFAULT_INACTIVITY_DAYS = 30
DEFAULT_INACTIVITY_POINTS = Decimal(-5)


@transaction.atomic
def rule_set_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's published rule set v1 (API.md defaults). Idempotent: a tenant that has
    any rule set keeps it."""
    if ScoringRuleSet.objects.exists():
        return
    rule_set = ScoringRuleSet.objects.create(
        tenant=tenant, version=1, status=RuleSetStatus.PUBLISHED, published_at=timezone.now(),
        inactivity_days=DEFAULT_INACTIVITY_DAYS, inactivity_points=DEFAULT_INACTIVITY_POINTS,
    )
    AttributeRule.objects.bulk_create(
        AttributeRule(
            tenant=tenant, rule_set=rule_set, dimension=dimension, label=label, field=field, operator=operator,
            value=value, points=Decimal(points), position=position,
        )
        for position, (dimension, label, field, operator, value, points) in enumerate(DEFAULT_ATTRIBUTE_RULES)
    )
    EventType.objects.bulk_create(
        EventType(
            tenant=tenant, rule_set=rule_set, key=key, label=label, strength=strength, points=Decimal(points),
            cap_count=cap_count, half_life_days=None if half_life is None else Decimal(half_life),
        )
        for key, label, strength, points, cap_count, half_life in DEFAULT_EVENT_TYPES
    )


# --- validation ---------------------------------------------------------------------------------

# Fields a rule may look at: the lead's submitted text and number fields (leads.fields).
RULE_FIELD_NAMES = frozenset(field.name for field in LEAD_FIELDS if field.kind in ("text", "decimal"))
_EVENT_KEY = re.compile(r"^[a-z][a-z0-9_.:-]{0,49}$")


def _bands_problems(name: str, values: Sequence[tuple[str, Decimal]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field_name, value in values:
        if not Decimal(0) <= value <= Decimal(100):
            errors.setdefault(field_name, []).append(_("须在 0 到 100 之间，现为 %(value)s。") % {"value": value})
    for (upper_name, upper), (lower_name, lower) in itertools.pairwise(values):
        if upper <= lower:
            errors.setdefault(upper_name, []).append(
                _("%(name)s的档位顺序不对：%(upper_name)s（%(upper)s）须高于 %(lower_name)s（%(lower)s）。") % {
                    "name": _(name), "upper_name": upper_name, "upper": upper, "lower_name": lower_name, "lower": lower,
                }
            )
    return errors


def _attribute_rule_problems(rule: AttributeRule) -> list[str]:
    problems: list[str] = []
    if rule.field not in RULE_FIELD_NAMES:
        allowed = ", ".join(sorted(RULE_FIELD_NAMES))
        problems.append(_("规则“%(label)s”：线索没有“%(field)s”这个字段。可用：%(allowed)s。") % {
            "label": rule.label, "field": rule.field, "allowed": allowed,
        })
    if rule.operator not in engine.OPERATORS:
        problems.append(_("规则“%(label)s”：未知的比较方式“%(operator)s”。") % {
            "label": rule.label, "operator": rule.operator,
        })
    elif rule.operator == "range":
        bounds = rule.value if isinstance(rule.value, dict) else {}
        low, high = bounds.get("min"), bounds.get("max")
        if low is None and high is None:
            problems.append(_("规则“%(label)s”：区间需要最小值、最大值或两者。") % {"label": rule.label})
        elif low is not None and high is not None and Decimal(str(low)) >= Decimal(str(high)):
            problems.append(_("规则“%(label)s”：区间的最小值（%(low)s）须小于最大值（%(high)s）。") % {
                "label": rule.label, "low": low, "high": high,
            })
    elif rule.operator == "is_empty" and not isinstance(rule.value, bool):
        problems.append(_("规则“%(label)s”：“为空”只取 是 或 否。") % {"label": rule.label})
    elif rule.operator in ("equals", "in", "contains") and not engine._values(rule.value):
        problems.append(_("规则“%(label)s”：请填写要比较的值。") % {"label": rule.label})
    return problems


def _event_type_problems(event_type: EventType) -> list[str]:
    problems: list[str] = []
    if not _EVENT_KEY.match(event_type.key):
        problems.append(_("事件类型“%(key)s”：请用小写字母、数字和 _（如 page_view）。") % {"key": event_type.key})
    if event_type.cap_count is not None and event_type.cap_count < 1:
        problems.append(_("事件类型“%(key)s”：上限至少为 1 次。") % {"key": event_type.key})
    if event_type.half_life_days is not None and event_type.half_life_days <= 0:
        problems.append(_("事件类型“%(key)s”：半衰期须为正的天数。") % {"key": event_type.key})
    return problems


def rule_set_validate(*, rule_set: ScoringRuleSet) -> None:
    """Raise ValidationError (field → messages) when the rule set contradicts itself or names
    what does not exist; a valid set returns None."""
    errors: dict[str, list[str]] = {}
    errors.update(_bands_problems(gettext_noop("等级"), [
        ("grade_a", rule_set.grade_a), ("grade_b", rule_set.grade_b), ("grade_c", rule_set.grade_c),
    ]))
    errors.update(_bands_problems(gettext_noop("级别"), [("level_1", rule_set.level_1), ("level_2", rule_set.level_2)]))
    errors.update(_bands_problems(gettext_noop("热度"), [("tier_hot", rule_set.tier_hot), ("tier_warm", rule_set.tier_warm)]))
    errors.update(_bands_problems(gettext_noop("成熟度"), [("mature", rule_set.mature)]))
    if rule_set.inactivity_days is not None and rule_set.inactivity_points > 0:
        errors.setdefault("inactivity_points", []).append(_("不活跃只会降低分数：请填写负分。"))
    caps = rule_set.dimension_caps if isinstance(rule_set.dimension_caps, dict) else None
    if caps is None:
        errors.setdefault("dimension_caps", []).append(_("上限的格式为 {维度: 分数}。"))
    else:
        for dimension, cap in caps.items():
            try:
                ok = Decimal(str(cap)) > 0
            except ArithmeticError:
                ok = False
            if not ok:
                errors.setdefault("dimension_caps", []).append(
                    _("“%(dimension)s”的上限须为正数。") % {"dimension": dimension}
                )
    if rule_set.pk is not None:
        for rule in rule_set.attribute_rules.order_by("id"):
            if problems := _attribute_rule_problems(rule):
                errors.setdefault("attribute_rules", []).extend(problems)
        for event_type in rule_set.event_types.all():
            if problems := _event_type_problems(event_type):
                errors.setdefault("event_types", []).extend(problems)
    if errors:
        raise ValidationError(errors)


# --- the published rules as the engine's RuleSet -------------------------------------------------

# A published set never changes (a change is a new version), so (tenant, id, version) names its
# content for good; the cache only saves the two reads of its rows.
_RULES_CACHE: dict[tuple[int, int, int], engine.RuleSet] = {}
_RULES_CACHE_SIZE = 512


def rule_set_to_engine(*, rule_set: ScoringRuleSet) -> engine.RuleSet:
    caps = {str(key): Decimal(str(value)) for key, value in (rule_set.dimension_caps or {}).items()}
    return engine.RuleSet(
        version=rule_set.version,
        attribute_rules=tuple(
            engine.AttributeRule(
                field=rule.field, operator=rule.operator, value=rule.value,  # type: ignore[arg-type]
                points=rule.points, label=rule.label, dimension=rule.dimension,
            )
            for rule in rule_set.attribute_rules.order_by("position", "id")
        ),
        dimension_caps=caps,
        event_rules={
            item.key: engine.EventRule(
                key=item.key, label=item.label, points=item.points, strength=item.strength,  # type: ignore[arg-type]
                cap_count=item.cap_count, cap_period=item.cap_period,  # type: ignore[arg-type]
                half_life_days=item.half_life_days,
            )
            for item in rule_set.event_types.all()
        },
        inactivity_days=rule_set.inactivity_days,
        inactivity_points=rule_set.inactivity_points,
        thresholds=engine.Thresholds(
            grade_a=rule_set.grade_a, grade_b=rule_set.grade_b, grade_c=rule_set.grade_c,
            level_1=rule_set.level_1, level_2=rule_set.level_2, tier_hot=rule_set.tier_hot,
            tier_warm=rule_set.tier_warm, mature=rule_set.mature,
        ),
        period_tz=zoneinfo.ZoneInfo(settings.TIME_ZONE),
    )


def rules_for(*, tenant_id: int, rule_set_id: int, version: int) -> engine.RuleSet:
    key = (tenant_id, rule_set_id, version)
    rules = _RULES_CACHE.get(key)
    if rules is None:
        rule_set = ScoringRuleSet.objects.get(id=rule_set_id)
        rules = rule_set_to_engine(rule_set=rule_set)
        if len(_RULES_CACHE) >= _RULES_CACHE_SIZE:
            _RULES_CACHE.clear()
        _RULES_CACHE[key] = rules
    return rules


# Intake's configuration probe (leads.intake.config): which set is published, as [id, version].
PUBLISHED_PROBE_SQL = (
    "SELECT ARRAY[id, version] FROM scoring_scoringruleset WHERE tenant_id = %(tenant_id)s AND status = 'published'"
)


def rules_published(*, tenant_id: int) -> engine.RuleSet | None:
    """The tenant's published rules: one small query (which version), the rest from the cache."""
    with connection.cursor() as cursor:
        cursor.execute(PUBLISHED_PROBE_SQL, {"tenant_id": tenant_id})
        row = cursor.fetchone()
    return rules_from_probe(tenant_id=tenant_id, published=row[0] if row else None)


def rules_from_probe(*, tenant_id: int, published: Sequence[int] | None) -> engine.RuleSet | None:
    """The rules `PUBLISHED_PROBE_SQL` names ([id, version]; None: nothing published)."""
    if published is None:
        return None
    return rules_for(tenant_id=tenant_id, rule_set_id=published[0], version=published[1])


def rules_of_version(*, tenant_id: int, version: int) -> engine.RuleSet | None:
    row = ScoringRuleSet.objects.filter(version=version).values_list("id", "version").first()
    if row is None:
        return None
    return rules_for(tenant_id=tenant_id, rule_set_id=row[0], version=row[1])


# --- scoring leads ------------------------------------------------------------------------------

_SCORE_UPDATE_SQL = """
    UPDATE leads_lead AS l SET
        score_total = v.total, score_static = v.static, score_dynamic = v.dynamic,
        grade = v.grade, level = v.level, tier = v.tier, is_mature = v.mature,
        scored_at = v.at, score_version = v.version
    FROM jsonb_to_recordset(%s::jsonb) AS v(
        id bigint, total numeric, static numeric, dynamic numeric, grade text, level smallint, tier text,
        mature boolean, at timestamptz, version integer
    )
    WHERE l.tenant_id = %s AND l.id = v.id
"""


def lead_attributes(lead: Lead, field_names: Iterable[str]) -> dict[str, object]:
    return {name: getattr(lead, name, None) for name in field_names}


def rules_field_names(rules: engine.RuleSet) -> frozenset[str]:
    return frozenset(rule.field for rule in rules.attribute_rules)


def _score_row(lead_id: int, result: engine.ScoreResult, at: datetime) -> dict[str, Any]:
    return {
        "id": lead_id, "total": str(result.total), "static": str(result.static), "dynamic": str(result.dynamic),
        "grade": result.grade, "level": result.level, "tier": result.tier, "mature": result.mature,
        "at": at, "version": result.version,
    }


def scores_write(*, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    """One UPDATE for any number of leads."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(_SCORE_UPDATE_SQL, [json_param(rows), tenant_id])


def lead_inactivity_start(lead: Lead) -> datetime | None:
    """Where the inactivity clock starts before any event: when the lead arrived (None for a
    lead not written yet: it has just arrived). Intake, the worker, the rescore and the
    explanation all pass this, so a score recomputes exactly."""
    return lead.created_at


def leads_score_in_place(
    *, tenant_id: int, rules: engine.RuleSet, leads: Sequence[Lead], now: datetime,
    events: dict[int, list[engine.Event]] | None = None,
) -> None:
    """Score Lead objects in memory (their events by lead id, if any); the caller writes them."""
    fields = rules_field_names(rules)
    events = events or {}
    for lead in leads:
        result = engine.score_compute(
            rules=rules, attributes=lead_attributes(lead, fields), events=events.get(lead.pk, ()), now=now,
            last_activity_at=lead_inactivity_start(lead),
        )
        lead_apply(lead, result=result, at=now)


def lead_apply(lead: Lead, *, result: engine.ScoreResult, at: datetime) -> None:
    lead.score_total, lead.score_static, lead.score_dynamic = result.total, result.static, result.dynamic
    lead.grade, lead.level, lead.tier, lead.is_mature = result.grade, result.level, result.tier, result.mature
    lead.scored_at, lead.score_version = at, result.version


def intake_leads_score(event: IntakePersisting) -> None:
    """The `persisting` intake hook: score the batch's new and updated leads before intake
    writes them, so the score travels in intake's own INSERT and UPDATE (no statement of ours;
    the published version came with intake's configuration probes). An updated lead keeps its
    events (one query, only for batches that update leads); a new one has none yet: events that
    were waiting for it attach after commit and rescore it. Leads that arrive mature or hot,
    or that an update makes so, are announced after the commit."""
    rules = rules_from_probe(tenant_id=event.tenant_id, published=event.config.get("scoring.rules"))
    if rules is None:
        return
    before = {lead.pk: (lead.is_mature, lead.tier) for lead in event.updated if lead.scored_at is not None}
    own = lead_events_for_scoring(lead_ids=[lead.pk for lead in event.updated]) if event.updated else {}
    events = {lead_id: entry.events for lead_id, entry in own.items()}
    leads = [*event.created, *event.updated]
    leads_score_in_place(tenant_id=event.tenant_id, rules=rules, leads=leads, now=event.now, events=events)
    mature = [lead for lead in leads if lead.is_mature and not before.get(lead.pk, (False, ""))[0]]
    hot = [lead for lead in leads if lead.tier == "hot" and before.get(lead.pk, (False, ""))[1] != "hot"]
    if mature or hot:
        tenant_id = event.tenant_id
        # By the commit the new leads have their ids.
        transaction.on_commit(lambda: score_crossings_send(
            tenant_id=tenant_id, mature_ids=[lead.pk for lead in mature], hot_ids=[lead.pk for lead in hot],
            arrived=True,
        ))


# --- explanation ---------------------------------------------------------------------------------


def lead_score_explain(*, lead: Lead) -> engine.ScoreResult | None:
    """The lead's score with every contribution, recomputed from the inputs that gave it: the
    rules of its version and its events attached by then, as of when it was scored, with the
    inactivity clock started where the event worker starts it. None: not scored yet."""

    if lead.scored_at is None or lead.score_version is None:
        return None
    rules = rules_of_version(tenant_id=lead.tenant_id, version=lead.score_version)
    if rules is None:  # its rule set was deleted; nothing to explain with
        return None
    own = lead_events_for_scoring(lead_ids=[lead.id], known_at=lead.scored_at).get(lead.id)
    return engine.score_compute(
        rules=rules, attributes=lead_attributes(lead, rules_field_names(rules)),
        events=own.events if own else (), now=lead.scored_at, last_activity_at=lead_inactivity_start(lead),
    )
