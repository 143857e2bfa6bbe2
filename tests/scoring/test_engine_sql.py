"""The engine compiled to SQL gives what `engine.score_compute` gives (real PostgreSQL)."""

from __future__ import annotations

import sys
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring import engine, engine_sql
from scoring.models import LeadEvent
from scoring.selectors import lead_events_for_scoring
from scoring.services import lead_inactivity_start

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 30, 1, 30, 15, 123456, tzinfo=UTC)  # the night Europe moves its clocks
D = Decimal
FIELDS = ("title", "industry", "company_size", "city", "company", "annual_revenue")
KEYS = ("demo", "view", "unsub")
# Characters where casefold() and lower() part ways, Unicode spaces Python strips, digits
# Decimal reads, Chinese: the corners where SQL could differ from Python.
ALPHABET = "aAbBzZßẞΣςİﬁꭰᏸ 制造业北京总监\t\u3000\xa0\u2028" + "0123456789._eE+-٣３"


def texts(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=ALPHABET, max_size=max_size)


points = st.decimals(min_value=-40, max_value=40, places=3, allow_nan=False, allow_infinity=False)
bound = st.one_of(st.none(), st.decimals(min_value=-100, max_value=1000, places=2), texts(4))


@st.composite
def attribute_rules(draw: Any) -> engine.AttributeRule:
    operator = draw(st.sampled_from(engine.OPERATORS))
    value: object
    if operator == "equals":
        value = draw(texts())
    elif operator in ("in", "contains"):
        value = draw(st.one_of(st.lists(texts(4), max_size=3), texts()))
    elif operator == "range":
        value = {"min": draw(bound), "max": draw(bound)}
    else:
        value = draw(st.booleans())
    return engine.AttributeRule(
        field=draw(st.sampled_from(FIELDS)), operator=operator, value=value, points=draw(points),
        label="r", dimension=draw(st.sampled_from(["company", "contact", "source"])),
    )


@st.composite
def rule_sets(draw: Any) -> engine.RuleSet:
    grades = sorted(draw(st.lists(st.decimals(0, 100, places=2), min_size=3, max_size=3, unique=True)), reverse=True)
    levels = sorted(draw(st.lists(st.decimals(-20, 100, places=2), min_size=2, max_size=2, unique=True)), reverse=True)
    tiers = sorted(draw(st.lists(st.decimals(0, 100, places=2), min_size=2, max_size=2, unique=True)), reverse=True)
    event_rules = {}
    for key in KEYS[: draw(st.integers(0, 3))]:
        event_rules[key] = engine.EventRule(
            key=key, label=key, points=draw(points), cap_count=draw(st.one_of(st.integers(1, 3), st.none())),
            cap_period=draw(st.sampled_from(engine.CAP_PERIODS)),
            half_life_days=draw(st.one_of(st.decimals(D("0.5"), 90, places=1), st.none())),
        )
    return engine.RuleSet(
        version=draw(st.integers(1, 9)),
        attribute_rules=draw(st.lists(attribute_rules(), max_size=6)),
        dimension_caps=draw(st.dictionaries(st.sampled_from(["company", "contact", "source"]),
                                            st.decimals(D("0.5"), 60, places=2))),
        event_rules=event_rules,
        inactivity_days=draw(st.one_of(st.none(), st.integers(1, 40))),
        inactivity_points=draw(st.decimals(-25, 0, places=2)),
        thresholds=engine.Thresholds(
            grade_a=grades[0], grade_b=grades[1], grade_c=grades[2], level_1=levels[0], level_2=levels[1],
            tier_hot=tiers[0], tier_warm=tiers[1], mature=draw(st.decimals(0, 100, places=2)),
        ),
        period_tz=zoneinfo.ZoneInfo(draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "UTC"]))),
    )


def _moment(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds, microseconds=seconds % 7)


moments = st.integers(-90 * 86400, 3600).map(_moment)
# Events crowd into a few days, so caps per day, week and month are reached.
event_moments = st.one_of(st.integers(-5000, 0).map(_moment), st.integers(-3 * 86400, 3600).map(_moment), moments)


