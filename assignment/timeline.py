"""A lead's timeline (API.md GET /leads/{id}/timeline; the lead page's 动态): its creation,
behaviour events, score changes, owner, pool and status changes (the audit log), follow-ups
and violations, newest first, in one keyset-paginated statement over their own indexes.

Words for people come from `timeline_words`, in the active language, never a raw code."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from assignment.models import BreachAction, FollowUpKind
from leads.fields import FIELDS_BY_NAME
from leads.masking import payload_masked
from leads.models import (
    BECAME_HOT_ACTION,
    BECAME_MATURE_ACTION,
    LEAD_EDIT_ACTION,
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    STATUS_CHANGE_ACTION,
    SYSTEM_STATUS_REASONS,
    LeadStatus,
    OwnerChangeReason,
)
from leads.selectors import owner_labels
from scoring.models import EventType, ScoreChangeReason

KINDS = ("created", "event", "score_change", "owner_change", "pool_change", "status_change", "became_hot",
         "became_mature", "follow_up", "violation", "edit")
_AUDIT_KINDS = {
    OWNER_CHANGE_ACTION: "owner_change", POOL_CHANGE_ACTION: "pool_change", STATUS_CHANGE_ACTION: "status_change",
    BECAME_HOT_ACTION: "became_hot", BECAME_MATURE_ACTION: "became_mature", LEAD_EDIT_ACTION: "edit",
}

# Each branch reads one lead's rows through its (tenant, lead, time) index; `ord` breaks ties
# between sources at the same instant (a violation before the recycle it causes), so (at, ord,
# id) is unique and a cursor can resume.
_TIMELINE_SQL = """
    SELECT * FROM (
        SELECT l.created_at AS at, 0 AS ord, l.id, 'created' AS kind,
               jsonb_build_object('source', l.source, 'by', l.created_by_id) AS data
          FROM leads_lead l WHERE l.tenant_id = %(tenant)s AND l.id = %(lead)s
        UNION ALL
        SELECT e.occurred_at, 1, e.id, 'event', jsonb_build_object('type', e.type, 'properties', e.properties)
          FROM scoring_leadevent e WHERE e.tenant_id = %(tenant)s AND e.lead_id = %(lead)s
        UNION ALL
        SELECT s.at, 2, s.id, 'score_change', jsonb_build_object(
                   'from', s.previous_total, 'to', s.total, 'reason', s.reason, 'grade', s.grade, 'level', s.level,
                   'tier', s.tier)
          FROM scoring_scorechange s WHERE s.tenant_id = %(tenant)s AND s.lead_id = %(lead)s
        UNION ALL
        SELECT a.created_at, 5, a.id, a.action, a.changes || jsonb_build_object('actor', a.actor_id)
          FROM tenancy_auditlog a
         WHERE a.tenant_id = %(tenant)s AND a.object_type = 'lead' AND a.object_id = %(lead_text)s
           AND a.action = ANY(%(actions)s)
        UNION ALL
        SELECT f.created_at, 3, f.id, 'follow_up', jsonb_build_object(
                   'by', f.by_id, 'kind', f.kind, 'content', f.content, 'outcome', f.outcome, 'next_at', f.next_at,
                   'met_deadline_at', f.met_deadline_at)
          FROM assignment_followup f WHERE f.tenant_id = %(tenant)s AND f.lead_id = %(lead)s
        UNION ALL
        SELECT v.detected_at, 4, v.id, 'violation', jsonb_build_object(
                   'owner', v.owner_id, 'deadline_at', v.deadline_at, 'action', v.action, 'policy', v.policy_id)
          FROM assignment_violation v WHERE v.tenant_id = %(tenant)s AND v.lead_id = %(lead)s
    ) t
    WHERE %(after)s::timestamptz IS NULL
       OR (t.at, t.ord, t.id) {compare} (%(after)s::timestamptz, %(after_ord)s, %(after_id)s)
    ORDER BY t.at {order}, t.ord {order}, t.id {order}
    LIMIT %(limit)s
