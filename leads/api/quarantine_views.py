"""The quarantine API (`/api/v1/intake`): read the intake log, restore or purge a record.

Reading needs the `read` scope (an API key) or an admin's or manager's session; restoring and
purging need `leads:write` (an API key) or an admin's session. Another tenant's record is a
404 everywhere."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.exceptions import ApiProblem, problem_response
from leadcrm.api.pagination import CursorPagination
from leadcrm.api.permissions import SAFE, HasScope
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.models import ApiScope
from leads.api.quarantine_serializers import (
    IntakeCountsOutputSerializer,
    IntakeCountsQuerySerializer,
    IntakePurgeManyInputSerializer,
    IntakePurgeManyOutputSerializer,
    IntakeRecordListQuerySerializer,
    IntakeRecordOutputSerializer,
    IntakeRestoreInputSerializer,
    IntakeRestoreOutputSerializer,
    IntakeRestoreRejectedSerializer,
)
from leads.api.views import outcome_body
from leads.models import IntakeRecord
from leads.quarantine import (
    IntakeRecordNotFound,
    IntakeRecordNotQuarantined,
    IntakeStillRejected,
    intake_record_purge,
    intake_record_purge_many,
    intake_record_restore,
    quarantine_may_read,
    quarantine_may_work,
)
from leads.quarantine_selectors import intake_counts, intake_record_list
from leads.selectors import lead_is_visible_to

PROBLEM = OpenApiResponse(description="problem+json")
NOT_FOUND = OpenApiResponse(description="problem+json: no such record in your tenant (another tenant's is a 404 too).")
CONFLICT = OpenApiResponse(description="problem+json: the record was already restored or purged.")
RECORD_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH,
    description="Id of the intake record: the `intake_id` of a 202 answer to POST /leads.",
)
EXAMPLE_LIST_URL = "https://crm.example.com/api/v1/intake?reason=blacklist&cursor="


class QuarantineRolePermission(permissions.BasePermission):
    """Session users: admins and managers read, admins restore and purge. API keys pass here;
    `HasScope` holds them to their scopes."""

    message = "Only the tenant's admins and managers can see the quarantine."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = getattr(view, "membership", None)
        if membership is None:
            return True
        if request.method in SAFE:
            return quarantine_may_read(membership=membership)
        self.message = "Only the tenant's admins can restore or purge quarantined submissions."
        return quarantine_may_work(membership=membership)


def _query_validated(serializer_class: type[serializers.Serializer], params: Any) -> dict[str, Any]:
    """The query parameters, checked. An empty one (`status=`) is a client bug to point out,
    not "any": DRF's fields would silently skip it."""
    query = serializer_class(data=params)
    empty: dict[str, list[str]] = {
        str(name): ["Must not be empty: give a value or leave the parameter out."]
        for name in query.fields if name in params and params.get(name) == ""
    }
    if empty:
        raise exceptions.ValidationError(empty)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class IntakeCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # API.md's envelope, with our own URLs rather than DRF's stock example
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string", "nullable": True, "format": "uri", "example": f"{EXAMPLE_LIST_URL}cD0yMDI2LTExLTI3",
                    "description": "The next page, with the same filters; null on the last page.",
                },
                "previous": {
                    "type": "string", "nullable": True, "format": "uri", "example": f"{EXAMPLE_LIST_URL}cj0xJnA9MjAyNi0xMS0yOA",
                    "description": "The page before; null on the first page.",
                },
                "results": schema,
            },
        }


