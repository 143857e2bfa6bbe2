"""The explanation: `GET /api/v1/leads/{id}/score` and the lead page's panel."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def test_contributions_add_up_to_the_total_and_name_the_version(key_client, tenant_a):
    lead = lead_make(tenant_a, title="学生", company="")
    body = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    assert body["version"] == 1
    kinds = [(c["kind"], c["label"], c["points"]) for c in body["contributions"]]
    assert kinds == [("attribute", "没有公司名称", -5.0), ("attribute", "学生", -20.0), ("cap", "static", 25.0)]
    assert sum(Decimal(str(c["points"])) for c in body["contributions"]) == Decimal(str(body["total"])) == 0


def test_the_explanation_of_a_decision_maker(key_client, tenant_a):
    lead = lead_make(tenant_a, title="CEO", company="华为")
    body = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    assert body["total"] == 10.0 and body["static"] == 10.0
    assert [c["label"] for c in body["contributions"]] == ["决策层职位"]


def test_another_tenants_lead_is_a_404(key_client, tenant_b):
    foreign = lead_make(tenant_b)
    response = key_client.get(f"/api/v1/leads/{foreign.id}/score")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_bad_id_is_a_404_problem(key_client):
    response = key_client.get("/api/v1/leads/abc/score")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_lead_not_scored_has_no_contributions(key_client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    body = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    assert (body["version"], body["contributions"]) == (None, [])


def test_the_panel_words_contributions_in_chinese_and_english(client, tenant_a):
    lead = lead_make(tenant_a, title="学生", company="")
    client.force_login(tenant_a.owner.user)
    url = f"/{tenant_a.tenant.slug}/leads/{lead.id}/score-panel"
    zh = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "符合规则「学生」" in zh and "静态分保持在 0–100 之间" in zh and "规则版本 v1" in zh
    assert "<html" not in zh  # a fragment for htmx
    en = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Matches rule “Student”" in en and "Rules version v1" in en
    page = client.get(url).content.decode()  # without JavaScript: a whole page
    assert "<html" in page


def test_the_panel_of_another_tenants_lead_is_a_404(client, tenant_a, tenant_b):
    foreign = lead_make(tenant_b)
    client.force_login(tenant_a.owner.user)
    assert client.get(f"/{tenant_a.tenant.slug}/leads/{foreign.id}/score-panel").status_code == 404


def test_lead_page_shows_not_scored_instead_of_d3_cold(client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    client.force_login(tenant_a.owner.user)
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "未评分" in page and "tier-cold" not in page and "grade-D" not in page
    listing = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "未评分" in listing and "tier-cold" not in listing


def test_lead_page_of_a_scored_lead_loads_the_panel(client, tenant_a):
    lead = lead_make(tenant_a, title="CEO", company="华为")
    client.force_login(tenant_a.owner.user)
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}").content.decode()
    assert f'hx-get="/{tenant_a.tenant.slug}/leads/{lead.id}/score-panel"' in page
    assert "grade-D" in page and "tier-cold" in page
