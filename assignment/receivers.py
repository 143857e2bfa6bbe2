"""How leads reach routing: intake's persisting hook (arrivals) and scoring's maturity signal
(leads that events made mature) enqueue a routing task with ids only, after the commit.

Routing moves only unowned, mature leads, and only through an active assignment rule. A tenant
without one (its reps claim from the public pool) has nothing to route: intake learns that
from its configuration probe and enqueues no task, which on a busy single-lead API was a
Celery publish, the costliest step of a submission."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from leads.intake.hooks import IntakePersisting

# Leads per task: a batch of a few hundred keeps each transaction's locks short.
ROUTE_BATCH = 500


def leads_route_enqueue(*, tenant_id: int, lead_ids: list[int]) -> None:
    from assignment.tasks import leads_route_task

    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), ROUTE_BATCH):
        leads_route_task.delay(tenant_id=tenant_id, lead_ids=ids[start : start + ROUTE_BATCH])


ROUTING_PROBE_NAME = "assignment.routing"
ROUTING_PROBE_SQL = (
    "SELECT true FROM assignment_assignmentrule r JOIN assignment_pool p ON p.id = r.pool_id"
    " WHERE r.tenant_id = %(tenant_id)s AND r.is_active AND p.is_active LIMIT 1"
)


def lead_became_mature_route(sender: Any, *, tenant_id: int, lead_ids: list[int], arrived: bool = False,
                             **kwargs: Any) -> None:
    if arrived:  # intake's own hook routes arrivals, knowing whether any rule could take them
        return
    leads_route_enqueue(tenant_id=tenant_id, lead_ids=lead_ids)


def intake_arrivals_route(event: IntakePersisting) -> None:
    """The `persisting` hook after scoring's and pool entry's: the batch's leads that will be
    written unowned and mature (new ones, updated ones, and duplicates the rules left for the
    normal assignment alike) are routed after the commit, when the tenant has an active rule."""
    if not event.config.get(ROUTING_PROBE_NAME):
        return
    leads = [lead for lead in (*event.created, *event.updated) if lead.is_mature and lead.owner_id is None]
    if leads:
        tenant_id = event.tenant_id
        # By the commit the new leads have their ids.
        transaction.on_commit(lambda: leads_route_enqueue(tenant_id=tenant_id, lead_ids=[lead.pk for lead in leads]))
