"""Scoring's own receivers of its crossing signals: each crossing goes on the lead's timeline
(an audit row the lead page shows). Assignment subscribes to the same signals later. A lead
that arrives mature or hot needs no line of its own: its creation shows the score it came with
(and intake's request stays free of a second transaction)."""

from __future__ import annotations

from typing import Any

from leadcrm.tenancy.scoping import tenant_scope
from leads.score_crossings import lead_score_crossings_record


def lead_became_hot_record(
    sender: Any, *, tenant_id: int, lead_ids: list[int], arrived: bool = False, **kwargs: Any
) -> None:
    if arrived:
        return
    with tenant_scope(tenant_id):  # after commit: a transaction of its own, with the tenant set for RLS
        lead_score_crossings_record(tenant_id=tenant_id, lead_ids=lead_ids, crossing="hot")


def lead_became_mature_record(
    sender: Any, *, tenant_id: int, lead_ids: list[int], arrived: bool = False, **kwargs: Any
) -> None:
    if arrived:
        return
    with tenant_scope(tenant_id):
        lead_score_crossings_record(tenant_id=tenant_id, lead_ids=lead_ids, crossing="mature")


def lead_fields_changed_rescore(
    sender: Any, *, tenant_id: int, lead_ids: list[int], fields: list[str], **kwargs: Any
) -> None:
    """A person changed a lead's fields (leads.lead_edits): rescore it when the published rules
    read one of them. Sent after commit, so the task sees the new values."""
    from scoring.models import ScoreChangeReason
    from scoring.services import rules_field_names, rules_published
    from scoring.tasks import leads_rescore_task

    with tenant_scope(tenant_id):
        rules = rules_published(tenant_id=tenant_id)
    if rules is not None and set(fields) & rules_field_names(rules):
        leads_rescore_task.delay(tenant_id=tenant_id, lead_ids=lead_ids, reason=ScoreChangeReason.EDIT)
