"""The project's middleware.

- Request bodies sent with `Transfer-Encoding: chunked` are read (`ChunkedBodyMiddleware`).
- No response is kept by a browser or proxy cache unless its view says so (`NoStoreMiddleware`).
- With the database or the cache down, a 503 rather than a 500 (`ServiceUnavailableMiddleware`).
- Middleware that only browser pages need, skipped on the JSON API: the API speaks English JSON
  (no locale negotiation), shows no flash messages and is not driven by htmx; its docs page
  under /api/v1/docs is a browser page and keeps them all.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import csp.middleware as csp_middleware
from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy as csp_build_policy
from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from leadcrm.api.exceptions import problem_http_response, rendered, service_unavailable_response
from leadcrm.availability import RETRY_AFTER_SECONDS, log_unavailable, unavailable_service

API_PREFIX = "/api/"
CHUNK_SIZE = 64 * 1024


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class ChunkedBodyMiddleware:
    """Django sizes a request body by its Content-Length; a body sent with `Transfer-Encoding:
    chunked` has none, so Django would read it as empty and a submitted lead would be lost
    without a word. The WSGI server decodes the chunks (`wsgi.input_terminated` says its input
    ends where the body does: gunicorn, mod_wsgi), so read the body here, up to
    DATA_UPLOAD_MAX_MEMORY_SIZE, and give the request the Content-Length it would have had:
    every limit that reads Content-Length (the API's per-endpoint ones too) then applies.

    Must come before anything that reads the body (CSRF, parsers)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH"):
            refusal = self._read_body(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _read_body(self, request: HttpRequest) -> HttpResponseBase | None:
        if not request.META.get("wsgi.input_terminated"):
            # Reading to the end would wait for the client to hang up (e.g. runserver).
            return _refusal(request, 411, "Send the body with a Content-Length header; this server cannot read chunked bodies.")
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        stream = request.META["wsgi.input"]
        chunks: list[bytes] = []
        size = 0
        while chunk := stream.read(CHUNK_SIZE):
            size += len(chunk)
            if limit is not None and size > limit:
                return _refusal(request, 413, f"The body is over {limit} bytes, more than any endpoint takes.")
            chunks.append(chunk)
        body = b"".join(chunks)
        request.META["CONTENT_LENGTH"] = str(len(body))
        # WSGIRequest built its stream from the missing Content-Length (0 bytes); replace it.
        request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return None


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response whose view set no caching of its own: pages
    and API answers carry personal data (names, mobiles, e-mails) or depend on who asks, and
    must not linger in a shared computer's browser cache or a proxy. Static files never reach
    here (WhiteNoise, before this, answers them with their own long-lived headers)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class ServiceUnavailableMiddleware:
    """A view that fails because the database or the cache cannot be reached answers 503 with
    Retry-After: problem+json under /api/ (DRF views already do, in their exception handler),
    templates/503.html elsewhere. The page is rendered without the request: its context
    processors would query the database that is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        service = unavailable_service(exception)
        if service is None:
            return None
        log_unavailable(service, exception)
        if is_api_path(request.path_info):
            return rendered(service_unavailable_response(service))
        return HttpResponse(
            render_to_string("503.html"), status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )


def _refusal(request: HttpRequest, status: int, detail: str) -> HttpResponseBase:
    if is_api_path(request.path_info):
        return problem_http_response(status_code=status, detail=detail)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class BrowserOnlyMiddleware:
    """Runs `wrapped` (a middleware's dotted path) for every request but the API's JSON."""

    wrapped: str = ""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.browser: Callable[[HttpRequest], HttpResponse] = import_string(self.wrapped)(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path_info) and not request.path_info.startswith("/api/v1/docs"):
            return self.get_response(request)
        return self.browser(request)


class LocaleMiddleware(BrowserOnlyMiddleware):
    wrapped = "django.middleware.locale.LocaleMiddleware"


class MessageMiddleware(BrowserOnlyMiddleware):
    wrapped = "django.contrib.messages.middleware.MessageMiddleware"


class HtmxMiddleware(BrowserOnlyMiddleware):
    wrapped = "django_htmx.middleware.HtmxMiddleware"


# A response or request that shapes its own policy: django-csp builds the header for those.
_CSP_PER_RESPONSE = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
)


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's, with the site-wide header text built once per policy instead of on every
    response (it was a visible share of a single API request's time). Anything that shapes a
    policy of its own (a decorator, a nonce, a report-only policy, DEBUG's error pages) still
    goes through django-csp."""

    _built: tuple[object, str] | None = None  # (the policy setting it was built from, the header)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if (
            settings.DEBUG or not policy or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or policy.get("EXCLUDE_URL_PREFIXES") or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _CSP_PER_RESPONSE)
        ):
            return super().process_response(request, response)
        if self._built is None or self._built[0] is not policy:  # holding it: no other object gets its id
            self._built = (policy, csp_build_policy())
        header = self._built[1]
        if CSP_HEADER not in response:
            response[CSP_HEADER] = header
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
