"""The workbench list and `GET /api/v1/leads` by score: group, mature and "not scored"
filters; grade, tier and score filters never show unscored leads as D/cold/0; unscored leads
sort last; "why hot" beside the tier badge from real events; another tenant's leads never show."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.models import LeadEvent
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def scored(created, name: str, *, grade="B", level=2, total=55, tier="warm", mature=True) -> Lead:
    lead = lead_make(created, name=name)
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=lead.id).update(
            grade=grade, level=level, score_total=Decimal(total), tier=tier, is_mature=mature, scored_at=timezone.now(),
            score_version=1,
        )
    return lead


def unscored(created, name: str) -> Lead:
    lead = lead_make(created, name=name)
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=lead.id).update(
            grade="D", level=3, score_total=0, tier="cold", is_mature=False, scored_at=None, score_version=None
        )
    return lead


@pytest.fixture
def leads(tenant_a, tenant_b) -> dict[str, Lead]:
    made = {
        "a1": scored(tenant_a, "甲", grade="A", level=1, total=90, tier="hot"),
        "b1": scored(tenant_a, "乙", grade="B", level=1, total=70, tier="warm"),
        "d3": scored(tenant_a, "丙", grade="D", level=3, total=5, tier="cold", mature=False),
        "zero": scored(tenant_a, "丁", grade="D", level=3, total=0, tier="cold", mature=False),
        "new": unscored(tenant_a, "戊"),
    }
    made["foreign"] = scored(tenant_b, "外", grade="A", level=1, total=95, tier="hot")
    return made


def page_names(client, created, query: str = "") -> list[str]:
    body = client.get(f"/{created.tenant.slug}/leads?{query}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    return re.findall(r'class="lead-name"[^>]*>([^<]+)</a>', body)


def api_names(key_client, query: str = "") -> list[str]:
    response = key_client.get(f"/api/v1/leads?{query}")
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("group=A1", ["甲"]),
    ("group=A1&group=B1", ["乙", "甲"]),
    ("group=D3", ["丁", "丙"]),  # never the unscored lead that holds D3's defaults
    ("mature=true", ["乙", "甲"]),
    ("mature=false", ["丁", "丙"]),
    ("scored=false", ["戊"]),
    ("grade=D", ["丁", "丙"]),
    ("tier=cold", ["丁", "丙"]),
    ("max_score=10", ["丁", "丙"]),
])
def test_score_filters_in_the_page_and_the_api(client, key_client, tenant_a, leads, query, expected):
    client.force_login(tenant_a.owner.user)
    assert page_names(client, tenant_a, query) == expected
    assert api_names(key_client, query) == expected


def test_unscored_leads_sort_last_both_ways(client, key_client, tenant_a, leads):
    client.force_login(tenant_a.owner.user)
    assert page_names(client, tenant_a, "ordering=-score") == ["甲", "乙", "丙", "丁", "戊"]
    assert page_names(client, tenant_a, "ordering=score") == ["丁", "丙", "乙", "甲", "戊"]
    assert api_names(key_client, "ordering=-score") == ["甲", "乙", "丙", "丁", "戊"]
    assert api_names(key_client, "ordering=score") == ["丁", "丙", "乙", "甲", "戊"]


def test_score_order_pages_through_unscored_leads_without_repeats(key_client, tenant_a, leads):
    for index in range(3):
        unscored(tenant_a, f"新{index}")
    seen: list[str] = []
    url: str | None = "/api/v1/leads?ordering=-score&page_size=2"
    while url:
        body = key_client.get(url).json()
        seen += [row["name"] for row in body["results"]]
        url = body["next"]
    assert seen[:4] == ["甲", "乙", "丙", "丁"] and sorted(seen[4:]) == sorted(["戊", "新0", "新1", "新2"])
    assert len(seen) == len(set(seen)) == 8


def test_a_bad_group_is_a_problem_in_the_api_and_a_message_on_the_page(client, key_client, tenant_a, leads):
    response = key_client.get("/api/v1/leads?group=E9")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    client.force_login(tenant_a.owner.user)
    body = client.get(f"/{tenant_a.tenant.slug}/leads?group=E9", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "分组只能是 A1 到 D3" in body


def test_the_filters_never_show_another_tenants_leads(client, key_client, tenant_a, leads):
    client.force_login(tenant_a.owner.user)
    assert "外" not in page_names(client, tenant_a, "group=A1&mature=true&ordering=-score")
    assert "外" not in api_names(key_client, "group=A1&mature=true&ordering=-score")


def test_the_page_has_the_group_picker_and_keeps_the_choice(client, tenant_a, leads):
    client.force_login(tenant_a.owner.user)
    body = client.get(f"/{tenant_a.tenant.slug}/leads?group=B1&group=A1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert body.count('name="group"') == 12
    assert 'value="A1" checked' in body and 'value="B1" checked' in body and 'value="C1" checked' not in body
    assert "A1, B1" in body and "Maturity" in body and "Scoring" in body


# --- why hot ------------------------------------------------------------------------------------


def event(created, lead: Lead, event_type: str, *, days_ago: float, number: list[int] = [0]) -> None:  # noqa: B006
    number[0] += 1
    with tenant_scope(created.tenant.id):
        LeadEvent.objects.create(
            tenant=created.tenant, lead=lead, event_id=f"e-{number[0]}", type=event_type,
            occurred_at=timezone.now() - timedelta(days=days_ago), ref_kind="id", ref_value=str(lead.id),
        )


def reasons_of(body: str, name: str) -> list[str]:
    row = body[body.index(f">{name}</a>"):]
    row = row[: row.index("</tr>")]
    return re.findall(r'<span class="why-hot-item">([^<]+)</span>', row)


def test_the_list_says_why_a_hot_lead_is_hot(client, tenant_a, leads):
    hot, warm = leads["a1"], leads["b1"]
    event(tenant_a, hot, "demo_request", days_ago=3)
    event(tenant_a, hot, "demo_request", days_ago=3.2)
    event(tenant_a, hot, "page_view", days_ago=1)
    event(tenant_a, hot, "pricing_page_view", days_ago=0.01)
    event(tenant_a, hot, "unsubscribe", days_ago=0.01)  # negative: never a reason
    event(tenant_a, warm, "webinar_attend", days_ago=10)
    event(tenant_a, leads["d3"], "demo_request", days_ago=1)  # cold: no reasons shown
    client.force_login(tenant_a.owner.user)
    zh = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert reasons_of(zh, "甲") == ["申请演示 ×2 · 3 天前", "查看定价页 · 今天"]
    assert reasons_of(zh, "乙") == ["参加线上研讨会 · 10 天前"]
    assert reasons_of(zh, "丙") == []
    en = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reasons_of(en, "甲") == ["Demo request ×2 · 3 days ago", "Pricing page view · today"]


def test_a_lead_hot_by_profile_alone_names_its_best_rule(client, tenant_a):
    lead = lead_make(tenant_a, name="己", title="CEO", company="华为")
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(tier="hot", score_total=85)
    client.force_login(tenant_a.owner.user)
    zh = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert reasons_of(zh, "己") == ["画像：决策层职位"]


def test_why_hot_costs_one_query_for_the_whole_page(client, tenant_a, leads):
    for index in range(12):
        lead = scored(tenant_a, f"热{index}", grade="A", level=1, total=85, tier="hot")
        event(tenant_a, lead, "demo_request", days_ago=index)
    client.force_login(tenant_a.owner.user)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert reasons_of(body, "热5") == ["申请演示 · 5 天前"]
    assert sum("scoring_leadevent" in query["sql"] for query in queries.captured_queries) == 1


def test_another_tenants_events_never_explain_a_lead(client, tenant_a, tenant_b, leads):
    event(tenant_b, leads["a1"], "demo_request", days_ago=1)  # tenant B's row naming tenant A's lead id
    client.force_login(tenant_a.owner.user)
    body = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert reasons_of(body, "甲") == []


