"""Assignment's Celery entry points: routing (ids in, the tenant's scope set, one service call),
the SLA sweep every minute, the incentive nightly."""

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


@shared_task(
    name="assignment.sla_sweep", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
    ignore_result=True,
)
def sla_sweep_task(*, tenant_id: int | None = None) -> dict[str, int]:
    """Record violations, recycle or redistribute, penalise, notify; warn before deadlines.
    Each batch is one transaction and only the sweep that records a violation acts, so a
    redelivered or concurrent run is harmless."""
    from assignment.sweep import sla_sweep, sla_sweep_all
    from leadcrm.tenancy.models import Tenant

    if tenant_id is None:
        return sla_sweep_all().as_dict()
    tenant = Tenant.objects.filter(id=tenant_id, is_active=True).first()
    if tenant is None:
        return {}
    return sla_sweep(tenant=tenant).as_dict()


@shared_task(name="assignment.cap_bonuses_recompute", acks_late=True, max_retries=0, ignore_result=True)
def cap_bonuses_recompute_task() -> int:
    """Nightly: each rep's extra daily cap from their follow-up timeliness (assignment.incentive)."""
    from assignment.incentive import cap_bonuses_recompute_all

    return cap_bonuses_recompute_all()
