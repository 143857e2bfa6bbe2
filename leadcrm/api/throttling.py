from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from leadcrm.api.authentication import ApiKeyPrincipal

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed one-minute window per API key (or per user), counted in the shared cache so every
    web process agrees. Over the limit: 429 with Retry-After = seconds left in the window."""

    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            ident = f"key:{user.api_key.id}"
            limit = user.api_key.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.id}"
            limit = settings.API_RATE_LIMIT_PER_MINUTE
        else:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        cache_key = f"ratelimit:{ident}:{window}"
        try:
            count = cache.incr(cache_key)  # one round trip on every request but a window's first
        except ValueError:  # the window's first request (or the key expired)
            count = 1 if cache.add(cache_key, 1, timeout=WINDOW_SECONDS * 2) else cache.incr(cache_key)
        if count > limit:
            self._wait = (window + 1) * WINDOW_SECONDS - now
            return False
        return True

    def wait(self) -> float:
        return max(1.0, self._wait)
