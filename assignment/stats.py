"""Follow-up statistics (跟进数据统计表, SPEC §6, seed 04): per rep and per lead, over a date
range. Reads only; one statement per table (reps are few; leads are bounded by the range and
a limit, or streamed for the CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from leadcrm.tenancy.models import Role

_REPS_SQL = """
    SELECT m.user_id, COALESCE(NULLIF(m.display_name, ''), u.email), m.team,
        (SELECT count(*) FROM tenancy_auditlog a
          WHERE a.tenant_id = m.tenant_id AND a.action = 'lead.owner_change' AND a.object_type = 'lead'
            AND a.changes->>'to' = m.user_id::text AND a.created_at >= %(start)s AND a.created_at < %(end)s),
        (SELECT count(*) FROM assignment_followup f
          WHERE f.tenant_id = m.tenant_id AND f.by_id = m.user_id AND f.created_at >= %(start)s AND f.created_at < %(end)s),
        (SELECT count(*) FROM assignment_followup f
          WHERE f.tenant_id = m.tenant_id AND f.by_id = m.user_id AND f.met_deadline_at IS NOT NULL
            AND f.created_at >= %(start)s AND f.created_at < %(end)s),
        (SELECT count(*) FROM assignment_violation v
          WHERE v.tenant_id = m.tenant_id AND v.owner_id = m.user_id AND v.detected_at >= %(start)s AND v.detected_at < %(end)s),
        (SELECT avg(extract(epoch FROM f.created_at - f.assignment_at)) FROM assignment_followup f
          WHERE f.tenant_id = m.tenant_id AND f.by_id = m.user_id AND f.assignment_at IS NOT NULL
            AND f.created_at >= %(start)s AND f.created_at < %(end)s),
        COALESCE(r.cap_bonus, 0), r.penalty_until
      FROM tenancy_membership m JOIN auth_user u ON u.id = m.user_id
      LEFT JOIN assignment_routingprofile r ON r.tenant_id = m.tenant_id AND r.user_id = m.user_id
     WHERE m.tenant_id = %(tenant)s AND m.is_active AND m.role = ANY(%(roles)s)
       AND (%(team)s = '' OR m.team = %(team)s) AND (%(rep)s::integer IS NULL OR m.user_id = %(rep)s::integer)
"""

_LEADS_SQL = """
    SELECT l.id, l.name, l.company, l.status, l.owner_id, l.created_at, l.source, fu.n, fu.first_at, fu.last_at,
           (SELECT count(*) FROM assignment_violation v WHERE v.tenant_id = l.tenant_id AND v.lead_id = l.id) AS violations,
           (SELECT count(*) FROM tenancy_auditlog a
             WHERE a.tenant_id = l.tenant_id AND a.object_type = 'lead' AND a.object_id = l.id::text
               AND a.action = 'lead.owner_change' AND a.changes->>'reason' = 'recycle') AS recycles
      FROM leads_lead l
      LEFT JOIN LATERAL (
          SELECT count(*) AS n, min(f.created_at) AS first_at, max(f.created_at) AS last_at
            FROM assignment_followup f WHERE f.tenant_id = l.tenant_id AND f.lead_id = l.id
      ) fu ON true
     WHERE l.tenant_id = %(tenant)s AND l.created_at >= %(start)s AND l.created_at < %(end)s
       AND (%(owners)s::integer[] IS NULL OR l.owner_id = ANY(%(owners)s::integer[]))
     ORDER BY {order}, l.id DESC
"""
LEAD_ORDERS = {
    "-created_at": "l.created_at DESC",
    "-follow_ups": "fu.n DESC",
    "-first_response": "(fu.first_at - l.created_at) DESC NULLS LAST",
    "-violations": "violations DESC",
}
REP_ORDERS = ("-timeliness", "timeliness", "-violations", "-received", "avg_first_response")


@dataclass(frozen=True)
class RepStats:
    user_id: int
    name: str
    team: str
    received: int
    follow_ups: int
    in_time: int
    violations: int
    avg_first_response: timedelta | None
    cap_bonus: int
    penalty_until: datetime | None

    @property
    def timeliness(self) -> float | None:
        """Share of deadlines met, in %; None without deadlines."""
        total = self.in_time + self.violations
        return round(100 * self.in_time / total, 1) if total else None


@dataclass(frozen=True)
class LeadStats:
    id: int
    name: str
    company: str
    status: str
    owner_id: int | None
    created_at: datetime
    source: str
    follow_ups: int
    first_follow_up_at: datetime | None
    last_follow_up_at: datetime | None
    violations: int
    recycles: int

    @property
    def first_response(self) -> timedelta | None:
        return self.first_follow_up_at - self.created_at if self.first_follow_up_at else None


def rep_stats(*, tenant_id: int, start: datetime, end: datetime, team: str = "", rep_id: int | None = None,
              order: str = "-timeliness") -> list[RepStats]:
    with connection.cursor() as cursor:
        cursor.execute(_REPS_SQL, {
            "tenant": tenant_id, "start": start, "end": end, "team": team, "rep": rep_id,
            "roles": [Role.REP, Role.MANAGER],
        })
        rows = [
            RepStats(user_id=r[0], name=r[1], team=r[2], received=r[3], follow_ups=r[4], in_time=r[5], violations=r[6],
                     avg_first_response=timedelta(seconds=float(r[7])) if r[7] is not None else None,
                     cap_bonus=r[8], penalty_until=r[9])
            for r in cursor.fetchall()
        ]
    key: dict[str, Any] = {
        "-timeliness": lambda s: (-(s.timeliness if s.timeliness is not None else -1), s.name),
        "timeliness": lambda s: (s.timeliness if s.timeliness is not None else 101, s.name),
        "-violations": lambda s: (-s.violations, s.name),
        "-received": lambda s: (-s.received, s.name),
        "avg_first_response": lambda s: (s.avg_first_response or timedelta.max, s.name),
    }
    return sorted(rows, key=key.get(order, key["-timeliness"]))


def lead_stats(*, tenant_id: int, start: datetime, end: datetime, owner_ids: list[int] | None = None,
               order: str = "-created_at", limit: int | None = 200) -> Iterator[LeadStats]:
    """Leads created in the range with their follow-up figures; `limit` None streams them all
    (server-side cursor, for the CSV)."""
    sql = _LEADS_SQL.format(order=LEAD_ORDERS.get(order, LEAD_ORDERS["-created_at"]))
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    params: dict[str, Any] = {"tenant": tenant_id, "start": start, "end": end, "owners": owner_ids}
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(1000):
            for r in chunk:
                yield LeadStats(id=r[0], name=r[1], company=r[2], status=r[3], owner_id=r[4], created_at=r[5],
                                source=r[6], follow_ups=r[7], first_follow_up_at=r[8], last_follow_up_at=r[9],
                                violations=r[10], recycles=r[11])
