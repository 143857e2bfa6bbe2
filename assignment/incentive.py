"""The incentive (SPEC §5, seed 04): reps whose follow-ups are timely earn a larger daily
receive cap (`RoutingProfile.cap_bonus`, added to `daily_receive_cap` by routing). The rule is
`sla_engine.cap_bonus_compute`, over the last `INCENTIVE_WINDOW_DAYS` days: deadlines met are
the owner's follow-ups that met one, deadlines missed are violations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from assignment import sla_engine
from leadcrm.db import json_param
from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.scoping import tenant_scope

# Met and missed deadlines per rep who has a routing profile (reps are few: one row each).
_TIMELINESS_SQL = """
    SELECT r.user_id, r.daily_receive_cap,
           (SELECT count(*) FROM assignment_followup f
             WHERE f.tenant_id = r.tenant_id AND f.by_id = r.user_id AND f.met_deadline_at IS NOT NULL
               AND f.created_at >= %(since)s),
           (SELECT count(*) FROM assignment_violation v
             WHERE v.tenant_id = r.tenant_id AND v.owner_id = r.user_id AND v.detected_at >= %(since)s)
      FROM assignment_routingprofile r
     WHERE r.tenant_id = %(tenant)s
"""

_UPDATE_SQL = """
    UPDATE assignment_routingprofile r SET cap_bonus = v.bonus, updated_at = %(now)s
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(user_id integer, bonus integer)
     WHERE r.tenant_id = %(tenant)s AND r.user_id = v.user_id AND r.cap_bonus <> v.bonus
"""


def cap_bonuses_recompute(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Recompute every rep's `cap_bonus` (inside the tenant's scope); returns how many changed."""
    now = now or timezone.now()
    since = now - timedelta(days=sla_engine.INCENTIVE_WINDOW_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(_TIMELINESS_SQL, {"tenant": tenant.id, "since": since})
        rows = [
            {"user_id": user_id, "bonus": sla_engine.cap_bonus_compute(met=met, missed=missed, daily_receive_cap=cap)}
            for user_id, cap, met, missed in cursor.fetchall()
        ]
        if not rows:
            return 0
        cursor.execute(_UPDATE_SQL, {"tenant": tenant.id, "now": now, "rows": json_param(rows)})
        return cursor.rowcount


def cap_bonuses_recompute_all() -> int:
    """Every active tenant, tenant by tenant under RLS (the nightly beat's job)."""
    changed = 0
    for tenant in Tenant.objects.filter(is_active=True).order_by("id"):
        with tenant_scope(tenant.id):
            changed += cap_bonuses_recompute(tenant=tenant)
    return changed
