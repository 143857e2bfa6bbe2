"""The 成员 / People admin pages: list with filters, invite, edit, routing form, remove."""

from __future__ import annotations

import pytest
from django.core import mail

from assignment.models import RepDay, RoutingProfile
from assignment.services import pool_create
from leadcrm.tenancy.models import Membership
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.conftest import add_member
from tests.factories import lead_make

pytestmark = pytest.mark.django_db

PEOPLE = "/tenant-a/settings/people"


@pytest.fixture
def admin_client(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    return client


def test_people_page_lists_members_with_routing_and_todays_count(admin_client, tenant_a, tenant_b):
    rep = add_member(tenant_a, "wang@example.com", name="王芳").user
    add_member(tenant_b, "foreign@example.com", name="外人")
    with tenant_scope(tenant_a.tenant.id):
        RoutingProfile.objects.create(tenant=tenant_a.tenant, user=rep, daily_receive_cap=25, max_open=120)
        from django.utils import timezone

        RepDay.objects.create(tenant=tenant_a.tenant, user=rep, day=timezone.localdate(), received=7)
    html = admin_client.get(PEOPLE).content.decode()
    assert "王芳" in html and "外人" not in html
    assert ">25</span>" in html and ">120</span>" in html and '<span class="today-count">7</span>' in html
    filtered = admin_client.get(PEOPLE + "?role=owner").content.decode()
    assert "王芳" not in filtered


def test_invite_from_the_page_and_errors_next_to_the_field(admin_client, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(PEOPLE, {"email": "new@example.com", "name": "新人", "role": "rep", "team": "华东"})
    assert response.status_code == 302 and len(mail.outbox) == 1
    again = admin_client.post(PEOPLE, {"email": "new@example.com", "role": "rep"})
    assert again.status_code == 400 and "已经是本团队的成员" in again.content.decode()
    bad = admin_client.post(PEOPLE, {"email": "nope", "role": "rep"})
    assert "邮箱格式不对" in bad.content.decode()


def test_reps_get_a_page_naming_the_admins(client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    client.force_login(rep)
    response = client.get(PEOPLE)
    assert response.status_code == 403 and "只有管理员" in response.content.decode()


def test_routing_form_saves_working_hours_without_javascript(admin_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    page = admin_client.get(f"{PEOPLE}/{rep.id}").content.decode()
    assert 'name="hours-count" value="7"' in page
    form = {"on_duty": "on", "timezone": "Asia/Shanghai", "daily_receive_cap": "0", "max_open": "", "weight": "2",
            "hours-count": "7"}
    for day in range(7):
        form |= {f"hours-{day}-weekday": str(day), f"hours-{day}-start": "09:00", f"hours-{day}-end": "18:00"}
    form |= {"hours-0-on": "on", "hours-4-on": "on"}
    response = admin_client.post(f"{PEOPLE}/{rep.id}/routing", form)
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        profile = RoutingProfile.objects.get(user=rep)
    assert [h["weekday"] for h in profile.working_hours] == [0, 4]
    assert (profile.daily_receive_cap, profile.max_open, str(profile.weight)) == (0, None, "2.00")
    assert "不接收" in admin_client.get(PEOPLE).content.decode()  # cap 0 said on the list


def test_routing_form_errors_stand_next_to_their_row(admin_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    form = {"on_duty": "on", "timezone": "Nowhere/City", "weight": "1", "hours-count": "2",
            "hours-0-weekday": "0", "hours-0-on": "on", "hours-0-start": "18:00", "hours-0-end": "09:00",
            "hours-1-weekday": "1", "hours-1-start": "09:00", "hours-1-end": "18:00"}
    response = admin_client.post(f"{PEOPLE}/{rep.id}/routing", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "not a known time zone" in html
    row = html[html.index('name="hours-0-weekday"'):html.index('name="hours-1-weekday"')]
    assert "after the start" in row


def test_remove_confirm_says_how_many_leads_go_back_to_which_pools(admin_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com", name="李雷").user
    with tenant_scope(tenant_a.tenant.id):
        east = pool_create(tenant=tenant_a.tenant, name="华东线索池")
    for _ in range(3):
        lead_make(tenant_a, owner_id=rep.id, pool_id=east.id)
    confirm = admin_client.get(f"{PEOPLE}/{rep.id}/remove").content.decode()
    assert "华东线索池" in confirm and "3 条" in confirm
    response = admin_client.post(f"{PEOPLE}/{rep.id}/remove")
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.filter(owner_id=rep.id).exists()
        assert Lead.objects.filter(pool_id=east.id, owner_id__isnull=True).count() == 3
        assert not Membership.objects.get(user=rep).is_active
    assert "已停用" in admin_client.get(PEOPLE + "?active=removed").content.decode()
    assert admin_client.post(f"{PEOPLE}/{rep.id}/restore").status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        assert Membership.objects.get(user=rep).is_active


def test_an_admin_cannot_remove_the_owner_or_themself(admin_client, tenant_a):
    page = admin_client.get(f"{PEOPLE}/{tenant_a.owner.user_id}/remove").content.decode()
    assert "所有者不能被停用" in page
    admin_client.post(f"{PEOPLE}/{tenant_a.owner.user_id}/remove")
    with tenant_scope(tenant_a.tenant.id):
        assert Membership.objects.get(id=tenant_a.owner.id).is_active
