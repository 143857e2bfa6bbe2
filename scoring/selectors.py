"""Scoring's reads: the events the engine scores a lead with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scoring import engine
from scoring.models import EventFlag, LeadEvent

# Flags whose events the engine still sees: it ignores types its rules do not know, so an
# event of a type added to the catalogue later counts from the next scoring on.
SCORED_FLAGS = (EventFlag.NONE.value, EventFlag.UNKNOWN_TYPE.value)


@dataclass
class LeadEvents:
    events: list[engine.Event] = field(default_factory=list)
    newest_attach: datetime | None = None  # when the latest of them was attached


def lead_events_for_scoring(*, lead_ids: Sequence[int], known_at: datetime | None = None) -> dict[int, LeadEvents]:
    """The leads' attached, scorable events, in one query (inside the tenant's scope).
    `known_at`: only those attached by then (what a score written at that time saw)."""
    queryset = LeadEvent.objects.filter(lead_id__in=list(lead_ids), flag__in=SCORED_FLAGS)
    if known_at is not None:
        queryset = queryset.filter(updated_at__lte=known_at)
    by_lead: dict[int, LeadEvents] = {}
    rows = queryset.order_by().values_list("lead_id", "type", "occurred_at", "event_id", "updated_at")
    for lead_id, type_key, occurred_at, event_id, attached_at in rows.iterator(chunk_size=5000):
        entry = by_lead.get(lead_id)
        if entry is None:
            entry = by_lead[lead_id] = LeadEvents()
        entry.events.append(engine.Event(type=type_key, occurred_at=occurred_at, event_id=event_id))
        if entry.newest_attach is None or attached_at > entry.newest_attach:
            entry.newest_attach = attached_at
    return by_lead