"""
# Older than the cursor (a `next` page), or newer (a `previous` page, read oldest first and
# turned round).
_OLDER_SQL = _TIMELINE_SQL.format(compare="<", order="DESC")
_NEWER_SQL = _TIMELINE_SQL.format(compare=">", order="ASC")


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    ord: int
    id: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]  # newest first
    next_cursor: str  # older items ("" : none)
    previous_cursor: str  # newer items ("" : none, the first page)


class InvalidTimelineCursor(ValueError):
    pass


def _cursor_encode(item: TimelineItem, *, newer: bool = False) -> str:
    position: list[Any] = [item.at.isoformat(), item.ord, item.id]
    raw = json.dumps(position + ["newer"] if newer else position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, int, int, bool]:
    """The position and whether the page wanted is the newer side of it."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(decoded, list) or len(decoded) not in (3, 4) or decoded[3:] not in ([], ["newer"]):
            raise ValueError(cursor)
        at, ord_, item_id = decoded[:3]
        parsed = parse_datetime(at)
        if parsed is None or not isinstance(ord_, int) or not isinstance(item_id, int):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise InvalidTimelineCursor("The cursor is not one this list gave out.") from error
    return parsed, ord_, item_id, len(decoded) == 4


def _edit_masked(data: dict[str, Any]) -> dict[str, Any]:
    """An edit's before and after, with contact values masked: the timeline is read by members
    who see the lead's current contacts masked (a masking pool), and a lead's past numbers are
    no one's business here; the audit log keeps them whole."""
    fields = {
        name: {key: payload_masked({name: value})[name] for key, value in change.items()}
        for name, change in (data.get("fields") or {}).items() if isinstance(change, dict)
    }
    return {**data, "fields": fields}


def lead_timeline_page(*, tenant_id: int, lead_id: int, limit: int = 50, cursor: str = "") -> TimelinePage:
    """One page of the lead's timeline, newest first, with the cursors of the older (`next`)
    and newer (`previous`) pages. Call with a lead the caller may see."""
    after, after_ord, after_id, newer = _cursor_decode(cursor) if cursor else (None, 0, 0, False)
    with connection.cursor() as db:
        db.execute(_NEWER_SQL if newer else _OLDER_SQL, {
            "tenant": tenant_id, "lead": lead_id, "lead_text": str(lead_id), "actions": list(_AUDIT_KINDS),
            "after": after, "after_ord": after_ord, "after_id": after_id, "limit": limit + 1,
        })
        rows = db.fetchall()
    items = [
        TimelineItem(
            at=at, ord=ord_, id=item_id, kind=_AUDIT_KINDS.get(kind, kind),
            data=_edit_masked(parsed) if kind == LEAD_EDIT_ACTION else parsed,
        )
        for at, ord_, item_id, kind, data in rows
        for parsed in [data if isinstance(data, dict) else json.loads(data)]
    ]
    more = len(items) > limit
    items = items[:limit]
    if newer:
        items.reverse()
        # Came from an older page, so there is one; newer ones remain when the read overflowed.
        return TimelinePage(
            items=items, next_cursor=_cursor_encode(items[-1]) if items else "",
            previous_cursor=_cursor_encode(items[0], newer=True) if items and more else "",
        )
    return TimelinePage(
        items=items, next_cursor=_cursor_encode(items[-1]) if more else "",
        previous_cursor=_cursor_encode(items[0], newer=True) if items and after is not None else "",
    )


def event_labels(*, types: set[str]) -> dict[str, str]:
    """The tenant's labels of event types (the newest rule set's wording)."""
    if not types:
        return {}
    labels: dict[str, str] = {}
    for key, label in EventType.objects.filter(key__in=types).order_by("rule_set__version").values_list("key", "label"):
        labels[key] = label
    return labels


def _points(value: Any) -> str:
    return f"{Decimal(str(value)):.0f}" if value is not None else "—"


