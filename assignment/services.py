"""Pools and, as assignment grows, rules, routing and follow-up deadlines."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from assignment.models import Pool
from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.services import audit_log_record

DEFAULT_POOL_NAME = "公海池"


def pool_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's default public pool (公海池). Idempotent."""
    Pool.objects.get_or_create(
        tenant=tenant, name=DEFAULT_POOL_NAME, defaults={"is_default": True, "description": "默认线索池"}
    )


def pool_create(*, tenant: Tenant, name: str, description: str = "", created_by: User | None = None) -> Pool:
    """A private pool (线索池); audited as configuration."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the pool a name."]})
    if Pool.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"A pool called '{name}' already exists; choose another name."]})
    pool = Pool.objects.create(tenant=tenant, name=name, description=description.strip())
    audit_log_record(
        tenant=tenant, actor=created_by, action="pool.create", object_type="pool", object_id=pool.id,
        changes={"name": pool.name, "description": pool.description},
    )
    return pool
