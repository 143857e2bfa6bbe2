"""What leads tells other apps without importing them (scoring rescores on it). Sent after the
transaction that changed the lead commits, with ids and field names only; receivers enqueue
work and must be idempotent."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

# kwargs: tenant_id: int, lead_ids: list[int], fields: list[str] — the lead fields that changed.
lead_fields_changed = Signal()


def lead_fields_changed_announce(*, tenant_id: int, lead_ids: Sequence[int], fields: Sequence[str]) -> None:
    """Send `lead_fields_changed` once the current transaction commits (at once outside one)."""
    ids, names = list(lead_ids), sorted(set(fields))
    if ids and names:
        transaction.on_commit(
            lambda: lead_fields_changed.send(sender=None, tenant_id=tenant_id, lead_ids=ids, fields=names)
        )