def timeline_words(
    item: TimelineItem, *, names: dict[int, str], pools: dict[int, str], events: dict[str, str]
) -> tuple[str, str]:
    """(title, detail) of one item in the active language."""
    data = item.data
    if item.kind == "created":
        return _("线索创建"), (_("来源：%(source)s") % {"source": data["source"]}) if data.get("source") else ""
    if item.kind == "event":
        label = events.get(data.get("type", ""), data.get("type", ""))
        return _("行为：%(label)s") % {"label": _(label) if label else label}, ""
    if item.kind == "score_change":
        reason = data.get("reason", "")
        reason_words = str(ScoreChangeReason(reason).label) if reason in ScoreChangeReason.values else reason
        if data.get("from") is None:
            title = _("首次评分：%(to)s 分") % {"to": _points(data.get("to"))}
        else:
            title = _("评分 %(from)s → %(to)s") % {"from": _points(data.get("from")), "to": _points(data.get("to"))}
        return title, f"{reason_words} · {data.get('grade', '')}{data.get('level', '')}"
    if item.kind == "owner_change":
        to = data.get("to")
        title = _("分配给 %(name)s") % {"name": names.get(to, "—")} if to else _("退回线索池，暂无负责人")
        reason = data.get("reason") or ""
        return title, str(OwnerChangeReason(reason).label) if reason in OwnerChangeReason.values else reason
    if item.kind == "pool_change":
        return _("进入线索池「%(pool)s」") % {"pool": pools.get(data.get("to") or 0, "—")}, ""
    if item.kind == "status_change":
        status = data.get("to", "")
        label = LeadStatus(status).label if status in LeadStatus.values else status
        reason = data.get("reason") or ""
        detail = str(SYSTEM_STATUS_REASONS.get(reason, reason))
        return _("状态变为「%(status)s」") % {"status": label}, str(detail)
    if item.kind in ("became_hot", "became_mature"):
        total = data.get("total")
        detail = _("总分 %(total)s · 分组 %(group)s") % {"total": _points(total), "group": data.get("group") or ""}
        title = _("评分升为热线索") if item.kind == "became_hot" else _("评分达到及格线，可以交给销售跟进")
        return title, detail
    if item.kind == "edit":
        parts = [
            f"{FIELDS_BY_NAME[name].label if name in FIELDS_BY_NAME else name}："
            f"{change.get('from') or '—'} → {change.get('to') or '—'}"
            for name, change in (data.get("fields") or {}).items()
        ]
        return _("%(name)s 修改了资料") % {"name": names.get(data.get("actor") or 0, "API")}, " · ".join(parts)
    if item.kind == "follow_up":
        kind = data.get("kind", "")
        kind_label = FollowUpKind(kind).label if kind in FollowUpKind.values else kind
        title = _("%(name)s %(kind)s跟进") % {"name": names.get(data.get("by") or 0, "—"), "kind": kind_label}
        parts = [data.get("content") or "", (_("结果：%(outcome)s") % {"outcome": data["outcome"]}) if data.get("outcome") else ""]
        if data.get("next_at") and (next_at := parse_datetime(data["next_at"])):
            parts.append(_("下次跟进：%(at)s") % {"at": timezone.localtime(next_at).strftime("%Y-%m-%d %H:%M")})
        return title, " · ".join(p for p in parts if p)
    if item.kind == "violation":
        action = data.get("action", "")
        action_words = BreachAction(action).label if action in BreachAction.values else action
        deadline = parse_datetime(data.get("deadline_at") or "")
        deadline_words = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") if deadline else "—"
        return (
            _("%(name)s 超过跟进时限未跟进（违规）") % {"name": names.get(data.get("owner") or 0, "—")},
            _("时限 %(deadline)s · %(action)s") % {"deadline": deadline_words, "action": action_words},
        )
    return item.kind, ""


def timeline_people(items: list[TimelineItem]) -> set[int]:
    """Users an item names (to label them in one query)."""
    ids: set[int] = set()
    for item in items:
        for key in ("by", "to", "owner", "actor"):
            value = item.data.get(key)
            if isinstance(value, int):
                ids.add(value)
    return ids


PAGE_KINDS = frozenset({"event", "score_change", "follow_up", "violation"})  # the rest the lead page words itself


def lead_timeline_rows(*, lead: Any) -> list[tuple[datetime, str, str, str]]:
    """The lead page's share of the timeline (leads.timeline_extensions): follow-ups,
    violations, behaviour events and score changes, newest 200, in the request's language."""
    items = lead_timeline_page(tenant_id=lead.tenant_id, lead_id=lead.id, limit=200).items
    items = [item for item in items if item.kind in PAGE_KINDS]
    names = {uid: label.name for uid, label in owner_labels(user_ids=timeline_people(items)).items()}
    events = event_labels(types={i.data.get("type", "") for i in items if i.kind == "event"})
    rows = []
    for item in items:
        title, detail = timeline_words(item, names=names, pools={}, events=events)
        rows.append((item.at, item.kind.replace("_", "-"), str(title), str(detail)))
    return rows