@extend_schema_view(
    list=extend_schema(
        summary="List quarantined submissions",
        description="The intake log, newest first: every submission intake rejected, with its reason codes. "
        "Filter by `reason` (a code or a family such as `blacklist`), `channel`, `status`, arrival time, or `q`.",
        parameters=[IntakeRecordListQuerySerializer],
        responses={200: IntakeRecordOutputSerializer(many=True), 400: PROBLEM, 401: PROBLEM, 403: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="Get one quarantined submission",
        description="The `intake_id` of a 202 answer to POST /leads.",
        parameters=[RECORD_ID],
        responses={200: IntakeRecordOutputSerializer, 401: PROBLEM, 403: PROBLEM, 404: NOT_FOUND},
    ),
)
class IntakeRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    serializer_class = IntakeRecordOutputSerializer
    pagination_class = IntakeCursorPagination
    permission_classes = [HasScope, QuarantineRolePermission]
    required_scopes = {"GET": ApiScope.READ, "HEAD": ApiScope.READ, "POST": ApiScope.LEADS_WRITE}
    body_required_actions = frozenset({"purge_many"})
    lookup_value_regex = r"[0-9]{1,18}"  # anything else is a 404, never a database error

    def get_queryset(self) -> QuerySet[IntakeRecord]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return IntakeRecord.all_tenants.none()
        if self.action == "list":
            return intake_record_list(**_query_validated(IntakeRecordListQuerySerializer, self.request.query_params))
        return IntakeRecord.objects.all()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw_size = request.query_params.get("page_size")
        if raw_size is not None and (not raw_size.isdigit() or not 1 <= int(raw_size) <= 500):
            raise exceptions.ValidationError({"page_size": ["Must be a whole number from 1 to 500."]})
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self) -> dict[str, Any]:
        # A manager may see that a submission was rejected, not reach the person behind it.
        membership = self.membership
        return {**super().get_serializer_context(), "mask_contacts": membership is not None and not quarantine_may_work(
            membership=membership
        )}

    def _record_body(self, record: IntakeRecord) -> dict[str, Any]:
        return IntakeRecordOutputSerializer(record, context=self.get_serializer_context()).data

    @extend_schema(
        operation_id="intake_restore",
        summary="Restore a quarantined submission",
        description="Runs the submission through intake again with `waive` (default: all its reasons) waived. "
        "The answer is the one POST /leads gives: `created`, `merged` (collected into an existing lead) or "
        "`updated`, with the lead, and the record, now `restored` and linked to that lead. The lead is taken in "
        "now (the record keeps the arrival time). 409: already restored or purged. 422: it would still be "
        "quarantined for reasons not waived (named in `reasons`) or is no longer valid; nothing is changed.",
        request=IntakeRestoreInputSerializer,
        parameters=[RECORD_ID],
        responses={
            200: IntakeRestoreOutputSerializer, 400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: NOT_FOUND,
            409: CONFLICT, 413: PROBLEM, 422: IntakeRestoreRejectedSerializer,
        },
        examples=[OpenApiExample("Waive one reason", value={"waive": ["invalid.mobile"]}, request_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request: Request, pk: str | None = None) -> Response:
        body = IntakeRestoreInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            restored = intake_record_restore(
                tenant=self.tenant, record_id=int(pk or 0), actor=self.acting_user, api_key=self.acting_api_key,
                waive=body.validated_data.get("waive"),
            )
        except IntakeRecordNotFound:
            raise exceptions.NotFound() from None
        except IntakeRecordNotQuarantined as error:
            raise ApiProblem(status_code=409, detail=str(error)) from None
        except IntakeStillRejected as error:
            response = problem_response(status_code=422, detail=str(error), errors=error.errors or None)
            response.data["reasons"] = error.reasons
            return response
        answer = outcome_body(restored.outcome, may_read=self._may_read_lead())
        return Response({**answer, "intake": self._record_body(restored.record)})

    def _may_read_lead(self) -> Any:
        principal = self.request.user
        if isinstance(principal, ApiKeyPrincipal):
            has_read = ApiScope.READ in principal.api_key.scopes
            return lambda lead: has_read
        membership = self.membership
        return lambda lead: lead_is_visible_to(lead=lead, membership=membership)

    @extend_schema(
        operation_id="intake_purge",
        summary="Purge a quarantined submission",
        description="Drops the submission's personal data (the payload); the record keeps its reasons, channel "
        "and time for the counts, with the status `purged`. 409: already restored or purged.",
        request=None,
        parameters=[RECORD_ID],
        responses={200: IntakeRecordOutputSerializer, 401: PROBLEM, 403: PROBLEM, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="purge")
    def purge(self, request: Request, pk: str | None = None) -> Response:
        try:
            record = intake_record_purge(
                tenant=self.tenant, record_id=int(pk or 0), actor=self.acting_user, api_key=self.acting_api_key
            )
        except IntakeRecordNotFound:
            raise exceptions.NotFound() from None
        except IntakeRecordNotQuarantined as error:
            raise ApiProblem(status_code=409, detail=str(error)) from None
        return Response(self._record_body(record))

    @extend_schema(
        operation_id="intake_purge_many",
        summary="Purge many quarantined submissions",
        description="`intake/{id}/purge` for up to 500 records at once. Records already restored or purged, and "
        "ids that are not records of your tenant, are left as they are and listed in `skipped`.",
        request=IntakePurgeManyInputSerializer,
        responses={200: IntakePurgeManyOutputSerializer, 400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 413: PROBLEM},
    )
    @action(detail=False, methods=["post"], url_path="purge", url_name="purge-many")
    def purge_many(self, request: Request) -> Response:
        body = IntakePurgeManyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = intake_record_purge_many(
            tenant=self.tenant, record_ids=body.validated_data["ids"], actor=self.acting_user,
            api_key=self.acting_api_key,
        )
        return Response({"purged": result.purged, "skipped": result.skipped})

    @extend_schema(
        operation_id="intake_counts",
        summary="Count quarantined submissions by reason and channel",
        description="Over the records that arrived in [`since`, `until`), optionally of one channel or status.",
        parameters=[IntakeCountsQuerySerializer],
        responses={200: IntakeCountsOutputSerializer, 400: PROBLEM, 401: PROBLEM, 403: PROBLEM},
    )
    @action(detail=False, methods=["get"], url_path="counts", pagination_class=None)
    def counts(self, request: Request) -> Response:
        counts = intake_counts(**_query_validated(IntakeCountsQuerySerializer, request.query_params))
        return Response({"total": counts.total, "by_reason": counts.by_reason, "by_channel": counts.by_channel})
