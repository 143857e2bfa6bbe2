"""Writing a tenant's duplicate rules and company aliases (SPEC §3). Every change is audited and
bumps the tenant's `DedupConfig.version` in the same transaction, which also serialises
concurrent edits of one tenant's rules (the version row is locked first). Bad input raises
`ValidationError` with messages by field, before anything is written."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from leadcrm.tenancy.models import ApiKey, Tenant
from leadcrm.tenancy.services import audit_log_record
from leads.dedup_rules import DEFAULT_RULES, RuleSpec, rule_spec_clean
from leads.matching import alias_key, company_brand
from leads.models import CompanyAlias, DedupConfig, DedupRule
from leads.normalization import clean_text

ALIAS_MAX_LENGTH = 200


def dedup_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's dedup configuration: API.md's default rules. Idempotent: a tenant that has
    a configuration keeps it."""
    if DedupConfig.objects.filter(tenant=tenant).exists():
        return
    DedupConfig.objects.create(tenant=tenant, version=1)
    with translation.override(tenant.locale):
        names = [_(spec.name) for spec in DEFAULT_RULES]
    DedupRule.objects.bulk_create([
        DedupRule(
            tenant=tenant, position=position, name=name, conditions=list(spec.conditions),
            compare_with=spec.compare_with, window_days=spec.window_days, action=spec.action, is_active=True,
        )
        for position, (name, spec) in enumerate(zip(names, DEFAULT_RULES, strict=True), start=1)
    ])


def _config_lock_and_bump(*, tenant: Tenant) -> int:
    """Lock the tenant's dedup configuration (concurrent edits queue here) and give it a new
    version, which intake picks up once this transaction commits."""
    config = DedupConfig.objects.select_for_update().filter(tenant=tenant).first()
    if config is None:
        config = DedupConfig.objects.create(tenant=tenant, version=1)
    config.version += 1
    config.save(update_fields=["version", "updated_at"])
    return config.version


def rule_spec_of(rule: DedupRule) -> RuleSpec:
    return RuleSpec(
        id=rule.id, position=rule.position, name=rule.name, conditions=tuple(rule.conditions),
        compare_with=rule.compare_with, window_days=rule.window_days, action=rule.action, is_active=rule.is_active,
    )


def _snapshot(rule: DedupRule) -> dict[str, Any]:
    return {
        "name": rule.name, "position": rule.position, "is_active": rule.is_active, "compare_with": rule.compare_with,
        "conditions": list(rule.conditions), "window_days": rule.window_days, "action": rule.action,
    }


def _position(value: Any, *, count: int) -> int:
    """A 1-based position among `count` places, or a ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
        raise ValidationError({"position": [_("位置应为 1 到 %(max)d 之间的整数。") % {"max": count}]})
    return value


def _renumber(rules: list[DedupRule]) -> None:
    """Positions 1..n in the given order; only the rules whose position changes are written."""
    moved = []
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            rule.position = position
            moved.append(rule)
    if moved:
        DedupRule.objects.bulk_update(moved, ["position", "updated_at"])


def _ordered_rules() -> list[DedupRule]:
    return list(DedupRule.objects.order_by("position", "id"))


@transaction.atomic
def dedup_rule_create(
    *, tenant: Tenant, data: dict[str, Any], actor: User | None = None, api_key: ApiKey | None = None
) -> DedupRule:
    """A rule from `data` (`name`, `conditions`, `compare_with`, `window_days`, `action`,
    `is_active`, optional `position`: 1-based, default last)."""
    _config_lock_and_bump(tenant=tenant)
    rules = _ordered_rules()
    spec, errors = rule_spec_clean({**data, "id": None}, others=[rule_spec_of(rule) for rule in rules])
    if spec is None:
        raise ValidationError(errors)
    position = _position(data["position"], count=len(rules) + 1) if data.get("position") is not None else len(rules) + 1
    rule = DedupRule(
        tenant=tenant, position=position, name=spec.name, conditions=list(spec.conditions),
        compare_with=spec.compare_with, window_days=spec.window_days, action=spec.action, is_active=spec.is_active,
    )
    rule.save()
    rules.insert(position - 1, rule)
    _renumber(rules)
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="dedup_rule.create", object_type="dedup_rule",
        object_id=rule.id, changes=_snapshot(rule),
    )
    return rule


@transaction.atomic
def dedup_rule_update(
    *, tenant: Tenant, rule_id: int, data: dict[str, Any], actor: User | None = None, api_key: ApiKey | None = None
) -> DedupRule:
    """Change the fields `data` names (any of those `dedup_rule_create` takes). Raises
    `DedupRule.DoesNotExist` for a rule that is not the tenant's."""
    _config_lock_and_bump(tenant=tenant)
    rules = _ordered_rules()
    rule = next((r for r in rules if r.id == rule_id), None)
    if rule is None:
        raise DedupRule.DoesNotExist(f"No dedup rule {rule_id}.")
    before = _snapshot(rule)
    merged = {**before, **{k: v for k, v in data.items() if k != "position"}, "id": rule.id}
    spec, errors = rule_spec_clean(merged, others=[rule_spec_of(r) for r in rules])
    if spec is None:
        raise ValidationError(errors)
    if data.get("position") is not None:
        position = _position(data["position"], count=len(rules))
        rules.remove(rule)
        rules.insert(position - 1, rule)
    rule.name, rule.conditions, rule.compare_with = spec.name, list(spec.conditions), spec.compare_with
    rule.window_days, rule.action, rule.is_active = spec.window_days, spec.action, spec.is_active
    rule.save()
    _renumber(rules)
    after = _snapshot(rule)
    if changed := {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}:
        audit_log_record(
            tenant=tenant, actor=actor, actor_api_key=api_key, action="dedup_rule.update", object_type="dedup_rule",
            object_id=rule.id, changes=changed,
        )
    return rule


