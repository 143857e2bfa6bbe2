"""The scoring engine (SPEC §4): pure functions, no ORM, no settings, unit-tested alone.

`score_compute(rules=…, attributes=…, events=…, now=…)` turns a rule set, a lead's attributes
and its behaviour events into a `ScoreResult`. Intake, the worker, the rescore and the demo all
call this one function.

Invariants (tests/scoring/test_engine.py checks each):
- Every amount is a `Decimal` with two places, rounded half-up once per contribution; the parts
  are sums of those rounded amounts, so the contributions add up EXACTLY to `total`
  (and those of each part to `static` and `dynamic`).
- Static (fit) = the matching attribute rules; each dimension's sum is held at or under its
  cap, then the static part is kept within 0–100. Whatever a cap or the clamp removes (or adds
  back, below 0) is a `cap` contribution, so nothing is hidden.
- Dynamic (behaviour) = the events of known types at or before `now`: at most `cap_count`
  occurrences of a type count per calendar period (the earliest ones), each event's points
  halve every `half_life_days` (a `decay` contribution carries what the decay took), and a lead
  with no event for `inactivity_days` loses `inactivity_points`. Negative event types lower
  the dynamic part; it is kept within −100–100 so a negative signal still lowers the total.
- Total = static + dynamic, kept within 0–100 (a `cap` contribution carries the difference).
- Grade A–D from static, level 1–3 from dynamic, tier from total, mature when total ≥ the
  maturity threshold; thresholds are inclusive lower bounds ("A ≥ 75").
- Events of an unknown type or in the future are never scored; they come back in `ignored`
  with the reason, so the caller can flag them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

Operator = Literal["equals", "in", "contains", "range", "is_empty"]
OPERATORS: tuple[Operator, ...] = ("equals", "in", "contains", "range", "is_empty")
Strength = Literal["strong", "medium", "weak"]
CapPeriod = Literal["day", "week", "month"]
CAP_PERIODS: tuple[CapPeriod, ...] = ("day", "week", "month")
ContributionKind = Literal["attribute", "event", "decay", "inactivity", "cap"]
Part = Literal["static", "dynamic", "total"]
IgnoredReason = Literal["unknown_type", "future"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100.00")
DYNAMIC_FLOOR = Decimal("-100.00")


def money(value: Decimal | float | int) -> Decimal:
    """Round to two places, half-up: the one rounding every amount goes through."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AttributeRule:
    field: str
    operator: Operator
    value: object  # equals: str; in/contains: list[str] (or str); range: {"min", "max"}; is_empty: bool
    points: Decimal
    label: str
    dimension: str = "contact"


@dataclass(frozen=True)
class EventRule:
    key: str
    label: str
    points: Decimal
    strength: Strength = "medium"
    cap_count: int | None = None  # occurrences that count per `cap_period`; None: all
    cap_period: CapPeriod = "day"
    half_life_days: Decimal | None = None  # None: no decay


@dataclass(frozen=True)
class Thresholds:
    """Inclusive lower bounds; validation (scoring.services) keeps each list in order."""

    grade_a: Decimal = Decimal(75)
    grade_b: Decimal = Decimal(50)
    grade_c: Decimal = Decimal(25)
    level_1: Decimal = Decimal(60)
    level_2: Decimal = Decimal(30)
    tier_hot: Decimal = Decimal(80)
    tier_warm: Decimal = Decimal(50)
    mature: Decimal = Decimal(50)


@dataclass(frozen=True)
class RuleSet:
    version: int
    attribute_rules: Sequence[AttributeRule] = ()
    dimension_caps: Mapping[str, Decimal] = field(default_factory=dict)
    event_rules: Mapping[str, EventRule] = field(default_factory=dict)
    inactivity_days: int | None = None  # None: no inactivity penalty
    inactivity_points: Decimal = ZERO  # negative
    thresholds: Thresholds = field(default_factory=Thresholds)
    period_tz: tzinfo | None = None  # calendar periods of the caps; None: `now`'s zone


@dataclass(frozen=True)
class Event:
    type: str
    occurred_at: datetime
    event_id: str = ""


