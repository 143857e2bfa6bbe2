"""The score-history chart's data on the lead page's panel: the lead's ScoreChange rows oldest
first (with the first score when no row records it), the tier lines of its rules, and the same
data as a table for screen readers."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.models import ScoreChange
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def change(created, lead, *, days_ago: float, previous, total, reason="event", tier="warm") -> None:
    with tenant_scope(created.tenant.id):
        ScoreChange.objects.create(
            tenant=created.tenant, lead=lead, at=timezone.now() - timedelta(days=days_ago), reason=reason, version=1,
            previous_total=None if previous is None else Decimal(previous), total=Decimal(total), static=Decimal(10),
            dynamic=Decimal(total) - 10, grade="D", level=2, tier=tier, mature=total >= 50,
        )


def chart_data(client, created, lead, language="zh-hans") -> tuple[dict, str]:
    client.force_login(created.owner.user)
    panel = client.get(
        f"/{created.tenant.slug}/leads/{lead.id}/score-panel", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    found = re.search(rf'id="score-history-{lead.id}" data-score-chart data-history="([^"]*)"', panel)
    assert found, panel
    return json.loads(html.unescape(found.group(1))), panel


def test_the_chart_has_every_change_oldest_first_with_its_reason(client, tenant_a):
    lead = lead_make(tenant_a, title="CEO", company="华为")
    change(tenant_a, lead, days_ago=5, previous=10, total=35)
    change(tenant_a, lead, days_ago=2, previous=35, total=85, tier="hot")
    change(tenant_a, lead, days_ago=1, previous=85, total=78, reason="decay")
    data, panel = chart_data(client, tenant_a, lead)
    # The first row changed a total nobody recorded: the lead's first score comes first.
    assert [(p["total"], p["reason"]) for p in data["points"]] == [
        (10.0, "线索进入"), (35.0, "行为事件"), (85.0, "行为事件"), (78.0, "随时间衰减"),
    ]
    times = [p["t"] for p in data["points"]]
    assert times == sorted(times)
    assert (data["hot"], data["warm"]) == (80.0, 50.0)
    table = panel[panel.index("score-history-table"):]
    assert "随时间衰减" in table and ">78<" in table  # the same data for screen readers
    assert "4 个记录点：从 10 到 78" in panel
    english, _ = chart_data(client, tenant_a, lead, "en")
    assert [p["reason"] for p in english["points"]][-1] == "Decayed over time"


def test_a_lead_scored_without_history_has_its_one_score(client, tenant_a):
    lead = lead_make(tenant_a, title="CEO", company="华为")
    data, _ = chart_data(client, tenant_a, lead)
    assert [(p["total"], p["reason"]) for p in data["points"]] == [(10.0, "线索进入")]


def test_a_lead_whose_first_row_is_its_first_score_gets_no_extra_point(client, tenant_a):
    lead = lead_make(tenant_a)
    change(tenant_a, lead, days_ago=3, previous=None, total=20, reason="intake")
    change(tenant_a, lead, days_ago=1, previous=20, total=55)
    data, _ = chart_data(client, tenant_a, lead)
    assert [p["total"] for p in data["points"]] == [20.0, 55.0]


def test_a_lead_not_scored_has_no_chart(client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    client.force_login(tenant_a.owner.user)
    panel = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}/score-panel", HTTP_HX_REQUEST="true").content.decode()
    assert "data-score-chart" not in panel


def test_another_tenants_history_never_shows(client, tenant_a, tenant_b):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_b.tenant.id):
        ScoreChange.objects.create(  # tenant B's row naming tenant A's lead
            tenant=tenant_b.tenant, lead=lead, at=timezone.now(), reason="event", version=1,
            previous_total=Decimal(0), total=Decimal(99), static=Decimal(0), dynamic=Decimal(99), grade="D", level=1,
            tier="hot", mature=True,
        )
    data, _ = chart_data(client, tenant_a, lead)
    assert 99.0 not in [p["total"] for p in data["points"]]


def test_the_lead_page_loads_the_chart_library_from_this_site(client, tenant_a):
    lead = lead_make(tenant_a)
    client.force_login(tenant_a.owner.user)
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}").content.decode()
    assert '<script src="/static/vendor/chart.umd.min.js" defer>' in page
    assert "cdn" not in page.lower()
    listing = client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()
    assert "chart.umd" not in listing  # only the lead page loads it
