"""The scoring engine compiled to SQL (SPEC §4): `engine.score_compute` for a set of leads in
one statement, so a rescore, the nightly decay and a preview never loop over leads in Python.

`score_select(rules=…, tenant_id=…, now=…, lead_filter=…)` returns a CTE list and a SELECT of
`(id, static, dynamic, total, grade, level, tier, mature)` plus the lead's score columns before
(`old_*`), for the leads of the tenant that `lead_filter` keeps. Every value travels as a
parameter; only the shape of the statement (which rules, which fields) is built here.

Exactly the engine's semantics (tests/scoring/test_engine_sql.py compares both on random rule
sets, leads and events):
- Text is trimmed of what Python's `str.strip()` trims (every Unicode white space, not only
  spaces) and case-folded like `str.casefold()`: PostgreSQL's `lower()` agrees with casefold on
  all but ~300 characters (ß, ς, ﬁ, Cherokee, …); a text holding one of them is folded
  character by character through a table built from Python's own casefold.
- A number in a text field is what `Decimal(text.strip())` reads: underscores dropped, any
  Unicode decimal digit, an exponent, no inf/nan. One difference, documented: an exponent of
  1000 or more digits' magnitude (|e| ≥ 1000) never matches in SQL (PostgreSQL's numeric stops
  there), where Python would compare it.
- Every amount is rounded half away from zero to two places once per contribution (numeric
  `round()` is ROUND_HALF_UP); the decay is computed in float8 like `math.pow` and rounded from
  its shortest text form, as `Decimal(str(float))` does.
- Events: those `selectors.lead_events_for_scoring` reads (attached, flag '' or
  'unknown_type': a type the catalogue learnt later counts from the next scoring), of a type
  the rules know, at or before `now`; per type at most `cap_count` per calendar period in the
  rule set's time zone, the earliest first (ties by event id in code-point order,
  `COLLATE "C"`); the inactivity clock starts at the latest of the lead's events (over-cap ones
  too) and `services.lead_inactivity_start` (the lead's `created_at`).
"""

from __future__ import annotations

import sys
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any

from scoring import engine
from scoring.engine import money
from scoring.selectors import SCORED_FLAGS

# Python's str.strip() set: every character whose isspace() is true.
WHITESPACE = "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())
# The flags of the events the engine sees (selectors.SCORED_FLAGS), as an SQL list.
SCORED_FLAGS_SQL = "(" + ", ".join(f"'{flag}'" for flag in SCORED_FLAGS) + ")"
# Fields stored as numbers (leads.fields kind "decimal"); every other rule field is text.
NUMERIC_FIELDS = frozenset({"annual_revenue"})


@cache
def fold_table() -> dict[str, str]:
    """The characters whose `casefold()` is not what PostgreSQL's lower() gives (C.UTF-8 and
    every glibc locale agree on these): folded one by one through this table instead."""
    table: dict[str, str] = {}
    for code in range(1, sys.maxunicode + 1):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        folded = char.casefold()
        if folded != char.lower() or char.lower() != char.lower().casefold() or len(char.lower()) != 1:
            table[char] = folded
    return table


def _special_class(chars: str) -> str:
    escaped = "".join("\\" + char if char in "]\\^-[" else char for char in chars)
    return f"[{escaped}]"


@cache
def _fold_class() -> str:
    # lower() of a character outside the table equals its casefold, except where glibc and
    # Python's Unicode versions disagree; those are in the table too (see fold_table_check).
    return _special_class("".join(fold_table()))


@cache
def _digit_map() -> tuple[str, str]:
    """Non-ASCII Unicode decimal digits (Decimal reads ٣ and ３ as 3) and their ASCII digit."""
    source, target = [], []
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Nd":
            source.append(char)
            target.append(str(unicodedata.decimal(char)))
    return "".join(source), "".join(target)


@dataclass(frozen=True)
class ScoreSql:
    """`ctes` (without WITH) define `<name>scored` (id, static, dynamic, total, grade, level, tier,
    mature, old_total, old_scored_at, old_mature, old_tier, old_version, old_static,
    old_dynamic, old_grade, old_level); `params` is a dict for pyformat placeholders."""

    ctes: str
    params: dict[str, Any]


