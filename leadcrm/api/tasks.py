"""The API's housekeeping tasks."""

from celery import shared_task


@shared_task(name="leadcrm.idempotency_purge", acks_late=True, max_retries=0)
def idempotency_purge_task() -> int:
    """Drop Idempotency-Key records older than 24 hours."""
    from leadcrm.api.idempotency import idempotency_purge_expired

    return idempotency_purge_expired()
