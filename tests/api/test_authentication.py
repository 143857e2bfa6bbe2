"""API keys: a suspended tenant's keys stop working at the next request, whatever is cached."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from leadcrm.tenancy.selectors import api_key_cache_key
from leadcrm.tenancy.services import api_key_create, tenant_reactivate, tenant_suspend
from tests.conftest import client_with_scopes

pytestmark = pytest.mark.django_db


def test_suspending_a_tenant_refuses_all_its_keys_at_the_next_request(
    key_client, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    other_key = client_with_scopes(tenant_a, ["read"])
    neighbour = client_with_scopes(tenant_b, ["read"])
    for client in (key_client, other_key, neighbour):
        assert client.get("/api/v1/leads").status_code == 200  # and now cached

    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant_a.tenant, actor=tenant_a.owner.user)

    for client in (key_client, other_key):
        response = client.get("/api/v1/leads")
        assert response.status_code == 401
        assert "suspended" in response.json()["detail"]
    assert neighbour.get("/api/v1/leads").status_code == 200


def test_a_key_cached_before_the_suspension_cannot_keep_the_tenant_alive(
    key_client, tenant_a, django_capture_on_commit_callbacks
):
    assert key_client.get("/api/v1/leads").status_code == 200
    prefix = tenant_a.api_key.api_key.prefix
    stale = cache.get(api_key_cache_key(prefix))
    assert stale is not None and stale.tenant.is_active

    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant_a.tenant, actor=None)
    # what a request that read the key just before the suspension committed writes back
    cache.set(api_key_cache_key(prefix), stale, timeout=60)

    response = key_client.get("/api/v1/leads")
    assert response.status_code == 401
    assert "suspended" in response.json()["detail"]


def test_reactivating_a_tenant_lets_its_keys_in_at_the_next_request(
    key_client, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant_a.tenant, actor=None)
    assert key_client.get("/api/v1/leads").status_code == 401  # the suspended key is cached now
    created_meanwhile = api_key_create(tenant=tenant_a.tenant, name="meanwhile", scopes=["read"])

    with django_capture_on_commit_callbacks(execute=True):
        tenant_reactivate(tenant=tenant_a.tenant, actor=None)
    assert key_client.get("/api/v1/leads").status_code == 200
    key_client.credentials(HTTP_AUTHORIZATION=f"Bearer {created_meanwhile.raw_key}")
    assert key_client.get("/api/v1/leads").status_code == 200


def test_a_cached_key_costs_no_database_query(key_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert key_client.get("/api/v1/leads/999999").status_code == 404  # caches the key
    with CaptureQueriesContext(connection) as queries:
        assert key_client.get("/api/v1/leads/999999").status_code == 404
    tables = [q["sql"] for q in queries.captured_queries if "tenancy_" in q["sql"]]
    assert tables == []  # neither the key nor its tenant is read again
    assert any("leads_lead" in q["sql"] for q in queries.captured_queries)
