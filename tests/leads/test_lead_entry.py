"""Manual entry and editing: the new-lead page (through intake, duplicate hints, errors next to
the fields), the edit page and `PATCH /api/v1/leads/{id}` (role rules, intake's validation,
audit and timeline, stale forms, other tenants), and the rescore signal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import LEAD_EDIT_ACTION, IntakeRecord, Lead, LeadSubmission
from leads.signals import lead_fields_changed
from tests.conftest import add_member, client_with_scopes
from tests.factories import blacklist_entry_make, lead_make, next_mobile

pytestmark = pytest.mark.django_db


def client_for(membership: Any) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def new_url(created: Any) -> str:
    return f"/{created.tenant.slug}/leads/new"


def edit_url(created: Any, lead: Any) -> str:
    return f"/{created.tenant.slug}/leads/{lead.id}/edit"


def field_errors(html: str) -> list[str]:
    return re.findall(r'<span class="field-error">([^<]*)</span>', html)


@pytest.fixture
def rep(tenant_a: Any) -> Any:
    return add_member(tenant_a, "rep@a.test", Role.REP, "张伟")


@pytest.fixture
def other_rep(tenant_a: Any) -> Any:
    return add_member(tenant_a, "rep2@a.test", Role.REP, "李娜")


# --- new lead -------------------------------------------------------------------------------------


def test_the_lead_list_has_a_new_lead_button(tenant_a, rep):
    html = client_for(rep).get(f"/{tenant_a.tenant.slug}/leads").content.decode()
    assert f'href="{new_url(tenant_a)}"' in html and "新建线索" in html


def test_a_new_lead_goes_through_intake_as_manual_and_opens_its_page(tenant_a):
    mobile = next_mobile()
    client = client_for(tenant_a.owner)
    response = client.post(new_url(tenant_a), {"name": "王芳", "mobile": mobile, "company": "北京纷扬科技有限公司"})
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        lead = Lead.objects.get(mobile=f"+86{mobile}")
    assert response["Location"] == f"/{tenant_a.tenant.slug}/leads/{lead.id}"
    assert lead.created_by_id == tenant_a.owner.user_id and lead.company_key == "纷扬科技"
    page = client.get(response["Location"]).content.decode()
    assert "线索已创建" in page


def test_a_reps_new_lead_they_do_not_own_lands_on_the_list_with_its_number(tenant_a, rep):
    client = client_for(rep)
    response = client.post(new_url(tenant_a), {"name": "王芳", "mobile": next_mobile()})
    assert response.status_code == 302 and response["Location"] == f"/{tenant_a.tenant.slug}/leads"
    with tenant_scope(tenant_a.tenant.id):
        lead = Lead.objects.get(name="王芳")
    page = client.get(response["Location"]).content.decode()
    assert f"线索 #{lead.id} 已提交" in page


def test_an_invalid_mobile_is_refused_next_to_the_field_with_the_values_kept(tenant_a, rep):
    response = client_for(rep).post(new_url(tenant_a), {"name": "王芳", "mobile": "12345678901", "company": "纷扬科技"})
    assert response.status_code == 400
    html = response.content.decode()
    assert any("有效的手机号" in error for error in field_errors(html))
    assert 'value="王芳"' in html and 'value="纷扬科技"' in html
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.filter(name="王芳").exists()
        assert not IntakeRecord.objects.exists()


def test_no_contact_at_all_is_refused_next_to_the_mobile(tenant_a, rep):
    response = client_for(rep).post(new_url(tenant_a), {"name": "王芳"})
    assert response.status_code == 400
    assert any("至少保留一种联系方式" in error for error in field_errors(response.content.decode()))


def test_a_duplicate_is_collected_into_the_existing_lead_with_a_message(tenant_a, rep):
    existing = lead_make(tenant_a, owner_id=rep.user_id)  # the rep's own: they may open it
    client = client_for(rep)
    response = client.post(new_url(tenant_a), {"name": "重复的人", "mobile": existing.mobile})
    assert response.status_code == 302
    assert response["Location"] == f"/{tenant_a.tenant.slug}/leads/{existing.id}"
    with tenant_scope(tenant_a.tenant.id):
        assert LeadSubmission.objects.filter(lead_id=existing.id, channel="manual").exists()
        assert Lead.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "提交已归集到这条线索" in page


def test_a_blacklisted_company_is_quarantined_with_its_reason_shown(tenant_a, rep):
    blacklist_entry_make(tenant_a, kind="company", value="竞品科技有限公司")
    response = client_for(rep).post(new_url(tenant_a), {"name": "王芳", "mobile": next_mobile(), "company": "竞品科技有限公司"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "已放入隔离区" in html and "黑名单：公司" in html
    with tenant_scope(tenant_a.tenant.id):
        record = IntakeRecord.objects.get()
        assert record.channel == "manual" and record.submitted_by_id == rep.user_id
        assert not Lead.objects.exists()


def test_duplicate_hints_show_matches_with_owners_masked_for_a_rep(tenant_a, rep, other_rep):
    theirs = lead_make(tenant_a, company="上海云帆信息技术有限公司", owner_id=other_rep.user_id)
    client = client_for(rep)
    response = client.get(f"{new_url(tenant_a)}/hints", {"mobile": theirs.mobile[3:]}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "李娜" in html
    assert theirs.mobile[3:] not in html and "****" in html  # another rep's lead: masked
    # a half-typed mobile is quiet, not an error; the company still finds it
    html = client.get(f"{new_url(tenant_a)}/hints", {"mobile": "139", "company": "云帆信息"}).content.decode()
    assert "李娜" in html and "field-error" not in html


def test_duplicate_hints_work_without_javascript(tenant_a, rep, other_rep):
    theirs = lead_make(tenant_a, owner_id=other_rep.user_id)
    html = client_for(rep).get(new_url(tenant_a), {"check": "1", "mobile": theirs.mobile}).content.decode()
    assert "李娜" in html and "可能重复" in html


def test_a_read_only_member_may_not_enter_leads(tenant_a):
    viewer = add_member(tenant_a, "viewer@a.test", Role.READ_ONLY)
    assert client_for(viewer).get(new_url(tenant_a)).status_code == 403
    assert client_for(viewer).post(new_url(tenant_a), {"mobile": next_mobile()}).status_code == 403


# --- edit page ------------------------------------------------------------------------------------


def _form(client: Client, url: str) -> dict[str, str]:
    html = client.get(url).content.decode()
    values = dict(re.findall(r'<input type="[a-z]+" name="(\w+)" value="([^"]*)"', html))
    values.update(re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', html))
    return values


def test_a_rep_edits_their_own_lead_audited_and_on_the_timeline(tenant_a, rep):
    lead = lead_make(tenant_a, owner_id=rep.user_id, company="北京纷扬科技有限公司")
    client = client_for(rep)
    form = _form(client, edit_url(tenant_a, lead))
    assert "version" in form and "campaign" not in form and "source" not in form  # read-only for a rep
    response = client.post(edit_url(tenant_a, lead), {**form, "company": "上海云帆信息技术有限公司", "mobile": "159 4696 2913"})
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        lead.refresh_from_db()
        audit = AuditLog.objects.get(action=LEAD_EDIT_ACTION, object_id=str(lead.id))
    assert lead.mobile == "+8615946962913" and lead.company_key == "云帆信息技术"
    assert audit.actor_id == rep.user_id
    assert audit.changes["fields"]["company"] == {"from": "北京纷扬科技有限公司", "to": "上海云帆信息技术有限公司"}
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}").content.decode()
    assert "修改了资料" in page and "上海云帆信息技术有限公司" in page and "已保存修改" in page


def test_an_invalid_mobile_edit_is_refused_next_to_the_field(tenant_a, rep):
    lead = lead_make(tenant_a, owner_id=rep.user_id)
    client = client_for(rep)
    form = _form(client, edit_url(tenant_a, lead))
    response = client.post(edit_url(tenant_a, lead), {**form, "mobile": "13800000000"})
    assert response.status_code == 400
    assert any("有效的手机号" in error for error in field_errors(response.content.decode()))
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).mobile == lead.mobile
        assert not AuditLog.objects.filter(action=LEAD_EDIT_ACTION).exists()


def test_a_stale_edit_is_refused_with_the_values_kept(tenant_a, rep):
    lead = lead_make(tenant_a, owner_id=rep.user_id)
    client = client_for(rep)
    form = _form(client, edit_url(tenant_a, lead))
    assert client.post(edit_url(tenant_a, lead), {**form, "title": "经理"}).status_code == 302  # someone else first
    response = client.post(edit_url(tenant_a, lead), {**form, "city": "杭州"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被其他人修改" in html and 'value="杭州"' in html
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).city != "杭州"
    resent = dict(re.findall(r'<input type="[a-z]+" name="(\w+)" value="([^"]*)"', html))
    assert client.post(edit_url(tenant_a, lead), resent).status_code == 302  # sending again works


def test_a_rep_cannot_edit_another_reps_lead(tenant_a, rep, other_rep):
    theirs = lead_make(tenant_a, owner_id=other_rep.user_id)
    client = client_for(rep)
    assert client.get(edit_url(tenant_a, theirs)).status_code == 404
    assert client.post(edit_url(tenant_a, theirs), {"name": "改名"}).status_code == 404


def test_a_manager_edits_any_lead_including_its_campaign(tenant_a, other_rep):
    manager = add_member(tenant_a, "manager@a.test", Role.MANAGER)
    lead = lead_make(tenant_a, owner_id=other_rep.user_id)
    client = client_for(manager)
    form = _form(client, edit_url(tenant_a, lead))
    assert client.post(edit_url(tenant_a, lead), {**form, "campaign": "春季展会"}).status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).campaign == "春季展会"


def test_another_tenants_lead_is_404_on_the_edit_page(tenant_a, tenant_b):
    foreign = lead_make(tenant_b)
    client = client_for(tenant_a.owner)
    assert client.get(edit_url(tenant_a, foreign)).status_code == 404
    assert client.post(edit_url(tenant_a, foreign), {"name": "x"}).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_audits_them(tenant_a, key_client):
    lead = lead_make(tenant_a, city="上海")
    response = key_client.patch(f"/api/v1/leads/{lead.id}", {"email": " Zhang.Wei@163.COM "}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["email"] == "zhang.wei@163.com" and response.json()["city"] == "上海"
    with tenant_scope(tenant_a.tenant.id):
        audit = AuditLog.objects.get(action=LEAD_EDIT_ACTION)
    assert audit.actor_api_key_id == tenant_a.api_key.api_key.id
    assert audit.changes["fields"] == {"email": {"from": "", "to": "zhang.wei@163.com"}}


def test_patch_refuses_a_fake_mobile_per_field(tenant_a, key_client):
    lead = lead_make(tenant_a)
    response = key_client.patch(f"/api/v1/leads/{lead.id}", {"mobile": "13888888888"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "mobile" in response.json()["errors"]


def test_patch_refuses_channel_fields_and_unknown_ones(tenant_a, key_client):
    lead = lead_make(tenant_a)
    response = key_client.patch(f"/api/v1/leads/{lead.id}", {"source": "x", "moblie": "1"}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "cannot be changed" in errors["source"][0] and "Unknown field" in errors["moblie"][0]


def test_patch_with_a_stale_updated_at_is_409(tenant_a, key_client):
    lead = lead_make(tenant_a)
    first = key_client.patch(f"/api/v1/leads/{lead.id}", {"title": "经理", "updated_at": lead.updated_at.isoformat()}, format="json")
    assert first.status_code == 200
    stale = key_client.patch(f"/api/v1/leads/{lead.id}", {"title": "总监", "updated_at": lead.updated_at.isoformat()}, format="json")
    assert stale.status_code == 409
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).title == "经理"


def test_patch_needs_the_write_scope(tenant_a):
    lead = lead_make(tenant_a)
    response = client_with_scopes(tenant_a, ["read"]).patch(f"/api/v1/leads/{lead.id}", {"title": "x"}, format="json")
    assert response.status_code == 403


def test_patch_by_a_rep_on_another_reps_lead_is_404(tenant_a, rep, other_rep):
    theirs = lead_make(tenant_a, owner_id=other_rep.user_id)
    client = APIClient()
    client.force_login(rep.user)
    assert client.patch(f"/api/v1/leads/{theirs.id}", {"title": "x"}, format="json").status_code == 404


def test_patch_on_another_tenants_lead_is_404(tenant_b, key_client):
    foreign = lead_make(tenant_b)
    assert key_client.patch(f"/api/v1/leads/{foreign.id}", {"title": "x"}, format="json").status_code == 404


# --- the signal scoring subscribes to --------------------------------------------------------------


def test_an_edit_announces_the_changed_fields_after_commit(tenant_a, key_client, django_capture_on_commit_callbacks):
    lead = lead_make(tenant_a)
    heard: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    lead_fields_changed.connect(listener, dispatch_uid="test-listener")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            key_client.patch(f"/api/v1/leads/{lead.id}", {"industry": "制造业", "title": ""}, format="json")
    finally:
        lead_fields_changed.disconnect(dispatch_uid="test-listener")
    assert heard == [{"signal": lead_fields_changed, "tenant_id": tenant_a.tenant.id, "lead_ids": [lead.id],
                      "fields": ["industry"]}]


def test_a_manager_who_reads_a_leads_contacts_masked_may_not_rewrite_them(tenant_a, other_rep):
    from tests.factories import pool_make

    manager = add_member(tenant_a, "manager@a.test", Role.MANAGER)
    pool = pool_make(tenant_a, kind="public", mask_contacts=True)
    lead = lead_make(tenant_a, pool_id=pool.id)
    client = client_for(manager)
    form = _form(client, edit_url(tenant_a, lead))
    assert "mobile" not in form and "title" in form
    assert lead.mobile[3:] not in client.get(edit_url(tenant_a, lead)).content.decode()
    api = APIClient()
    api.force_login(manager.user)
    refused = api.patch(f"/api/v1/leads/{lead.id}", {"mobile": next_mobile()}, format="json")
    assert refused.status_code == 400 and "hidden" in refused.json()["errors"]["mobile"][0]
    assert api.patch(f"/api/v1/leads/{lead.id}", {"title": "经理"}, format="json").status_code == 200


def test_an_edit_is_on_the_api_timeline_with_contacts_masked(tenant_a, key_client):
    lead = lead_make(tenant_a)
    key_client.patch(f"/api/v1/leads/{lead.id}", {"mobile": "159 4696 2913", "city": "杭州"}, format="json")
    items = key_client.get(f"/api/v1/leads/{lead.id}/timeline").json()["results"]
    edit = next(item for item in items if item["kind"] == "edit")
    assert edit["data"]["fields"]["city"]["to"] == "杭州"
    assert "15946962913" not in str(edit) and "****" in edit["data"]["fields"]["mobile"]["to"]
    assert "杭州" in edit["detail"]
