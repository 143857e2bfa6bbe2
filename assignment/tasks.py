"""Assignment's Celery entry points: the SLA sweep every minute, the incentive nightly."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


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
