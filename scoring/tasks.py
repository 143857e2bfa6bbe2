"""Scoring's Celery entry points: thin wrappers around scoring.rescore."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="scoring.rescore_job_run", acks_late=True, max_retries=0)
def rescore_job_run_task(*, tenant_id: int, job_id: int) -> str | None:
    """Run or resume a rescore job; a second delivery of the same job is harmless."""
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
