"""Follow-up deadlines (T+N) and the sweep that records violations (SPEC §6, API.md SLA).

INTERFACE: whoever gives leads a new owner calls `deadlines_start` in the same transaction.
The deadline is kept on the lead (`Lead.deadline_at`, partial index) so the sweep reads only
the leads that have one; the owner's first follow-up clears it (assignment.followups)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from assignment import sla_engine
from assignment.models import RoutingProfile, SlaPolicy
from leadcrm.db import joined_ints, json_param
from leadcrm.tenancy.models import Tenant

# The policy that governs a lead: its pool's active policy, else the tenant-wide one (pool
# null), else none. `l` is the lead's alias; yields `policy_id` (lowest id wins a tie).
LEAD_POLICY_SQL = """
    COALESCE(
        (SELECT p.id FROM assignment_slapolicy p
          WHERE p.tenant_id = l.tenant_id AND p.pool_id = l.pool_id AND p.is_active ORDER BY p.id LIMIT 1),
        (SELECT p.id FROM assignment_slapolicy p
          WHERE p.tenant_id = l.tenant_id AND p.pool_id IS NULL AND p.is_active ORDER BY p.id LIMIT 1)
    )
"""

_PAIRS_SQL = f"""
    SELECT DISTINCT l.owner_id, {LEAD_POLICY_SQL} AS policy_id
      FROM leads_lead l
     WHERE l.tenant_id = %s AND l.id = ANY(string_to_array(%s, ',')::bigint[]) AND l.owner_id IS NOT NULL
"""

_UPDATE_SQL = f"""
    UPDATE leads_lead AS l SET deadline_at = d.deadline_at
      FROM (SELECT l.id, l.owner_id, {LEAD_POLICY_SQL} AS policy_id
              FROM leads_lead l
             WHERE l.tenant_id = %(tenant)s AND l.id = ANY(string_to_array(%(ids)s, ',')::bigint[])) AS m
      LEFT JOIN jsonb_to_recordset(%(pairs)s::jsonb) AS d(owner_id integer, policy_id bigint, deadline_at timestamptz)
        ON d.owner_id = m.owner_id AND d.policy_id = m.policy_id
     WHERE l.tenant_id = %(tenant)s AND l.id = m.id
"""


def deadlines_start(*, tenant: Tenant, lead_ids: Sequence[int], at: datetime) -> None:
    """Set each lead's `deadline_at` from the SLA policy of its pool (or the tenant-wide one):
    `at` (the owner change) plus the policy's `within`, working hours counted in the owner's
    routing profile; null when no policy applies or the lead has no owner. Set-based."""
    if not lead_ids:
        return
    ids = joined_ints(list(lead_ids))
    with connection.cursor() as cursor:
        cursor.execute(_PAIRS_SQL, [tenant.id, ids])
        pairs = [(owner_id, policy_id) for owner_id, policy_id in cursor.fetchall() if policy_id is not None]
    # All leads share `at`, so a deadline depends only on (owner, policy): a handful of pairs.
    policies = SlaPolicy.objects.in_bulk({policy_id for _owner, policy_id in pairs})
    profiles = {
        p.user_id: p for p in RoutingProfile.objects.filter(user_id__in={owner for owner, _policy in pairs})
    }
    deadlines: list[dict[str, Any]] = []
    for owner_id, policy_id in pairs:
        policy = policies[policy_id]
        profile = profiles.get(owner_id)
        deadline = sla_engine.deadline_compute(
            at=at, value=policy.within_value, unit=policy.within_unit,
            working_hours=profile.working_hours if profile else None,
            tz_name=profile.timezone if profile else tenant.timezone,
        )
        deadlines.append({"owner_id": owner_id, "policy_id": policy_id, "deadline_at": deadline})
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, {"tenant": tenant.id, "ids": ids, "pairs": json_param(deadlines)})
