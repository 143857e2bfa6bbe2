"""The API keys page: create (the secret shown once), list, revoke; a revoked key stops at once."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from leadcrm.tenancy.models import ApiKey
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.selectors import api_key_cache_key
from leadcrm.tenancy.services import api_key_create, api_key_revoke
from tests.conftest import add_member

pytestmark = pytest.mark.django_db

KEYS = "/tenant-a/settings/api-keys"


def _bearer(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_created_key_secret_is_shown_once_and_works_with_its_scopes(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    response = client.post(KEYS, {"name": "官网表单", "scopes": ["leads:write", "read"], "rate_limit_per_minute": "120"})
    assert response.status_code == 302
    page = client.get(KEYS).content.decode()
    secret = re.search(r'id="new-secret">(lc_[^<]+)<', page)
    assert secret is not None and "只显示这一次" in page
    assert secret.group(1) not in client.get(KEYS).content.decode()  # once
    with tenant_scope(tenant_a.tenant.id):
        key = ApiKey.objects.get(name="官网表单")
    assert (sorted(key.scopes), key.rate_limit_per_minute, key.created_by_id) == (["leads:write", "read"], 120, tenant_a.owner.user_id)
    api = _bearer(secret.group(1))
    assert api.get("/api/v1/leads").status_code == 200
    assert api.post("/api/v1/members", {"email": "x@example.com", "role": "rep"}, format="json").status_code == 403


def test_create_form_errors_are_next_to_their_fields(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    response = client.post(KEYS, {"name": "", "rate_limit_per_minute": "0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请给密钥起个名字" in html and "至少选择一项权限" in html and "至少每分钟 1 次" in html


def test_revoked_key_gets_401_on_the_next_request(client, tenant_a):
    created = api_key_create(tenant=tenant_a.tenant, name="投放平台", scopes=["read"])
    api = _bearer(created.raw_key)
    assert api.get("/api/v1/leads").status_code == 200  # the key is now cached
    assert cache.get(api_key_cache_key(created.api_key.prefix)) is not None
    client.force_login(tenant_a.owner.user)
    confirm = client.get(f"{KEYS}/{created.api_key.id}/revoke")
    assert confirm.status_code == 200 and "401" in confirm.content.decode()
    assert client.post(f"{KEYS}/{created.api_key.id}/revoke").status_code == 302
    response = api.get("/api/v1/leads")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    listing = client.get(KEYS).content.decode()
    assert "已吊销" in listing


def test_a_stale_cached_row_cannot_bring_a_revoked_key_back(tenant_a, django_capture_on_commit_callbacks):
    created = api_key_create(tenant=tenant_a.tenant, name="回调", scopes=["read"])
    api = _bearer(created.raw_key)
    assert api.get("/api/v1/leads").status_code == 200
    stale = cache.get(api_key_cache_key(created.api_key.prefix))
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(tenant=tenant_a.tenant, api_key_id=created.api_key.id)
    # a request that read the row before the revocation committed caches it again afterwards
    cache.set(api_key_cache_key(created.api_key.prefix), stale, timeout=60)
    assert api.get("/api/v1/leads").status_code == 401


def test_api_keys_page_is_for_admins_and_another_tenants_key_is_404(client, tenant_a, tenant_b):
    rep = add_member(tenant_a, "rep@example.com").user
    client.force_login(rep)
    assert client.get(KEYS).status_code == 403
    client.force_login(tenant_a.owner.user)
    assert tenant_b.api_key is not None
    assert client.get(f"{KEYS}/{tenant_b.api_key.api_key.id}/revoke").status_code == 404
    assert client.post(f"{KEYS}/{tenant_b.api_key.api_key.id}/revoke").status_code == 404
    assert _bearer(tenant_b.api_key.raw_key).get("/api/v1/leads").status_code == 200
