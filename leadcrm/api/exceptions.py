"""One error shape for the whole API: RFC 9457 problem+json with per-field `errors`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from leadcrm.availability import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, log_unavailable, unavailable_service
from leadcrm.tenancy.scoping import TenantScopeMissing

PROBLEM_CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    411: "Length required",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    503: "Service unavailable",
}


class ApiProblem(exceptions.APIException):
    """An error with its own status, title and detail (409/413/422 and friends)."""

    def __init__(self, *, status_code: int, detail: str, title: str | None = None, code: str = "error") -> None:
        self.status_code = status_code
        self.title = title or _TITLES.get(status_code, "Error")
        super().__init__(detail=detail, code=code)


def problem_response(
    *, status_code: int, detail: str, title: str | None = None, errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://leadcrm.dev/problems/{status_code}",
        "title": title or _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_http_response(
    *, status_code: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """`problem_response`, rendered: for answers given outside a DRF view (middleware, the
    fallback for unknown API routes), where no view's finalize step renders it."""
    return rendered(problem_response(status_code=status_code, detail=detail, title=title, headers=headers))


def rendered(response: Response) -> Response:
    """A problem response built outside a DRF view, rendered as the view would have."""
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = PROBLEM_CONTENT_TYPE
    response.renderer_context = {}  # type: ignore[attr-defined]  # set by APIView.finalize_response otherwise
    response.render()
    return response


def _flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """{'custom': {'x': ['bad']}} -> {'custom.x': ['bad']}; lists of messages stay lists."""
    flat: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten_errors(value, name))
    elif isinstance(data, list) and all(not isinstance(item, (dict, list)) for item in data):
        flat[prefix or "non_field_errors"] = [str(item) for item in data]
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if item:
                flat.update(_flatten_errors(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        flat[prefix or "non_field_errors"] = [str(data)]
    return flat


def service_unavailable_response(service: str) -> Response:
    """503 for an outage of the database or the cache (see leadcrm.availability)."""
    return problem_response(
        status_code=503, detail=UNAVAILABLE_DETAIL[service], headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # No set_rollback here: the tenant transaction (TenantScopedViewSet) has already been
    # rolled back by the time an exception reaches this handler.
    if (service := unavailable_service(exc)) is not None:  # also when authentication hit it
        log_unavailable(service, exc)
        return service_unavailable_response(service)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TenantScopeMissing):
        exc = exceptions.NotFound()

    if isinstance(exc, ApiProblem):
        return problem_response(status_code=exc.status_code, title=exc.title, detail=str(exc.detail))
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500

    headers: dict[str, str] = {}
    if auth_header := getattr(exc, "auth_header", None):  # set by DRF's view on a 401
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):  # Throttled's
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten_errors(exc.detail)
        fields = ", ".join(sorted(errors))
        return problem_response(
            status_code=400, detail=f"The request has invalid fields: {fields}.", errors=errors, headers=headers
        )
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        detail = f"The body is not valid JSON: {detail}"
    return problem_response(status_code=exc.status_code, detail=str(detail), headers=headers)
