"""What flows through the intake stages: the batch, its items and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from leadcrm.tenancy.models import ApiKey, AuditLog, Tenant
from leads.dedup_rules import RuleSpec
from leads.intake.config import intake_config_read
from leads.models import IntakeRecord, Lead, LeadSubmission
from leads.normalization import NormalisedLead


@dataclass
class IntakeOutcome:
    outcome: str  # created | merged | updated | quarantined | invalid
    lead: Lead | None = None
    intake_record: IntakeRecord | None = None
    reasons: list[str] = field(default_factory=list)  # quarantined: reason codes (API.md)
    errors: dict[str, list[str]] = field(default_factory=dict)  # invalid: field -> messages
    # merged, updated or created as a duplicate: the dedup rule that matched (its name as it was,
    # its id, its action) and the customer when a customer's contact matched
    rule: str = ""
    rule_id: int | None = None
    action: str = ""
    customer_id: int | None = None


@dataclass
class IntakeItem:
    index: int
    raw: dict[str, Any]
    at: datetime  # when it arrived
    normalised: NormalisedLead | None = None
    reasons: list[str] = field(default_factory=list)  # quarantine
    errors: dict[str, list[str]] = field(default_factory=dict)  # invalid: rejected with no record
    tags: list[str] = field(default_factory=list)  # kept, but flagged
    outcome: IntakeOutcome | None = None

    @property
    def fields(self) -> dict[str, Any]:
        assert self.normalised is not None, "normalise runs first"
        return self.normalised.fields

    @property
    def is_open(self) -> bool:
        """Still on its way to becoming a lead: no outcome, nothing against it."""
        return self.outcome is None and not self.reasons and not self.errors


@dataclass
class IntakeBatch:
    tenant: Tenant
    channel: str
    submitted_by: User | None
    api_key: ApiKey | None
    waived_reasons: frozenset[str]
    now: datetime
    items: list[IntakeItem]
    # what persist writes; dedup fills them
    to_create: list[Lead] = field(default_factory=list)
    to_update: list[Lead] = field(default_factory=list)
    submissions: list[LeadSubmission] = field(default_factory=list)
    # (lead, changes, at): audit rows built from their own lead once it has an id
    owner_changes: list[tuple[Lead, dict[str, Any], datetime]] = field(default_factory=list)
    audits: list[AuditLog] = field(default_factory=list)
    lock_keys: list[int] = field(default_factory=list)
    # update_and_reown on a customer's contact: {"id", changed fields…, "at"}
    contact_updates: list[dict[str, Any]] = field(default_factory=list)
    # (lead, previous owner, new owner, rule): previous owners to tell their lead came in again
    reown_notices: list[tuple[Lead, int, int, RuleSpec]] = field(default_factory=list)

    # the configuration probes' values (leads.intake.config), read on first use
    _config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = intake_config_read(tenant_id=self.tenant.id)
        return self._config

    def open_items(self) -> list[IntakeItem]:
        return [item for item in self.items if item.is_open]

    @property
    def actor_id(self) -> int | None:
        return self.submitted_by.id if self.submitted_by else None
