"""SLA policies (T+N, API.md POST /sla-policies): one per pool at most, and at most one
tenant-wide (pool null) for every pool without its own. Every change is audited. A changed
policy applies to the next owner change; running deadlines keep the time they were given."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from assignment.models import BreachAction, Pool, SlaPolicy, TimeUnit
from leadcrm.tenancy.models import ApiKey, Tenant
from leadcrm.tenancy.services import audit_log_record

MAX_WITHIN = {"minutes": Decimal(60 * 24 * 90), "hours": Decimal(24 * 90), "working_hours": Decimal(8 * 90), "days": Decimal(90)}
FIELDS = frozenset({"name", "pool", "within", "warn_before", "on_breach", "penalty_days", "is_active"})


def sla_policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.order_by("pool_id", "id")


def _duration(raw: Any, *, field: str, errors: dict[str, list[str]]) -> tuple[Decimal, str] | None:
    if not isinstance(raw, dict) or set(raw) - {"value", "unit"} or "value" not in raw or "unit" not in raw:
        errors[field] = ['Give {"value": number, "unit": "minutes"|"hours"|"working_hours"|"days"}.']
        return None
    unit = raw["unit"]
    if unit not in TimeUnit.values:
        errors[field] = [f"Unknown unit '{unit}'. Use one of: {', '.join(TimeUnit.values)}."]
        return None
    try:
        value = Decimal(str(raw["value"]))
    except (InvalidOperation, ValueError):
        errors[field] = ["The value must be a number."]
        return None
    if isinstance(raw["value"], bool) or not value.is_finite() or value <= 0:
        errors[field] = ["The value must be a number above zero."]
        return None
    if value > MAX_WITHIN[unit]:
        errors[field] = [f"At most {MAX_WITHIN[unit]} {unit}."]
        return None
    if value != value.quantize(Decimal("0.01")):
        errors[field] = ["At most two decimals."]
        return None
    return value, unit


def _apply(policy: SlaPolicy, data: dict[str, Any], *, creating: bool) -> None:
    errors: dict[str, list[str]] = {}
    if unknown := sorted(set(data) - FIELDS):
        for unknown_name in unknown:
            errors[unknown_name] = [f"Unknown field. Use: {', '.join(sorted(FIELDS))}."]
    if "name" in data or creating:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["Give the policy a name."]
        elif len(name.strip()) > 100:
            errors["name"] = ["At most 100 characters."]
        elif SlaPolicy.objects.filter(name=name.strip()).exclude(id=policy.id).exists():
            errors["name"] = [f"A policy called '{name.strip()}' already exists; choose another name."]
        else:
            policy.name = name.strip()
    if "pool" in data:
        pool_id = data["pool"]
        if pool_id is not None and (isinstance(pool_id, bool) or not isinstance(pool_id, int)
                                    or not Pool.objects.filter(id=pool_id).exists()):
            errors["pool"] = [f"No pool {pool_id} in this workspace."]
        else:
            policy.pool_id = pool_id
    if ("within" in data or creating) and (
        within := _duration(data.get("within"), field="within", errors=errors)
    ) is not None:
        policy.within_value, policy.within_unit = within
    if "warn_before" in data:
        if data["warn_before"] is None:
            policy.warn_before_value, policy.warn_before_unit = None, ""
        elif (warn := _duration(data["warn_before"], field="warn_before", errors=errors)) is not None:
            policy.warn_before_value, policy.warn_before_unit = warn
    if "on_breach" in data:
        if data["on_breach"] not in BreachAction.values:
            errors["on_breach"] = [f"Use one of: {', '.join(BreachAction.values)}."]
        else:
            policy.on_breach = data["on_breach"]
    if "penalty_days" in data:
        days = data["penalty_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            errors["penalty_days"] = ["A whole number of days from 0 to 365."]
        else:
            policy.penalty_days = days
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = ["true or false."]
        else:
            policy.is_active = data["is_active"]
    if not errors and policy.is_active and policy.within_value is not None:
        same_scope = SlaPolicy.objects.filter(is_active=True).exclude(id=policy.id)
        same_scope = same_scope.filter(pool_id=policy.pool_id) if policy.pool_id else same_scope.filter(pool__isnull=True)
        clash = same_scope.first()
        if clash is not None:
            where = "this pool" if policy.pool_id else "all pools"
            errors["pool"] = [f"The policy '{clash.name}' already applies to {where}; change it instead."]
    if errors:
        raise ValidationError(errors)


def _audit_changes(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "name": policy.name, "pool": policy.pool_id, "within": [str(policy.within_value), policy.within_unit],
        "warn_before": [str(policy.warn_before_value), policy.warn_before_unit] if policy.warn_before_value else None,
        "on_breach": policy.on_breach, "penalty_days": policy.penalty_days, "is_active": policy.is_active,
    }


def sla_policy_create(
    *, tenant: Tenant, data: dict[str, Any], actor: User | None = None, api_key: ApiKey | None = None
) -> SlaPolicy:
    policy = SlaPolicy(tenant=tenant)
    _apply(policy, data, creating=True)
    policy.save()
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="sla_policy.create", object_type="sla_policy",
        object_id=policy.id, changes=_audit_changes(policy),
    )
    return policy


def sla_policy_update(
    *, tenant: Tenant, policy: SlaPolicy, data: dict[str, Any], actor: User | None = None, api_key: ApiKey | None = None
) -> SlaPolicy:
    _apply(policy, data, creating=False)
    policy.save()
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="sla_policy.update", object_type="sla_policy",
        object_id=policy.id, changes=_audit_changes(policy),
    )
    return policy


def sla_policy_delete(*, tenant: Tenant, policy: SlaPolicy, actor: User | None = None, api_key: ApiKey | None = None) -> None:
    """Running deadlines stay; violations keep their evidence (the policy is in the snapshot)."""
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="sla_policy.delete", object_type="sla_policy",
        object_id=policy.id, changes=_audit_changes(policy),
    )
    policy.delete()


def sla_policy_body(policy: SlaPolicy) -> dict[str, Any]:
    """The API's POLICY object."""
    return {
        "id": policy.id, "name": policy.name, "pool": policy.pool_id,
        "within": {"value": float(policy.within_value), "unit": policy.within_unit},
        "warn_before": (
            {"value": float(policy.warn_before_value), "unit": policy.warn_before_unit}
            if policy.warn_before_value is not None else None
        ),
        "on_breach": policy.on_breach, "penalty_days": policy.penalty_days, "is_active": policy.is_active,
        "created_at": policy.created_at, "updated_at": policy.updated_at,
    }
