"""Pools and, as assignment grows, rules, routing and follow-up deadlines."""

from __future__ import annotations

from assignment.models import Pool
from leadcrm.tenancy.models import Tenant

DEFAULT_POOL_NAME = "公海池"


def pool_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's default public pool (公海池). Idempotent."""
    Pool.objects.get_or_create(
        tenant=tenant, name=DEFAULT_POOL_NAME, defaults={"is_default": True, "description": "默认线索池"}
    )
