from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.utils.urls import replace_query_param

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.exceptions import ApiProblem, _flatten_errors
from leadcrm.api.pagination import CursorPagination
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.models import ApiScope
from leads.api.export_views import LeadExportMixin
from leads.api.schema import (
    BULK_REQUEST_EXAMPLES,
    BULK_RESPONSE,
    CURSOR_DESCRIPTION,
    INTAKE_REQUEST_EXAMPLES,
    INTAKE_RESPONSES,
    LEAD_ID_PARAMETER,
    LIST_PARAMETERS,
    list_response,
    paginated_response_schema,
)
from leads.api.serializers import (
    LeadBulkInputSerializer,
    LeadCreateInputSerializer,
    LeadOutputSerializer,
    LeadUpdateInputSerializer,
    not_an_object_error,
)
from leads.filters import ORDERING_CHOICES, LeadFilter, ordering_for
from leads.intake import IntakeOutcome, lead_intake_many
from leads.lead_edits import LeadEditForbidden, LeadEditNotFound, LeadEditStale, lead_update
from leads.masking import contacts_masked
from leads.models import Lead
from leads.selectors import (
    InvalidLeadCursor,
    lead_is_visible_to,
    lead_keyset_page,
    lead_masking_pool_ids,
    lead_search_unmasking_excluded,
    lead_visible_to,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Same key + same body within 24 h replays the first response.",
)
PROBLEM = OpenApiResponse(description="problem+json")


# Validation keeps no state on the serializer (run_validation returns the data), so one
# instance serves every request and item; building one deep-copies ~20 fields (~1 ms).
_LEAD_INPUT = LeadCreateInputSerializer()
_LEAD_OUTPUT = LeadOutputSerializer()  # its to_representation keeps no state either


class LeadCursorPagination(CursorPagination):
    """The workbench's keyset pages (`lead_keyset_page`) behind the API's cursor contract.

    DRF's own cursor keeps an OFFSET among rows that share the sort value; with many equal
    scores (every lead before it is scored) deep pages would scan ever further.
    """

    cursor_query_description = CURSOR_DESCRIPTION

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return paginated_response_schema(schema)  # our envelope and URLs, not DRF's stock example

    def paginate_queryset(  # type: ignore[override]  # pages leads only, never other rows
        self, queryset: QuerySet[Lead], request: Request, view: Any = None
    ) -> list[Lead]:
        self.request = request
        self.page_size = self.get_page_size(request) or self.page_size  # None only when page_size is unset
        try:
            self.keyset_page = lead_keyset_page(
                queryset=queryset, ordering=ordering_for(request.query_params.get("ordering")),
                cursor=request.query_params.get(self.cursor_query_param, ""), page_size=self.page_size,
                deferred_fields=("search_text",),  # every other column is in the response
            )
        except InvalidLeadCursor:
            raise exceptions.ValidationError(
                {"cursor": ["Invalid cursor. Use the 'next' or 'previous' URL exactly as returned."]}
            ) from None
        return self.keyset_page.rows

    def _page_url(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._page_url(self.keyset_page.next_cursor),
                "previous": self._page_url(self.keyset_page.previous_cursor),
                "results": data,
            }
        )


def outcome_body(outcome: IntakeOutcome, *, may_read: Callable[[Lead], bool]) -> dict[str, Any]:
    """API.md's body for an outcome. A caller that may not read the lead is told its id only:
    otherwise submitting a guessed mobile would show another's lead (a `merged` answer)."""
    if outcome.outcome == "quarantined":
        assert outcome.intake_record is not None
        return {"outcome": "quarantined", "intake_id": outcome.intake_record.id, "reasons": outcome.reasons}
    if outcome.outcome == "invalid":
        return {"outcome": "invalid", "errors": outcome.errors}
    lead = outcome.lead
    assert lead is not None
    if not may_read(lead):
        return {"outcome": outcome.outcome, "lead": {"id": lead.id}}
    body = {"outcome": outcome.outcome, "lead": _LEAD_OUTPUT.to_representation(lead)}
    if outcome.action:  # a duplicate rule matched
        body["dedup_rule"] = {"id": outcome.rule_id, "name": outcome.rule, "action": outcome.action}
    return body


OUTCOME_STATUS = {"created": 201, "merged": 200, "updated": 200, "quarantined": 202}


