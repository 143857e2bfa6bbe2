"""The members API (API.md "Members"): invite, list, change, remove; and the routing profile."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from rest_framework.test import APIClient

from assignment.models import RoutingProfile
from assignment.services import pool_create
from leadcrm.tenancy.models import AuditLog, Membership, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.conftest import PASSWORD, add_member, client_with_scopes
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def _session(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- invite -----------------------------------------------------------------------------------


def test_invite_without_password_emails_a_link_that_sets_the_password(
    key_client, tenant_a, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client.post(
            "/api/v1/members", {"email": "Wang.Fang@Example.com", "name": "王芳", "role": "rep", "team": "华东一组"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    user = User.objects.get(email="wang.fang@example.com")
    assert body["id"] == user.id
    assert {k: body[k] for k in ("email", "name", "role", "team")} == {
        "email": "wang.fang@example.com", "name": "王芳", "role": "rep", "team": "华东一组",
    }
    assert body["invitation_sent"] is True
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["wang.fang@example.com"]
    link = re.search(r"https?://\S+/password/set/\S+", str(mail.outbox[0].body))
    assert link is not None, mail.outbox[0].body
    path = "/" + link.group(0).split("/", 3)[3]

    page = client.get(path, follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    done = client.post(form_url, {"new_password1": "Spring-Rain-42", "new_password2": "Spring-Rain-42"})
    assert done.status_code == 302
    client.logout()
    signed_in = client.post("/login", {"username": "wang.fang@example.com", "password": "Spring-Rain-42"})
    assert signed_in.status_code == 302, signed_in.content.decode()[:500]
    # one link, one password: the token no longer works
    again = client.get(path, follow=True)
    assert "new_password1" not in again.content.decode()


def test_invite_with_password_sends_no_link(key_client, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client.post(
            "/api/v1/members", {"email": "li@example.com", "role": "manager", "password": "Spring-Rain-42"}, format="json"
        )
    assert response.status_code == 201
    assert response.json()["invitation_sent"] is False
    assert User.objects.get(email="li@example.com").check_password("Spring-Rain-42")
    assert "password/set" not in mail.outbox[0].body


def test_an_email_already_in_the_tenant_is_a_409(key_client, tenant_a):
    add_member(tenant_a, "zhao@example.com")
    response = key_client.post("/api/v1/members", {"email": "ZHAO@example.com", "role": "rep"}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert "already a member" in response.json()["detail"]


def test_a_user_of_another_tenant_gets_a_membership_and_keeps_their_password(key_client, tenant_a, tenant_b):
    other = add_member(tenant_b, "sun@example.com").user
    response = key_client.post("/api/v1/members", {"email": "sun@example.com", "role": "rep"}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] == other.id and response.json()["invitation_sent"] is False
    other.refresh_from_db()
    assert other.check_password(PASSWORD)
    for created in (tenant_a, tenant_b):
        with tenant_scope(created.tenant.id):
            assert Membership.objects.get(user=other).is_active


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "role": "rep"}, "email"),
        ({"email": "a@example.com", "role": "boss"}, "role"),
        ({"email": "a@example.com", "role": "rep", "password": "123"}, "password"),
        ({"role": "rep"}, "email"),
    ],
)
def test_invalid_invitations_are_400_naming_the_field(key_client, tenant_a, payload, field):
    response = key_client.post("/api/v1/members", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_adding_members_takes_the_admin_scope_or_an_admins_session(tenant_a):
    reader = client_with_scopes(tenant_a, ["read", "leads:write"])
    assert reader.post("/api/v1/members", {"email": "x@example.com", "role": "rep"}, format="json").status_code == 403
    assert reader.get("/api/v1/members").status_code == 200
    rep = add_member(tenant_a, "rep@example.com").user
    response = _session(rep).post("/api/v1/members", {"email": "x@example.com", "role": "rep"}, format="json")
    assert response.status_code == 403
    assert _session(tenant_a.owner.user).post(
        "/api/v1/members", {"email": "x@example.com", "role": "rep"}, format="json"
    ).status_code == 201


# --- list -------------------------------------------------------------------------------------


def test_list_filters_and_orders_and_never_shows_another_tenants_people(key_client, tenant_a, tenant_b):
    add_member(tenant_a, "a.rep@example.com", name="安然")
    manager = add_member(tenant_a, "b.manager@example.com", role=Role.MANAGER, name="白露")
    with tenant_scope(tenant_a.tenant.id):
        Membership.objects.filter(id=manager.id).update(team="华南")
    add_member(tenant_b, "foreign@example.com")

    emails = [m["email"] for m in key_client.get("/api/v1/members?ordering=email").json()["results"]]
    assert emails == ["a.rep@example.com", "b.manager@example.com", "owner@tenant-a.test"]
    assert [m["email"] for m in key_client.get("/api/v1/members?role=manager").json()["results"]] == ["b.manager@example.com"]
    assert [m["email"] for m in key_client.get("/api/v1/members?team=华南").json()["results"]] == ["b.manager@example.com"]
    assert [m["email"] for m in key_client.get("/api/v1/members?q=安然").json()["results"]] == ["a.rep@example.com"]
    assert key_client.get("/api/v1/members?ordering=shoe-size").status_code == 400
    page = key_client.get("/api/v1/members?ordering=email&page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    assert [m["email"] for m in key_client.get(page["next"]).json()["results"]] == ["owner@tenant-a.test"]


def test_another_tenants_member_is_404(key_client, tenant_b):
    foreign = add_member(tenant_b, "foreign@example.com").user
    assert key_client.get(f"/api/v1/members/{foreign.id}").status_code == 404
    assert key_client.patch(f"/api/v1/members/{foreign.id}", {"role": "admin"}, format="json").status_code == 404
    assert key_client.get(f"/api/v1/members/{foreign.id}/routing").status_code == 404
    assert key_client.put(f"/api/v1/members/{foreign.id}/routing", {"on_duty": True}, format="json").status_code == 404


# --- change and remove ------------------------------------------------------------------------


def test_patch_changes_role_and_team_audited(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    response = key_client.patch(f"/api/v1/members/{rep.id}", {"role": "manager", "team": "华东一组"}, format="json")
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["team"]) == ("manager", "华东一组")
    with tenant_scope(tenant_a.tenant.id):
        assert AuditLog.objects.filter(action="membership.update").exists()


def test_the_owner_keeps_the_owner_role(key_client, tenant_a):
    response = key_client.patch(f"/api/v1/members/{tenant_a.owner.user_id}", {"role": "rep"}, format="json")
    assert response.status_code == 400 and "role" in response.json()["errors"]


def test_removing_a_rep_returns_their_open_leads_to_their_pools(key_client, tenant_a, tenant_b):
    rep = add_member(tenant_a, "rep@example.com").user
    colleague = add_member(tenant_a, "colleague@example.com").user
    with tenant_scope(tenant_a.tenant.id):
        east = pool_create(tenant=tenant_a.tenant, name="华东")
    held_east = lead_make(tenant_a, owner_id=rep.id, pool_id=east.id, status="following")
    held_nowhere = lead_make(tenant_a, owner_id=rep.id)
    converted = lead_make(tenant_a, owner_id=rep.id, pool_id=east.id, status="converted")
    colleagues = lead_make(tenant_a, owner_id=colleague.id, pool_id=east.id)
    # the same person in another tenant keeps their leads there
    add_member(tenant_b, "rep@example.com")
    foreign = lead_make(tenant_b, owner_id=rep.id)

    with tenant_scope(tenant_a.tenant.id):
        default_pool = east.__class__.objects.get(is_default=True)
        held_nowhere_pool = Lead.objects.get(id=held_nowhere.id).pool_id
    response = key_client.patch(f"/api/v1/members/{rep.id}", {"active": False}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["active"] is False and response.json()["returned_leads"] == 2

    with tenant_scope(tenant_a.tenant.id):
        leads = {lead.id: lead for lead in Lead.objects.filter(id__in=[held_east.id, held_nowhere.id, converted.id, colleagues.id])}
        assert (leads[held_east.id].owner_id, leads[held_east.id].pool_id) == (None, east.id)
        assert leads[held_east.id].status == "following"
        assert leads[held_nowhere.id].owner_id is None
        assert leads[held_nowhere.id].pool_id == (held_nowhere_pool or default_pool.id)
        assert leads[converted.id].owner_id == rep.id  # closed work stays on their record
        assert leads[colleagues.id].owner_id == colleague.id
        audit = AuditLog.objects.filter(action="lead.owner_change", object_id=str(held_east.id)).latest("id")
        assert audit.changes["reason"] == "member_removed" and audit.changes["from"] == rep.id
        assert RoutingProfile.objects.filter(user_id=rep.id).exists() is False  # none was set: nothing to turn off
    with tenant_scope(tenant_b.tenant.id):
        assert Lead.objects.get(id=foreign.id).owner_id == rep.id

    # They can no longer work in the tenant: the session API answers as for a stranger.
    assert _session(rep).get("/api/v1/leads").status_code in (200, 404)
    with tenant_scope(tenant_a.tenant.id):
        assert not Membership.objects.get(user=rep).is_active


def test_a_removed_member_cannot_open_the_tenants_pages(client, key_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    client.force_login(rep)
    assert client.get("/tenant-a/leads").status_code == 200
    key_client.patch(f"/api/v1/members/{rep.id}", {"active": False}, format="json")
    assert client.get("/tenant-a/leads").status_code == 404


def test_removing_turns_the_routing_profile_off_duty(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    assert key_client.put(f"/api/v1/members/{rep.id}/routing", {"on_duty": True, "timezone": "Asia/Shanghai"}, format="json").status_code == 200
    key_client.patch(f"/api/v1/members/{rep.id}", {"active": False}, format="json")
    routing = key_client.get(f"/api/v1/members/{rep.id}/routing").json()
    assert routing["on_duty"] is False and routing["receives_nothing"] is True


def test_the_owner_cannot_be_removed(key_client, tenant_a):
    response = key_client.patch(f"/api/v1/members/{tenant_a.owner.user_id}", {"active": False}, format="json")
    assert response.status_code == 400 and "active" in response.json()["errors"]


# --- routing profile --------------------------------------------------------------------------


def test_routing_profile_round_trip(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    default = key_client.get(f"/api/v1/members/{rep.id}/routing").json()
    assert default["on_duty"] is True and default["working_hours"] == [] and default["daily_receive_cap"] is None
    hours = [{"weekday": 1, "start": "09:00", "end": "18:00"}, {"weekday": 0, "start": "09:00", "end": "12:00"},
             {"weekday": 0, "start": "13:30", "end": "18:00"}]
    profile = {
        "on_duty": True, "timezone": "Asia/Shanghai", "working_hours": hours,
        "daily_receive_cap": 30, "max_open": 200, "weight": 1.5,
    }
    response = key_client.put(f"/api/v1/members/{rep.id}/routing", profile, format="json")
    assert response.status_code == 200, response.json()
    saved = key_client.get(f"/api/v1/members/{rep.id}/routing").json()
    assert saved["working_hours"] == sorted(hours, key=lambda h: (h["weekday"], h["start"]))
    assert (saved["daily_receive_cap"], saved["max_open"], saved["weight"]) == (30, 200, 1.5)
    assert saved["receives_nothing"] is False


def test_a_cap_of_zero_is_allowed_and_means_receiving_nothing(key_client, tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    response = key_client.put(f"/api/v1/members/{rep.id}/routing", {"on_duty": True, "daily_receive_cap": 0}, format="json")
    assert response.status_code == 200 and response.json()["receives_nothing"] is True


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known time zone"),
        ({"working_hours": [{"weekday": 7, "start": "09:00", "end": "18:00"}]}, "working_hours[0].weekday", "0 (Monday)"),
        ({"working_hours": [{"weekday": 0, "start": "18:00", "end": "09:00"}]}, "working_hours[0].end", "after the start"),
        ({"working_hours": [{"weekday": 0, "start": "9am", "end": "18:00"}]}, "working_hours[0].start", "HH:MM"),
        ({"working_hours": [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "11:00", "end": "14:00"}]},
         "working_hours[1].start", "Overlaps"),
        ({"daily_receive_cap": -1}, "daily_receive_cap", "0 or more"),
        ({"max_open": "lots"}, "max_open", "whole number"),
        ({"weight": 0}, "weight", "above 0"),
        ({"on_duty": "yes"}, "on_duty", "true or false"),
    ],
)
def test_routing_profile_errors_name_the_field(key_client, tenant_a, change, field, words):
    rep = add_member(tenant_a, "rep@example.com").user
    response = key_client.put(f"/api/v1/members/{rep.id}/routing", {"on_duty": True, **change}, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in errors[field][0]
    with tenant_scope(tenant_a.tenant.id):
        assert not RoutingProfile.objects.filter(user_id=rep.id).exists()


def test_a_rep_reads_their_own_routing_profile_but_not_a_colleagues(tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    colleague = add_member(tenant_a, "colleague@example.com").user
    client = _session(rep)
    assert client.get(f"/api/v1/members/{rep.id}/routing").status_code == 200
    assert client.get(f"/api/v1/members/{colleague.id}/routing").status_code == 403
    assert client.put(f"/api/v1/members/{rep.id}/routing", {"on_duty": False}, format="json").status_code == 403
