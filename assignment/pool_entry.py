"""Which pool a new lead enters (SPEC §5, API.md Pools): the first active pool, by position,
whose entry conditions match; the default pool (公海池) takes every other lead.

Decided in intake's `persisting` hook, after scoring's (grade and tier are set by then), so
the pool travels in intake's own INSERT. The tenant's pools are cached per process by a
version that intake's configuration probe reads with its other probes: a submission pays no
statement of ours unless the pools changed since this process last looked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assignment.engine import conditions_match
from assignment.models import Pool
from leads.intake.hooks import IntakePersisting
from leads.models import Lead

# Any edit of a pool changes one of the two (a delete changes the count, an edit updated_at).
POOLS_PROBE_SQL = (
    "SELECT ARRAY[count(*)::bigint, COALESCE((extract(epoch FROM max(updated_at)) * 1000000)::bigint, 0)]"
    " FROM assignment_pool WHERE tenant_id = %(tenant_id)s"
)
PROBE_NAME = "assignment.pools"


@dataclass(frozen=True)
class PoolEntry:
    pool_id: int
    conditions: dict[str, list[str]]
    is_default: bool


_CACHE: dict[tuple[int, tuple[int, ...]], tuple[PoolEntry, ...]] = {}
_CACHE_SIZE = 512


def pool_entries(*, tenant_id: int, version: Sequence[int] | None) -> tuple[PoolEntry, ...]:
    """The tenant's active pools in entry order (the default last), from the cache when the
    probed `version` is the one cached."""
    key = (tenant_id, tuple(version or ()))
    entries = _CACHE.get(key)
    if entries is None:
        rows = Pool.objects.filter(is_active=True).order_by("is_default", "position", "id").values_list(
            "id", "entry_conditions", "is_default"
        )
        entries = tuple(PoolEntry(pool_id=i, conditions=c or {}, is_default=d) for i, c, d in rows)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = entries
    return entries


def pool_for(entries: Sequence[PoolEntry], lead: dict[str, Any]) -> int | None:
    for entry in entries:
        if entry.is_default or conditions_match(entry.conditions, lead):
            return entry.pool_id
    return None


def lead_entry_attributes(lead: Lead) -> dict[str, Any]:
    return {
        "province": lead.province, "city": lead.city, "industry": lead.industry, "source": lead.source,
        "grade": lead.grade if lead.scored_at is not None else "", "tier": lead.tier if lead.scored_at is not None else "",
    }


def intake_leads_place(event: IntakePersisting) -> None:
    """The `persisting` hook: set each new lead's pool (unless intake already gave one)."""
    if not event.created:
        return
    entries = pool_entries(tenant_id=event.tenant_id, version=event.config.get(PROBE_NAME))
    for lead in event.created:
        if lead.pool_id is None:
            lead.pool_id = pool_for(entries, lead_entry_attributes(lead))
