"""Scoring's Celery entry points: ids in, the tenant's scope set, one service call."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from leadcrm.tenancy.scoping import tenant_scope


@shared_task(
    name="scoring.leads_rescore", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def leads_rescore_task(*, tenant_id: int, lead_ids: list[int]) -> int:
    """Rescore leads whose events changed; idempotent, so a redelivered task is harmless."""
    from scoring.lead_scores import leads_rescore

    with tenant_scope(tenant_id):
        return leads_rescore(tenant_id=tenant_id, lead_ids=lead_ids).written


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
