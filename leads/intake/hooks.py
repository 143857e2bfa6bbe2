"""Where other apps plug into intake, so intake never imports them.

Three moments:
- `persisting`: inside intake's transaction, after dedup decided and before the leads are
  written, with the lead objects (no ids yet for new ones) and the batch's configuration
  probes (leads.intake.config): a hook may set fields, which are written with the lead in the
  same statement (scoring scores new leads here, in the same request, for no extra query);
- `persisted`: inside intake's transaction, right after the leads are written, with the lead
  objects;
- `committed`: after the transaction commits, with ids only (enqueue tasks, route, notify).
Hooks register from their app's `AppConfig.ready()`; they run in registration order. A
`persisted` hook that raises rolls the whole intake back; a `committed` hook runs once the data
is safe, so it should only enqueue work (tasks take ids and are idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.db import transaction

from leads.models import Lead


@dataclass(frozen=True)
class IntakePersisting:
    tenant_id: int
    channel: str
    created: list[Lead]  # not written yet: no ids
    updated: list[Lead]  # existing leads, loaded whole, with the submission's changes
    config: dict[str, Any]  # the configuration probes' values, by probe name
    now: datetime


@dataclass(frozen=True)
class IntakePersisted:
    tenant_id: int
    channel: str
    created: list[Lead]
    updated: list[Lead]
    merged_into: list[Lead]  # existing leads that collected (归集) a submission


@dataclass(frozen=True)
class DedupDecision:
    """What a duplicate rule did with one submission, for routing and notifications.

    `action` is the rule's (leads.dedup_rules.DedupAction). A created lead with `owner_id` None
    is left for the normal assignment: explicitly so for `assign`, and for `route_to_owner` when
    the record it duplicates has no owner; `tag` leaves it to whatever happens to new leads."""

    lead_id: int  # the new lead (created), or the existing one (merged, updated)
    outcome: str  # created | merged | updated
    rule_id: int | None
    action: str
    duplicate_of_id: int | None
    customer_id: int | None
    owner_id: int | None


@dataclass(frozen=True)
class IntakeCommitted:
    tenant_id: int
    channel: str
    created_ids: list[int]
    updated_ids: list[int]
    merged_into_ids: list[int]
    quarantined_ids: list[int] = field(default_factory=list)
    dedup: list[DedupDecision] = field(default_factory=list)

    @property
    def to_assign_ids(self) -> list[int]:
        """New duplicates the rules left for the normal assignment (unowned, in their pool)."""
        return [d.lead_id for d in self.dedup if d.outcome == "created" and d.owner_id is None and d.action in _ASSIGNING]


_ASSIGNING = frozenset({"assign", "route_to_owner"})

PersistingHook = Callable[[IntakePersisting], None]
PersistedHook = Callable[[IntakePersisted], None]
CommittedHook = Callable[[IntakeCommitted], None]

_persisting: dict[str, PersistingHook] = {}
_persisted: dict[str, PersistedHook] = {}
_committed: dict[str, CommittedHook] = {}


def intake_hook_register(
    *,
    name: str,
    when: Literal["persisting", "persisted", "committed"],
    hook: PersistingHook | PersistedHook | CommittedHook,
) -> None:
    """Register (or replace, on a repeated `ready()`) the hook called `name`."""
    # the caller pairs `when` with the hook's type
    if when == "persisting":
        _persisting[name] = hook  # type: ignore[assignment]
    elif when == "persisted":
        _persisted[name] = hook  # type: ignore[assignment]
    else:
        _committed[name] = hook  # type: ignore[assignment]


def intake_hook_unregister(*, name: str) -> None:
    _persisting.pop(name, None)
    _persisted.pop(name, None)
    _committed.pop(name, None)


def hooks_run_persisting(event: IntakePersisting) -> None:
    for hook in list(_persisting.values()):
        hook(event)


def hooks_run_persisted(event: IntakePersisted) -> None:
    for hook in list(_persisted.values()):
        hook(event)


def hooks_schedule_committed(event: IntakeCommitted) -> None:
    if not _committed:
        return
    hooks = list(_committed.values())

    def run() -> None:
        for hook in hooks:
            hook(event)

    transaction.on_commit(run)
