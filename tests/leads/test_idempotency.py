"""Idempotency-Key and the per-key rate limit (API.md conventions)."""

from __future__ import annotations

import json

import pytest

from leadcrm.api.idempotency import idempotency_claim, request_fingerprint
from leadcrm.tenancy.models import ApiKey
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.conftest import client_with_scopes

pytestmark = pytest.mark.django_db

BODY = {"name": "张三", "mobile": "13912340586"}


def post(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/leads", data=json.dumps(body), content_type="application/json", **headers)


def lead_count(created) -> int:
    with tenant_scope(created.tenant.id):
        return Lead.objects.count()


def test_same_key_and_body_replays_the_first_response(key_client, tenant_a):
    first = post(key_client, BODY, key="retry-1")
    again = post(key_client, BODY, key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert lead_count(tenant_a) == 1


def test_replay_of_a_quarantined_submission_keeps_its_202(key_client, tenant_a):
    first = post(key_client, {"name": "无联系方式"}, key="q-1")
    again = post(key_client, {"name": "无联系方式"}, key="q-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["intake_id"] == first.json()["intake_id"]


def test_same_key_with_another_body_is_422_and_writes_nothing(key_client, tenant_a):
    post(key_client, BODY, key="retry-2")
    response = post(key_client, {**BODY, "name": "李四", "mobile": "13712340586"}, key="retry-2")
    assert response.status_code == 422
    assert "different request body" in response.json()["detail"]
    assert lead_count(tenant_a) == 1


def test_the_same_json_with_keys_in_another_order_and_other_spacing_replays(key_client, tenant_a):
    def raw_post(text: str, key: str, path: str = "/api/v1/leads"):
        return key_client.post(path, data=text, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    first = raw_post('{"name": "张三", "mobile": "13912340586", "custom": {}}', "order-1")
    again = raw_post('{ "custom" : { },\n  "mobile":"13912340586",\t"name":"\\u5f20\\u4e09" }', "order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert raw_post('{"name": "张三", "mobile": "13912340587"}', "order-1").status_code == 422
    assert lead_count(tenant_a) == 1

    bulk = '{"leads": [{"name": "甲", "email": "a@corp.cn"}, {"email": "b@corp.cn", "name": "乙"}]}'
    first = raw_post(bulk, "order-2", "/api/v1/leads/bulk")
    again = raw_post(
        '{"leads":[{"email":"a@corp.cn","name":"甲"},{"name":"乙","email":"b@corp.cn"}]}', "order-2", "/api/v1/leads/bulk"
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    swapped = '{"leads": [{"email": "b@corp.cn", "name": "乙"}, {"name": "甲", "email": "a@corp.cn"}]}'
    assert raw_post(swapped, "order-2", "/api/v1/leads/bulk").status_code == 422  # the items' order counts
    assert lead_count(tenant_a) == 3


def test_same_key_while_the_first_is_in_flight_is_409(key_client, tenant_a):
    body = json.dumps(BODY).encode()
    # The state a first request leaves while it is still running: a claimed, unfinished key.
    idempotency_claim(
        tenant=tenant_a.tenant, owner_key=f"key:{tenant_a.api_key.api_key.id}", key="busy",
        fingerprint=request_fingerprint(method="POST", path="/api/v1/leads", data=BODY),
    )
    response = key_client.post("/api/v1/leads", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert lead_count(tenant_a) == 0


def test_keys_are_scoped_to_the_sender(key_client, tenant_a):
    other = client_with_scopes(tenant_a, ["leads:write", "read"])
    first = post(key_client, BODY, key="shared")
    second = post(other, {**BODY, "mobile": "13712340586"}, key="shared")
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["lead"]["id"] != second.json()["lead"]["id"]


def test_failed_request_frees_the_key_for_a_retry(key_client, tenant_a):
    assert post(key_client, {"mobile": 1}, key="fix-me").status_code == 400
    assert post(key_client, BODY, key="fix-me").status_code == 201


def test_rate_limit_answers_429_with_retry_after(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        ApiKey.objects.filter(id=tenant_a.api_key.api_key.id).update(rate_limit_per_minute=3)
    statuses = [key_client.get("/api/v1/leads").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = key_client.get("/api/v1/leads")
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert post(key_client, BODY).status_code == 429
    assert lead_count(tenant_a) == 0


def test_requests_with_a_wrong_secret_do_not_use_up_the_keys_rate_limit(key_client, tenant_a):
    # The prefix of a key is not secret; someone who knows it must not exhaust its limit.
    from rest_framework.test import APIClient

    with tenant_scope(tenant_a.tenant.id):
        ApiKey.objects.filter(id=tenant_a.api_key.api_key.id).update(rate_limit_per_minute=3)
    prefix = tenant_a.api_key.raw_key.split("_")[1]
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer lc_{prefix}_{'x' * 32}")
    assert [stranger.get("/api/v1/leads").status_code for _ in range(5)] == [401] * 5
    assert [key_client.get("/api/v1/leads").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_revoking_a_key_in_use_takes_effect_at_once(key_client, tenant_a):
    from leadcrm.tenancy.services import api_key_revoke

    assert key_client.get("/api/v1/leads").status_code == 200  # the key is now cached
    api_key_revoke(tenant=tenant_a.tenant, api_key_id=tenant_a.api_key.api_key.id)
    assert key_client.get("/api/v1/leads").status_code == 401
