from __future__ import annotations

import contextlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from leadcrm.cache import cache_incr

WINDOW_SECONDS = 60


def rate_window(*, ident: str, now: float) -> tuple[str, int]:
    """The counter key of `ident`'s current one-minute window, and the window's number."""
    window = int(now // WINDOW_SECONDS)
    return f"ratelimit:{ident}:{window}", window


def rate_counter_release(counter_key: str) -> None:
    """Take back a request counted before it turned out not to be the key holder's."""
    with contextlib.suppress(ValueError):  # the window's counter expired meanwhile
        cache.decr(counter_key)


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed one-minute window per API key (or per user), counted in the shared cache so every
    web process agrees. Over the limit: 429 with Retry-After = seconds left in the window.

    An API key's request is counted by `ApiKeyAuthentication`, in the round trip that fetches
    the key; a session user's here."""

    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        from leadcrm.api.authentication import ApiKeyPrincipal

        user = request.user
        now = time.time()
        if isinstance(user, ApiKeyPrincipal):
            limit = user.api_key.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
            count, window = user.requests_in_window, user.rate_window
        elif user is not None and user.is_authenticated:
            limit = settings.API_RATE_LIMIT_PER_MINUTE
            cache_key, window = rate_window(ident=f"user:{user.id}", now=now)
            count = cache_incr(cache_key, timeout=WINDOW_SECONDS * 2)
        else:
            return True
        if count > limit:
            self._wait = (window + 1) * WINDOW_SECONDS - now
            return False
        return True

    def wait(self) -> float:
        return max(1.0, self._wait)
