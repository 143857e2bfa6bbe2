"""The cleansing-rule endpoints: `/api/v1/blacklist`, `/api/v1/sensitive-words`,
`/api/v1/cleansing-policy`.

Who may: these are the tenant's configuration, and the blacklist holds people's phone numbers
and e-mail addresses. API keys read with the `read` scope and change with the `admin` scope
(a key that submits leads, e.g. a web form's, cannot unblock anyone); signed-in members must
be the tenant's owner or an admin, for reading too (403 otherwise). Another tenant's entry is
a 404, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.exceptions import problem_response
from leadcrm.api.pagination import CursorPagination
from leadcrm.api.views import TenantScopedViewSet
from leads.api.cleansing_serializers import (
    BlacklistEntryCreateInputSerializer,
    BlacklistEntryOutputSerializer,
    BlacklistImportInputSerializer,
    BlacklistListQuerySerializer,
    CleansingPolicyOutputSerializer,
    CleansingPolicyUpdateInputSerializer,
    ListImportOutputSerializer,
    SensitiveWordCreateInputSerializer,
    SensitiveWordImportInputSerializer,
    SensitiveWordListQuerySerializer,
    SensitiveWordOutputSerializer,
)
from leads.api.views import IDEMPOTENCY_HEADER, PROBLEM
from leads.cleansing import BlacklistFileError
from leads.cleansing_selectors import blacklist_entry_list, cleansing_policy_get, sensitive_word_list
from leads.cleansing_services import (
    CleansingEntryExists,
    ListImportRefused,
    ListImportReport,
    blacklist_entry_add,
    blacklist_entry_delete,
    blacklist_import,
    cleansing_policy_update,
    sensitive_word_add,
    sensitive_word_delete,
    sensitive_word_import,
)
from leads.models import BlacklistEntry, SensitiveWord, SensitiveWordCategory

EXAMPLE_URL = "https://crm.example.com/api/v1"
ADMIN_SCOPES = {"GET": "read", "HEAD": "read", "POST": "admin", "PATCH": "admin", "DELETE": "admin"}
CONFLICT = OpenApiResponse(
    description="problem+json: the entry is already in the list (`existing_id` names it), or a request with this "
    "Idempotency-Key is still running."
)
IDEMPOTENCY_MISMATCH = OpenApiResponse(description="problem+json: the Idempotency-Key was used with another body.")
IDEMPOTENCY_RUNNING = OpenApiResponse(description="problem+json: a request with this Idempotency-Key is still running.")
IMPORT_REFUSED = OpenApiResponse(
    description="problem+json: nothing was added. `errors.file` says why; `refused` lists each line at fault "
    "(`line`, `text`, `message`) when lines are the reason."
)


class CleansingCursorPagination(CursorPagination):
    """Newest first, 50 a page (`page_size` up to 500)."""

    cursor_query_description = "A position in the list. Do not build it: request the `next` or `previous` URL as it is."
    page_size_query_description = "Entries per page: 1 to 500; default 50."
    example_path = "blacklist"

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = f"{EXAMPLE_URL}/{self.example_path}?cursor=cD0yMDI2LTExLTI4KzA0JTNBMzQlM0EyMS4xMjM0NTYlMkIwMCUzQTAw"
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string", "nullable": True, "format": "uri", "example": url,
                    "description": "The next page, with the same filters; null on the last page.",
                },
                "previous": {
                    "type": "string", "nullable": True, "format": "uri", "example": None,
                    "description": "The page before; null on the first page.",
                },
                "results": schema,
            },
        }


class WordCursorPagination(CleansingCursorPagination):
    example_path = "sensitive-words"


class CleansingConfigViewSet(TenantScopedViewSet):
    required_scopes = ADMIN_SCOPES
    lookup_value_regex = r"[0-9]{1,18}"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership is not None and not self.membership.is_admin:
            raise exceptions.PermissionDenied(
                "Only the workspace's owner and admins can see or change its cleansing rules."
            )

    def _list_params_checked(self, request: Request, *, choice_params: tuple[str, ...]) -> None:
        params = request.query_params
        raw_size = params.get("page_size")
        if raw_size is not None and (not raw_size.isdigit() or not 1 <= int(raw_size) <= 500):
            raise exceptions.ValidationError({"page_size": ["Must be a whole number from 1 to 500."]})
        # As the lead list: `kind=` is a client's bug to point out, not "any kind".
        if empty := {name: ["Must not be empty: give a value or leave the parameter out."] for name in choice_params if params.get(name) == ""}:
            raise exceptions.ValidationError(empty)

    def _actor(self) -> dict[str, Any]:
        return {"actor": self.acting_user, "actor_api_key": self.acting_api_key}

    @property
    def max_body_bytes(self) -> int:  # type: ignore[override]  # a read-only property over the base's attribute
        if getattr(self, "action", None) == "import_file":
            return int(settings.API_MAX_BULK_BODY_BYTES)
        return int(settings.API_MAX_BODY_BYTES)


def _exists_response(error: CleansingEntryExists, *, field: str) -> Response:
    response = problem_response(status_code=409, detail=error.message, errors={field: [error.message]})
    response.data["existing_id"] = error.existing.id
    return response


def _lines(refused: Sequence[BlacklistFileError]) -> list[dict[str, Any]]:
    return [{"line": error.line, "text": error.text, "message": error.message} for error in refused]


def _import_body(report: ListImportReport) -> dict[str, Any]:
    return {
        "added": report.added_count, "duplicates": report.duplicate_count, "refused_count": len(report.refused),
        "refused": _lines(report.refused), "encoding": report.encoding,
    }


def _refused_response(error: ListImportRefused) -> Response:
    response = problem_response(status_code=400, detail=error.message, errors={"file": [error.message]})
    response.data["refused"] = _lines(error.refused)
    return response


_ENTRY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the blacklist entry.")
_WORD_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the sensitive word.")
_Q_BLACKLIST = OpenApiParameter(
    "q", OpenApiTypes.STR, description="Text in the entry (as typed or as stored) or in its note; any case."
)
_Q_WORDS = OpenApiParameter("q", OpenApiTypes.STR, description="Text in the word (as typed or as stored); any case.")
_KIND = OpenApiParameter(
    "kind", OpenApiTypes.STR, enum=["phone", "email", "email_domain", "company", "keyword"],
    description="Only entries of this kind.",
)


@extend_schema_view(
    list=extend_schema(
        summary="List blacklist entries", parameters=[_KIND, _Q_BLACKLIST],
        responses={200: BlacklistEntryOutputSerializer(many=True), 400: PROBLEM, 403: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="Get one blacklist entry", parameters=[_ENTRY_ID],
        responses={200: BlacklistEntryOutputSerializer, 403: PROBLEM, 404: PROBLEM},
    ),
)
class BlacklistEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CleansingConfigViewSet):
    """A hit on any entry quarantines the submission with `blacklist.<kind>`."""

    serializer_class = BlacklistEntryOutputSerializer
    pagination_class = CleansingCursorPagination
    filter_backends: list[Any] = []
    body_required_actions = frozenset({"create"})

    def get_queryset(self) -> QuerySet[BlacklistEntry]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return BlacklistEntry.all_tenants.none()
        if self.action != "list":
            return BlacklistEntry.objects.all()
        query = BlacklistListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return blacklist_entry_list(kind=query.validated_data.get("kind", ""), search=query.validated_data.get("q", ""))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._list_params_checked(request, choice_params=("kind",))
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Add a blacklist entry", request=BlacklistEntryCreateInputSerializer, parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample("a phone number", value={"kind": "phone", "value": "139 5281 6437", "note": "投诉过骚扰"}, request_only=True),
            OpenApiExample("a whole e-mail domain", value={"kind": "email_domain", "value": "spam-mail.cn"}, request_only=True),
        ],
        responses={
            201: BlacklistEntryOutputSerializer,
            400: OpenApiResponse(description="problem+json; `errors.value` says what to fix, `errors.kind` names the kinds."),
            403: PROBLEM, 409: CONFLICT, 413: PROBLEM, 422: IDEMPOTENCY_MISMATCH,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = BlacklistEntryCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            entry = blacklist_entry_add(tenant=self.tenant, **payload.validated_data, **self._actor())
        except CleansingEntryExists as error:
            return _exists_response(error, field="value")
        return Response(BlacklistEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a blacklist entry", parameters=[_ENTRY_ID], responses={204: None, 403: PROBLEM, 404: PROBLEM})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        try:
            blacklist_entry_delete(tenant=self.tenant, entry_id=int(pk or 0), **self._actor())
        except BlacklistEntry.DoesNotExist:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Import blacklist entries from a file",
        request={"multipart/form-data": BlacklistImportInputSerializer}, parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: ListImportOutputSerializer, 400: IMPORT_REFUSED, 403: PROBLEM, 409: IDEMPOTENCY_RUNNING, 413: PROBLEM,
            415: PROBLEM, 422: IDEMPOTENCY_MISMATCH,
        },
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        payload = BlacklistImportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            report = blacklist_import(
                tenant=self.tenant, data=data["file"].read(), kind=data.get("kind"), note=data["note"],
                skip_invalid=data["skip_invalid"], **self._actor(),
            )
        except ListImportRefused as error:
            return _refused_response(error)
        return Response(_import_body(report))


@extend_schema_view(
    list=extend_schema(
        summary="List the tenant's sensitive words",
        parameters=[
            OpenApiParameter(
                "category", OpenApiTypes.STR, enum=SensitiveWordCategory.values,
                description="Only words of this category.",
            ),
            _Q_WORDS,
        ],
        responses={200: SensitiveWordOutputSerializer(many=True), 400: PROBLEM, 403: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="Get one sensitive word", parameters=[_WORD_ID],
        responses={200: SensitiveWordOutputSerializer, 403: PROBLEM, 404: PROBLEM},
    ),
)
class SensitiveWordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CleansingConfigViewSet):
    """The tenant's own words, matched with the built-in lexicon (unless the policy turns it off)."""

    serializer_class = SensitiveWordOutputSerializer
    pagination_class = WordCursorPagination
    filter_backends: list[Any] = []
    body_required_actions = frozenset({"create"})

    def get_queryset(self) -> QuerySet[SensitiveWord]:
        if getattr(self, "swagger_fake_view", False):
            return SensitiveWord.all_tenants.none()
        if self.action != "list":
            return SensitiveWord.objects.all()
        query = SensitiveWordListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return sensitive_word_list(
            category=query.validated_data.get("category", ""), search=query.validated_data.get("q", "")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._list_params_checked(request, choice_params=("category",))
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Add a sensitive word", request=SensitiveWordCreateInputSerializer, parameters=[IDEMPOTENCY_HEADER],
        examples=[OpenApiExample("a competitor's brand", value={"word": "某某竞品", "category": "custom"}, request_only=True)],
        responses={
            201: SensitiveWordOutputSerializer,
            400: OpenApiResponse(description="problem+json; `errors.word` says what to fix."),
            403: PROBLEM, 409: CONFLICT, 413: PROBLEM, 422: IDEMPOTENCY_MISMATCH,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = SensitiveWordCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            word = sensitive_word_add(tenant=self.tenant, **payload.validated_data, **self._actor())
        except CleansingEntryExists as error:
            return _exists_response(error, field="word")
        return Response(SensitiveWordOutputSerializer(word).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a sensitive word", parameters=[_WORD_ID], responses={204: None, 403: PROBLEM, 404: PROBLEM})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        try:
            sensitive_word_delete(tenant=self.tenant, word_id=int(pk or 0), **self._actor())
        except SensitiveWord.DoesNotExist:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Import sensitive words from a file",
        request={"multipart/form-data": SensitiveWordImportInputSerializer}, parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: ListImportOutputSerializer, 400: IMPORT_REFUSED, 403: PROBLEM, 409: IDEMPOTENCY_RUNNING, 413: PROBLEM,
            415: PROBLEM, 422: IDEMPOTENCY_MISMATCH,
        },
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        payload = SensitiveWordImportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            report = sensitive_word_import(
                tenant=self.tenant, data=data["file"].read(), category=data["category"],
                skip_invalid=data["skip_invalid"], **self._actor(),
            )
        except ListImportRefused as error:
            return _refused_response(error)
        return Response(_import_body(report))


class CleansingPolicyViewSet(CleansingConfigViewSet):
    """One object per tenant: what a sensitive word does, and whether the built-in lexicon is on."""

    serializer_class = CleansingPolicyOutputSerializer
    body_required_actions = frozenset({"partial_update"})

    @extend_schema(summary="Get the cleansing policy", responses={200: CleansingPolicyOutputSerializer, 403: PROBLEM})
    def retrieve(self, request: Request) -> Response:
        return Response(CleansingPolicyOutputSerializer(cleansing_policy_get(tenant_id=self.tenant.id)).data)

    @extend_schema(
        summary="Change the cleansing policy", request=CleansingPolicyUpdateInputSerializer,
        examples=[OpenApiExample("tag instead of quarantine", value={"sensitive_action": "flag"}, request_only=True)],
        responses={200: CleansingPolicyOutputSerializer, 400: PROBLEM, 403: PROBLEM},
    )
    def partial_update(self, request: Request) -> Response:
        payload = CleansingPolicyUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        policy = cleansing_policy_update(tenant=self.tenant, **payload.validated_data, **self._actor())
        return Response(CleansingPolicyOutputSerializer(policy).data)
