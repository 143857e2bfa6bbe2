"""Scoring rules as tenant data, and scoring at intake (real PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.models import AttributeRule, EventType, LeadEvent, RuleSetStatus, ScoringRuleSet
from scoring.services import rule_set_defaults_install, rule_set_validate
from scoring.signals import lead_became_hot, lead_became_mature
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_a_new_tenant_gets_the_api_md_defaults_once(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        rule_set = ScoringRuleSet.objects.get()
        assert (rule_set.version, rule_set.status) == (1, RuleSetStatus.PUBLISHED)
        events = {e.key: (e.points, e.strength, e.cap_count) for e in EventType.objects.all()}
        assert events["demo_request"] == (Decimal(25), "strong", None)
        assert events["page_view"] == (Decimal(1), "weak", 5)
        assert events["spam_report"][0] == Decimal(-30)
        assert len(events) == 10
        assert [(r.field, r.points) for r in AttributeRule.objects.order_by("position")] == [
            ("title", Decimal(10)), ("company", Decimal(-5)), ("title", Decimal(-20)),
        ]
        assert (rule_set.grade_a, rule_set.level_1, rule_set.tier_hot, rule_set.mature) == tuple(map(Decimal, (75, 60, 80, 50)))
        rule_set_defaults_install(tenant=tenant_a.tenant)  # again: nothing more
        assert ScoringRuleSet.objects.count() == 1 and EventType.objects.count() == 10


def test_bands_out_of_order_are_refused_with_the_field_named(in_tenant_a):
    rule_set = ScoringRuleSet.objects.get()
    rule_set.grade_b = Decimal(80)  # above A's 75
    rule_set.tier_warm = Decimal(80)  # equal to hot: overlapping bands
    rule_set.mature = Decimal(120)
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        rule_set_validate(rule_set=rule_set)
    errors = caught.value.message_dict
    assert "out of order" in errors["grade_a"][0]
    assert "tier_hot" in errors and "mature" in errors


def test_a_rule_on_a_field_a_lead_does_not_have_is_refused(in_tenant_a):
    rule_set = ScoringRuleSet.objects.get()
    AttributeRule.objects.create(
        tenant=in_tenant_a.tenant, rule_set=rule_set, label="预算", field="budget", operator="equals", value="高",
        points=Decimal(5),
    )
    AttributeRule.objects.create(
        tenant=in_tenant_a.tenant, rule_set=rule_set, label="规模", field="annual_revenue", operator="range",
        value={"min": 100, "max": 10}, points=Decimal(5),
    )
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        rule_set_validate(rule_set=rule_set)
    problems = caught.value.message_dict["attribute_rules"]
    assert "no field 'budget'" in problems[0]
    assert "min (100) must be below its max (10)" in problems[1]


def test_the_defaults_are_valid(in_tenant_a):
    rule_set_validate(rule_set=ScoringRuleSet.objects.get())


def test_a_lead_posted_is_scored_in_the_same_request(key_client, tenant_a):
    response = post(key_client, "/api/v1/leads", {"name": "王总", "mobile": "13912340586", "title": "采购总监", "company": "华为"})
    score = response.json()["lead"]["score"]
    assert (score["static"], score["total"], score["grade"], score["group"], score["tier"]) == (10, 10, "D", "D3", "cold")
    assert score["version"] == 1 and score["scored_at"] is not None
    with tenant_scope(tenant_a.tenant.id):
        lead = Lead.objects.get(id=response.json()["lead"]["id"])
    assert (lead.score_static, lead.score_version, lead.scored_at is not None) == (Decimal(10), 1, True)


def test_a_lead_never_scored_says_so_instead_of_a_grade(key_client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    score = key_client.get(f"/api/v1/leads/{lead.id}").json()["score"]
    assert score["scored_at"] is None
    assert (score["grade"], score["level"], score["group"], score["tier"]) == (None, None, None, None)


def test_a_bulk_batch_is_scored_without_a_statement_of_its_own(key_client, tenant_a):
    def scoring_statements(n: int, first: int) -> list[str]:
        leads = [{"mobile": f"1391234{i:04d}", "company": "" if i % 2 else "华为", "title": "CEO"}
                 for i in range(first, first + n)]
        with CaptureQueriesContext(connection) as queries:
            response = post(key_client, "/api/v1/leads/bulk", {"leads": leads})
        assert response.status_code == 200
        return [q["sql"] for q in queries.captured_queries if "score_total" in q["sql"] or "scoring_" in q["sql"]]

    scoring_statements(1, 0)  # this process reads the rules once
    for statements in (scoring_statements(3, 1), scoring_statements(300, 10)):
        # the published version comes with intake's probe, the score travels in intake's INSERT
        # (a batch's INSERT goes through psycopg's own cursor; an UPDATE of ours would show here)
        (probe,) = statements
        assert probe.startswith("SELECT (") and "scoring_scoringruleset" in probe
    with tenant_scope(tenant_a.tenant.id):
        statics = sorted({float(v) for v in Lead.objects.values_list("score_static", flat=True)})
    assert statics == [5.0, 10.0]  # CEO +10, no company −5


@pytest.mark.django_db(transaction=True)
def test_a_lead_arriving_mature_and_hot_is_announced_once_after_the_commit(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        # a tenant whose profile makes a CEO hot on arrival (CEO +10, no company −5)
        ScoringRuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).update(
            mature=Decimal(5), tier_hot=Decimal(5), tier_warm=Decimal(2)
        )
    heard: list[tuple[str, int, list[int]]] = []

    def on_mature(sender: Any, tenant_id: int, lead_ids: list[int], **kwargs: Any) -> None:
        heard.append(("mature", tenant_id, lead_ids))

    def on_hot(sender: Any, tenant_id: int, lead_ids: list[int], **kwargs: Any) -> None:
        heard.append(("hot", tenant_id, lead_ids))

    lead_became_mature.connect(on_mature)
    lead_became_hot.connect(on_hot)
    try:
        ceo = post(key_client, "/api/v1/leads", {"name": "王总", "mobile": "13912340777", "title": "CEO"}).json()
        post(key_client, "/api/v1/leads", {"name": "学生", "mobile": "13912340778", "title": "学生"})
        # the same person again: collected, no new crossing
        post(key_client, "/api/v1/leads", {"name": "王总", "mobile": "13912340777", "title": "CEO"})
    finally:
        lead_became_mature.disconnect(on_mature)
        lead_became_hot.disconnect(on_hot)
    lead_id = ceo["lead"]["id"]
    assert ceo["lead"]["score"]["tier"] == "hot"
    assert heard == [("mature", tenant_a.tenant.id, [lead_id]), ("hot", tenant_a.tenant.id, [lead_id])]
    with tenant_scope(tenant_a.tenant.id):  # its creation shows the score: no "became hot" line of its own
        assert not AuditLog.objects.filter(action__startswith="lead.became_").exists()


def test_an_update_at_intake_keeps_the_leads_events_in_its_score(key_client, tenant_a):
    lead = lead_make(tenant_a, name="老客户", source="crm", external_id="c-9")
    with tenant_scope(tenant_a.tenant.id):
        LeadEvent.objects.create(
            tenant=tenant_a.tenant, lead=lead, event_id="e-1", type="demo_request", occurred_at=timezone.now(),
            ref_kind="id", ref_value=str(lead.id),
        )
    body = post(key_client, "/api/v1/leads", {
        "name": "老客户", "mobile": lead.mobile, "source": "crm", "external_id": "c-9", "title": "总经理",
    }).json()
    assert body["outcome"] == "updated"
    score = body["lead"]["score"]
    assert (score["static"], score["dynamic"], score["total"]) == (5, 25, 30)  # 总经理 +10, no company −5
    explained = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    assert sum(Decimal(str(c["points"])) for c in explained["contributions"]) == Decimal("30")
