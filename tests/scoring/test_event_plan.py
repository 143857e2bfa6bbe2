"""Scoring reads each lead's events through the (lead_id, occurred_at) index even when the
statistics were gathered before a big batch of events arrived (autovacuum has not analysed the
table since): otherwise the planner, believing the tenant had no events, scanned all of them
once per lead and a rescore chunk took minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.intake import lead_intake_many
from leads.models import Lead
from scoring import engine_sql
from scoring.models import LeadEvent
from scoring.services import rules_published
from tests.factories import next_mobile
from tests.plans import plan_nodes

pytestmark = pytest.mark.django_db

EVENTS = 4000
LEADS = 2000


def _leads(created: CreatedTenant, count: int) -> list[Lead]:
    with tenant_scope(created.tenant.id):
        outcomes = lead_intake_many(
            tenant=created.tenant, channel="import",
            payloads=[{"name": f"客户{n}", "mobile": next_mobile()} for n in range(count)],
        )
    return [outcome.lead for outcome in outcomes if outcome.lead is not None]


def _events(created: CreatedTenant, leads: list[Lead], count: int, now: datetime) -> None:
    with tenant_scope(created.tenant.id):
        LeadEvent.objects.bulk_create([
            LeadEvent(tenant=created.tenant, lead=leads[n % len(leads)], event_id=f"e{n}", type="page_view",
                      occurred_at=now - timedelta(minutes=n), ref_kind="id", ref_value=str(leads[n % len(leads)].id))
            for n in range(count)
        ])


def test_events_are_read_per_lead_by_index_under_stale_statistics(tenant_a, tenant_b):
    now = timezone.now()
    _events(tenant_b, _leads(tenant_b, 50), EVENTS, now)  # another tenant's events were all there was
    with connection.cursor() as cursor:  # when autovacuum last analysed the table
        cursor.execute(f"RESET ROLE; ANALYZE scoring_leadevent; SET ROLE {settings.DB_APP_ROLE}")
    leads = _leads(tenant_a, LEADS)
    _events(tenant_a, leads, EVENTS, now)  # then this tenant's batch, not analysed yet
    tenant = tenant_a.tenant
    with tenant_scope(tenant.id):
        rules = rules_published(tenant_id=tenant.id)
        assert rules is not None and rules.event_rules
        built = engine_sql.score_select(rules=rules, tenant_id=tenant.id, now=now)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) WITH {built.ctes} SELECT count(*) FROM scored", built.params)
            (explained,) = cursor.fetchone()
    nodes = plan_nodes(explained)
    event_indexes = [node for node in nodes if node.get("Index Name", "").startswith("scoring_event")]
    assert event_indexes, nodes
    for node in event_indexes:
        assert "lead_id" in node.get("Index Cond", ""), node  # one lead's events at a time, by the index
        assert node["Actual Rows"] <= EVENTS // LEADS + 1, node  # never the tenant's events all at once
    assert not [node for node in nodes if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "scoring_leadevent"]
