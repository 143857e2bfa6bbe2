"""Middleware that only browser pages need, skipped on the JSON API.

The API speaks English JSON (no locale negotiation), shows no flash messages and is not driven
by htmx; its docs page under /api/v1/docs is a browser page and keeps them all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

API_PREFIX = "/api/"


class BrowserOnlyMiddleware:
    """Runs `wrapped` (a middleware's dotted path) for every request but the API's JSON."""

    wrapped: str = ""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.browser: Callable[[HttpRequest], HttpResponse] = import_string(self.wrapped)(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX) and not request.path_info.startswith("/api/v1/docs"):
            return self.get_response(request)
        return self.browser(request)


class LocaleMiddleware(BrowserOnlyMiddleware):
    wrapped = "django.middleware.locale.LocaleMiddleware"


class MessageMiddleware(BrowserOnlyMiddleware):
    wrapped = "django.contrib.messages.middleware.MessageMiddleware"


class HtmxMiddleware(BrowserOnlyMiddleware):
    wrapped = "django_htmx.middleware.HtmxMiddleware"
