"""Building SLA situations through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from assignment.models import Pool, RoutingProfile
from assignment.sla import deadlines_start
from assignment.sla_policies import sla_policy_create
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead, OwnerChangeReason
from leads.services import OwnerChange, lead_owner_change_many
from tests.conftest import add_member
from tests.factories import lead_make


def policy_make(created: CreatedTenant, **data: Any) -> Any:
    body = {"name": "首次跟进 2 小时", "pool": None, "within": {"value": 2, "unit": "hours"}, **data}
    with tenant_scope(created.tenant.id):
        return sla_policy_create(tenant=created.tenant, data=body)


def rep_make(created: CreatedTenant, email: str, *, team: str = "", role: str = Role.REP, **profile: Any) -> Any:
    membership = add_member(created, email, role=role, name=email.split("@")[0])
    with tenant_scope(created.tenant.id):
        if team:
            type(membership).objects.filter(id=membership.id).update(team=team)
        if profile:
            RoutingProfile.objects.create(tenant=created.tenant, user_id=membership.user_id, **profile)
    return membership.user


def assigned_lead(created: CreatedTenant, owner_id: int, *, at: datetime | None = None, **fields: Any) -> Lead:
    """A lead in the default pool given to `owner_id` at `at` (default: now), deadline started."""
    lead = lead_make(created, **fields)
    at = at or timezone.now()
    with tenant_scope(created.tenant.id):
        pool_id = lead.pool_id or Pool.objects.get(is_default=True).id
        lead_owner_change_many(
            tenant=created.tenant, reason=OwnerChangeReason.MANUAL,
            changes=[OwnerChange(lead_id=lead.id, owner_id=owner_id, pool_id=pool_id, at=at)],
        )
        deadlines_start(tenant=created.tenant, lead_ids=[lead.id], at=at)
        lead.refresh_from_db()
    return lead


def hours_ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)
