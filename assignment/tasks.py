"""Assignment's Celery entry points: ids in, the tenant's scope set, one service call."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from leadcrm.tenancy.scoping import tenant_scope


@shared_task(
    name="assignment.leads_route", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    max_retries=5,
)
def leads_route_task(*, tenant_id: int, lead_ids: list[int], reason: str = "assignment_rule") -> int:
    """Route leads that became mature (or that dedup left for assignment). Idempotent: an owned
    lead is skipped, so a redelivered task (acks_late, a worker killed mid-batch) finishes the
    batch without assigning any lead twice. Returns how many were assigned."""
    from assignment.routing import leads_route
    from leadcrm.tenancy.models import Tenant

    tenant = Tenant.objects.filter(id=tenant_id).first()
    if tenant is None:
        return 0
    with tenant_scope(tenant_id):
        return len(leads_route(tenant=tenant, lead_ids=lead_ids, reason=reason).assigned)
