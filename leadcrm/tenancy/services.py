from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from leadcrm.tenancy.defaults import tenant_defaults_install
from leadcrm.tenancy.models import ALL_SCOPES, ApiKey, AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.selectors import (
    API_KEY_SUSPENSION_MARK_SECONDS,
    api_key_cache_key,
    api_key_revocation_cache_key,
    api_key_suspension_cache_key,
)

API_KEY_PREFIX_LENGTH = 12
# Top-level paths a tenant slug would shadow (pages live under /<tenant_slug>/…).
RESERVED_SLUGS = frozenset(
    {"login", "logout", "switch-tenant", "i18n", "api", "healthz", "static", "admin", "media", "docs", "favicon.ico"}
)


def api_key_hash(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough and keeps every request cheap.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_split(raw_key: str) -> tuple[str, str] | None:
    """'lc_<prefix>_<secret>' -> (prefix, secret), or None when it is not one of ours."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "lc" or len(parts[1]) != API_KEY_PREFIX_LENGTH:
        return None
    return parts[1], parts[2]


def audit_log_record(
    *,
    tenant: Tenant,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
    actor: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        tenant=tenant,
        actor=actor,
        actor_api_key=actor_api_key,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes or {},
    )


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_create(
    *, tenant: Tenant, name: str, scopes: list[str] | None = None, created_by: User | None = None,
    rate_limit_per_minute: int | None = None,
) -> CreatedApiKey:
    scopes = list(scopes if scopes is not None else ALL_SCOPES)
    if unknown := sorted(set(scopes) - set(ALL_SCOPES)):
        raise ValidationError({"scopes": [f"Unknown scope(s): {', '.join(unknown)}. Use {', '.join(ALL_SCOPES)}."]})
    if not name.strip():
        raise ValidationError({"name": ["Give the key a name that says where it is used."]})
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ValidationError({"rate_limit_per_minute": ["At least 1 request a minute, or leave it empty for the default."]})
    prefix = secrets.token_hex(API_KEY_PREFIX_LENGTH // 2)
    raw_key = f"lc_{prefix}_{secrets.token_urlsafe(32)}"
    with tenant_scope(tenant.id):
        api_key = ApiKey.objects.create(
            tenant=tenant, name=name.strip(), prefix=prefix, hashed_secret=api_key_hash(raw_key), scopes=scopes,
            created_by=created_by, rate_limit_per_minute=rate_limit_per_minute,
        )
        audit_log_record(
            tenant=tenant, actor=created_by, action="api_key.create", object_type="api_key", object_id=api_key.id,
            changes={"name": name.strip(), "scopes": scopes, "rate_limit_per_minute": rate_limit_per_minute},
        )
    return CreatedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, tenant: Tenant, api_key_id: int, revoked_by: User | None = None) -> ApiKey:
    with tenant_scope(tenant.id):
        api_key = ApiKey.objects.select_for_update().get(id=api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at", "updated_at"])
            # Authentication caches keys: drop the entry now, and again after commit in case a
            # concurrent request re-cached the old row in between.
            cache.delete(api_key_cache_key(api_key.prefix))
            transaction.on_commit(lambda: _api_key_revocation_reach_cache(api_key))
            audit_log_record(
                tenant=tenant, actor=revoked_by, action="api_key.revoke", object_type="api_key", object_id=api_key.id
            )
    return api_key


def _api_key_revocation_reach_cache(api_key: ApiKey) -> None:
    """After the revocation commits: the cached row goes, and a mark outliving any row cached
    before it says the key is revoked (a request that read the row just before the commit may
    cache it again after the deletion; `api_key_get_by_prefix` reads the mark with the row)."""
    cache.delete(api_key_cache_key(api_key.prefix))
    cache.set(api_key_revocation_cache_key(api_key.prefix), api_key.revoked_at, timeout=API_KEY_SUSPENSION_MARK_SECONDS)


def membership_create(
    *, tenant: Tenant, user: User, role: str, display_name: str = "", team: str = "", created_by: User | None = None
) -> Membership:
    with tenant_scope(tenant.id):
        membership = Membership.objects.create(
            tenant=tenant, user=user, role=role, display_name=display_name or user.get_full_name(), team=team,
        )
        audit_log_record(
            tenant=tenant, actor=created_by, action="membership.create", object_type="membership",
            object_id=membership.id, changes={"user": user.email, "role": role},
        )
    return membership


def user_get_or_create(*, email: str, password: str | None = None, name: str = "") -> User:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email[:150], email=email, first_name=name[:150])
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    owner: Membership
    api_key: CreatedApiKey | None


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, admin_email: str, admin_password: str, with_api_key: bool = False,
    timezone_name: str = "Asia/Shanghai", locale: str = "zh-hans",
) -> CreatedTenant:
    """A tenant with its owner, the default configuration, and optionally an all-scopes key."""
    if slug != slugify(slug) or not slug:
        raise ValidationError({"slug": ["Use lower-case letters, digits and hyphens only."]})
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": [f"'{slug}' is reserved for the application's own pages; choose another slug."]})
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A tenant with slug '{slug}' already exists."]})
    tenant = Tenant.objects.create(slug=slug, name=name, timezone=timezone_name, locale=locale)
    # `name` is the company's: the owner's own name is theirs to set (pages fall back to their e-mail).
    user = user_get_or_create(email=admin_email, password=admin_password)
    owner = membership_create(tenant=tenant, user=user, role=Role.OWNER)
    tenant_defaults_install(tenant=tenant)
    api_key = api_key_create(tenant=tenant, name="default", created_by=user) if with_api_key else None
    return CreatedTenant(tenant=tenant, owner=owner, api_key=api_key)


def tenant_suspend(*, tenant: Tenant, actor: User | None) -> Tenant:
    """Stop the tenant: from the next request on, its API keys get a 401 saying so and its
    members' pages are closed. Its data stays as it is."""
    return _tenant_active_set(tenant=tenant, actor=actor, is_active=False)


def tenant_reactivate(*, tenant: Tenant, actor: User | None) -> Tenant:
    """Undo `tenant_suspend`: the keys and pages work again from the next request on."""
    return _tenant_active_set(tenant=tenant, actor=actor, is_active=True)


def _tenant_active_set(*, tenant: Tenant, actor: User | None, is_active: bool) -> Tenant:
    with tenant_scope(tenant.id):
        locked = Tenant.objects.select_for_update().get(id=tenant.id)
        if locked.is_active != is_active:
            locked.is_active = is_active
            locked.save(update_fields=["is_active", "updated_at"])
            audit_log_record(
                tenant=locked, actor=actor, action="tenant.reactivate" if is_active else "tenant.suspend",
                object_type="tenant", object_id=tenant.id,
                changes={"is_active": {"from": not is_active, "to": is_active}},
            )
            prefixes = list(ApiKey.objects.values_list("prefix", flat=True))
            if not is_active:
                cache.delete_many([api_key_cache_key(prefix) for prefix in prefixes])
            # After commit (before it, a rollback would leave marks on an active tenant's keys):
            # the keys' cache entries go, and a suspension marks each key (see
            # `api_key_get_by_prefix`), in case a request re-cached its row in between.
            transaction.on_commit(lambda: _api_key_cache_reset(prefixes=prefixes, suspended=not is_active))
    tenant.is_active = locked.is_active
    return locked


def _api_key_cache_reset(*, prefixes: list[str], suspended: bool) -> None:
    cache.delete_many([api_key_cache_key(prefix) for prefix in prefixes])
    marks = [api_key_suspension_cache_key(prefix) for prefix in prefixes]
    if suspended:
        cache.set_many(dict.fromkeys(marks, True), timeout=API_KEY_SUSPENSION_MARK_SECONDS)
    else:
        cache.delete_many(marks)


TENANT_SETTINGS_FIELDS = ("name", "timezone", "locale")


def tenant_settings_update(*, tenant: Tenant, actor: User | None, **changes: Any) -> Tenant:
    """Change the tenant's own settings; every change is written to the audit log."""
    unknown = sorted(set(changes) - set(TENANT_SETTINGS_FIELDS))
    if unknown:
        raise ValidationError({name: ["Not a tenant setting."] for name in unknown})
    diff = {name: [getattr(tenant, name), value] for name, value in changes.items() if getattr(tenant, name) != value}
    if not diff:
        return tenant
    for name, (_, value) in diff.items():
        setattr(tenant, name, value)
    tenant.full_clean()
    with tenant_scope(tenant.id):
        tenant.save(update_fields=[*diff, "updated_at"])
        audit_log_record(
            tenant=tenant, actor=actor, action="tenant.settings_update", object_type="tenant", object_id=tenant.id,
            changes={name: {"from": old, "to": new} for name, (old, new) in diff.items()},
        )
    return tenant
