"""Building routing set-ups through the real services."""

from __future__ import annotations

from typing import Any

from assignment.models import AssignmentRule, Pool, RoutingProfile
from assignment.pool_services import pool_create_full, rule_create
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.conftest import add_member


def reps_make(created: CreatedTenant, count: int, *, prefix: str = "rep", role: str = Role.REP) -> list[int]:
    slug = created.tenant.slug
    return [add_member(created, f"{prefix}{i}@{slug}.test", role=role).user_id for i in range(count)]


def pool_with_rule(
    created: CreatedTenant, reps: list[int], *, strategy: str = "round_robin", weights: list[float] | None = None,
    pool: dict[str, Any] | None = None, rule: dict[str, Any] | None = None,
) -> tuple[Pool, AssignmentRule]:
    with tenant_scope(created.tenant.id):
        made = pool_create_full(tenant=created.tenant, data={"name": "华南池", "kind": "private", **(pool or {})})
        rule_obj = rule_create(tenant=created.tenant, pool=made, data={
            "strategy": strategy,
            "reps": [{"user": u, "weight": (weights[i] if weights else 1)} for i, u in enumerate(reps)],
            **(rule or {}),
        })
        return made, rule_obj


def mature_leads_make(created: CreatedTenant, pool: Pool | None, count: int, **fields: Any) -> list[int]:
    """Mature, unowned leads in `pool`, inserted in bulk (intake is tested on its own)."""
    with tenant_scope(created.tenant.id):
        leads = [
            Lead(tenant=created.tenant, pool=pool, name=f"客户{i}", mobile=f"+86139{i:08d}", is_mature=True, grade="A",
                 tier="hot", **fields)
            for i in range(count)
        ]
        made = Lead.objects.bulk_create(leads, batch_size=2000)
        return [lead.id for lead in made]


def profile_set(created: CreatedTenant, user_id: int, **fields: Any) -> None:
    with tenant_scope(created.tenant.id):
        RoutingProfile.objects.update_or_create(tenant=created.tenant, user_id=user_id, defaults=fields)


def owners(created: CreatedTenant, lead_ids: list[int]) -> dict[int, int | None]:
    with tenant_scope(created.tenant.id):
        return dict(Lead.objects.filter(id__in=lead_ids).values_list("id", "owner_id"))