@st.composite
def leads(draw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {name: draw(texts()) for name in FIELDS if name != "annual_revenue"}
    fields["annual_revenue"] = draw(st.one_of(st.none(), st.decimals(-1000, 10**6, places=2)))
    events = draw(st.lists(st.tuples(st.sampled_from([*KEYS, "unknown"]), event_moments, st.sampled_from(["", "", "too_old", "unknown_type"]),
                                     st.text("abAB", min_size=1, max_size=3)), max_size=10))
    return {
        "fields": fields, "events": events, "created_at": draw(moments),
        "last_activity_at": draw(st.one_of(st.none(), moments)),
    }


def _sql_scores(rules: engine.RuleSet, tenant_id: int, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    built = engine_sql.score_select(
        rules=rules, tenant_id=tenant_id, now=NOW, lead_filter="l.id = ANY(%(ids)s)", filter_params={"ids": ids},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {built.ctes} SELECT id, static, dynamic, total, grade, level, tier, mature FROM scored",  # noqa: S608 - built from parameters
            built.params,
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rule_sets(), lead_specs=st.lists(leads(), min_size=1, max_size=3))
def test_sql_scores_every_lead_as_the_engine_does(tenant_a, rules, lead_specs):
    tenant = tenant_a.tenant
    with tenant_scope(tenant.id), transaction.atomic():
        expected = {}
        for number, spec in enumerate(lead_specs):
            lead = Lead.objects.create(tenant=tenant, name="x", **spec["fields"])
            Lead.objects.filter(id=lead.id).update(created_at=spec["created_at"], last_activity_at=spec["last_activity_at"])
            lead.refresh_from_db()
            for position, (kind, at, flag, suffix) in enumerate(spec["events"]):
                LeadEvent.objects.create(
                    tenant=tenant, lead=lead, event_id=f"{number}-{suffix}-{position}", type=kind, occurred_at=at,
                    flag=flag, ref_kind="id", ref_value=str(lead.id),
                )
            # The engine's input as the worker and the explanation read it.
            own = lead_events_for_scoring(lead_ids=[lead.id]).get(lead.id)
            result = engine.score_compute(
                rules=rules, attributes={name: getattr(lead, name) for name in FIELDS},
                events=own.events if own else (), now=NOW, last_activity_at=lead_inactivity_start(lead),
            )
            expected[lead.id] = (result.static, result.dynamic, result.total, result.grade, result.level, result.tier,
                                 result.mature)
        assert _sql_scores(rules, tenant.id, list(expected)) == expected
        transaction.set_rollback(True)


def test_text_folds_every_character_as_python_casefold(in_tenant_a):
    """Each code point (trimmed, case-folded) through the SQL normaliser, against Python."""
    params = engine_sql._Params()
    expression = engine_sql._text_expr("chr(c)", params)
    codes = [code for code in range(1, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c, {expression} FROM unnest(%(codes)s::int[]) AS c",  # noqa: S608 - built from parameters
            {**params.values, "codes": codes},
        )
        wrong = [(hex(code), text) for code, text in cursor.fetchall() if text != engine._text(chr(code))]
    assert wrong == []


@pytest.mark.parametrize("text", [
    "12", " 1_000 ", "１２", "٣.5", "1e3", "1E-3", ".5", "5.", "+.5e-3", "-_1", "1_e5", "1e+_5",
    "1 0", "1,0", "Inf", "NaN", "1e", "abc", "", "0x10", "1e0999", "１２万",
])
def test_numbers_in_text_read_as_decimal_reads_them(in_tenant_a, text):
    params = engine_sql._Params()
    expression = engine_sql._number_expr("%(text)s::text", params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", {**params.values, "text": text})  # noqa: S608 - built from parameters
        assert cursor.fetchone()[0] == engine._number(text)


def test_the_earliest_events_within_a_cap_count(in_tenant_a):
    rules = engine.RuleSet(version=1, event_rules={
        "view": engine.EventRule(key="view", label="v", points=D(10), cap_count=1, cap_period="day", half_life_days=D(1)),
    }, period_tz=zoneinfo.ZoneInfo("UTC"))
    tenant = in_tenant_a.tenant
    lead = Lead.objects.create(tenant=tenant, name="x")
    for event_id, minutes in (("b", 80), ("a", 20)):
        LeadEvent.objects.create(tenant=tenant, lead=lead, event_id=event_id, type="view",
                                 occurred_at=NOW - timedelta(minutes=minutes), ref_kind="id", ref_value="1")
    # Both on NOW's day (it is 01:30): only the earlier one counts, 80 minutes old.
    assert _sql_scores(rules, tenant.id, [lead.id])[lead.id][1] == engine.money(10 * 0.5 ** (80 / 60 / 24)) == D("9.62")
