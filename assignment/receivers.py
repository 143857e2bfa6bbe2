"""How leads reach routing: scoring's maturity signal and intake's committed hook enqueue a
routing task with ids only (both run after their transaction commits)."""

from __future__ import annotations

from typing import Any

from leads.intake.hooks import IntakeCommitted

# Leads per task: a batch of a few hundred keeps each transaction's locks short.
ROUTE_BATCH = 500


def leads_route_enqueue(*, tenant_id: int, lead_ids: list[int]) -> None:
    from assignment.tasks import leads_route_task

    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), ROUTE_BATCH):
        leads_route_task.delay(tenant_id=tenant_id, lead_ids=ids[start : start + ROUTE_BATCH])


def lead_became_mature_route(sender: Any, *, tenant_id: int, lead_ids: list[int], **kwargs: Any) -> None:
    leads_route_enqueue(tenant_id=tenant_id, lead_ids=lead_ids)


def intake_committed_route(event: IntakeCommitted) -> None:
    """Duplicates the dedup rules left for the normal assignment; mature arrivals come through
    scoring's signal (routing skips leads that are not mature)."""
    if event.to_assign_ids:
        leads_route_enqueue(tenant_id=event.tenant_id, lead_ids=event.to_assign_ids)
