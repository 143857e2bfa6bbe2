"""The scoring engine alone: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import (
    AttributeRule,
    Event,
    EventRule,
    RuleSet,
    ScoreResult,
    Thresholds,
    decayed_points,
    grade_for,
    level_for,
    rule_matches,
    score_compute,
    tier_for,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
D = Decimal


def _rule(field: str, operator: str, value: object, points: int = 10, dimension: str = "contact") -> AttributeRule:
    return AttributeRule(field=field, operator=operator, value=value, points=D(points),  # type: ignore[arg-type]
                         label=f"{field} {operator}", dimension=dimension)


def _score(
    rules: RuleSet, attributes: dict[str, object] | None = None, events: list[Event] | None = None,
    last_activity_at: datetime | None = None,
) -> ScoreResult:
    return score_compute(rules=rules, attributes=attributes or {}, events=events or [], now=NOW, last_activity_at=last_activity_at)


def _sum(result: ScoreResult) -> Decimal:
    return sum((item.points for item in result.contributions), D(0))


@pytest.mark.parametrize(
    ("operator", "value", "field_value", "expected"),
    [
        ("equals", "制造业", " 制造业 ", True),
        ("equals", "Manufacturing", "manufacturing", True),
        ("equals", "制造业", "制造", False),
        ("equals", "制造业", "", False),
        ("in", ["北京", "上海"], "上海", True),
        ("in", "北京, 上海", "上海", True),
        ("in", ["北京", "上海"], "广州", False),
        ("contains", ["CEO", "总监"], "采购总监", True),
        ("contains", ["CEO", "总监"], "Group ceo", True),
        ("contains", ["CEO", "总监"], "工程师", False),
        ("contains", ["CEO"], "", False),
        ("range", {"min": 50, "max": 200}, "50", True),
        ("range", {"min": 50, "max": 200}, "199.99", True),
        ("range", {"min": 50, "max": 200}, "200", False),
        ("range", {"min": 50}, "100000", True),
        ("range", {"max": 50}, "10", True),
        ("range", {"min": 50, "max": 200}, "五十", False),
        ("range", {"min": 50, "max": 200}, None, False),
        ("is_empty", True, "", True),
        ("is_empty", True, "   ", True),
        ("is_empty", True, None, True),
        ("is_empty", True, "华为", False),
        ("is_empty", False, "华为", True),
    ],
)
def test_each_operator(operator: str, value: object, field_value: object, expected: bool) -> None:
    assert rule_matches(_rule("f", operator, value), {"f": field_value}) is expected


def test_static_sums_matching_rules_and_negative_points_lower_it() -> None:
    rules = RuleSet(version=1, attribute_rules=[
        _rule("industry", "equals", "制造业", 15, "company"),
        _rule("title", "contains", ["总监"], 10),
        _rule("company", "is_empty", True, -5, "company"),
    ])
    result = _score(rules, {"industry": "制造业", "title": "采购总监", "company": ""})
    assert result.static == D("20.00")
    assert [c.points for c in result.contributions] == [D(15), D(-5), D(10)]


def test_dimension_cap_holds_the_dimension_and_says_how_much_it_removed() -> None:
    rules = RuleSet(
        version=1,
        attribute_rules=[_rule("industry", "equals", "x", 30, "company"), _rule("city", "equals", "y", 25, "company"),
                         _rule("title", "equals", "z", 10, "contact")],
        dimension_caps={"company": D(40)},
    )
    result = _score(rules, {"industry": "x", "city": "y", "title": "z"})
    assert result.static == D("50.00")
    caps = [c for c in result.contributions if c.kind == "cap"]
    assert [(c.label, c.points) for c in caps] == [("company", D("-15.00"))]


def test_static_is_kept_within_0_and_100() -> None:
    high = RuleSet(version=1, attribute_rules=[_rule("a", "is_empty", True, 70), _rule("b", "is_empty", True, 60)])
    assert _score(high).static == D(100)
    low = RuleSet(version=1, attribute_rules=[_rule("title", "contains", ["学生"], -20)])
    result = _score(low, {"title": "学生"})
    assert result.static == D(0)
    assert [c.kind for c in result.contributions] == ["attribute", "cap"]
    assert _sum(result) == result.total == D(0)


def _events_rules(**rule_kw: object) -> RuleSet:
    return RuleSet(version=3, event_rules={
        "demo_request": EventRule(key="demo_request", label="申请演示", points=D(25), strength="strong", **rule_kw),  # type: ignore[arg-type]
        "page_view": EventRule(key="page_view", label="浏览页面", points=D(1), strength="weak", cap_count=5),
        "unsubscribe": EventRule(key="unsubscribe", label="退订", points=D(-20)),
    })


def test_half_life_halves_the_points_and_a_decay_contribution_carries_the_loss() -> None:
    rules = _events_rules(half_life_days=D(30))
    result = _score(rules, events=[Event("demo_request", NOW - timedelta(days=30))])
    assert result.dynamic == D("12.50")
    assert [(c.kind, c.points) for c in result.contributions] == [("event", D(25)), ("decay", D("-12.50"))]
    assert decayed_points(D(25), age=timedelta(days=60), half_life_days=D(30)) == D("6.25")
    assert decayed_points(D(25), age=timedelta(0), half_life_days=D(30)) == D(25)


def test_per_period_cap_counts_only_the_first_occurrences_of_each_day() -> None:
    day1 = NOW - timedelta(days=2)
    day2 = NOW - timedelta(days=1)
    events = [Event("page_view", day1 + timedelta(minutes=i), f"a{i}") for i in range(8)]
    events += [Event("page_view", day2 + timedelta(minutes=i), f"b{i}") for i in range(3)]
    result = _score(_events_rules(), events=events)
    assert result.dynamic == D(8)  # 5 of the first day, 3 of the second
    cap = [c for c in result.contributions if c.kind == "cap"]
    assert len(cap) == 1 and cap[0].points == 0 and cap[0].detail == "3/5/day"


def test_negative_events_lower_the_total_but_never_below_zero() -> None:
    rules = RuleSet(
        version=1,
        attribute_rules=[_rule("title", "contains", ["CEO"], 30)],
        event_rules=_events_rules().event_rules,
    )
    result = _score(rules, {"title": "CEO"}, [Event("unsubscribe", NOW - timedelta(days=1))])
    assert (result.static, result.dynamic, result.total) == (D(30), D(-20), D(10))
    twice = _score(rules, {"title": "CEO"}, [Event("unsubscribe", NOW - timedelta(days=i)) for i in (1, 2)])
    assert twice.total == D(0)
    assert twice.contributions[-1].kind == "cap" and twice.contributions[-1].points == D(10)
    assert _sum(twice) == D(0)


def test_inactivity_penalty_after_n_days_without_events() -> None:
    rules = RuleSet(version=1, event_rules=_events_rules().event_rules, inactivity_days=30, inactivity_points=D(-5))
    quiet = _score(rules, events=[Event("demo_request", NOW - timedelta(days=30))])
    assert [c.kind for c in quiet.contributions] == ["event", "inactivity"]
    assert quiet.dynamic == D(20)
    active = _score(rules, events=[Event("demo_request", NOW - timedelta(days=29, hours=23))])
    assert active.dynamic == D(25)
    # A lead that arrived recently and has no events yet is not inactive; an old one is.
    assert _score(rules, last_activity_at=NOW - timedelta(days=3)).dynamic == 0
    assert _score(rules, last_activity_at=NOW - timedelta(days=31)).dynamic == D(-5)
    assert _score(rules).dynamic == 0


def test_unknown_and_future_events_are_ignored_and_reported() -> None:
    events = [Event("fax_received", NOW - timedelta(days=1), "x"), Event("demo_request", NOW + timedelta(minutes=1), "y")]
    result = _score(_events_rules(), events=events)
    assert result.dynamic == 0
    assert [(item.event.event_id, item.reason) for item in result.ignored] == [("x", "unknown_type"), ("y", "future")]


def test_thresholds_at_their_edges() -> None:
    t = Thresholds()
    assert [grade_for(D(v), t) for v in ("75", "74.99", "50", "49.99", "25", "24.99", "0")] == list("ABBCCDD")
    assert [level_for(D(v), t) for v in ("60", "59.99", "30", "29.99", "-20")] == [1, 2, 2, 3, 3]
    assert [tier_for(D(v), t) for v in ("80", "79.99", "50", "49.99")] == ["hot", "warm", "warm", "cold"]
    rules = RuleSet(version=1, attribute_rules=[_rule("a", "is_empty", True, 50)])
    result = _score(rules)
    assert (result.mature, result.tier, result.grade, result.group) == (True, "warm", "B", "B3")
    assert not _score(RuleSet(version=1, attribute_rules=[_rule("a", "is_empty", True, 49)])).mature


def test_total_is_kept_within_100_with_a_cap_contribution() -> None:
    rules = RuleSet(version=1, attribute_rules=[_rule("a", "is_empty", True, 90)], event_rules=_events_rules().event_rules)
    result = _score(rules, events=[Event("demo_request", NOW - timedelta(hours=i), str(i)) for i in range(3)])
    assert (result.static, result.dynamic, result.total) == (D(90), D(75), D(100))
    assert result.contributions[-1].kind == "cap" and result.contributions[-1].points == D(-65)
    assert (result.tier, result.group) == ("hot", "A1")


@settings(max_examples=300, deadline=None)
@given(
    points=st.lists(st.integers(min_value=-40, max_value=60), min_size=0, max_size=6),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=80)),
    event_specs=st.lists(
        st.tuples(
            st.sampled_from(["demo_request", "page_view", "unsubscribe", "bogus"]),
            st.floats(min_value=-2, max_value=400, allow_nan=False),
        ),
        max_size=40,
    ),
    half_life=st.one_of(st.none(), st.decimals(min_value=1, max_value=120, places=1)),
)
def test_contributions_add_up_exactly_to_every_part(
    points: list[int], cap: int | None, event_specs: list[tuple[str, float]], half_life: Decimal | None
) -> None:
    rules = RuleSet(
        version=1,
        attribute_rules=[_rule(f"f{i}", "is_empty", True, p, "company" if i % 2 else "contact") for i, p in enumerate(points)],
        dimension_caps={} if cap is None else {"company": D(cap)},
        event_rules={**_events_rules(half_life_days=half_life).event_rules},
        inactivity_days=30,
        inactivity_points=D(-7),
    )
    events = [Event(kind, NOW - timedelta(days=age), str(i)) for i, (kind, age) in enumerate(event_specs)]
    result = _score(rules, events=events)
    assert _sum(result) == result.total
    assert sum((c.points for c in result.contributions if c.part == "static"), D(0)) == result.static
    assert sum((c.points for c in result.contributions if c.part == "dynamic"), D(0)) == result.dynamic
    assert D(0) <= result.static <= D(100)
    assert D(0) <= result.total <= D(100)
    assert all(c.points == c.points.quantize(D("0.01")) for c in result.contributions)
