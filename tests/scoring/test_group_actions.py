"""The recommended action per group (A1 … D3): a new tenant's defaults, the admins' grid page
(403 for other members, errors next to their cell, nothing half-saved), and the action on the
lead page's score panel and in `GET /api/v1/leads/{id}/score`."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.group_actions import DEFAULT_GROUP_ACTIONS, group_actions_update
from scoring.models import GroupAction
from tests.conftest import add_member
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def grid_url(created) -> str:
    return f"/{created.tenant.slug}/settings/group-actions"


def grid_post(values: dict[str, str] | None = None) -> dict[str, str]:
    """The grid as the page sends it: every cell's default, changed by `values`."""
    data = {}
    for (grade, level), (code, text) in DEFAULT_GROUP_ACTIONS.items():
        data[f"{grade}{level}_code"] = code
        data[f"{grade}{level}_text"] = text
    return {**data, **(values or {})}


def scored_as(created, lead, *, grade: str, level: int, tier: str = "warm", total: int = 60) -> None:
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=lead.id).update(grade=grade, level=level, tier=tier, score_total=total)


def test_a_new_tenant_has_the_twelve_default_actions(in_tenant_a):
    cells = {(row.grade, row.level): (row.code, row.text) for row in GroupAction.objects.all()}
    assert len(cells) == 12
    assert cells[("A", 1)] == ("call_now", "立即电话联系，当天安排产品演示")
    assert cells[("D", 3)][0] == "drop"
    assert cells[("C", 1)][0] == "verify"  # much behaviour, poor profile: verify before sales spends time


def test_an_admin_edits_a_cell_and_the_change_is_audited(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    page = client.get(grid_url(tenant_a), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('name="A1_text"') == 1 and body.count("_text") >= 12
    response = client.post(grid_url(tenant_a), grid_post({"B1_text": "  两小时内电话联系  ", "B1_code": "follow_up"}))
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        cell = GroupAction.objects.get(grade="B", level=1)
        assert (cell.code, cell.text) == ("follow_up", "两小时内电话联系")
        assert GroupAction.objects.get(grade="A", level=1).text == "立即电话联系，当天安排产品演示"  # untouched
        audit = AuditLog.objects.get(action="scoring.group_actions_update")
        assert list(audit.changes) == ["B1"] and audit.actor_id == tenant_a.owner.user_id
    after = client.get(grid_url(tenant_a), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已保存 B1 组的建议动作。" in after and "两小时内电话联系" in after


def test_an_english_admin_saving_untouched_defaults_keeps_them_translatable(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    page = client.get(grid_url(tenant_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    found = re.search(r'name="A1_text"[^>]*>([^<]*)</textarea>', page)
    assert found is not None
    shown = found.group(1)
    assert shown == "Call at once and book a product demo the same day"
    values = {f"{g}{lv}_text": text for (g, lv), (_c, text) in DEFAULT_GROUP_ACTIONS.items()}
    values["A1_text"] = shown  # sent back in English, unchanged
    client.post(grid_url(tenant_a), grid_post(values), HTTP_ACCEPT_LANGUAGE="en")
    with tenant_scope(tenant_a.tenant.id):
        assert GroupAction.objects.get(grade="A", level=1).text == "立即电话联系，当天安排产品演示"
        assert not AuditLog.objects.filter(action="scoring.group_actions_update").exists()


def test_errors_are_shown_next_to_their_cell_and_nothing_is_saved(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    response = client.post(
        grid_url(tenant_a), grid_post({"A2_text": "新的文字", "C3_text": "   ", "D1_code": "teleport"}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写 C3 组的建议动作。" in body and "请从列表中选择动作类型。" in body
    c3 = body[body.index('name="C3_text"'):]
    assert c3.index("请填写 C3 组的建议动作。") < c3.index('name="D1_code"')  # inside C3's cell
    assert "新的文字" in body  # what was typed is kept for the next try
    with tenant_scope(tenant_a.tenant.id):
        assert GroupAction.objects.get(grade="A", level=2).text != "新的文字"


def test_a_too_long_action_is_refused(in_tenant_a):
    with pytest.raises(Exception) as error:
        group_actions_update(tenant=in_tenant_a.tenant, actor=None, data={"A1_text": "很" * 201})
    assert "A1_text" in error.value.message_dict  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER])
def test_members_who_are_not_admins_get_403_and_cannot_post(tenant_a, role):
    member = add_member(tenant_a, f"{role}@tenant-a.test", role=role)
    client = Client()
    client.force_login(member.user)
    page = client.get(grid_url(tenant_a), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 403 and "只有管理员可以修改分组建议动作" in page.content.decode()
    assert client.post(grid_url(tenant_a), grid_post({"A1_text": "改掉"})).status_code == 403
    with tenant_scope(tenant_a.tenant.id):
        assert GroupAction.objects.get(grade="A", level=1).text != "改掉"


def test_another_tenants_grid_is_a_404(client, tenant_a, tenant_b):
    client.force_login(tenant_a.owner.user)
    assert client.get(grid_url(tenant_b)).status_code == 404
    assert client.post(grid_url(tenant_b), grid_post({"A1_text": "改掉"})).status_code == 404


def test_the_lead_panel_shows_the_group_and_its_action_in_both_languages(client, tenant_a):
    lead = lead_make(tenant_a, title="CEO")
    scored_as(tenant_a, lead, grade="B", level=1)
    with tenant_scope(tenant_a.tenant.id):
        group_actions_update(tenant=tenant_a.tenant, actor=None, data={"B1_text": "两小时内电话联系"})
    client.force_login(tenant_a.owner.user)
    url = f"/{tenant_a.tenant.slug}/leads/{lead.id}/score-panel"
    zh = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "B1" in zh and "建议动作" in zh and "两小时内电话联系" in zh and "立即联系" in zh
    scored_as(tenant_a, lead, grade="D", level=3)
    en = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "D3" in en and "Recommended action" in en and "Nurture at low frequency" in en


def test_a_lead_not_scored_shows_no_action(client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    client.force_login(tenant_a.owner.user)
    panel = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}/score-panel", HTTP_HX_REQUEST="true").content.decode()
    assert "建议动作" not in panel and "尚未评分" in panel


def test_the_score_api_gives_the_recommended_action(key_client, tenant_a):
    lead = lead_make(tenant_a, title="CEO")
    scored_as(tenant_a, lead, grade="A", level=1)
    body = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    # The API speaks English: a default in its English words, a tenant's own text as written.
    assert body["recommended_action"] == {
        "group": "A1", "code": "call_now", "text": "Call at once and book a product demo the same day",
    }
    with tenant_scope(tenant_a.tenant.id):
        group_actions_update(tenant=tenant_a.tenant, actor=None, data={"A1_text": "马上打电话"})
    assert key_client.get(f"/api/v1/leads/{lead.id}/score").json()["recommended_action"]["text"] == "马上打电话"
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(scored_at=None, score_version=None)
    assert key_client.get(f"/api/v1/leads/{lead.id}/score").json()["recommended_action"] is None
