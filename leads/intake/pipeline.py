"""The intake pipeline: a batch through the stages, then the hooks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from leadcrm.tenancy.models import ApiKey, Tenant
from leads.intake.batch import IntakeBatch, IntakeItem, IntakeOutcome
from leads.intake.dedup import dedup
from leads.intake.hooks import (
    DedupDecision,
    IntakeCommitted,
    IntakePersisted,
    hooks_run_persisted,
    hooks_schedule_committed,
)
from leads.intake.persist import persist
from leads.intake.stages import cleanse, normalise, validate

Stage = Callable[[IntakeBatch], None]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("normalise", normalise),
    ("validate", validate),
    ("cleanse", cleanse),
    ("dedup", dedup),
    ("persist", persist),  # runs the `persisting` hooks first
)


def lead_intake_many(
    *,
    tenant: Tenant,
    payloads: list[dict[str, Any]],
    channel: str,
    submitted_by: User | None = None,
    api_key: ApiKey | None = None,
    waived_reasons: frozenset[str] = frozenset(),
    received_at: list[datetime] | None = None,
) -> list[IntakeOutcome]:
    """Run the intake pipeline over payloads (each a dict of lead fields whose types the
    channel has checked); one outcome per payload, same order. Must run inside
    `tenant_scope(tenant.id)`.

    `received_at`: when each payload arrived, for submissions taken in after the fact (a file
    of past leads, the demo's history); the leads, collected submissions and quarantine records
    carry it as their creation time. Never from a client's request body."""
    now = timezone.now()
    if received_at is not None and len(received_at) != len(payloads):
        raise ValueError("received_at needs one time per payload")
    batch = IntakeBatch(
        tenant=tenant, channel=channel, submitted_by=submitted_by, api_key=api_key, waived_reasons=waived_reasons,
        now=now, items=[
            IntakeItem(index=i, raw=raw, at=received_at[i] if received_at else now) for i, raw in enumerate(payloads)
        ],
    )
    for _name, stage in STAGES:
        stage(batch)
    _announce(batch)
    outcomes = [item.outcome for item in batch.items]
    assert all(outcome is not None for outcome in outcomes), "every item leaves with an outcome"
    return [outcome for outcome in outcomes if outcome is not None]


def lead_intake(
    *, tenant: Tenant, payload: dict[str, Any], channel: str, submitted_by: User | None = None,
    api_key: ApiKey | None = None,
) -> IntakeOutcome:
    return lead_intake_many(
        tenant=tenant, payloads=[payload], channel=channel, submitted_by=submitted_by, api_key=api_key
    )[0]


def _announce(batch: IntakeBatch) -> None:
    merged_into = list({o.lead.id: o.lead for i in batch.items if (o := i.outcome) and o.outcome == "merged" and o.lead}.values())
    persisted = IntakePersisted(
        tenant_id=batch.tenant.id, channel=batch.channel, created=batch.to_create, updated=batch.to_update,
        merged_into=merged_into,
    )
    hooks_run_persisted(persisted)
    hooks_schedule_committed(IntakeCommitted(
        tenant_id=batch.tenant.id, channel=batch.channel,
        created_ids=[lead.id for lead in batch.to_create], updated_ids=[lead.id for lead in batch.to_update],
        merged_into_ids=[lead.id for lead in merged_into],
        quarantined_ids=[o.intake_record.id for i in batch.items if (o := i.outcome) and o.intake_record],
        dedup=[
            DedupDecision(
                lead_id=o.lead.id, outcome=o.outcome, rule_id=o.rule_id, action=o.action,
                duplicate_of_id=o.lead.duplicate_of_id if o.outcome == "created" else None, customer_id=o.customer_id,
                owner_id=o.lead.owner_id,
            )
            for i in batch.items if (o := i.outcome) and o.action and o.lead
        ],
    ))
