from __future__ import annotations

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import F, QuerySet

from leadcrm.cache import cache_get_many_and_incr
from leadcrm.tenancy.models import ApiKey, Membership, Tenant
from leadcrm.tenancy.scoping import identity_lookup


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug, is_active=True).first()


def membership_list_for_user(*, user: User) -> list[Membership]:
    """The user's active memberships in every tenant (tenant switcher, log-in landing)."""
    with identity_lookup(user_id=user.id):
        return list(
            Membership.all_tenants.filter(user_id=user.id, is_active=True, tenant__is_active=True)
            .select_related("tenant", "user")  # the user: pages name the member (Membership.name)
            .order_by("tenant__name")
        )


def membership_get(*, user: User, tenant: Tenant) -> Membership | None:
    with identity_lookup(user_id=user.id):
        return (
            Membership.all_tenants.filter(user_id=user.id, tenant=tenant, is_active=True)
            .select_related("tenant", "user")
            .first()
        )


API_KEY_CACHE_SECONDS = 60
# A suspension marks each of the tenant's keys for longer than any entry cached before it lives.
API_KEY_SUSPENSION_MARK_SECONDS = 2 * API_KEY_CACHE_SECONDS


def api_key_cache_key(prefix: str) -> str:
    return f"api-key:{prefix}"


def api_key_suspension_cache_key(prefix: str) -> str:
    return f"api-key-suspended:{prefix}"


def api_key_revocation_cache_key(prefix: str) -> str:
    return f"api-key-revoked:{prefix}"


def api_key_get_by_prefix(*, prefix: str, count_request_in: str = "", counter_timeout: int = 0) -> tuple[ApiKey | None, int]:
    """The key with this public prefix, with its tenant and creator. Cached briefly in the shared
    cache (every request of an integration needs it); revoking a key or suspending its tenant
    deletes the entry.

    A request that read the row just before a suspension committed may cache it again after
    the deletion, so a suspension also leaves a mark per key (`tenant_suspend`), read in the
    same round trip: a marked key's tenant is suspended whatever the cached row says. A
    revocation leaves such a mark too (`api_key_revoke`): a marked key is revoked whatever the
    cached row says, so a revoked key fails from the very next request.

    With `count_request_in`, that counter (the key's rate-limit window) is incremented in the
    same cache round trip and its new value returned; otherwise the count is 0."""
    cache_key = api_key_cache_key(prefix)
    keys = [cache_key, api_key_suspension_cache_key(prefix), api_key_revocation_cache_key(prefix)]
    count = 0
    if count_request_in:
        (api_key, suspended, revoked_at), count = cache_get_many_and_incr(
            keys=keys, counter=count_request_in, counter_timeout=counter_timeout
        )
    else:
        found = cache.get_many(keys)
        api_key, suspended, revoked_at = found.get(keys[0]), found.get(keys[1]), found.get(keys[2])
    if api_key is None:
        with identity_lookup(api_key_prefix=prefix):
            api_key = ApiKey.all_tenants.filter(prefix=prefix).select_related("tenant", "created_by").first()
        if api_key is not None:
            cache.set(cache_key, api_key, timeout=API_KEY_CACHE_SECONDS)
    if api_key is not None and suspended:
        api_key.tenant.is_active = False  # this copy only: the tenant was suspended after the row was cached
    if api_key is not None and revoked_at is not None and api_key.revoked_at is None:
        api_key.revoked_at = revoked_at  # this copy only: revoked after the row was cached
    return api_key, count


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant, is_active=True)
        .select_related("user", "tenant")  # both name the member (Membership.name)
        .order_by("display_name", "id")
    )


def api_key_list() -> QuerySet[ApiKey]:
    """The tenant's keys for the API keys page: working keys first, newest first."""
    return ApiKey.objects.select_related("created_by").order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-id"
    )