@dataclass(frozen=True)
class Contribution:
    kind: ContributionKind
    label: str
    points: Decimal
    at: datetime | None = None
    part: Part = "static"
    detail: str = ""  # what the words on the page need beyond the label (the rule, the cap)


@dataclass(frozen=True)
class IgnoredEvent:
    event: Event
    reason: IgnoredReason


@dataclass(frozen=True)
class ScoreResult:
    version: int
    static: Decimal
    dynamic: Decimal
    total: Decimal
    grade: str
    level: int
    tier: str
    mature: bool
    contributions: tuple[Contribution, ...]
    ignored: tuple[IgnoredEvent, ...] = ()

    @property
    def group(self) -> str:
        return f"{self.grade}{self.level}"


# --- attribute rules -------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value).strip().casefold()


def _values(value: object) -> list[str]:
    if isinstance(value, list | tuple | set | frozenset):
        items = [_text(item) for item in value]
    else:
        items = [_text(part) for part in str(value).replace("，", ",").split(",")]
    return [item for item in items if item]


def _number(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def rule_matches(rule: AttributeRule, attributes: Mapping[str, object]) -> bool:
    """Whether one rule matches. Text compares trimmed and case-insensitively; `range` is
    min ≤ value < max on a number (a missing bound is open; text that is no number never matches)."""
    raw = attributes.get(rule.field)
    if rule.operator == "is_empty":
        return (_text(raw) == "") == bool(rule.value)
    text = _text(raw)
    if rule.operator == "equals":
        return text != "" and text == _text(rule.value)
    if rule.operator == "in":
        return text != "" and text in _values(rule.value)
    if rule.operator == "contains":
        return text != "" and any(needle in text for needle in _values(rule.value))
    if rule.operator == "range":
        number = _number(raw)
        bounds = rule.value if isinstance(rule.value, Mapping) else {}
        low, high = _number(bounds.get("min")), _number(bounds.get("max"))
        if number is None or (low is None and high is None):
            return False
        return (low is None or number >= low) and (high is None or number < high)
    raise ValueError(f"unknown operator {rule.operator!r}")


def _static_part(rules: RuleSet, attributes: Mapping[str, object]) -> list[Contribution]:
    out: list[Contribution] = []
    by_dimension: dict[str, list[Contribution]] = defaultdict(list)
    for rule in rules.attribute_rules:
        if rule_matches(rule, attributes):
            by_dimension[rule.dimension].append(
                Contribution(kind="attribute", label=rule.label, points=money(rule.points), detail=rule.dimension)
            )
    for dimension, items in by_dimension.items():
        out.extend(items)
        cap = rules.dimension_caps.get(dimension)
        subtotal = sum((item.points for item in items), ZERO)
        if cap is not None and subtotal > money(cap):
            out.append(
                Contribution(kind="cap", label=dimension, points=money(cap) - subtotal, detail="dimension")
            )
    static = sum((item.points for item in out), ZERO)
    clamped = min(max(static, ZERO), HUNDRED)
    if clamped != static:
        out.append(Contribution(kind="cap", label="static", points=clamped - static, detail="range"))
    return out


# --- events ----------------------------------------------------------------------------------


def _period_key(moment: datetime, period: CapPeriod) -> date | tuple[int, int]:
    day = moment.date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return (day.year, day.month)


def decayed_points(points: Decimal, *, age: timedelta, half_life_days: Decimal | None) -> Decimal:
    """`points` halved every `half_life_days` of `age`, rounded once."""
    if half_life_days is None or half_life_days <= 0 or age <= timedelta(0):
        return money(points)
    factor = math.pow(0.5, (age.total_seconds() / 86400) / float(half_life_days))
    return money(float(points) * factor)


def _dynamic_part(
    rules: RuleSet, events: Sequence[Event], now: datetime, last_activity_at: datetime | None
) -> tuple[list[Contribution], list[IgnoredEvent]]:
    out: list[Contribution] = []
    ignored: list[IgnoredEvent] = []
    zone = rules.period_tz or now.tzinfo
    counted: dict[tuple[str, object], int] = defaultdict(int)
    over_cap: dict[tuple[str, object], list[Event]] = defaultdict(list)
    latest: datetime | None = last_activity_at
    for event in sorted(events, key=lambda item: (item.occurred_at, item.event_id)):
        rule = rules.event_rules.get(event.type)
        if rule is None:
            ignored.append(IgnoredEvent(event=event, reason="unknown_type"))
            continue
        if event.occurred_at > now:
            ignored.append(IgnoredEvent(event=event, reason="future"))
            continue
        latest = event.occurred_at if latest is None else max(latest, event.occurred_at)
        if rule.cap_count is not None:
            local = event.occurred_at.astimezone(zone) if zone is not None else event.occurred_at
            bucket = (rule.key, _period_key(local, rule.cap_period))
            if counted[bucket] >= rule.cap_count:
                over_cap[bucket].append(event)
                continue
            counted[bucket] += 1
        nominal = money(rule.points)
        out.append(Contribution(kind="event", label=rule.label, points=nominal, at=event.occurred_at, part="dynamic"))
        value = decayed_points(nominal, age=now - event.occurred_at, half_life_days=rule.half_life_days)
        if value != nominal:
            out.append(
                Contribution(kind="decay", label=rule.label, points=value - nominal, at=event.occurred_at, part="dynamic")
            )
    for (key, _period), extra in over_cap.items():
        rule = rules.event_rules[key]
        # Zero points: the occurrences beyond the cap were never counted; this line says so.
        out.append(
            Contribution(
                kind="cap", label=rule.label, points=ZERO, at=extra[0].occurred_at, part="dynamic",
                detail=f"{len(extra)}/{rule.cap_count}/{rule.cap_period}",
            )
        )
    if (
        rules.inactivity_days is not None
        and rules.inactivity_points != 0
        and latest is not None
        and now - latest >= timedelta(days=rules.inactivity_days)
    ):
        out.append(
            Contribution(
                kind="inactivity", label="inactivity", points=money(rules.inactivity_points),
                at=latest + timedelta(days=rules.inactivity_days), part="dynamic", detail=str(rules.inactivity_days),
            )
        )
    dynamic = sum((item.points for item in out), ZERO)
    clamped = min(max(dynamic, DYNAMIC_FLOOR), HUNDRED)
    if clamped != dynamic:
        out.append(Contribution(kind="cap", label="dynamic", points=clamped - dynamic, part="dynamic", detail="range"))
    return out, ignored


# --- bands -----------------------------------------------------------------------------------


def grade_for(static: Decimal, thresholds: Thresholds) -> str:
    if static >= thresholds.grade_a:
        return "A"
    if static >= thresholds.grade_b:
        return "B"
    if static >= thresholds.grade_c:
        return "C"
    return "D"


def level_for(dynamic: Decimal, thresholds: Thresholds) -> int:
    if dynamic >= thresholds.level_1:
        return 1
    if dynamic >= thresholds.level_2:
        return 2
    return 3


def tier_for(total: Decimal, thresholds: Thresholds) -> str:
    if total >= thresholds.tier_hot:
        return "hot"
    if total >= thresholds.tier_warm:
        return "warm"
    return "cold"


def score_compute(
    *,
    rules: RuleSet,
    attributes: Mapping[str, object],
    events: Sequence[Event],
    now: datetime,
    last_activity_at: datetime | None = None,
) -> ScoreResult:
    """Score one lead. `last_activity_at` (e.g. when the lead arrived) starts the inactivity
    clock when it is later than every event; without it and without events there is no penalty."""
    static_items = _static_part(rules, attributes)
    dynamic_items, ignored = _dynamic_part(rules, events, now, last_activity_at)
    static = sum((item.points for item in static_items), ZERO)
    dynamic = sum((item.points for item in dynamic_items), ZERO)
    items = [*static_items, *dynamic_items]
    raw_total = static + dynamic
    total = min(max(raw_total, ZERO), HUNDRED)
    if total != raw_total:
        items.append(Contribution(kind="cap", label="total", points=total - raw_total, part="total", detail="range"))
    thresholds = rules.thresholds
    return ScoreResult(
        version=rules.version,
        static=static,
        dynamic=dynamic,
        total=total,
        grade=grade_for(static, thresholds),
        level=level_for(dynamic, thresholds),
        tier=tier_for(total, thresholds),
        mature=total >= thresholds.mature,
        contributions=tuple(items),
        ignored=tuple(ignored),
    )
