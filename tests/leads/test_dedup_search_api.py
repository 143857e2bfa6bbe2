"""The duplicate search API: `GET /api/v1/dedup/search` and `POST /api/v1/leads/{id}/transfer-request`
(shapes, problem+json for every refusal, scopes, another tenant's data never found)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.dedup_search import TRANSFER_REQUESTS_PER_DAY
from leads.models import TRANSFER_REQUEST_ACTION
from tests.conftest import add_member, client_with_scopes
from tests.factories import lead_make
from tests.leads.test_dedup_search import FENYANG, Book, book_make

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SEARCH = "/api/v1/dedup/search"


@pytest.fixture
def book(tenant_a: Any) -> Book:
    return book_make(tenant_a)


def session(membership: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def ask(client: APIClient, lead_id: int, body: Any = None) -> Any:
    return client.post(
        f"/api/v1/leads/{lead_id}/transfer-request", data=json.dumps(body if body is not None else {}),
        content_type="application/json",
    )


# --- search -------------------------------------------------------------------------------------


def test_a_rep_gets_another_reps_lead_masked_with_its_owner(book):
    response = session(book.rep2).get(SEARCH, {"company": "北京纷扬", "name": "林晓峰"})
    assert response.status_code == 200
    body = response.json()
    assert body["truncated"] is False and body["more_count"] == 0
    first = body["results"][0]
    assert first == {
        "lead": {
            "id": book.pooled.id, "name": "赵敏", "company": "纷扬科技(北京)有限公司", "mobile": first["lead"]["mobile"],
            "phone": "", "email": "", "wechat": "", "owner": None, "owner_name": "", "status": "pending",
            "created_at": first["lead"]["created_at"], "visible": False,
        },
        "match": {"field": "company", "kind": "fuzzy", "label": "Same company (fuzzy)"},
    }
    showcase = next(r for r in body["results"] if r["lead"]["id"] == book.showcase.id)
    assert showcase["match"] == {"field": "company", "kind": "fuzzy_with_name", "label": "Same company (fuzzy) and contact"}
    assert showcase["lead"]["visible"] is False
    assert showcase["lead"]["mobile"] == "+86139****0586"
    assert showcase["lead"]["email"] == "l****@fenyang.com.cn"
    assert showcase["lead"]["owner"] == book.rep1.user_id and showcase["lead"]["owner_name"] == "张伟"
    assert "13912340586" not in response.content.decode()


def test_an_api_key_with_read_and_the_owner_see_full_contacts(book, key_client):
    for client in (key_client, session(book.rep1)):
        (result,) = client.get(SEARCH, {"mobile": "139 1234 0586"}).json()["results"]
        assert result["lead"]["visible"] is True
        assert result["lead"]["mobile"] == "+8613912340586" and result["lead"]["email"] == "lin.xiaofeng@fenyang.com.cn"
        assert result["match"] == {"field": "mobile", "kind": "exact", "label": "Same mobile number"}


def test_searching_needs_the_read_scope(book):
    client = client_with_scopes(book.created, ["leads:write"])
    body = assert_problem(client.get(SEARCH, {"mobile": "13912340586"}), 403)
    assert "read" in body["detail"]
    assert client_with_scopes(book.created, ["read"]).get(SEARCH, {"mobile": "13912340586"}).status_code == 200
    assert APIClient().get(SEARCH, {"mobile": "13912340586"}).status_code == 401


def test_no_criterion_is_a_400_that_says_what_to_give(book, key_client):
    for params in ({}, {"mobile": "", "email": "", "wechat": "", "company": "", "name": ""}):
        body = assert_problem(key_client.get(SEARCH, params), 400)
        assert body["detail"] == "Fill in at least one: mobile, e-mail, WeChat ID, company or contact name."
        assert list(body["errors"]) == ["non_field_errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"mobile": "12345"}, "mobile"), ({"email": "zhang@@163.com"}, "email"), ({"wechat": "a b"}, "wechat"),
     ({"company": "个人"}, "company"), ({"mobile": "1" * 41}, "mobile"), ({"company": "纷扬", "mobile": "x"}, "mobile")],
)
def test_a_bad_criterion_is_a_400_naming_the_field(book, key_client, params, field):
    body = assert_problem(key_client.get(SEARCH, params), 400)
    assert list(body["errors"]) == [field]
    assert field in body["detail"]


def test_another_tenants_leads_are_never_found(book, tenant_b, key_client):
    theirs = lead_make(tenant_b, name="林晓峰", company=FENYANG, mobile="13912340586")
    ids = {r["lead"]["id"] for r in key_client.get(SEARCH, {"mobile": "13912340586", "company": "纷扬"}).json()["results"]}
    assert theirs.id not in ids and book.showcase.id in ids
    assert tenant_b.api_key is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_b.api_key.raw_key}")
    ids = {r["lead"]["id"] for r in client.get(SEARCH, {"company": "北京纷扬"}).json()["results"]}
    assert ids == {theirs.id}


# --- transfer request ---------------------------------------------------------------------------


def test_a_rep_asks_for_another_reps_lead_and_gets_a_202(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(session(book.rep2), book.showcase.id, {"message": "客户主动联系了我"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body == {
        "lead": book.showcase.id, "owner": book.rep1.user_id, "owner_name": "张伟", "requested_at": body["requested_at"],
        "repeated": False,
    }
    (email,) = mail.outbox
    assert email.to == ["zhang.wei@yunfan.test"] and "客户主动联系了我" in email.body
    assert f"/{book.created.tenant.slug}/leads/{book.showcase.id}" in email.body
    with django_capture_on_commit_callbacks(execute=True):
        again = ask(session(book.rep2), book.showcase.id, {})
    assert again.status_code == 202 and again.json()["repeated"] is True
    assert again.json()["requested_at"] == body["requested_at"]
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("lead_attr", "member_attr", "status", "words"),
    [
        ("showcase", "rep1", 409, "You already own this lead"),
        ("pooled", "rep2", 409, "This lead is in a pool and has no owner: claim it from the pool."),
        ("showcase", "read_only", 403, "Read-only members cannot change data."),
    ],
)
def test_refusals_are_problems_that_say_why(book, lead_attr, member_attr, status, words):
    body = assert_problem(ask(session(getattr(book, member_attr)), getattr(book, lead_attr).id), status)
    assert words in body["detail"]
    with tenant_scope(book.created.tenant.id):
        assert not AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION).exists()


def test_an_api_key_cannot_ask_for_a_lead(book, key_client):
    body = assert_problem(ask(key_client, book.showcase.id), 403)
    assert "API key cannot ask for a lead" in body["detail"]


def test_another_tenants_lead_is_404_for_a_member_and_a_key(book, tenant_b, key_client):
    theirs = lead_make(tenant_b, name="林晓峰", company=FENYANG, owner_id=tenant_b.owner.user_id)
    assert_problem(ask(session(book.rep2), theirs.id), 404)
    assert_problem(ask(key_client, theirs.id), 404)
    assert_problem(ask(session(book.rep2), 999_999_999), 404)


def test_a_message_too_long_is_a_400_naming_it(book):
    body = assert_problem(ask(session(book.rep2), book.showcase.id, {"message": "长" * 501}), 400)
    assert list(body["errors"]) == ["message"]


def test_past_the_daily_limit_a_429_says_when_to_retry(book, tenant_a):
    leads = [lead_make(tenant_a, name=f"客户{n}", owner_id=book.rep1.user_id) for n in range(TRANSFER_REQUESTS_PER_DAY + 1)]
    client = session(book.rep2)
    for lead in leads[:-1]:
        assert ask(client, lead.id).status_code == 202
    response = ask(client, leads[-1].id)
    body = assert_problem(response, 429)
    assert "20" in body["detail"]
    assert 23 * 3600 < int(response["Retry-After"]) <= 24 * 3600


def test_a_member_of_another_role_may_ask_too(book, tenant_a):
    manager2 = add_member(tenant_a, "manager2@yunfan.test", Role.MANAGER, "孙经理")
    assert ask(session(manager2), book.showcase.id).status_code == 202