@transaction.atomic
def dedup_rule_move(
    *, tenant: Tenant, rule_id: int, direction: str, actor: User | None = None, api_key: ApiKey | None = None
) -> DedupRule:
    """One place up or down (a no-op at either end)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("方向应为 up 或 down。")]})
    _config_lock_and_bump(tenant=tenant)
    rules = _ordered_rules()
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise DedupRule.DoesNotExist(f"No dedup rule {rule_id}.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(rules):
        return rules[index]
    return dedup_rule_update(tenant=tenant, rule_id=rule_id, data={"position": target + 1}, actor=actor, api_key=api_key)


@transaction.atomic
def dedup_rule_delete(
    *, tenant: Tenant, rule_id: int, actor: User | None = None, api_key: ApiKey | None = None
) -> None:
    """Delete a rule; the ones after it move up. Leads and submissions it matched keep its name."""
    _config_lock_and_bump(tenant=tenant)
    rules = _ordered_rules()
    rule = next((r for r in rules if r.id == rule_id), None)
    if rule is None:
        raise DedupRule.DoesNotExist(f"No dedup rule {rule_id}.")
    snapshot = _snapshot(rule)
    rule.delete()
    rules.remove(rule)
    _renumber(rules)
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="dedup_rule.delete", object_type="dedup_rule",
        object_id=rule_id, changes=snapshot,
    )


# --- company aliases ----------------------------------------------------------------------------


@transaction.atomic
def company_alias_create(
    *, tenant: Tenant, alias: str, company: str, actor: User | None = None, api_key: ApiKey | None = None
) -> CompanyAlias:
    """A brand or product name standing for a company ("纷享销客" → "北京纷扬科技有限公司"):
    duplicate rules then treat the two as one company, for new and existing leads alike."""
    alias, company = clean_text(alias), clean_text(company)
    errors: dict[str, list[str]] = {}
    for name, value, missing in (("alias", alias, _("请填写别名。")), ("company", company, _("请填写对应的公司。"))):
        if not value:
            errors[name] = [missing]
        elif len(value) > ALIAS_MAX_LENGTH:
            errors[name] = [_("别名和公司名称最多 %(max)d 个字符。") % {"max": ALIAS_MAX_LENGTH}]
    if errors:
        raise ValidationError(errors)
    key = alias_key(alias)
    if not key:
        raise ValidationError({"alias": [_("“%(alias)s”里没有可以比较的文字。") % {"alias": alias}]})
    if not company_brand(company):
        raise ValidationError({"company": [_("“%(company)s”不像一个公司名称：去掉地区和“有限公司”等后缀后没有字号。") % {
            "company": company}]})
    if key == alias_key(company):
        raise ValidationError({"alias": [_("别名和公司本来就会被识别为同一家，不需要别名。")]})
    _config_lock_and_bump(tenant=tenant)
    existing = {row.alias_key: row for row in CompanyAlias.objects.all()}
    if (same := existing.get(key)) is not None:
        raise ValidationError({"alias": [_("“%(alias)s”已经是“%(company)s”的别名。") % {
            "alias": same.alias, "company": same.company}]})
    if (chained := existing.get(alias_key(company))) is not None:
        raise ValidationError({"company": [_("“%(company)s”本身是“%(target)s”的别名：请直接填写“%(target)s”。") % {
            "company": company, "target": chained.company}]})
    if any(alias_key(row.company) == key for row in existing.values()):
        raise ValidationError({"alias": [_("“%(alias)s”是其他别名指向的公司，不能再作为别名。") % {"alias": alias}]})
    created = CompanyAlias.objects.create(tenant=tenant, alias=alias, company=company, alias_key=key)
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="company_alias.create", object_type="company_alias",
        object_id=created.id, changes={"alias": alias, "company": company},
    )
    return created


@transaction.atomic
def company_alias_delete(
    *, tenant: Tenant, alias_id: int, actor: User | None = None, api_key: ApiKey | None = None
) -> None:
    """Raises `CompanyAlias.DoesNotExist` for an alias that is not the tenant's."""
    _config_lock_and_bump(tenant=tenant)
    alias = CompanyAlias.objects.get(id=alias_id)
    snapshot = {"alias": alias.alias, "company": alias.company}
    alias.delete()
    audit_log_record(
        tenant=tenant, actor=actor, actor_api_key=api_key, action="company_alias.delete", object_type="company_alias",
        object_id=alias_id, changes=snapshot,
    )
