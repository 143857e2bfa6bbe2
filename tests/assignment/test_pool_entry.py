"""A new lead enters the first pool, by position, whose entry conditions match; the default
pool takes the rest; a pool change is seen by the next submission."""

from __future__ import annotations

import pytest

from assignment.pool_services import pool_create_full, pool_update
from assignment.selectors import pool_default
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def test_lead_enters_first_matching_pool_by_position(tenant_a: CreatedTenant) -> None:
    with tenant_scope(tenant_a.tenant.id):
        later = pool_create_full(tenant=tenant_a.tenant, data={"name": "华南", "position": 2,
                                                                "entry_conditions": {"province": ["广东", "广西"]}})
        first = pool_create_full(tenant=tenant_a.tenant, data={"name": "深圳", "position": 1,
                                                                "entry_conditions": {"city": ["深圳"]}})
        default = pool_default()
    assert lead_make(tenant_a, province="广东", city="深圳").pool_id == first.id
    assert lead_make(tenant_a, province="广东", city="广州").pool_id == later.id
    assert lead_make(tenant_a, province="北京").pool_id == default.id
    with tenant_scope(tenant_a.tenant.id):
        pool_update(tenant=tenant_a.tenant, pool=first, data={"is_active": False})
    assert lead_make(tenant_a, province="广东", city="深圳").pool_id == later.id  # the cache followed the change
