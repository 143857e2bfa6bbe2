"""Behaviour events in (API.md "Events"): checking a batch, storing it in one statement, and
attaching the events that were waiting for their lead.

- A batch is checked whole before anything is written: one bad item and nothing of the batch
  is stored, and the error names every bad item and field (`events[3].occurred_at`). A sender
  fixes and resends the batch; the event ids it already sent count as duplicates, so a resend
  is always safe.
- `event_id` is unique per tenant (`INSERT … ON CONFLICT DO NOTHING`): repeated in one batch or
  sent again later, it counts once, also when two batches race.
- Kept but never scored: a type the published rules do not know (`unknown_type`; still scored
  if a later rule set knows it, since the engine decides by the rules of the moment), a time
  more than `FUTURE_SKEW` ahead (`future`), or older than `TOO_OLD` (`too_old`), and a
  reference that matches more than one lead (`ambiguous`: we cannot tell whose it is, so we
  attach it to neither rather than guess).
- A reference that matches no lead keeps the event `pending`. When intake brings a lead with
  that mobile, e-mail or external id, `pending_events_attach` attaches it. An `id` that does
  not exist never attaches later: ids are ours, and a future lead of this tenant that happens
  to get that id is not the lead the sender meant (another tenant's id is just such an id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from leadcrm.db import joined_ints, json_param
from leads.intake.hooks import IntakeCommitted
from leads.normalization import email_problem, normalise_email, parse_phone
from scoring.models import EventFlag, RefKind
from scoring.services import rules_published

MAX_BATCH = 1000
FUTURE_SKEW = timedelta(minutes=5)  # senders' clocks drift; beyond this the time is wrong
TOO_OLD = timedelta(days=365 * 10)
MAX_EVENT_ID = 200
MAX_TYPE = 50
MAX_REF = 254
MAX_SOURCE = 50
REF_KINDS = ("id", "external_id", "mobile", "email")
# Flags whose events the engine still sees (it ignores types its rules do not know).
SCORED_FLAGS = (EventFlag.NONE.value, EventFlag.UNKNOWN_TYPE.value)
FLAG_NAMES = (EventFlag.UNKNOWN_TYPE.value, EventFlag.FUTURE.value, EventFlag.TOO_OLD.value, EventFlag.AMBIGUOUS.value)


class EventBatchInvalid(Exception):
    """The batch has bad items; `errors` maps `events[i].field` to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid events")
        self.errors = errors


@dataclass(frozen=True)
class ParsedEvent:
    ord: int
    event_id: str
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    ref_kind: str
    ref_value: str
    ref_source: str = ""
    flag: str = ""


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    pending: int
    flagged: dict[str, int]
    lead_ids: list[int] = field(default_factory=list)  # leads whose scores the new events may change


# --- checking a batch ----------------------------------------------------------------------------


