"""Pool recycle rules (SPEC §5 "no follow-up in N days → back to the pool"): an owned lead
of a pool with `recycle_after_days` that nobody followed up for that many days, and that its
owner has held at least that long, goes back to its pool unowned (status returned), audited
with its own reason; the owner is told once per batch. Run by the sweep, batch by batch.

Exactly once under concurrent sweeps: a batch locks its leads `FOR UPDATE SKIP LOCKED` and
a row another sweep recycled meanwhile fails the re-checked `owner_id IS NOT NULL`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assignment.models import Pool
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.models import Tenant
from leads.models import LeadStatus, OwnerChangeReason
from leads.services import ReturnedLead, lead_returned_record_many

IDLE_STATUS_REASON = "idle"  # the status change's reason code (worded on the timeline)
RECYCLABLE_STATUSES = (LeadStatus.PENDING, LeadStatus.FOLLOWING, LeadStatus.TRANSFERRED)

# From the recycling pools (few) to their owned leads (lead_tenant_pool_idx), each checked for
# a recent follow-up through followup_lead_idx; one write per lead.
_IDLE_SQL = """
    WITH idle AS (
        SELECT l.id, l.owner_id, l.status, l.name, l.company, p.recycle_after_days AS days
          FROM assignment_pool p JOIN leads_lead l ON l.tenant_id = p.tenant_id AND l.pool_id = p.id
         WHERE p.tenant_id = %(tenant)s AND p.recycle_after_days > 0 AND p.is_active
           AND l.owner_id IS NOT NULL AND l.status = ANY(%(recyclable)s)
           AND l.owner_assigned_at <= %(now)s - make_interval(days => p.recycle_after_days)
           AND NOT EXISTS (
               SELECT 1 FROM assignment_followup f
                WHERE f.tenant_id = %(tenant)s AND f.lead_id = l.id
                  AND f.created_at > %(now)s - make_interval(days => p.recycle_after_days))
         ORDER BY l.id
         LIMIT %(limit)s
         FOR UPDATE OF l SKIP LOCKED
    ),
    returned AS (
        UPDATE leads_lead l SET owner_id = NULL, owner_assigned_at = NULL, status = 'returned', deadline_at = NULL,
               updated_at = GREATEST(l.updated_at, %(now)s)
          FROM idle i
         WHERE l.tenant_id = %(tenant)s AND l.id = i.id
    )
    SELECT id, owner_id, status, days, name, company FROM idle ORDER BY id
"""


@dataclass(frozen=True)
class _Idle:
    lead_id: int
    owner_id: int
    status: str
    days: int
    label: str


def recycling_pools_exist() -> bool:
    """Whether any pool of the tenant in scope recycles (most sweeps skip the statement)."""
    return Pool.objects.filter(recycle_after_days__gt=0, is_active=True).exists()


def idle_leads_recycle_batch(*, tenant: Tenant, now: datetime, limit: int) -> int:
    """One batch inside the tenant's scope and transaction; returns how many leads went back
    (fewer than `limit`: none are left)."""
    with connection.cursor() as cursor:
        cursor.execute(_IDLE_SQL, {"tenant": tenant.id, "now": now, "limit": limit,
                                   "recyclable": list(RECYCLABLE_STATUSES)})
        rows = [_Idle(lead_id=r[0], owner_id=r[1], status=r[2], days=r[3], label=r[4] or r[5] or f"#{r[0]}")
                for r in cursor.fetchall()]
    if not rows:
        return 0
    lead_returned_record_many(
        tenant=tenant, owner_reason=OwnerChangeReason.IDLE, status_reason=IDLE_STATUS_REASON, at=now,
        leads=[ReturnedLead(lead_id=r.lead_id, owner_id=r.owner_id, status=r.status) for r in rows],
    )
    _owners_notify(tenant=tenant, rows=rows, now=now)
    return len(rows)


def _owners_notify(*, tenant: Tenant, rows: list[_Idle], now: datetime) -> None:
    """One notice per owner for the batch, keyed by the owner and the recycle time (a
    redelivered batch is the same notice)."""
    by_owner: dict[int, list[_Idle]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner_id].append(row)
    with translation.override(tenant.locale):
        notices = [
            Notice(
                recipient_id=owner_id, kind="pool.recycle",
                title=ngettext(
                    "%(count)d 条线索长期未跟进，已收回线索池", "%(count)d 条线索长期未跟进，已收回线索池", len(owned)
                ) % {"count": len(owned)},
                body=_("%(days)d 天内没有跟进记录：%(leads)s。") % {
                    "days": min(r.days for r in owned),
                    "leads": "、".join(r.label for r in owned[:5]) + ("…" if len(owned) > 5 else ""),
                },
                url=f"/{tenant.slug}/leads/{owned[0].lead_id}", data={"leads": [r.lead_id for r in owned]},
                dedup_key=f"pool.recycle:{owned[0].lead_id}:{now.isoformat()}:{owner_id}", email=True,
            )
            for owner_id, owned in by_owner.items()
        ]
    notify_many(tenant_id=tenant.id, notices=notices)