class _Params:
    def __init__(self, namespace: str = "") -> None:
        self.values: dict[str, Any] = {}
        self.namespace = namespace

    def add(self, value: Any, prefix: str = "p") -> str:
        name = f"{self.namespace}{prefix}{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"


def zone_name(zone: tzinfo | None, now: datetime) -> str:
    """A name PostgreSQL's AT TIME ZONE reads the same way Python's astimezone does."""
    zone = zone or now.tzinfo
    if isinstance(zone, zoneinfo.ZoneInfo):
        return zone.key
    offset = (zone or UTC).utcoffset(now) or timedelta(0)
    if isinstance(zone, timezone) or zone is None:
        # POSIX signs are inverted: 'UTC-08' is eight hours EAST of Greenwich, so spell the
        # offset as an ISO-8601 one, which PostgreSQL reads with the ordinary sign.
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    raise ValueError(f"unsupported time zone {zone!r}")


def _text_expr(column: str, params: _Params) -> str:
    """`engine._text(value)`: trimmed, case-folded, '' for NULL. Plain expressions (no
    subquery on the common path), so the planner evaluates it once per row and column."""
    trimmed = f"btrim(coalesce({column}::text, ''), {params.add(WHITESPACE, 'ws')})"
    folded = (
        f"(SELECT coalesce(string_agg(coalesce({params.add(fold_table_json(), 'fold')}::jsonb ->> c.ch, lower(c.ch)), ''"
        f" ORDER BY c.n), '') FROM regexp_split_to_table({trimmed}, '') WITH ORDINALITY AS c(ch, n))"
    )
    return f"CASE WHEN {trimmed} ~ {params.add(_fold_class(), 'fc')} THEN {folded} ELSE lower({trimmed}) END"


@cache
def fold_table_json() -> str:
    import json

    return json.dumps(fold_table(), ensure_ascii=False)


def _number_expr(column: str, params: _Params) -> str:
    """`engine._number(value)` of a text column: NULL when Decimal would not read it."""
    source, target = _digit_map()
    trimmed = f"btrim(coalesce({column}::text, ''), {params.add(WHITESPACE, 'ws')})"
    digits = (
        f"replace(CASE WHEN {trimmed} ~ '[^\\x01-\\x7f]' THEN translate({trimmed}, {params.add(source, 'nd')}, "
        f"{params.add(target, 'nd')}) ELSE {trimmed} END, '_', '')"
    )
    pattern = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?0*[0-9]{1,3})?$"
    return f"CASE WHEN {digits} ~ {params.add(pattern, 'num')} THEN ({digits})::numeric END"


def _rule_condition(rule: engine.AttributeRule, fields: dict[str, str], numbers: dict[str, str],
                    params: _Params) -> str:
    text = fields[rule.field]
    if rule.operator == "is_empty":
        return f"(({text} = '') = {params.add(bool(rule.value))})"
    if rule.operator == "equals":
        return f"({text} <> '' AND {text} = {params.add(engine._text(rule.value))})"
    if rule.operator == "in":
        return f"({text} <> '' AND {text} = ANY({params.add(engine._values(rule.value))}::text[]))"
    if rule.operator == "contains":
        needles = engine._values(rule.value)
        if not needles:
            return "FALSE"
        hits = " OR ".join(f"strpos({text}, {params.add(needle)}) > 0" for needle in needles)
        return f"({text} <> '' AND ({hits}))"
    if rule.operator == "range":
        bounds = rule.value if isinstance(rule.value, dict) else {}
        low, high = engine._number(bounds.get("min")), engine._number(bounds.get("max"))
        if low is None and high is None:
            return "FALSE"
        number = numbers[rule.field]
        parts = [f"{number} IS NOT NULL"]
        if low is not None:
            parts.append(f"{number} >= {params.add(low)}::numeric")
        if high is not None:
            parts.append(f"{number} < {params.add(high)}::numeric")
        return "(" + " AND ".join(parts) + ")"
    raise ValueError(f"unknown operator {rule.operator!r}")


