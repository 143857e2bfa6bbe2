from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from leadcrm.api.throttling import WINDOW_SECONDS, rate_counter_release, rate_window
from leadcrm.tenancy.models import ApiKey
from leadcrm.tenancy.selectors import API_KEY_CACHE_SECONDS, api_key_cache_key, api_key_get_by_prefix
from leadcrm.tenancy.services import api_key_hash, api_key_split

LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write a row on every request


@dataclass
class ApiKeyPrincipal:
    """request.user for a call made with an API key."""

    api_key: ApiKey
    rate_window: int = 0  # the rate-limit window this request was counted in
    requests_in_window: int = 0  # the key's requests in that window, this one included
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    @property
    def id(self) -> None:
        return None

    @property
    def user(self) -> User | None:
        return self.api_key.created_by

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        raw_key = raw_key.strip()
        parts = api_key_split(raw_key)
        if parts is None:
            raise exceptions.AuthenticationFailed("The API key is malformed. Send 'Authorization: Bearer lc_…'.")
        # The key and its rate-limit count in one cache round trip; a request that turns out
        # not to be the key holder's is taken back off the count (prefixes are not secret).
        counter, window = rate_window(ident=f"key:{parts[0]}", now=time.time())
        api_key, count = api_key_get_by_prefix(
            prefix=parts[0], count_request_in=counter, counter_timeout=WINDOW_SECONDS * 2
        )
        try:
            self._check(api_key, raw_key)
        except exceptions.AuthenticationFailed:
            rate_counter_release(counter)
            raise
        assert api_key is not None
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            from leadcrm.tenancy.scoping import tenant_scope

            with tenant_scope(api_key.tenant_id):
                ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)
            api_key.last_used_at = now
            cache.set(api_key_cache_key(api_key.prefix), api_key, timeout=API_KEY_CACHE_SECONDS)
        return ApiKeyPrincipal(api_key=api_key, rate_window=window, requests_in_window=count), api_key

    @staticmethod
    def _check(api_key: ApiKey | None, raw_key: str) -> None:
        if api_key is None or not hmac.compare_digest(api_key.hashed_secret, api_key_hash(raw_key)):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The API key has been revoked. Ask an admin for a new key.")
        if not api_key.tenant.is_active:
            raise exceptions.AuthenticationFailed("The tenant of this API key is suspended.")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The browser session, with CSRF enforced on unsafe methods."""

    def authenticate(self, request: Request) -> Any:
        return super().authenticate(request)
