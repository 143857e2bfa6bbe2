"""The project's middleware, through real requests: caching headers on personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_pages_with_personal_data_are_not_stored_by_browsers_or_proxies(tenant_a):
    lead = lead_make(tenant_a, name="王经理")
    client = Client()
    client.force_login(tenant_a.owner.user)
    for path in (f"/{tenant_a.tenant.slug}/leads", f"/{tenant_a.tenant.slug}/leads/{lead.id}"):
        response = client.get(path)
        assert response.status_code == 200
        assert _no_store(response), path
    htmx = client.get(f"/{tenant_a.tenant.slug}/leads", HTTP_HX_REQUEST="true")
    assert _no_store(htmx)


def test_api_responses_are_not_stored_errors_included(key_client, api_client, tenant_a):
    lead_make(tenant_a)
    listed = key_client.get("/api/v1/leads")
    assert listed.status_code == 200 and _no_store(listed)
    for response in (
        key_client.get("/api/v1/leads/999999"),  # 404 problem
        key_client.post("/api/v1/leads", data="{bad", content_type="application/json"),  # 400 problem
        api_client.get("/api/v1/leads"),  # 401 problem
        key_client.get("/api/v1/nope"),  # unrouted
    ):
        assert response.status_code >= 400 and response["Content-Type"] == "application/problem+json"
        assert _no_store(response), response.status_code


def test_health_keeps_its_own_cache_header(client):
    response = client.get("/healthz")
    assert _no_store(response)
    assert "must-revalidate" in response["Cache-Control"]  # never_cache's, not replaced


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert not _no_store(response)
