"""Routing unowned leads to reps by their pool's assignment rules (SPEC §5, API.md Routing).

INTERFACE (the routing work fills it in): other parts of assignment call only
`leads_route`. Until it is built, nothing is routed: every lead waits in its pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from leadcrm.tenancy.models import Tenant


@dataclass
class RoutingResult:
    assigned: dict[int, int] = field(default_factory=dict)  # lead id -> rep's user id
    waiting: list[int] = field(default_factory=list)  # no eligible rep (the pool's admins are told)
    skipped: list[int] = field(default_factory=list)  # owned already, not mature, or gone


def leads_route(
    *, tenant: Tenant, lead_ids: Sequence[int], reason: str, exclude_owner_ids: dict[int, int] | None = None
) -> RoutingResult:
    """Route the given unowned, mature leads (inside the tenant's scope and a transaction):
    first matching rule of each lead's pool, eligible reps only (on duty in their working
    hours, under their daily receive cap and max open, not penalised, not the excluded
    previous owner `exclude_owner_ids[lead_id]`), caps checked and raised under row locks,
    each owner change audited with `reason`, and each routed lead's SLA deadline started
    (`assignment.sla.deadlines_start`). Idempotent: an owned lead is skipped."""
    return RoutingResult(waiting=list(lead_ids))
