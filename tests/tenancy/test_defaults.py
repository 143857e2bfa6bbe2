"""A new tenant's default configuration comes from the installers each app registers (the
tenancy core imports no app)."""

from __future__ import annotations

import pytest

from assignment.models import Pool
from leadcrm.tenancy.defaults import (
    tenant_defaults_install,
    tenant_defaults_installers,
    tenant_defaults_register,
    tenant_defaults_unregister,
)
from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.scoping import tenant_scope
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db


def test_apps_register_their_defaults_and_a_new_tenant_gets_them():
    assert "assignment.pools" in tenant_defaults_installers()
    created = make_tenant("fresh", with_api_key=False)
    with tenant_scope(created.tenant.id):
        pool = Pool.objects.get()
    assert pool.name == "公海池" and pool.is_default


def test_installers_run_in_the_new_tenants_scope_and_again_change_nothing():
    seen: list[int | None] = []

    def installer(*, tenant: Tenant) -> None:
        from leadcrm.tenancy.scoping import current_tenant_id

        seen.append(current_tenant_id())

    tenant_defaults_register(name="test.installer", installer=installer)
    try:
        created = make_tenant("fresh", with_api_key=False)
        tenant_defaults_install(tenant=created.tenant)  # a second run (an upgrade) is harmless
    finally:
        tenant_defaults_unregister(name="test.installer")
    assert seen == [created.tenant.id, created.tenant.id]
    with tenant_scope(created.tenant.id):
        assert Pool.objects.count() == 1
