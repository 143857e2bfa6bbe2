"""A lead's score crossing into hot or mature, on its timeline. Scoring announces crossings by
signal (scoring/signals.py) after the score writer commits; its receiver calls this, so the
lead page can show the moment without leads knowing scoring.

Receivers may be called again for the same change (a retried task sends again), and a signal
may arrive after the lead has changed once more: a row is written only while the lead is still
hot (or mature), and once per score write (`scored_at` is kept in the row and compared)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from django.db import connection

from leads.models import BECAME_HOT_ACTION, BECAME_MATURE_ACTION

Crossing = Literal["hot", "mature"]

_CONDITION = {"hot": "l.tier = 'hot'", "mature": "l.is_mature"}
_ACTION = {"hot": BECAME_HOT_ACTION, "mature": BECAME_MATURE_ACTION}

# One statement for any number of leads. The NOT EXISTS walks the audit's (tenant, object)
# index: a lead has a handful of rows there.
_RECORD_SQL = """
    INSERT INTO tenancy_auditlog (tenant_id, created_at, updated_at, action, object_type, object_id, changes)
    SELECT l.tenant_id, now(), now(), %(action)s, 'lead', l.id::text,
           jsonb_build_object(
               'total', l.score_total, 'tier', l.tier, 'group', l.grade || l.level::text,
               'scored_at', to_char(l.scored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
           )
    FROM leads_lead AS l
    WHERE l.tenant_id = %(tenant_id)s AND l.id = ANY(%(lead_ids)s) AND l.scored_at IS NOT NULL AND {condition}
      AND NOT EXISTS (
          SELECT 1 FROM tenancy_auditlog AS a
          WHERE a.tenant_id = l.tenant_id AND a.object_type = 'lead' AND a.object_id = l.id::text
            AND a.action = %(action)s
            AND a.changes ->> 'scored_at' = to_char(l.scored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
      )
"""


def lead_score_crossings_record(*, tenant_id: int, lead_ids: Sequence[int], crossing: Crossing) -> int:
    """Put "became hot" / "became mature" on the leads' timelines; returns the rows written.
    Call inside the tenant's scope (RLS)."""
    if not lead_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL.format(condition=_CONDITION[crossing]),
            {"action": _ACTION[crossing], "tenant_id": tenant_id, "lead_ids": list(lead_ids)},
        )
        return cursor.rowcount
