"""Notifications: the API (the caller's own, newest first, unread count, mark read), the page
and the bell. Nobody sees another person's or another tenant's notifications."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leadcrm.notifications.models import Notification
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.scoping import tenant_scope
from tests.conftest import add_member
from tests.factories import notification_make

pytestmark = pytest.mark.django_db


def _session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _notify(created, recipient_id: int, *titles: str) -> None:
    with tenant_scope(created.tenant.id):
        notify_many(tenant_id=created.tenant.id, notices=[Notice(recipient_id=recipient_id, kind="lead.assigned", title=t) for t in titles])


def test_the_api_lists_the_callers_own_newest_first_with_the_unread_count(tenant_a, tenant_b):
    rep = add_member(tenant_a, "rep@example.com").user
    colleague = add_member(tenant_a, "colleague@example.com").user
    add_member(tenant_b, "rep@example.com")
    _notify(tenant_a, rep.id, "第一条", "第二条")
    _notify(tenant_a, colleague.id, "同事的")
    _notify(tenant_b, rep.id, "另一家公司的")
    body = _session(rep).get("/api/v1/notifications").json()
    assert [n["title"] for n in body["results"]] == ["第二条", "第一条"]
    assert body["unread"] == 2 and body["results"][0]["read"] is False
    assert set(body) >= {"next", "previous", "results", "unread"}


def test_the_unread_filter_takes_true_or_false_and_refuses_anything_else_even_empty(tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    _notify(tenant_a, rep.id, "未读")
    read = notification_make(tenant_a, recipient_id=rep.id, title="已读")
    with tenant_scope(tenant_a.tenant.id):
        Notification.objects.filter(id=read.id).update(read_at=timezone.now())
    client = _session(rep)
    assert [n["title"] for n in client.get("/api/v1/notifications?unread=true").json()["results"]] == ["未读"]
    assert len(client.get("/api/v1/notifications?unread=FALSE").json()["results"]) == 2
    for bad in ("", "yes", "1"):
        response = client.get(f"/api/v1/notifications?unread={bad}")
        assert response.status_code == 400, bad
        assert response["Content-Type"].startswith("application/problem+json")
        assert "unread" in response.json()["errors"]


def test_mark_read_by_ids_ignores_others_and_all_marks_the_rest(tenant_a):
    rep = add_member(tenant_a, "rep@example.com").user
    colleague = add_member(tenant_a, "colleague@example.com").user
    mine = [notification_make(tenant_a, recipient_id=rep.id, title=f"n{i}") for i in range(3)]
    theirs = notification_make(tenant_a, recipient_id=colleague.id)
    client = _session(rep)
    response = client.post("/api/v1/notifications/read", {"ids": [mine[0].id, theirs.id]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 2}
    with tenant_scope(tenant_a.tenant.id):
        assert Notification.objects.get(id=theirs.id).read_at is None
    assert client.get("/api/v1/notifications?unread=true").json()["unread"] == 2
    assert client.post("/api/v1/notifications/read", {"all": True}, format="json").json() == {"marked": 2, "unread": 0}
    assert client.post("/api/v1/notifications/read", {}, format="json").status_code == 400
    assert client.post("/api/v1/notifications/read", {"ids": [1], "all": True}, format="json").status_code == 400


def test_an_api_key_reads_the_notifications_of_the_person_who_created_it(key_client, tenant_a):
    notification_make(tenant_a, title="给所有者")
    body = key_client.get("/api/v1/notifications").json()
    assert [n["title"] for n in body["results"]] == ["给所有者"] and body["unread"] == 1


def test_the_bell_shows_the_unread_count_and_the_page_lists_and_marks(client, tenant_a, tenant_b):
    rep = add_member(tenant_a, "rep@example.com").user
    _notify(tenant_a, rep.id, "新线索：上海云帆", "跟进即将超时")
    foreign = notification_make(tenant_b)
    client.force_login(rep)
    html = client.get("/tenant-a/leads").content.decode()
    assert 'class="bell-count"' in html and ">2</span>" in html
    page = client.get("/tenant-a/notifications").content.decode()
    assert page.index("跟进即将超时") < page.index("新线索：上海云帆")
    with tenant_scope(tenant_a.tenant.id):
        first = Notification.objects.get(title="跟进即将超时")
    assert client.post(f"/tenant-a/notifications/{first.id}/read").status_code == 302
    unread_page = client.get("/tenant-a/notifications?unread=1").content.decode()
    assert "新线索：上海云帆" in unread_page and "跟进即将超时" not in unread_page
    assert client.post(f"/tenant-a/notifications/{foreign.id}/read").status_code == 404
    assert client.post("/tenant-a/notifications/read-all").status_code == 302
    assert 'class="bell-count"' not in client.get("/tenant-a/leads").content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, tenant_a):
    item = notification_make(tenant_a, url="/tenant-a/leads")
    client.force_login(tenant_a.owner.user)
    response = client.post(f"/tenant-a/notifications/{item.id}/read", {"go": "1"})
    assert response.status_code == 302 and response["Location"] == "/tenant-a/leads"
    with tenant_scope(tenant_a.tenant.id):
        assert Notification.objects.get(id=item.id).read_at is not None
