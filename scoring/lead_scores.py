"""Rescoring leads from their attributes and attached events (the event worker, the demo).

One transaction per call: the leads' rows are locked in id order (two workers on overlapping
leads wait for each other instead of deadlocking, and the second computes from what the first
wrote), their events are read in one query, and one statement writes the leads that changed
together with one `ScoreChange` row per changed score. Running it twice gives the same scores
and no second ScoreChange: a lead is written only when its score, its last activity or its
events changed since it was scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leadcrm.db import json_param
from leads.models import Lead
from scoring import engine
from scoring.models import ScoreChangeReason
from scoring.selectors import LeadEvents, lead_events_for_scoring
from scoring.services import lead_attributes, lead_inactivity_start, rules_field_names, rules_published
from scoring.signals import score_crossings_announce

_WRITE_SQL = """
    WITH v AS (
        SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(
            id bigint, total numeric, static numeric, dynamic numeric, grade text, level smallint, tier text,
            mature boolean, version integer, last_activity_at timestamptz, previous_total numeric, changed boolean
        )
    ), written AS (
        UPDATE leads_lead AS l SET
            score_total = v.total, score_static = v.static, score_dynamic = v.dynamic,
            grade = v.grade, level = v.level, tier = v.tier, is_mature = v.mature,
            scored_at = %(now)s, score_version = v.version, last_activity_at = v.last_activity_at
          FROM v
         WHERE l.tenant_id = %(tenant)s AND l.id = v.id
        RETURNING l.id
    )
    INSERT INTO scoring_scorechange (
        tenant_id, created_at, updated_at, lead_id, at, reason, version, previous_total,
        total, static, dynamic, grade, level, tier, mature
    )
    SELECT %(tenant)s, %(now)s, %(now)s, v.id, %(now)s, %(reason)s, v.version, v.previous_total,
           v.total, v.static, v.dynamic, v.grade, v.level, v.tier, v.mature
      FROM v JOIN written ON written.id = v.id
     WHERE v.changed
"""

_LOCKED_FIELDS = (
    "id", "tenant_id", "created_at", "last_activity_at", "scored_at", "score_version", "score_total",
    "score_static", "score_dynamic", "grade", "level", "tier", "is_mature",
)


@dataclass(frozen=True)
class RescoreOutcome:
    written: int  # leads whose row was written
    changed: int  # of them, leads whose score changed (one ScoreChange each)
    mature_ids: list[int]
    hot_ids: list[int]


def _score_changed(lead: Lead, result: engine.ScoreResult) -> bool:
    if lead.scored_at is None:
        return True
    stored = (
        Decimal(lead.score_total), Decimal(lead.score_static), Decimal(lead.score_dynamic), lead.grade, lead.level,
        lead.tier, lead.is_mature, lead.score_version,
    )
    return stored != (
        result.total, result.static, result.dynamic, result.grade, result.level, result.tier, result.mature,
        result.version,
    )


def _latest_activity(lead: Lead, result: engine.ScoreResult, events: LeadEvents | None) -> datetime | None:
    """The lead's last activity: the later of the stored one and its newest scored event."""
    ignored = {item.event.event_id for item in result.ignored}
    times = [event.occurred_at for event in (events.events if events else ()) if event.event_id not in ignored]
    latest = max(times, default=None)
    if lead.last_activity_at is None:
        return latest
    return lead.last_activity_at if latest is None else max(latest, lead.last_activity_at)


@transaction.atomic
def leads_rescore(
    *, tenant_id: int, lead_ids: Sequence[int], reason: str = ScoreChangeReason.EVENT, now: datetime | None = None
) -> RescoreOutcome:
    """Score the leads under the published rules with their events; write those that changed.
    Inside the tenant's scope. Leads gone since the task was enqueued are skipped."""
    rules = rules_published(tenant_id=tenant_id)
    if rules is None or not lead_ids:
        return RescoreOutcome(written=0, changed=0, mature_ids=[], hot_ids=[])
    fields = rules_field_names(rules)
    leads = list(
        Lead.objects.filter(id__in=sorted(set(lead_ids)))
        .order_by("id")
        .only(*_LOCKED_FIELDS, *fields)
        .select_for_update(of=("self",))
    )
    now = now or timezone.now()  # after the lock: events committed before it are all seen
    events = lead_events_for_scoring(lead_ids=[lead.id for lead in leads])
    rows: list[dict[str, Any]] = []
    mature_ids: list[int] = []
    hot_ids: list[int] = []
    for lead in leads:
        own = events.get(lead.id)
        result = engine.score_compute(
            rules=rules, attributes=lead_attributes(lead, fields), events=own.events if own else (), now=now,
            last_activity_at=lead_inactivity_start(lead),
        )
        changed = _score_changed(lead, result)
        last_activity_at = _latest_activity(lead, result, own)
        events_since = own is not None and own.newest_attach is not None and (
            lead.scored_at is None or own.newest_attach > lead.scored_at
        )
        if not (changed or events_since or last_activity_at != lead.last_activity_at):
            continue
        was_scored = lead.scored_at is not None
        rows.append({
            "id": lead.id, "total": str(result.total), "static": str(result.static), "dynamic": str(result.dynamic),
            "grade": result.grade, "level": result.level, "tier": result.tier, "mature": result.mature,
            "version": result.version, "last_activity_at": last_activity_at,
            "previous_total": str(lead.score_total) if was_scored else None, "changed": changed,
        })
        if result.mature and not (was_scored and lead.is_mature):
            mature_ids.append(lead.id)
        if result.tier == "hot" and not (was_scored and lead.tier == "hot"):
            hot_ids.append(lead.id)
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(_WRITE_SQL, {"rows": json_param(rows), "tenant": tenant_id, "now": now, "reason": reason})
    score_crossings_announce(tenant_id=tenant_id, mature_ids=mature_ids, hot_ids=hot_ids)
    return RescoreOutcome(
        written=len(rows), changed=sum(1 for row in rows if row["changed"]), mature_ids=mature_ids, hot_ids=hot_ids
    )
