"""Why a hot (or warm) lead is hot, at a glance on the workbench list: its one or two biggest
reasons in a few words ("申请演示 ×2 · 3 天前"). Registered as a list-notes provider
(leads/list_extensions.py) so leads never imports scoring.

One query for the page: each listed hot/warm lead's latest positive events (a LATERAL walk of
the (tenant, lead, occurred_at) index, at most `EVENTS_PER_LEAD` rows each), counted by type.
The weight of a type is an estimate of what it adds (points × counted occurrences × decay of
its latest one): enough to rank reasons, not the explanation itself, which the lead's page
shows exactly. A lead hot by its profile alone gets its best matching attribute rule instead."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from leads.models import Lead, Tier
from scoring import engine
from scoring.services import rules_of_version

EVENTS_PER_LEAD = 200
REASONS_PER_LEAD = 2
_EXPLAINED_TIERS = (Tier.HOT, Tier.WARM)

_EVENT_COUNTS_SQL = """
    SELECT page.id, recent.type, count(*), max(recent.occurred_at)
    FROM unnest(%(lead_ids)s::bigint[]) AS page(id)
    CROSS JOIN LATERAL (
        SELECT e.type, e.occurred_at FROM scoring_leadevent AS e
        WHERE e.tenant_id = %(tenant_id)s AND e.lead_id = page.id AND e.status = 'attached' AND e.flag = ''
          AND e.type = ANY(%(types)s) AND e.occurred_at <= %(now)s
        ORDER BY e.occurred_at DESC LIMIT %(per_lead)s
    ) AS recent
    GROUP BY page.id, recent.type
"""


@dataclass(frozen=True)
class Reason:
    weight: float
    words: str


def _ago(at: datetime, now: datetime) -> str:
    days = (timezone.localtime(now).date() - timezone.localtime(at).date()).days
    if days <= 0:
        return gettext("今天")
    if days == 1:
        return gettext("昨天")
    return ngettext("%(days)s 天前", "%(days)s 天前", days) % {"days": days}


def _event_reason(rule: engine.EventRule, count: int, latest: datetime, now: datetime) -> Reason:
    counted = min(count, rule.cap_count) if rule.cap_count else count
    decay = 1.0
    if rule.half_life_days:
        age_days = max((now - latest).total_seconds() / 86400, 0.0)
        decay = math.pow(0.5, age_days / float(rule.half_life_days))
    label = gettext(rule.label)
    what = f"{label} ×{count}" if count > 1 else label
    return Reason(weight=float(rule.points) * counted * decay, words=f"{what} · {_ago(latest, now)}")


def _profile_reasons(lead: Lead, rules: engine.RuleSet, now: datetime) -> list[Reason]:
    # Only columns the list loaded: a deferred one would cost a query per row.
    deferred = lead.get_deferred_fields()
    attributes = {
        name: None if name in deferred else getattr(lead, name, None)
        for name in {rule.field for rule in rules.attribute_rules}
    }
    result = engine.score_compute(rules=rules, attributes=attributes, events=(), now=now)
    return [
        Reason(weight=float(item.points), words=gettext("画像：%(label)s") % {"label": gettext(item.label)})
        for item in result.contributions
        if item.kind == "attribute" and item.points > 0
    ]


def lead_list_reasons(*, leads: Sequence[Lead]) -> dict[int, list[str]]:
    """The biggest reasons of each hot or warm lead on the page, best first."""
    explained = [lead for lead in leads if lead.scored_at is not None and lead.tier in _EXPLAINED_TIERS]
    if not explained:
        return {}
    tenant_id = explained[0].tenant_id
    rules_by_version: dict[int, engine.RuleSet] = {}
    for version in {lead.score_version for lead in explained if lead.score_version is not None}:
        if (rules := rules_of_version(tenant_id=tenant_id, version=version)) is not None:
            rules_by_version[version] = rules
    positive = sorted({
        key for rules in rules_by_version.values() for key, rule in rules.event_rules.items() if rule.points > Decimal(0)
    })
    now = timezone.now()
    counts: dict[int, list[tuple[str, int, datetime]]] = {}
    if positive:
        with connection.cursor() as cursor:
            cursor.execute(_EVENT_COUNTS_SQL, {
                "lead_ids": [lead.id for lead in explained], "tenant_id": tenant_id, "types": positive,
                "now": now, "per_lead": EVENTS_PER_LEAD,
            })
            for lead_id, event_type, count, latest in cursor.fetchall():
                counts.setdefault(lead_id, []).append((event_type, count, latest))
    notes: dict[int, list[str]] = {}
    for lead in explained:
        rules = rules_by_version.get(lead.score_version or 0)
        if rules is None:
            continue
        reasons = [
            _event_reason(rules.event_rules[event_type], count, latest, now)
            for event_type, count, latest in counts.get(lead.id, [])
            if event_type in rules.event_rules and rules.event_rules[event_type].points > 0
        ]
        if not reasons:
            reasons = _profile_reasons(lead, rules, now)
        reasons.sort(key=lambda reason: reason.weight, reverse=True)
        if words := [reason.words for reason in reasons[:REASONS_PER_LEAD] if reason.weight > 0]:
            notes[lead.id] = words
    return notes
