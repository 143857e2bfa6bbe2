"""What other apps subscribe to: a lead became mature (及格) or hot (SPEC §4–§5; assignment
routes on it). Sent once per batch after the transaction that changed the scores commits, with
ids only; receivers enqueue work and must be idempotent (a retried task may send again).

Every writer of scores (intake, the event worker, the rescore, the nightly decay) reports its
crossings through `score_crossings_announce`, which defers the send to the commit."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

# kwargs: tenant_id: int, lead_ids: list[int]
lead_became_mature = Signal()
lead_became_hot = Signal()


def score_crossings_announce(*, tenant_id: int, mature_ids: Sequence[int], hot_ids: Sequence[int]) -> None:
    """Send the two signals after the current transaction commits (at once outside one)."""
    mature, hot = list(mature_ids), list(hot_ids)
    if mature or hot:
        transaction.on_commit(lambda: score_crossings_send(tenant_id=tenant_id, mature_ids=mature, hot_ids=hot))


def score_crossings_send(*, tenant_id: int, mature_ids: Sequence[int], hot_ids: Sequence[int]) -> None:
    """Send now: for a caller already running after its commit."""
    if mature_ids:
        lead_became_mature.send(sender=None, tenant_id=tenant_id, lead_ids=list(mature_ids))
    if hot_ids:
        lead_became_hot.send(sender=None, tenant_id=tenant_id, lead_ids=list(hot_ids))
