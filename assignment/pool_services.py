"""Pools and their assignment rules: create, change, delete, each validated and audited
(API.md "Pools, assignment"). Every change saves the pool row, which moves the version
intake's pool-entry cache is keyed by."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from assignment.engine import conditions_problems
from assignment.models import AssignmentRule, Pool, PoolKind, PoolMember, Strategy
from leadcrm.tenancy.models import Membership, Tenant
from leadcrm.tenancy.services import audit_log_record

MAX_WHOLE = 2_147_483_647  # the columns' range: a larger number is the sender's error, not a 500

POOL_FIELDS = ("name", "description", "kind", "position", "entry_conditions", "daily_claim_cap", "max_held",
               "recycle_after_days", "mask_contacts", "is_active")
RULE_FIELDS = ("position", "name", "conditions", "strategy", "reps", "respect_working_hours", "exclude_previous_owner",
               "is_active")


def _clean_conditions(value: Any, field: str, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    if value is None:
        return {}
    problems = conditions_problems(value)
    if problems:
        errors[field] = problems
        return {}
    return {key: [v.strip() for v in values] for key, values in value.items() if values}


def _member_ids(value: Any, field: str, errors: dict[str, list[str]]) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        errors[field] = ["Give a list of user ids."]
        return []
    known = set(Membership.objects.filter(user_id__in=value, is_active=True).values_list("user_id", flat=True))
    unknown = sorted(set(value) - known)
    if unknown:
        errors[field] = [f"Not members of this tenant: {', '.join(map(str, unknown))}."]
    return list(dict.fromkeys(value))


def _pool_values(data: dict[str, Any], *, pool: Pool | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            errors[key] = ["Give it as text."]
    if "name" in data and "name" not in errors:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = ["Give the pool a name."]
        elif len(name) > 100:
            errors["name"] = [f"At most 100 characters ({len(name)} given)."]
        elif Pool.objects.filter(name=name).exclude(id=pool.id if pool else 0).exists():
            errors["name"] = [f"A pool called '{name}' already exists; choose another name."]
        values["name"] = name
    elif pool is None:
        errors["name"] = ["Give the pool a name."]
    if "kind" in data:
        if data["kind"] not in PoolKind.values:
            errors["kind"] = [f"Use one of: {', '.join(PoolKind.values)}."]
        values["kind"] = data["kind"]
    if "entry_conditions" in data:
        values["entry_conditions"] = _clean_conditions(data["entry_conditions"], "entry_conditions", errors)
        if pool is not None and pool.is_default and values["entry_conditions"]:
            errors["entry_conditions"] = ["The default pool takes every other lead; it has no entry conditions."]
    for key in ("position", "daily_claim_cap", "max_held", "recycle_after_days"):
        if key in data:
            value = data[key]
            if value is None and key != "position":
                values[key] = None
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_WHOLE:
                errors[key] = [f"Give a whole number from 0 to {MAX_WHOLE}" + (" (or null for no limit)." if key != "position" else ".")]
            else:
                values[key] = value
    for key in ("mask_contacts", "is_active"):
        if key in data:
            if not isinstance(data[key], bool):
                errors[key] = ["Give true or false."]
            values[key] = data[key]
    if "description" in data and "description" not in errors:
        values["description"] = str(data["description"] or "").strip()[:300]
    if pool is not None and pool.is_default and values.get("is_active") is False:
        errors["is_active"] = ["The default pool cannot be switched off: it takes every other lead."]
    return values, errors


def _members_set(*, tenant: Tenant, pool: Pool, members: Sequence[int] | None, admins: Sequence[int] | None) -> None:
    current = dict(PoolMember.objects.filter(pool=pool).values_list("user_id", "is_admin"))
    wanted_members = set(members) if members is not None else {u for u, a in current.items() if not a}
    wanted_admins = set(admins) if admins is not None else {u for u, a in current.items() if a}
    wanted = {u: (u in wanted_admins) for u in wanted_members | wanted_admins}
    PoolMember.objects.filter(pool=pool).exclude(user_id__in=wanted).delete()
    for user_id, is_admin in wanted.items():
        if user_id not in current:
            PoolMember.objects.create(tenant=tenant, pool=pool, user_id=user_id, is_admin=is_admin)
        elif current[user_id] != is_admin:
            PoolMember.objects.filter(pool=pool, user_id=user_id).update(is_admin=is_admin)


def pool_members(*, pool: Pool) -> tuple[list[int], list[int]]:
    """(members, admins) user ids."""
    rows = list(PoolMember.objects.filter(pool=pool).order_by("user_id").values_list("user_id", "is_admin"))
    return [u for u, a in rows if not a], [u for u, a in rows if a]


@transaction.atomic
def pool_create_full(*, tenant: Tenant, data: dict[str, Any], actor: User | None = None) -> Pool:
    """A pool per API.md POST /pools (members and admins included)."""
    values, errors = _pool_values(data, pool=None)
    members = _member_ids(data.get("members"), "members", errors)
    admins = _member_ids(data.get("admins"), "admins", errors)
    if errors:
        raise ValidationError(errors)
    values.setdefault("kind", PoolKind.PRIVATE)
    pool = Pool.objects.create(tenant=tenant, **values)
    _members_set(tenant=tenant, pool=pool, members=members, admins=admins)
    audit_log_record(
        tenant=tenant, actor=actor, action="pool.create", object_type="pool", object_id=pool.id,
        changes={**values, "members": members, "admins": admins},
    )
    return pool


@transaction.atomic
def pool_update(*, tenant: Tenant, pool: Pool, data: dict[str, Any], actor: User | None = None) -> Pool:
    values, errors = _pool_values(data, pool=pool)
    members = _member_ids(data["members"], "members", errors) if "members" in data else None
    admins = _member_ids(data["admins"], "admins", errors) if "admins" in data else None
    if errors:
        raise ValidationError(errors)
    before = {key: getattr(pool, key) for key in values}
    for key, value in values.items():
        setattr(pool, key, value)
    pool.save()  # always: updated_at is the version intake's pool cache follows
    if members is not None or admins is not None:
        _members_set(tenant=tenant, pool=pool, members=members, admins=admins)
    changes: dict[str, Any] = {k: {"from": before[k], "to": v} for k, v in values.items() if before[k] != v}
    if members is not None:
        changes["members"] = members
    if admins is not None:
        changes["admins"] = admins
    audit_log_record(tenant=tenant, actor=actor, action="pool.update", object_type="pool", object_id=pool.id,
                     changes=changes)
    return pool


def _rule_values(data: dict[str, Any], *, rule: AssignmentRule | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "conditions" in data:
        values["conditions"] = _clean_conditions(data["conditions"], "conditions", errors)
    if "strategy" in data:
        if data["strategy"] not in Strategy.values:
            errors["strategy"] = [f"Use one of: {', '.join(Strategy.values)}."]
        values["strategy"] = data["strategy"]
    if "position" in data:
        if not isinstance(data["position"], int) or isinstance(data["position"], bool) or not 0 <= data["position"] <= MAX_WHOLE:
            errors["position"] = [f"Give a whole number from 0 to {MAX_WHOLE}."]
        values["position"] = data["position"]
    if "name" in data:
        values["name"] = str(data["name"] or "").strip()[:100]
    for key in ("respect_working_hours", "exclude_previous_owner", "is_active"):
        if key in data:
            if not isinstance(data[key], bool):
                errors[key] = ["Give true or false."]
            values[key] = data[key]
    if "reps" in data or rule is None:
        reps = data.get("reps")
        cleaned: list[dict[str, Any]] = []
        if not isinstance(reps, list) or not reps:
            errors["reps"] = ["Give at least one rep: [{\"user\": USER_ID, \"weight\": 1}]."]
        else:
            for item in reps:
                user = item.get("user") if isinstance(item, dict) else None
                weight = item.get("weight", 1) if isinstance(item, dict) else None
                try:
                    weight_value = Decimal(str(weight))
                except InvalidOperation:
                    weight_value = Decimal(-1)
                if not isinstance(user, int) or isinstance(user, bool) or weight_value < 0 or weight_value > 10000:
                    errors["reps"] = ["Each rep is {\"user\": USER_ID, \"weight\": a number from 0 to 10000}."]
                    break
                cleaned.append({"user": user, "weight": float(weight_value)})
            if "reps" not in errors:
                users = [item["user"] for item in cleaned]
                if len(set(users)) != len(users):
                    errors["reps"] = ["Each rep may appear once."]
                else:
                    _member_ids(users, "reps", errors)
        values["reps"] = cleaned
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def rule_create(*, tenant: Tenant, pool: Pool, data: dict[str, Any], actor: User | None = None) -> AssignmentRule:
    values = _rule_values(data, rule=None)
    rule = AssignmentRule.objects.create(tenant=tenant, pool=pool, **values)
    audit_log_record(tenant=tenant, actor=actor, action="assignment_rule.create", object_type="assignment_rule",
                     object_id=rule.id, changes={"pool": pool.id, **values})
    return rule


@transaction.atomic
def rule_update(*, tenant: Tenant, rule: AssignmentRule, data: dict[str, Any], actor: User | None = None) -> AssignmentRule:
    values = _rule_values(data, rule=rule)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save()
    audit_log_record(tenant=tenant, actor=actor, action="assignment_rule.update", object_type="assignment_rule",
                     object_id=rule.id, changes=values)
    return rule


@transaction.atomic
def rule_delete(*, tenant: Tenant, rule: AssignmentRule, actor: User | None = None) -> None:
    rule_id, pool_id = rule.id, rule.pool_id
    rule.delete()
    audit_log_record(tenant=tenant, actor=actor, action="assignment_rule.delete", object_type="assignment_rule",
                     object_id=rule_id, changes={"pool": pool_id})
