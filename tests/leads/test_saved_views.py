"""Saved views of the lead list: saving, picking, columns, sharing (nobody, team, tenant),
defaults, stale filters, names too long or taken, other users' and tenants' views, the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from leadcrm.tenancy.models import Membership, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import SavedView
from leads.saved_views import SAVED_VIEW_QUERY_FIELDS
from leads.views import LeadListForm
from tests.conftest import add_member
from tests.factories import lead_make, pool_make, saved_view_make

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _names(response: Any) -> list[str]:
    return re.findall(r'class="lead-name"[^>]*>([^<]+)<', response.content.decode())


def views_url(created: CreatedTenant) -> str:
    return f"/{created.tenant.slug}/leads/views"


def list_url(created: CreatedTenant) -> str:
    return f"/{created.tenant.slug}/leads"


def _set_team(created: CreatedTenant, user_id: int, team: str) -> None:
    with tenant_scope(created.tenant.id):
        Membership.objects.filter(user_id=user_id).update(team=team)


def test_a_view_keeps_the_list_forms_fields():
    assert set(SAVED_VIEW_QUERY_FIELDS) == set(LeadListForm.base_fields) - {"cursor"}


def test_save_the_current_list_then_pick_it(tenant_a):
    lead_make(tenant_a, name="官网客户", source="官网")
    lead_make(tenant_a, name="展会客户", source="展会")
    client = _client(tenant_a.owner.user)
    response = client.post(views_url(tenant_a), {
        "name": "官网线索", "shared_with": "private",
        "list_query": "source=官网&ordering=created_at&cols=name&cols=status&cols=owner&cursor=ignored",
    })
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        view = SavedView.objects.get(name="官网线索")
    assert view.query == {"source": ["官网"], "ordering": ["created_at"]}
    assert view.columns == ["status", "owner"]
    page = client.get(response["Location"])
    assert _names(page) == ["官网客户"]
    html = page.content.decode()
    assert ">负责人</th>" in html and ">评分</th>" not in html  # only the chosen columns
    assert "官网线索" in html


def test_columns_chosen_on_the_list(tenant_a):
    lead_make(tenant_a)
    html = _client(tenant_a.owner.user).get(list_url(tenant_a), {"cols": ["name", "score"]}).content.decode()
    assert ">评分</th>" in html and ">状态</th>" not in html and 'class="cell-status"' not in html


def test_default_view_opens_with_the_plain_list(tenant_a):
    view = saved_view_make(tenant_a, query={"source": ["官网"]})
    client = _client(tenant_a.owner.user)
    client.post(f"{views_url(tenant_a)}/{view.id}/default")
    response = client.get(list_url(tenant_a))
    assert response.status_code == 302 and f"view={view.id}" in response["Location"]
    assert client.get(list_url(tenant_a), {"view": ""}).status_code == 200  # "clear filters" stays plain
    client.post(f"{views_url(tenant_a)}/{view.id}/default", {"clear": "1"})
    assert client.get(list_url(tenant_a)).status_code == 200


def test_shared_view_shows_each_viewer_only_their_leads(tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    lead_make(tenant_a, name="代表的", source="官网", owner_id=rep.user_id)
    lead_make(tenant_a, name="别人的", source="官网")
    view = saved_view_make(tenant_a, query={"source": ["官网"]}, shared_with="tenant")
    page = _client(rep.user).get(list_url(tenant_a), {"view": view.id, "source": "官网"})
    assert _names(page) == ["代表的"]
    assert _names(_client(tenant_a.owner.user).get(list_url(tenant_a), {"view": view.id, "source": "官网"})) == [
        "别人的", "代表的",
    ]


def test_team_sharing_reaches_the_owners_team_only(tenant_a):
    teammate = add_member(tenant_a, "mate@tenant-a.test", Role.REP)
    stranger = add_member(tenant_a, "other@tenant-a.test", Role.REP)
    _set_team(tenant_a, tenant_a.owner.user_id, "华东一组")
    _set_team(tenant_a, teammate.user_id, "华东一组")
    _set_team(tenant_a, stranger.user_id, "华南组")
    view = saved_view_make(tenant_a, name="团队视图", shared_with="team")
    assert "团队视图" in _client(teammate.user).get(views_url(tenant_a)).content.decode()
    assert "团队视图" not in _client(stranger.user).get(views_url(tenant_a)).content.decode()
    # the teammate may use it as a default, not change it
    assert _client(teammate.user).post(f"{views_url(tenant_a)}/{view.id}/default").status_code == 302
    assert _client(teammate.user).post(f"{views_url(tenant_a)}/{view.id}", {"name": "改名"}).status_code == 404


def test_another_users_private_view_is_404(tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    view = saved_view_make(tenant_a, name="经理私有")
    client = _client(rep.user)
    for path in (f"{views_url(tenant_a)}/{view.id}", f"{views_url(tenant_a)}/{view.id}/delete",
                 f"{views_url(tenant_a)}/{view.id}/default"):
        assert client.post(path, {"name": "x"}).status_code == 404
    page = client.get(list_url(tenant_a), {"view": view.id}).content.decode()
    assert "经理私有" not in page and "这个视图不存在或未共享给你" in page


def test_view_with_a_deleted_pool_says_its_filter_is_stale(tenant_a):
    pool = pool_make(tenant_a)
    lead_make(tenant_a, name="客户")
    view = saved_view_make(tenant_a, name="某池", query={"pool": [str(pool.id)]})
    with tenant_scope(tenant_a.tenant.id):
        type(pool).objects.filter(id=pool.id).delete()
    client = _client(tenant_a.owner.user)
    response = client.get(list_url(tenant_a), {"view": view.id, "pool": str(pool.id)})
    assert response.status_code == 200
    assert "视图「某池」中有已失效的筛选条件" in response.content.decode()
    assert _names(response) == ["客户"]


def test_rename_and_delete_own_view(tenant_a):
    view = saved_view_make(tenant_a, name="旧名")
    client = _client(tenant_a.owner.user)
    assert client.post(f"{views_url(tenant_a)}/{view.id}", {"name": "新名", "shared_with": "tenant"}).status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        view.refresh_from_db()
    assert (view.name, view.shared_with) == ("新名", "tenant")
    assert client.post(f"{views_url(tenant_a)}/{view.id}/delete").status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        assert not SavedView.objects.filter(id=view.id).exists()


def test_name_too_long_or_taken_is_told_next_to_the_field(tenant_a):
    saved_view_make(tenant_a, name="本周热线索")
    client = _client(tenant_a.owner.user)
    response = client.post(views_url(tenant_a), {"name": "本周热线索", "shared_with": "private", "list_query": "source=官网"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'name="name" value="本周热线索"[^>]*>\s*<span class="field-error">你已有名为「本周热线索」的视图', html)
    assert 'name="list_query" value="source=%E5%AE%98%E7%BD%91"' in html  # the list's query survives the error
    response = client.post(views_url(tenant_a), {"name": "长" * 61, "shared_with": "private"})
    assert response.status_code == 400 and "视图名称最多 60 个字" in response.content.decode()
    renamed = saved_view_make(tenant_a, name="另一个")
    response = client.post(f"{views_url(tenant_a)}/{renamed.id}", {"name": "本周热线索"})
    assert response.status_code == 400 and "你已有名为「本周热线索」的视图" in response.content.decode()


def test_views_page_in_english(tenant_a):
    saved_view_make(tenant_a, name="Hot this week", shared_with="team")
    html = _client(tenant_a.owner.user, "en").get(views_url(tenant_a)).content.decode()
    assert "Saved views" in html and "My team" in html


def test_other_tenants_views_are_404(tenant_a, tenant_b):
    foreign = saved_view_make(tenant_b, shared_with="tenant")
    client = _client(tenant_a.owner.user)
    assert client.post(f"{views_url(tenant_a)}/{foreign.id}/default").status_code == 404
    assert client.post(f"{views_url(tenant_a)}/{foreign.id}/delete").status_code == 404
    assert foreign.name not in client.get(views_url(tenant_a)).content.decode()


# --- API ------------------------------------------------------------------------------------


def test_api_views_crud_for_a_member(api_client, tenant_a):
    api_client.force_login(tenant_a.owner.user)
    response = api_client.post("/api/v1/views", {"name": "Hot", "query": {"tier": ["hot"]}, "columns": ["score"],
                                                 "shared_with": "tenant", "is_default": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["query"] == {"tier": ["hot"]} and body["is_own"] and body["is_default"]
    view_id = body["id"]
    assert [v["name"] for v in api_client.get("/api/v1/views").json()] == ["Hot"]
    response = api_client.patch(f"/api/v1/views/{view_id}", {"name": "Hotter"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Hotter"
    duplicate = api_client.post("/api/v1/views", {"name": "Hotter"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.content.decode()
    too_long = api_client.post("/api/v1/views", {"name": "x" * 61}, format="json")
    assert too_long.status_code == 400
    unknown = api_client.post("/api/v1/views", {"name": "y", "query": {"nope": ["1"]}}, format="json")
    assert unknown.status_code == 400 and "query" in unknown.content.decode()
    assert api_client.delete(f"/api/v1/views/{view_id}").status_code == 204


def test_api_another_users_private_view_is_404(api_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    view = saved_view_make(tenant_a)
    api_client.force_login(rep.user)
    assert api_client.get(f"/api/v1/views/{view.id}").status_code == 404
    assert api_client.patch(f"/api/v1/views/{view.id}", {"name": "x"}, format="json").status_code == 404
    shared = saved_view_make(tenant_a, shared_with="tenant")
    assert api_client.patch(f"/api/v1/views/{shared.id}", {"name": "x"}, format="json").status_code == 403


def test_api_key_reads_tenant_shared_views_only(key_client, tenant_a, tenant_b):
    saved_view_make(tenant_a, name="private")
    saved_view_make(tenant_a, name="shared", shared_with="tenant")
    saved_view_make(tenant_b, name="foreign", shared_with="tenant")
    assert [v["name"] for v in key_client.get("/api/v1/views").json()] == ["shared"]
    assert key_client.post("/api/v1/views", {"name": "k"}, format="json").status_code == 403
