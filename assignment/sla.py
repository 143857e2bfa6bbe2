"""Follow-up deadlines (T+N) and the sweep that records violations (SPEC §6, API.md SLA).

INTERFACE (the SLA work fills it in): whoever gives leads a new owner calls
`deadlines_start` in the same transaction. Until it is built, no deadline is set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadcrm.tenancy.models import Tenant


def deadlines_start(*, tenant: Tenant, lead_ids: Sequence[int], at: datetime) -> None:
    """Set each lead's `deadline_at` from the SLA policy of its pool (or the tenant-wide one):
    `at` (the owner change) plus the policy's `within`, working hours counted in the owner's
    routing profile; null when no policy applies or the lead has no owner. Set-based."""
    return None