def _text(value: Any, *, name: str, limit: int, errors: list[tuple[str, str]]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append((name, "Required: a non-empty string."))
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append((name, f"At most {limit} characters."))
    return value


def _occurred_at(value: Any, errors: list[tuple[str, str]], zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, str):
        errors.append(("occurred_at", "Required: an ISO-8601 date and time, e.g. 2026-03-01T09:30:00+08:00."))
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(("occurred_at", f"'{value[:40]}' is not an ISO-8601 date and time, e.g. 2026-03-01T09:30:00+08:00."))
        return None
    # A time without an offset is read in the tenant's zone, as DRF reads every other time.
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _reference(value: Any, errors: list[tuple[str, str]]) -> tuple[str, str, str]:
    if not isinstance(value, dict):
        errors.append(("lead", "Required: an object with one of id, external_id, mobile, email."))
        return "", "", ""
    given = [kind for kind in REF_KINDS if value.get(kind) not in (None, "")]
    unknown = sorted(set(value) - {*REF_KINDS, "source"})
    if unknown:
        errors.append(("lead", f"Unknown key(s): {', '.join(unknown)}. Use one of id, external_id, mobile, email."))
    if len(given) != 1:
        errors.append(("lead", "Give exactly one of id, external_id, mobile, email."))
        return "", "", ""
    kind, raw = given[0], value[given[0]]
    source = value.get("source")
    if source not in (None, "") and kind != "external_id":
        errors.append(("lead.source", "Only goes with external_id."))
    if kind == "id":
        if isinstance(raw, bool) or not (
            (isinstance(raw, int) and raw > 0) or (isinstance(raw, str) and raw.isdigit() and 0 < len(raw) <= 18)
        ):
            errors.append(("lead.id", "A lead id is a positive whole number."))
            return "", "", ""
        return kind, str(int(raw)), ""
    if not isinstance(raw, str):
        errors.append((f"lead.{kind}", "Must be a string."))
        return "", "", ""
    if kind == "mobile":
        parsed = parse_phone(raw)
        if parsed is None or not parsed.is_valid or not parsed.is_mobile:
            errors.append(("lead.mobile", f"'{raw[:40]}' is not a valid mobile number."))
            return "", "", ""
        return kind, parsed.e164, ""
    if kind == "email":
        email = normalise_email(raw)
        if email_problem(email) is not None or len(email) > MAX_REF:
            errors.append(("lead.email", f"'{raw[:60]}' is not a valid e-mail address."))
            return "", "", ""
        return kind, email, ""
    external_id = raw.strip()
    if len(external_id) > 100:
        errors.append(("lead.external_id", "At most 100 characters."))
    if source not in (None, "") and (not isinstance(source, str) or len(source.strip()) > MAX_SOURCE):
        errors.append(("lead.source", f"A string of at most {MAX_SOURCE} characters."))
        source = ""
    return kind, external_id, (source or "").strip()


def event_batch_parse(*, data: Any, known_types: frozenset[str], now: datetime) -> list[ParsedEvent]:
    """The batch's events, checked and normalised; raises EventBatchInvalid naming every bad
    item and field. A plain loop, not a serializer per item: a batch is 1000 items."""
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EventBatchInvalid({"events": ["Required: a list of 1 to 1000 events."]})
    items = data["events"]
    if not items:
        raise EventBatchInvalid({"events": ["The list is empty: send 1 to 1000 events."]})
    zone = ZoneInfo(settings.TIME_ZONE)
    parsed: list[ParsedEvent] = []
    all_errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        errors: list[tuple[str, str]] = []
        if not isinstance(item, dict):
            all_errors[f"events[{index}]"] = ["Expected an event object."]
            continue
        event_id = _text(item.get("event_id"), name="event_id", limit=MAX_EVENT_ID, errors=errors)
        type_key = _text(item.get("type"), name="type", limit=MAX_TYPE, errors=errors)
        occurred_at = _occurred_at(item.get("occurred_at"), errors, zone)
        properties = item.get("properties")
        if properties is None:
            properties = {}
        elif not isinstance(properties, dict):
            errors.append(("properties", "Must be an object."))
        ref_kind, ref_value, ref_source = _reference(item.get("lead"), errors)
        if errors or occurred_at is None:
            for name, message in errors:
                all_errors.setdefault(f"events[{index}].{name}", []).append(message)
            continue
        flag = ""
        if occurred_at > now + FUTURE_SKEW:
            flag = EventFlag.FUTURE
        elif occurred_at < now - TOO_OLD:
            flag = EventFlag.TOO_OLD
        elif type_key not in known_types:
            flag = EventFlag.UNKNOWN_TYPE
        parsed.append(
            ParsedEvent(
                ord=index, event_id=event_id, type=type_key, occurred_at=occurred_at, properties=properties,
                ref_kind=ref_kind, ref_value=ref_value, ref_source=ref_source, flag=str(flag),
            )
        )
    if all_errors:
        raise EventBatchInvalid(all_errors)
    return parsed


# --- storing a batch ------------------------------------------------------------------------------

# The leads a reference names (at most two: two is already "ambiguous"), for a row `r` with
# ref_kind, ref_value, ref_source and ref_id. One branch per kind, each on its own index; the
# kind's test is a one-time filter, so the other branches cost nothing. The `<> ''` terms are
# the partial indexes' conditions: the planner cannot infer them from an equality with a
# value it does not know yet.
_LEADS_OF_REFERENCE = """
    LEFT JOIN LATERAL (
        SELECT array_agg(c.id ORDER BY c.id) AS ids FROM (
            (SELECT l.id FROM leads_lead l
              WHERE r.ref_kind = 'id' AND l.tenant_id = %(tenant)s AND l.id = r.ref_id)
            UNION ALL
            (SELECT l.id FROM leads_lead l
              WHERE r.ref_kind = 'mobile' AND l.tenant_id = %(tenant)s AND l.mobile <> '' AND l.mobile = r.ref_value
              LIMIT 2)
            UNION ALL
            (SELECT l.id FROM leads_lead l
              WHERE r.ref_kind = 'email' AND l.tenant_id = %(tenant)s AND l.email <> '' AND l.email = r.ref_value
              LIMIT 2)
            UNION ALL
            (SELECT l.id FROM leads_lead l
              WHERE r.ref_kind = 'external_id' AND l.tenant_id = %(tenant)s AND l.external_id <> ''
                AND l.external_id = r.ref_value
                AND (r.ref_source = '' OR l.source = r.ref_source) LIMIT 2)
        ) AS c
    ) AS m ON true
"""

_INGEST_SQL = f"""
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(
            ord int, event_id text, type text, occurred_at timestamptz, properties jsonb,
            ref_kind text, ref_value text, ref_source text, ref_id bigint, flag text
        )
    ), firsts AS (
        SELECT DISTINCT ON (event_id) * FROM input ORDER BY event_id, ord
    ), resolved AS (
        SELECT r.*, m.ids FROM firsts AS r {_LEADS_OF_REFERENCE}
    ), inserted AS (
        INSERT INTO scoring_leadevent (
            tenant_id, created_at, updated_at, lead_id, event_id, type, occurred_at, properties, status, flag,
            ref_kind, ref_value, ref_source
        )
        SELECT %(tenant)s, %(now)s, %(now)s,
               CASE WHEN cardinality(r.ids) = 1 THEN r.ids[1] END,
               r.event_id, r.type, r.occurred_at, r.properties,
               CASE WHEN cardinality(r.ids) = 1 THEN 'attached' ELSE 'pending' END,
               CASE WHEN r.flag <> '' THEN r.flag WHEN cardinality(r.ids) > 1 THEN 'ambiguous' ELSE '' END,
               r.ref_kind, r.ref_value, r.ref_source
          FROM resolved AS r ORDER BY r.ord
        ON CONFLICT (tenant_id, event_id) DO NOTHING
        RETURNING lead_id, status, flag
    )
    SELECT count(*),
           count(*) FILTER (WHERE status = 'pending' AND flag <> 'ambiguous'),
           count(*) FILTER (WHERE flag = 'unknown_type'),
           count(*) FILTER (WHERE flag = 'future'),
           count(*) FILTER (WHERE flag = 'too_old'),
           count(*) FILTER (WHERE flag = 'ambiguous'),
           COALESCE(array_agg(DISTINCT lead_id) FILTER (
               WHERE lead_id IS NOT NULL AND flag IN ('', 'unknown_type')), '{{}}')
      FROM inserted
"""


def _row(event: ParsedEvent) -> dict[str, Any]:
    return {
        "ord": event.ord, "event_id": event.event_id, "type": event.type,
        "occurred_at": event.occurred_at.astimezone(UTC), "properties": event.properties,
        "ref_kind": event.ref_kind, "ref_value": event.ref_value, "ref_source": event.ref_source,
        "ref_id": int(event.ref_value) if event.ref_kind == RefKind.ID else None, "flag": event.flag,
    }


# Whether a tenant may have events waiting for their lead, without a query on intake's path:
# a generation that each batch leaving events pending raises after its commit, and the
# generation the attach task last saw with nothing left waiting. Intake asks when the first is
# ahead of the second. The task reads the generation BEFORE it looks, so a batch that commits
# while it looks raises the generation past what it records, and intake keeps asking.
def _marker_keys(tenant_id: int) -> tuple[str, str]:
    return f"scoring:pending-events:marked:{tenant_id}", f"scoring:pending-events:cleared:{tenant_id}"


def pending_marker_raise(*, tenant_id: int) -> None:
    marked, _cleared = _marker_keys(tenant_id)
    cache.add(marked, 0, timeout=None)
    cache.incr(marked)


def pending_marker_generation(*, tenant_id: int) -> int:
    marked, _cleared = _marker_keys(tenant_id)
    cache.add(marked, 0, timeout=None)
    return int(cache.get(marked) or 0)


def pending_marker_clear(*, tenant_id: int, generation: int) -> None:
    """Nothing was waiting as of `generation` (read before looking)."""
    _marked, cleared = _marker_keys(tenant_id)
    cache.set(cleared, generation, timeout=None)


def events_ingest(*, tenant_id: int, data: Any, now: datetime | None = None) -> IngestResult:
    """Check and store one batch (API.md's `{"events": [...]}`) in one statement, inside the
    caller's tenant scope and transaction. The caller enqueues the rescore of `lead_ids` (and
    the attach of pending events) after commit: see `events_after_commit`."""
    now = now or timezone.now()
    rules = rules_published(tenant_id=tenant_id)
    known = frozenset(rules.event_rules) if rules is not None else frozenset()
    events = event_batch_parse(data=data, known_types=known, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            _INGEST_SQL, {"rows": json_param([_row(event) for event in events]), "tenant": tenant_id, "now": now}
        )
        accepted, pending, unknown, future, too_old, ambiguous, lead_ids = cursor.fetchone()
    flagged = dict(zip(FLAG_NAMES, (unknown, future, too_old, ambiguous), strict=True))
    return IngestResult(
        accepted=accepted, duplicates=len(events) - accepted, pending=pending, flagged=flagged,
        lead_ids=sorted(lead_ids),
    )


def events_after_commit(*, tenant_id: int, result: IngestResult) -> None:
    """Once the batch commits: rescore its leads; when it left events pending, mark the tenant
    (intake's hook then looks for them) and look once more, for a lead that intake committed
    while this batch was in flight."""
    from django.db import transaction

    from scoring.tasks import leads_rescore_task, pending_events_attach_task

    if result.lead_ids:
        lead_ids = result.lead_ids
        transaction.on_commit(lambda: leads_rescore_task.delay(tenant_id=tenant_id, lead_ids=lead_ids))
    if result.pending:

        def mark_and_attach() -> None:
            pending_marker_raise(tenant_id=tenant_id)
            pending_events_attach_task.delay(tenant_id=tenant_id, lead_ids=None)

        transaction.on_commit(mark_and_attach)


# --- attaching pending events ---------------------------------------------------------------------

_ATTACH_SQL = f"""
    WITH refs AS (
        SELECT 'mobile' AS kind, l.mobile AS value FROM leads_lead l
         WHERE l.tenant_id = %(tenant)s AND l.id = ANY(%(ids)s) AND l.mobile <> ''
        UNION SELECT 'email', l.email FROM leads_lead l
         WHERE l.tenant_id = %(tenant)s AND l.id = ANY(%(ids)s) AND l.email <> ''
        UNION SELECT 'external_id', l.external_id FROM leads_lead l
         WHERE l.tenant_id = %(tenant)s AND l.id = ANY(%(ids)s) AND l.external_id <> ''
    ), waiting AS (
        SELECT e.id, e.ref_kind, e.ref_value, e.ref_source, NULL::bigint AS ref_id
          FROM scoring_leadevent e
         WHERE e.tenant_id = %(tenant)s AND e.status = 'pending' AND e.flag <> 'ambiguous' AND e.ref_kind <> 'id'
           AND (%(all)s OR (e.ref_kind, e.ref_value) IN (SELECT kind, value FROM refs))
    ), resolved AS (
        SELECT r.id, m.ids FROM waiting AS r {_LEADS_OF_REFERENCE}
    ), attached AS (
        UPDATE scoring_leadevent AS e SET
            lead_id = CASE WHEN cardinality(r.ids) = 1 THEN r.ids[1] END,
            status = CASE WHEN cardinality(r.ids) = 1 THEN 'attached' ELSE 'pending' END,
            flag = CASE WHEN cardinality(r.ids) > 1 AND e.flag = '' THEN 'ambiguous' ELSE e.flag END,
            updated_at = %(now)s
          FROM resolved AS r
         WHERE e.tenant_id = %(tenant)s AND e.id = r.id AND e.status = 'pending' AND cardinality(r.ids) >= 1
        RETURNING e.lead_id, e.flag
    )
    SELECT COALESCE(array_agg(DISTINCT lead_id) FILTER (
               WHERE lead_id IS NOT NULL AND flag IN ('', 'unknown_type')), '{{}}')
      FROM attached
"""


def pending_events_attach(*, tenant_id: int, lead_ids: Sequence[int] | None, now: datetime | None = None) -> list[int]:
    """Attach the pending events whose reference now names exactly one lead, in one statement;
    returns the leads that got events to score. `lead_ids`: the leads intake just wrote (only
    their references are looked at); None: every pending event of the tenant. Inside the
    caller's tenant scope. Safe twice at once: a row another run attached is no longer pending."""
    now = now or timezone.now()
    ids = list(lead_ids or [])
    with connection.cursor() as cursor:
        cursor.execute(
            _ATTACH_SQL.replace("%(ids)s", "string_to_array(%(ids)s, ',')::bigint[]"),
            {"tenant": tenant_id, "ids": joined_ints(ids), "all": lead_ids is None, "now": now},
        )
        (attached,) = cursor.fetchone()
    return sorted(attached)


_PENDING_EXIST_SQL = """
    SELECT EXISTS (
        SELECT 1 FROM scoring_leadevent
         WHERE tenant_id = %s AND status = 'pending' AND flag <> 'ambiguous' AND ref_kind <> 'id'
    )
"""


def pending_marker_refresh(*, tenant_id: int) -> bool:
    """Record whether any event may still attach (inside the tenant's scope)."""
    generation = pending_marker_generation(tenant_id=tenant_id)  # before looking
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_EXIST_SQL, [tenant_id])
        (remaining,) = cursor.fetchone()
    if not remaining:
        pending_marker_clear(tenant_id=tenant_id, generation=generation)
    return bool(remaining)


def tenant_may_have_pending_events(tenant_id: int) -> bool:
    """Intake's cheap question, one cache read and no query: yes while a batch that left events
    pending is newer than the attach task's last "none left". Unknown (a new tenant, an emptied
    cache) answers yes: the task then finds out and records it."""
    marked, cleared = _marker_keys(tenant_id)
    values = cache.get_many([marked, cleared])
    if marked not in values or cleared not in values:
        return True
    return int(values[marked]) > int(values[cleared])


def intake_pending_events_enqueue(event: IntakeCommitted) -> None:
    """Intake's `committed` hook: when the tenant may have events waiting, enqueue the task that
    attaches those naming the leads just written. Costs intake one cache read otherwise."""
    from scoring.tasks import pending_events_attach_task

    lead_ids = sorted({*event.created_ids, *event.updated_ids, *event.merged_into_ids})
    if lead_ids and tenant_may_have_pending_events(event.tenant_id):
        pending_events_attach_task.delay(tenant_id=event.tenant_id, lead_ids=lead_ids)