@extend_schema_view(
    list=extend_schema(
        summary="List leads",
        parameters=LIST_PARAMETERS,
        responses={
            200: list_response(LeadOutputSerializer(many=True)), 400: PROBLEM, 401: PROBLEM,
        },
    ),
    retrieve=extend_schema(
        summary="Get one lead", parameters=[LEAD_ID_PARAMETER], responses={200: LeadOutputSerializer, 404: PROBLEM}
    ),
    partial_update=extend_schema(
        summary="Change a lead's fields",
        description="Only the fields sent change. Contacts are normalised and checked as intake checks them (an "
        "invalid or fake mobile is a 400 naming the field). Each change is audited and shows on the lead's "
        "timeline; a change to a field the scoring rules read rescores the lead. A rep may change only their own "
        "leads' contact and profile fields.",
        request=LeadUpdateInputSerializer, parameters=[LEAD_ID_PARAMETER],
        responses={200: LeadOutputSerializer, 400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    ),
)
class LeadViewSet(LeadExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    serializer_class = LeadOutputSerializer
    filterset_class = LeadFilter
    pagination_class = LeadCursorPagination
    required_scopes = {"GET": "read", "HEAD": "read", "POST": "leads:write", "PATCH": "leads:write"}
    body_required_actions = frozenset({"create", "bulk", "partial_update"})
    lookup_value_regex = r"[0-9]{1,18}"  # anything else is a 404, never a database error
    _masking_pools: frozenset[int]  # set on first use, per request (`_masking_pool_ids`)

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return Lead.all_tenants.none()
        return lead_visible_to(membership=self.membership)

    @property
    def max_body_bytes(self) -> int:  # type: ignore[override]  # a read-only property over the base's attribute
        if getattr(self, "action", None) == "bulk":
            return int(settings.API_MAX_BULK_BODY_BYTES)
        return int(settings.API_MAX_BODY_BYTES)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw_size = request.query_params.get("page_size")
        if raw_size is not None and (not raw_size.isdigit() or not 1 <= int(raw_size) <= 500):
            raise exceptions.ValidationError({"page_size": ["Must be a whole number from 1 to 500."]})
        ordering = request.query_params.get("ordering")
        if ordering is not None and ordering not in ORDERING_CHOICES:
            raise exceptions.ValidationError({"ordering": [f"Use one of: {', '.join(ORDERING_CHOICES)}."]})
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:  # type: ignore[override]  # leads only
        if self.action not in ("list", "export"):
            return queryset  # filters belong to the list; building a FilterSet costs ~1 ms
        params = self.request.query_params
        filterset = LeadFilter(params, queryset=queryset, request=self.request)
        # The browser form sends empty fields and means "any"; an integrator sending
        # `created_before=` has a bug we should point out rather than silently ignore.
        empty = {
            name: ["Must not be empty: give a value or leave the parameter out."]
            for name, filter_ in filterset.filters.items()
            if name in params and params.get(name) == "" and not isinstance(filter_, django_filters.CharFilter)
        }
        if empty:
            raise exceptions.ValidationError(empty)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        masking_pool_ids = self._masking_pool_ids()
        if not masking_pool_ids or self.membership is None:
            return filterset.qs
        return lead_search_unmasking_excluded(
            queryset=filterset.qs, q=params.get("q", ""), viewer_id=self.membership.user_id,
            masking_pool_ids=masking_pool_ids,
        )

    def _masking_pool_ids(self) -> frozenset[int]:
        """Pools whose leads' contacts this caller reads masked: none for an API key (the
        tenant's own system, made and scoped by an admin) or an admin; read once a request."""
        membership = self.membership
        if membership is None or membership.is_admin:
            return frozenset()
        if not hasattr(self, "_masking_pools"):
            self._masking_pools = lead_masking_pool_ids()
        return self._masking_pools

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        masking_pool_ids = self._masking_pool_ids()
        if masking_pool_ids and self.membership is not None:
            viewer_id = self.membership.user_id
            context["contacts_masked"] = lambda lead: contacts_masked(
                pool_id=lead.pool_id, owner_id=lead.owner_id, viewer_id=viewer_id, viewer_is_admin=False,
                masking_pool_ids=masking_pool_ids,
            )
        return context

    def _may_read(self) -> Callable[[Lead], bool]:
        """Whether the caller may read a lead: an API key needs the `read` scope, a member must
        be able to see it (a rep: their own leads)."""
        principal = self.request.user
        if isinstance(principal, ApiKeyPrincipal):
            has_read = ApiScope.READ in principal.api_key.scopes
            return lambda lead: has_read
        membership = self.membership
        return lambda lead: lead_is_visible_to(lead=lead, membership=membership)

    def _validated_payload(self, data: Any) -> dict[str, Any]:
        """The JSON's types and lengths; what the values mean (custom fields, contacts,
        duplicates) is intake's to judge, for every channel alike."""
        validated = _LEAD_INPUT.run_validation(data)
        return {key: value for key, value in validated.items() if value is not None}

    @extend_schema(
        summary="Submit one lead",
        request=LeadCreateInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        examples=INTAKE_REQUEST_EXAMPLES,
        responses={**INTAKE_RESPONSES, 400: PROBLEM, 409: PROBLEM, 413: PROBLEM, 422: PROBLEM, 429: PROBLEM},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self._validated_payload(request.data)
        outcome = lead_intake_many(
            tenant=self.tenant, payloads=[payload], channel="api", submitted_by=self.acting_user,
            api_key=self.acting_api_key,
        )[0]
        if outcome.outcome == "invalid":
            raise exceptions.ValidationError(outcome.errors)
        return Response(outcome_body(outcome, may_read=self._may_read()), status=OUTCOME_STATUS[outcome.outcome])

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = LeadUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        expected = changes.pop("updated_at", None)
        lead_id = int(kwargs["pk"])
        masking_pool_ids = self._masking_pool_ids()
        try:
            hidden = bool(masking_pool_ids) and self.membership is not None and (
                (lead := self.get_queryset().filter(id=lead_id).only("pool_id", "owner_id").first()) is not None
                and contacts_masked(
                    pool_id=lead.pool_id, owner_id=lead.owner_id, viewer_id=self.membership.user_id,
                    viewer_is_admin=False, masking_pool_ids=masking_pool_ids,
                )
            )
            edit = lead_update(
                tenant=self.tenant, lead_id=lead_id, membership=self.membership, actor=self.acting_user,
                api_key=self.acting_api_key, changes=changes, expected_updated_at=expected, contacts_hidden=hidden,
            )
        except LeadEditNotFound:
            raise exceptions.NotFound("No such lead.") from None
        except LeadEditForbidden:
            raise exceptions.PermissionDenied("Your role may not change leads.") from None
        except LeadEditStale as stale:
            raise ApiProblem(
                status_code=409,
                detail=f"The lead changed at {stale.lead.updated_at.isoformat()}, after the updated_at you sent. "
                "Read it again and send your changes with its new updated_at.",
            ) from None
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(self.get_serializer(edit.lead).data)  # masked where the caller reads it masked

    @extend_schema(
        summary="Submit up to 1000 leads",
        request=LeadBulkInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        examples=BULK_REQUEST_EXAMPLES,
        responses={200: BULK_RESPONSE, 400: PROBLEM, 409: PROBLEM, 413: PROBLEM, 422: PROBLEM},
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        envelope = LeadBulkInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        results: list[dict[str, Any] | None] = []
        payloads: list[dict[str, Any]] = []
        positions: list[int] = []
        for index, item in enumerate(envelope.validated_data["leads"]):
            if (not_an_object := not_an_object_error(item)) is not None:
                results.append({"index": index, "outcome": "invalid", "errors": not_an_object})
                continue
            try:
                payload = self._validated_payload(item)
            except (exceptions.ValidationError, DjangoValidationError) as error:
                detail = error.detail if isinstance(error, exceptions.ValidationError) else as_serializer_error(error)
                results.append({"index": index, "outcome": "invalid", "errors": _flatten_errors(detail)})
                continue
            results.append(None)
            payloads.append(payload)
            positions.append(index)
        outcomes = lead_intake_many(
            tenant=self.tenant, payloads=payloads, channel="bulk", submitted_by=self.acting_user,
            api_key=self.acting_api_key,
        )
        may_read = self._may_read()
        for index, outcome in zip(positions, outcomes, strict=True):
            results[index] = {"index": index, **outcome_body(outcome, may_read=may_read)}
        return Response({"results": results}, status=status.HTTP_200_OK)
