"""Follow-ups, the lead timeline, SLA policies, the sweep and violations over the API
(API.md "Pools, assignment, follow-up, SLA"). Thin: validate, call the service, shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assignment.followups import follow_up_create, follow_up_list
from assignment.models import FollowUpKind, SlaPolicy, Violation
from assignment.sla_policies import (
    sla_policy_body,
    sla_policy_create,
    sla_policy_delete,
    sla_policy_list,
    sla_policy_update,
)
from assignment.sweep import sla_sweep_batch, sla_warnings_send
from assignment.timeline import InvalidTimelineCursor, lead_timeline_page, timeline_people, timeline_words
from assignment.timeline import event_labels as timeline_event_labels
from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.pagination import DocumentedCursorPagination
from leadcrm.api.permissions import HasScope
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.models import Role
from leads.api.dedup import OnePage, _envelope_schema
from leads.models import Lead
from leads.selectors import lead_pool_names, lead_visible_to, owner_labels

PROBLEM = OpenApiResponse(description="problem+json")
POLICY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the SLA policy.")
PAGING = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` or `previous` URL's cursor."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Rows per page, 1–500 (default 50)."),
]
LEAD_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the lead.")


class AdminsOnlyToChange(permissions.BasePermission):
    """Reading is for every member; changing SLA configuration is the admins'. An API key is
    judged by its scopes alone (HasScope)."""

    message = "Only the workspace's admins can change follow-up policies or run the sweep."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.user, ApiKeyPrincipal) or request.method in permissions.SAFE_METHODS:
            return True
        membership = getattr(view, "membership", None)
        return membership is not None and membership.is_admin


# --- follow-ups --------------------------------------------------------------------------------


class FollowUpInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FollowUpKind.values)
    content = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000, trim_whitespace=True)
    outcome = serializers.CharField(allow_blank=True, required=False, default="", max_length=200)
    next_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
    by = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                  help_text="The user who followed up. Default: you, or the lead's owner for an API key.")


class FollowUpOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    by = serializers.IntegerField(source="by_id", allow_null=True)
    kind = serializers.CharField()
    content = serializers.CharField()
    outcome = serializers.CharField()
    next_at = serializers.DateTimeField(allow_null=True)
    met_deadline_at = serializers.DateTimeField(
        allow_null=True, help_text="The running deadline this follow-up satisfied (the owner's, in time); null otherwise."
    )
    created_at = serializers.DateTimeField()


class FollowUpCursorPagination(DocumentedCursorPagination):
    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _envelope_schema(schema, path="leads/42/follow-ups", example_cursor="cD0yMDI2LTExLTI4KzA0JTNBMzQ")


class LeadFollowUpViewSet(TenantScopedViewSet):
    """`POST|GET /leads/{id}/follow-ups`."""

    required_scopes = {"GET": "read", "HEAD": "read", "POST": "leads:write"}
    body_required_actions = frozenset({"create"})
    pagination_class = FollowUpCursorPagination
    serializer_class = FollowUpOutputSerializer

    def _lead(self) -> Lead:
        lead = lead_visible_to(membership=self.membership).filter(id=self.kwargs["pk"]).first()
        if lead is None:
            raise exceptions.NotFound("No such lead.")
        return lead

    @extend_schema(
        operation_id="leads_follow_ups_create", summary="Record a follow-up", parameters=[LEAD_ID],
        request=FollowUpInputSerializer, responses={201: FollowUpOutputSerializer, 400: PROBLEM, 404: PROBLEM},
        description="The first follow-up moves a `pending` lead to `following`; one by the owner before the "
        "deadline satisfies the running SLA deadline (`deadline_at` becomes null).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self._lead()
        payload = FollowUpInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        by_id = data["by"]
        if by_id is None and self.membership is not None:
            by_id = request.user.id
        if self.membership is not None and self.membership.role == Role.REP and by_id != request.user.id:
            raise exceptions.ValidationError({"by": ["A rep records their own follow-ups."]})
        follow_up = follow_up_create(
            tenant=self.tenant, lead_id=lead.id, by_id=by_id, kind=data["kind"], content=data["content"],
            outcome=data["outcome"], next_at=data["next_at"], actor=self.acting_user, api_key=self.acting_api_key,
        )
        return Response(FollowUpOutputSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="leads_follow_ups_list", summary="A lead's follow-ups, newest first", parameters=[LEAD_ID, *PAGING],
        responses={200: FollowUpOutputSerializer(many=True), 400: PROBLEM, 404: PROBLEM},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(follow_up_list(lead_id=self._lead().id))
        return self.get_paginated_response(FollowUpOutputSerializer(page, many=True).data)

    def get_queryset(self) -> QuerySet[Lead]:  # the path's id is the lead's
        if getattr(self, "swagger_fake_view", False):
            return Lead.all_tenants.none()
        return lead_visible_to(membership=self.membership)


# --- timeline ----------------------------------------------------------------------------------


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=["created", "event", "score_change", "owner_change", "pool_change", "status_change", "became_hot",
                 "became_mature", "follow_up", "violation"]
    )
    id = serializers.IntegerField(help_text="Id of the row in its own kind (event, follow-up, violation, …).")
    text = serializers.CharField(help_text="The item in words.")
    detail = serializers.CharField()
    data = serializers.DictField(help_text="The item's facts: ids, codes, times.")  # type: ignore[assignment]  # a field named like Serializer.data


class TimelinePagination(DocumentedCursorPagination):
    example_path = "leads/42/timeline"


def _page_url(request: Request, cursor: str) -> str | None:
    """This list's URL at `cursor` (its other parameters kept), or None without one."""
    if not cursor:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class LeadTimelineViewSet(TenantScopedViewSet):
    """`GET /leads/{id}/timeline`."""

    required_scopes = {"GET": "read", "HEAD": "read"}
    serializer_class = TimelineItemSerializer
    pagination_class = TimelinePagination  # for the schema's envelope; list() pages by its own keyset

    def get_queryset(self) -> QuerySet[Lead]:  # the path's id is the lead's
        if getattr(self, "swagger_fake_view", False):
            return Lead.all_tenants.none()
        return lead_visible_to(membership=self.membership)

    @extend_schema(
        operation_id="leads_timeline_list", summary="A lead's timeline, newest first",
        parameters=[
            LEAD_ID,
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` or `previous` URL's cursor."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1–500, default 50."),
        ],
        responses={200: TimelineItemSerializer(many=True), 400: PROBLEM, 404: PROBLEM},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = lead_visible_to(membership=self.membership).filter(id=kwargs["pk"]).first()
        if lead is None:
            raise exceptions.NotFound("No such lead.")
        raw_size = request.query_params.get("page_size", "50")
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= 500:
            raise exceptions.ValidationError({"page_size": ["Must be a whole number from 1 to 500."]})
        try:
            page = lead_timeline_page(
                tenant_id=self.tenant.id, lead_id=lead.id, limit=int(raw_size),
                cursor=request.query_params.get("cursor", ""),
            )
        except InvalidTimelineCursor:
            raise exceptions.ValidationError(
                {"cursor": ["Invalid cursor. Use the 'next' or 'previous' URL exactly as returned."]}
            ) from None
        items = page.items
        names = {uid: label.name for uid, label in owner_labels(user_ids=timeline_people(items)).items()}
        pools = lead_pool_names()
        events = timeline_event_labels(types={i.data.get("type", "") for i in items if i.kind == "event"})
        results = []
        for item in items:
            title, detail = timeline_words(item, names=names, pools=pools, events=events)
            results.append({"at": item.at, "kind": item.kind, "id": item.id, "text": title, "detail": detail,
                            "data": item.data})
        return Response({"next": _page_url(request, page.next_cursor), "previous": _page_url(request, page.previous_cursor),
                         "results": results})


# --- SLA policies, sweep, violations ------------------------------------------------------------


class SlaDurationSerializer(serializers.Serializer):
    value = serializers.FloatField()
    unit = serializers.ChoiceField(choices=["minutes", "hours", "working_hours", "days"])


class SlaPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    pool = serializers.IntegerField(allow_null=True, help_text="The pool it governs; null: every pool without its own.")
    within = SlaDurationSerializer(help_text="T+N: the owner must follow up within this of the owner change.")
    warn_before = SlaDurationSerializer(allow_null=True, required=False,
                                        help_text="Warn the owner this long before the deadline (once).")
    on_breach = serializers.ChoiceField(choices=["recycle", "redistribute"], default="recycle")
    penalty_days = serializers.IntegerField(default=3, help_text="No new leads for the late owner for this many days.")
    is_active = serializers.BooleanField(default=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class SlaPolicyViewSet(TenantScopedViewSet):
    """`/sla-policies`: read by members and `read` keys, changed by admins and `admin` keys."""

    permission_classes = [HasScope, AdminsOnlyToChange]
    required_scopes = {"GET": "read", "HEAD": "read", "POST": "admin", "PATCH": "admin", "DELETE": "admin"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    body_required_actions = frozenset({"create", "partial_update"})
    lookup_value_regex = r"[0-9]{1,18}"
    serializer_class = SlaPolicySerializer
    pagination_class = OnePage  # a tenant has a handful

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        if getattr(self, "swagger_fake_view", False):
            return SlaPolicy.all_tenants.none()
        return sla_policy_list()

    def _body(self) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        return dict(self.request.data)

    @extend_schema(summary="List SLA policies", responses={200: SlaPolicySerializer(many=True)})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"next": None, "previous": None,
                         "results": [sla_policy_body(p) for p in self.get_queryset()]})

    @extend_schema(summary="Get an SLA policy", parameters=[POLICY_ID], responses={200: SlaPolicySerializer, 404: PROBLEM})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(sla_policy_body(self.get_object()))

    @extend_schema(summary="Add an SLA policy (T+N)", request=SlaPolicySerializer,
                   responses={201: SlaPolicySerializer, 400: PROBLEM, 403: PROBLEM})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = sla_policy_create(tenant=self.tenant, data=self._body(), actor=self.acting_user,
                                   api_key=self.acting_api_key)
        return Response(sla_policy_body(policy), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an SLA policy", parameters=[POLICY_ID], request=SlaPolicySerializer,
                   responses={200: SlaPolicySerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = sla_policy_update(tenant=self.tenant, policy=self.get_object(), data=self._body(),
                                   actor=self.acting_user, api_key=self.acting_api_key)
        return Response(sla_policy_body(policy))

    @extend_schema(summary="Delete an SLA policy", parameters=[POLICY_ID], responses={204: None, 403: PROBLEM, 404: PROBLEM})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sla_policy_delete(tenant=self.tenant, policy=self.get_object(), actor=self.acting_user,
                          api_key=self.acting_api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SlaSweepViewSet(TenantScopedViewSet):
    """`POST /sla/sweep`: the sweep of this tenant, now."""

    permission_classes = [HasScope, AdminsOnlyToChange]
    required_scopes = {"POST": "admin"}
    serializer_class = serializers.Serializer

    @extend_schema(
        operation_id="sla_sweep", summary="Run the SLA sweep now", request=None,
        responses={200: inline_serializer("SweepResult", {
            "violations": serializers.IntegerField(), "recycled": serializers.IntegerField(),
            "redistributed": serializers.IntegerField(),
        }), 403: PROBLEM},
        description="Records each overdue lead's violation once (whatever number of sweeps run), recycles or "
        "redistributes it, penalises and notifies the owner and their managers; warns owners near a deadline.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        totals = {"violations": 0, "recycled": 0, "redistributed": 0}
        while True:  # inside the request's transaction: batches are savepoints of it
            result, taken = sla_sweep_batch(tenant=self.tenant)
            for key, value in result.as_dict().items():
                totals[key] += value
            if taken < settings.SLA_SWEEP_BATCH:
                break
        sla_warnings_send(tenant=self.tenant)
        return Response(totals)


class ViolationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    policy = serializers.IntegerField(source="policy_id", allow_null=True)
    deadline_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField()
    action = serializers.CharField()
    snapshot = serializers.DictField(help_text="Evidence: the lead, owner, deadline, assignment time, last follow-up, policy.")


class ViolationFilterSerializer(serializers.Serializer):
    owner = serializers.IntegerField(required=False, min_value=1, help_text="Only this owner's violations (user id).")
    lead = serializers.IntegerField(required=False, min_value=1, help_text="Only this lead's violations.")
    policy = serializers.IntegerField(required=False, min_value=1, help_text="Only violations of this SLA policy.")
    created_after = serializers.DateTimeField(required=False, help_text="Only violations detected at or after this time.")


class ViolationCursorPagination(DocumentedCursorPagination):
    ordering = ("-detected_at", "-id")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _envelope_schema(schema, path="violations", example_cursor="cD0yMDI2LTExLTI4KzA0JTNBMzQ")



class ViolationViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """`GET /violations`: reps see their own."""

    required_scopes = {"GET": "read", "HEAD": "read"}
    serializer_class = ViolationSerializer
    pagination_class = ViolationCursorPagination

    @extend_schema(summary="List violations, newest first", parameters=[ViolationFilterSerializer, *PAGING],
                   responses={200: ViolationSerializer(many=True), 400: PROBLEM})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Violation]:
        if getattr(self, "swagger_fake_view", False):
            return Violation.all_tenants.none()
        filters = ViolationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if empty := sorted(str(name) for name in filters.fields if self.request.query_params.get(str(name)) == ""):
            raise exceptions.ValidationError({name: ["Give a value or leave the filter out."] for name in empty})
        qs = Violation.objects.all()
        if self.membership is not None and self.membership.role == Role.REP:
            qs = qs.filter(owner_id=self.membership.user_id)
        data = filters.validated_data
        for name in ("owner", "lead", "policy"):
            if name in data:
                qs = qs.filter(**{f"{name}_id": data[name]})
        if "created_after" in data:
            qs = qs.filter(detected_at__gte=data["created_after"])
        return qs