def _static_expr(rules: engine.RuleSet, params: _Params) -> tuple[str, str]:
    """(the normalised fields as target's columns, the static part's expression over them)."""
    used = sorted({rule.field for rule in rules.attribute_rules})
    fields = {name: f"t.t_{name}" for name in used}
    numbers = {name: f"t.n_{name}" for name in used}
    columns = []
    for name in used:
        column = f"l.{name}"
        columns.append(f"{_text_expr(column, params)} AS t_{name}")
        if any(rule.field == name and rule.operator == "range" for rule in rules.attribute_rules):
            number = column if name in NUMERIC_FIELDS else _number_expr(column, params)
            columns.append(f"{number} AS n_{name}")
    normalised = "".join(f", {column}" for column in columns)
    by_dimension: dict[str, list[str]] = {}
    for rule in rules.attribute_rules:
        condition = _rule_condition(rule, fields, numbers, params)
        term = f"CASE WHEN {condition} THEN {params.add(money(rule.points))}::numeric ELSE 0 END"
        by_dimension.setdefault(rule.dimension, []).append(term)
    dimension_sums = []
    for dimension, terms in by_dimension.items():
        subtotal = "(" + " + ".join(terms) + ")"
        cap = rules.dimension_caps.get(dimension)
        if cap is not None:
            subtotal = f"LEAST({subtotal}, {params.add(money(cap))}::numeric)"
        dimension_sums.append(subtotal)
    static = " + ".join(dimension_sums) if dimension_sums else "0::numeric"
    return normalised, f"GREATEST(LEAST({static}, 100), 0)"


def _events_ctes(rules: engine.RuleSet, tenant: str, now: str, params: _Params, zone: str, name: str) -> str:
    if not rules.event_rules:
        return f"{name}agg AS (SELECT NULL::bigint AS lead_id, 0::numeric AS points, NULL::timestamptz AS last_at WHERE FALSE)"
    items = list(rules.event_rules.values())
    keys = params.add([item.key for item in items])
    points = params.add([money(item.points) for item in items])
    caps = params.add([item.cap_count for item in items])
    periods = params.add([item.cap_period for item in items])
    half_lives = params.add([item.half_life_days for item in items])
    decayed = (
        f"CASE WHEN r.half_life IS NULL OR r.half_life <= 0 OR e.occurred_at >= {now} THEN r.points ELSE "
        f"round((r.points::float8 * power(0.5::float8, ((extract(epoch FROM {now}) - extract(epoch FROM e.occurred_at))"
        f"::float8 / 86400::float8) / r.half_life::float8))::text::numeric, 2) END"
    )
    # Each lead's events by the (lead_id, occurred_at) index, whatever the statistics say: as
    # `lead_id IN (SELECT id FROM target)`, events counted before a big batch arrived (no
    # ANALYZE since) made the planner scan the tenant's events once per lead, minutes a chunk.
    # OFFSET 0 keeps PostgreSQL from flattening the lateral subquery back into that join.
    return f"""
    {name}rules AS (
        SELECT * FROM unnest({keys}::text[], {points}::numeric[], {caps}::int[], {periods}::text[], {half_lives}::numeric[])
            AS r(key, points, cap_count, period, half_life)
    ),
    {name}ev AS (
        SELECT e.lead_id, e.occurred_at, r.cap_count, {decayed} AS value,
               row_number() OVER (
                   PARTITION BY e.lead_id, e.type, date_trunc(r.period, e.occurred_at AT TIME ZONE {zone})
                   ORDER BY e.occurred_at, e.event_id COLLATE "C"
               ) AS n
        FROM {name}target AS t CROSS JOIN LATERAL (
            SELECT e.lead_id, e.type, e.occurred_at, e.event_id FROM scoring_leadevent AS e
            WHERE e.lead_id = t.id AND e.tenant_id = {tenant} AND e.status = 'attached'
              AND e.flag IN {SCORED_FLAGS_SQL} AND e.occurred_at <= {now}
            OFFSET 0
        ) AS e JOIN {name}rules AS r ON r.key = e.type
    ),
    {name}agg AS (
        SELECT lead_id, coalesce(sum(value) FILTER (WHERE cap_count IS NULL OR n <= cap_count), 0) AS points,
               max(occurred_at) AS last_at
        FROM {name}ev GROUP BY lead_id
    )"""


