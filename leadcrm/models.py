"""Abstract bases every app builds on."""

from django.db import models

from leadcrm.tenancy.scoping import TenantManager


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantOwnedModel(TimestampedModel):
    """A row that belongs to one tenant. `objects` is scoped and fails closed; row-level
    security (see leadcrm/tenancy/rls.py) backs it for raw SQL and related managers."""

    # No index of its own: every table's composite indexes and unique keys start with tenant_id.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)

    objects = TenantManager()  # application code: always scoped
    all_tenants = models.Manager()  # noqa: DJ012 - admin, migrations, factories, cross-tenant jobs only

    class Meta:
        abstract = True
        default_manager_name = "all_tenants"  # Django internals (related lookups) stay unscoped
