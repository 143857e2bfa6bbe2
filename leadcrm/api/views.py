"""The base of every tenant API view.

Order of a request: authentication, scope/role permission, rate limit, tenant resolution
(the API key's tenant, or the session's active tenant: a non-member gets a 404, never a 403),
body-size check, Idempotency-Key claim, then the handler inside `tenant_scope()` (one
transaction with RLS set). An error rolls the transaction back before the problem+json goes out.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.exceptions import ApiProblem, problem_http_response
from leadcrm.api.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyConflict,
    IdempotencyMismatch,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from leadcrm.api.permissions import HasScope
from leadcrm.api.throttling import ApiKeyRateThrottle
from leadcrm.tenancy.models import Membership, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.selectors import membership_list_for_user
from leadcrm.tenancy.sessions import SESSION_TENANT_KEY


def tenant_for_request(request: Request) -> tuple[Tenant, Membership | None]:
    user = request.user
    if isinstance(user, ApiKeyPrincipal):
        return user.api_key.tenant, None
    if not isinstance(user, User):  # initial() lets only API keys and logged-in users through
        raise exceptions.NotAuthenticated()
    memberships = membership_list_for_user(user=user)
    active_id = request.session.get(SESSION_TENANT_KEY)
    for membership in memberships:
        if membership.tenant_id == active_id:
            return membership.tenant, membership
    if memberships:
        return memberships[0].tenant, memberships[0]
    raise exceptions.NotFound("You are not a member of any tenant.")


class TenantScopedViewSet(viewsets.GenericViewSet[Any]):
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyRateThrottle]
    max_body_bytes: int = settings.API_MAX_BODY_BYTES
    # Actions whose body is the request itself: an empty one is a client bug, not "no fields".
    body_required_actions: frozenset[str] = frozenset()
    required_scopes: dict[str, str] = {}
    tenant: Tenant
    membership: Membership | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        self.perform_authentication(request)
        if request.user is None or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <API key>' or log in.")
        self.tenant, self.membership = tenant_for_request(request)
        self.check_permissions(request)
        self.check_throttles(request)
        self._check_body_size(request)

    def _check_body_size(self, request: Request) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body_bytes:
            raise ApiProblem(
                status_code=413,
                detail=f"The body is {length} bytes; this endpoint takes at most {self.max_body_bytes} bytes.",
            )
        if length == 0 and getattr(self, "action", None) in self.body_required_actions:
            raise ApiProblem(status_code=400, detail="The request body is empty. Send a JSON object.")

    @property
    def principal_key(self) -> str:
        user = self.request.user
        return f"key:{user.api_key.id}" if isinstance(user, ApiKeyPrincipal) else f"user:{user.id}"

    @property
    def acting_user(self) -> Any:
        user = self.request.user
        return user.user if isinstance(user, ApiKeyPrincipal) else user

    @property
    def acting_api_key(self) -> Any:
        user = self.request.user
        return user.api_key if isinstance(user, ApiKeyPrincipal) else None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # DRF's dispatch, with the handler run inside the tenant's transaction and behind the
        # Idempotency-Key claim.
        with translation.override("en"):  # API messages are English, like our own error texts
            return self._dispatch(request, *args, **kwargs)

    def _dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.initial(drf_request, *args, **kwargs)
            method = (drf_request.method or "").lower()  # None only on a hand-built HttpRequest
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            response = self._run_handler(handler, drf_request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF turns every exception into a response here
            response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    def _run_in_tenant(self, handler: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        with tenant_scope(self.tenant.id):
            response: Response = handler(request, *args, **kwargs)
            if response.status_code >= 400:
                from django.db import transaction

                transaction.set_rollback(True)
            return response

    def _run_handler(self, handler: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return self._run_in_tenant(handler, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError({"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]})
        # Parsed here (a body that is not JSON is a 400 before any claim); serialised once more
        # for the fingerprint only when a key is sent.
        fingerprint = request_fingerprint(method=request.method, path=request.path, data=request.data)
        try:
            replay = idempotency_claim(
                tenant=self.tenant, owner_key=self.principal_key, key=key, fingerprint=fingerprint
            )
        except IdempotencyMismatch:
            raise ApiProblem(
                status_code=422,
                detail="This Idempotency-Key was already used with a different request body. Use a new key.",
            ) from None
        except IdempotencyConflict:
            raise ApiProblem(
                status_code=409,
                detail="A request with this Idempotency-Key is still being processed. Retry in a moment.",
            ) from None
        if replay is not None:
            return Response(replay.body, status=replay.status, headers={"Idempotent-Replayed": "true"})
        try:
            response = self._run_in_tenant(handler, request, *args, **kwargs)
        except BaseException:
            idempotency_release(tenant=self.tenant, owner_key=self.principal_key, key=key)
            raise
        if response.status_code >= 500:
            idempotency_release(tenant=self.tenant, owner_key=self.principal_key, key=key)
        else:
            idempotency_complete(
                tenant=self.tenant, owner_key=self.principal_key, key=key,
                status=response.status_code, body=response.data,
            )
        return response


@csrf_exempt  # any method: a POST to a mistyped path is a 404, not a CSRF failure
def api_route_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    """Every /api/ path that no route matches: a problem+json 404, not Django's HTML page."""
    return problem_http_response(
        status_code=404, detail=f"There is no API endpoint at {request.path}. The endpoints are listed at /api/v1/docs/."
    )
