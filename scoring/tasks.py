"""Scoring's Celery entry points: ids in, the tenant's scope set, one service call."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from leadcrm.tenancy.scoping import tenant_scope


@shared_task(
    name="scoring.leads_rescore", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def leads_rescore_task(*, tenant_id: int, lead_ids: list[int], reason: str = "event") -> int:
    """Rescore leads whose events (or, reason "edit", fields) changed; idempotent, so a
    redelivered task is harmless."""
    from scoring.lead_scores import leads_rescore

    with tenant_scope(tenant_id):
        return leads_rescore(tenant_id=tenant_id, lead_ids=lead_ids, reason=reason).written


@shared_task(
    name="scoring.pending_events_attach", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    max_retries=5,
)
def pending_events_attach_task(*, tenant_id: int, lead_ids: list[int] | None) -> int:
    """Attach the events that waited for these leads (None: for any lead), then rescore them."""
    from scoring.events import pending_events_attach
    from scoring.lead_scores import leads_rescore

    with tenant_scope(tenant_id):
        attached = pending_events_attach(tenant_id=tenant_id, lead_ids=lead_ids)
        if attached:
            leads_rescore(tenant_id=tenant_id, lead_ids=attached)
    return len(attached)


@shared_task(name="scoring.rescore_job_run", acks_late=True, max_retries=0)
def rescore_job_run_task(*, tenant_id: int, job_id: int) -> str | None:
    """Run or resume a rescore job after a rule change; a second delivery of the same job is harmless."""
    from scoring.rescore import rescore_job_fail, rescore_job_run

    try:
        job = rescore_job_run(tenant_id=tenant_id, job_id=job_id)
    except Exception as error:
        rescore_job_fail(tenant_id=tenant_id, job_id=job_id, error=f"{type(error).__name__}: {error}")
        raise
    return None if job is None else job.status


@shared_task(name="scoring.decay_nightly", acks_late=True, max_retries=0)
def decay_nightly_task() -> list[int]:
    """Celery beat, every night: a decay job per tenant whose scores change with time."""
    from scoring.rescore import decay_jobs_create

    return decay_jobs_create()
