"""Celery entry points of the capture channels."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="capture.import_job_run", acks_late=True, max_retries=0)
def import_job_run_task(*, tenant_id: int, job_id: int) -> str | None:
    """Run or resume an import or dry run; a second delivery carries on from the last committed batch."""
    from capture.import_services import import_job_fail, import_job_run

    try:
        job = import_job_run(tenant_id=tenant_id, job_id=job_id)
    except Exception as error:
        import_job_fail(tenant_id=tenant_id, job_id=job_id, error=f"{type(error).__name__}: {error}")
        raise
    return None if job is None else job.status