def score_select(
    *, rules: engine.RuleSet, tenant_id: int, now: datetime, lead_filter: str = "TRUE",
    filter_params: dict[str, Any] | None = None, sample_percent: float | None = None, name: str = "",
) -> ScoreSql:
    """The CTEs that score the tenant's leads that `lead_filter` (SQL on alias `l`, with its own
    pyformat params) keeps, as the engine would at `now`. `sample_percent`: TABLESAMPLE SYSTEM
    (REPEATABLE, so two rule sets see the same sample). `name` prefixes the CTEs' and the
    parameters' names, so two rule sets can score in one statement."""
    params = _Params(name)
    params.values.update(filter_params or {})
    tenant, at = params.add(tenant_id, "tenant"), params.add(now, "now")
    zone = params.add(zone_name(rules.period_tz, now), "tz")
    sample = f" TABLESAMPLE SYSTEM ({params.add(float(sample_percent), 'sample')}) REPEATABLE (7)" if sample_percent else ""
    normalised, static = _static_expr(rules, params)
    thresholds = rules.thresholds
    grade = (
        f"CASE WHEN s.static >= {params.add(thresholds.grade_a)}::numeric THEN 'A' "
        f"WHEN s.static >= {params.add(thresholds.grade_b)}::numeric THEN 'B' "
        f"WHEN s.static >= {params.add(thresholds.grade_c)}::numeric THEN 'C' ELSE 'D' END"
    )
    level = (
        f"CASE WHEN d.dynamic >= {params.add(thresholds.level_1)}::numeric THEN 1 "
        f"WHEN d.dynamic >= {params.add(thresholds.level_2)}::numeric THEN 2 ELSE 3 END"
    )
    tier = (
        f"CASE WHEN tt.total >= {params.add(thresholds.tier_hot)}::numeric THEN 'hot' "
        f"WHEN tt.total >= {params.add(thresholds.tier_warm)}::numeric THEN 'warm' ELSE 'cold' END"
    )
    mature = f"tt.total >= {params.add(thresholds.mature)}::numeric"
    if rules.inactivity_days is not None and rules.inactivity_points != 0:
        latest = "GREATEST(t.created_at, a.last_at)"  # services.lead_inactivity_start
        inactivity = (
            f"CASE WHEN extract(epoch FROM {at}) - extract(epoch FROM {latest}) >= "
            f"{params.add(rules.inactivity_days * 86400)}::numeric "
            f"THEN {params.add(money(rules.inactivity_points))}::numeric ELSE 0 END"
        )
    else:
        inactivity = "0"
    ctes = f"""
    {name}target AS MATERIALIZED (
        SELECT l.id, l.created_at, l.score_total, l.score_static, l.score_dynamic, l.grade,
               l.level, l.tier, l.is_mature, l.scored_at, l.score_version{normalised}
        FROM leads_lead AS l{sample}
        WHERE l.tenant_id = {tenant} AND ({lead_filter})
    ),
    {_events_ctes(rules, tenant, at, params, zone, name)},
    {name}parts AS MATERIALIZED (
        SELECT t.id, {static} AS static,
               GREATEST(LEAST(coalesce(a.points, 0) + {inactivity}, 100), -100) AS dynamic
        FROM {name}target AS t LEFT JOIN {name}agg AS a ON a.lead_id = t.id
    ),
    {name}scored AS (
        SELECT t.id, s.static, d.dynamic, tt.total, {grade} AS grade, ({level})::smallint AS level,
               {tier} AS tier, {mature} AS mature,
               t.score_total AS old_total, t.score_static AS old_static, t.score_dynamic AS old_dynamic,
               t.grade AS old_grade, t.level AS old_level, t.tier AS old_tier, t.is_mature AS old_mature,
               t.scored_at AS old_scored_at, t.score_version AS old_version
        FROM {name}parts AS p
        JOIN {name}target AS t ON t.id = p.id
        CROSS JOIN LATERAL (SELECT p.static AS static) AS s
        CROSS JOIN LATERAL (SELECT p.dynamic AS dynamic) AS d
        CROSS JOIN LATERAL (SELECT GREATEST(LEAST(p.static + p.dynamic, 100), 0) AS total) AS tt
    )"""
    return ScoreSql(ctes=ctes, params=params.values)


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
