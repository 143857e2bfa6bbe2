from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadcrm.tenancy.models import ApiKey, AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope

pytestmark = pytest.mark.django_db

ARGS = ["acme", "--name", "Acme 科技", "--admin-email", "Boss@Acme.test", "--admin-password", "S3cure-pass!"]


def test_create_tenant_prints_json_last_and_the_key_works(client):
    out = StringIO()
    call_command("create_tenant", *ARGS, "--api-key", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["tenant"] == "acme" and result["admin_email"] == "boss@acme.test"
    tenant = Tenant.objects.get(slug="acme")
    with tenant_scope(tenant.id):
        assert Membership.objects.get().role == Role.OWNER
        key = ApiKey.objects.get()
        assert key.hashed_secret != result["api_key"] and result["api_key"] not in key.hashed_secret
        assert set(key.scopes) == {"leads:write", "events:write", "read", "admin"}
        assert set(AuditLog.objects.values_list("action", flat=True)) == {"membership.create", "api_key.create"}
    response = client.get("/api/v1/leads", HTTP_AUTHORIZATION=f"Bearer {result['api_key']}")
    assert response.status_code == 200


def test_create_tenant_twice_exits_non_zero_and_changes_nothing():
    call_command("create_tenant", *ARGS, stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", *ARGS, "--name", "Other", stdout=StringIO())
    assert Tenant.objects.get(slug="acme").name == "Acme 科技"


def test_create_tenant_without_api_key_flag_has_no_key():
    out = StringIO()
    call_command("create_tenant", *ARGS, stdout=out)
    assert "api_key" not in json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.parametrize("slug", ["login", "api", "Not A Slug"])
def test_create_tenant_refuses_reserved_or_malformed_slugs(slug):
    with pytest.raises(CommandError):
        call_command("create_tenant", slug, *ARGS[1:], stdout=StringIO())
    assert not Tenant.objects.exists()
