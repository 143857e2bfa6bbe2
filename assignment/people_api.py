"""`/api/v1/members` and `/api/v1/members/{user_id}/routing` (API.md "Members").

Who may: API keys read with `read` and change with `admin`. Signed-in members: everyone reads
the list (names and teams are what assigning a lead needs); a routing profile is read by admins,
managers and the rep themself; changes are the owner's and admins' (403 otherwise). A user who
is not a member of this tenant, or another tenant's, is a 404 (the id is a user id)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assignment.models import RoutingProfile
from assignment.people import member_remove
from assignment.profiles import receives_nothing, routing_profile_get, routing_profile_set
from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.exceptions import problem_response
from leadcrm.api.pagination import DocumentedCursorPagination
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.members import (
    ASSIGNABLE_ROLES,
    MEMBER_ORDERINGS,
    MemberExists,
    member_get,
    member_invite,
    member_search,
    member_update,
    membership_reactivate,
)
from leadcrm.tenancy.models import Membership, Role

PROBLEM = OpenApiResponse(description="problem+json")
SCOPES = {"GET": "read", "HEAD": "read", "POST": "admin", "PATCH": "admin", "PUT": "admin"}


class MemberOutputSerializer(serializers.Serializer[Membership]):
    id = serializers.IntegerField(source="user_id", help_text="The user's id: members are named by it everywhere.")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField()
    role = serializers.CharField(help_text="owner, admin, manager, rep or read_only.")
    team = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    joined_at = serializers.DateTimeField(source="created_at")


class MemberCreateInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=list(ASSIGNABLE_ROLES))
    team = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False, allow_null=True, default=None, write_only=True, trim_whitespace=False,
        help_text="Optional. Without it an invitation with a link to set a password is e-mailed.",
    )

    def validate_password(self, value: str | None) -> str | None:
        if value:
            try:
                validate_password(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError(list(error.messages)) from None
        return value


class MemberUpdateInputSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=list(ASSIGNABLE_ROLES), required=False)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    active = serializers.BooleanField(
        required=False, help_text="false removes the member: the open leads they hold go back to their pools."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if unknown := sorted(set(self.initial_data) - set(self.fields)):
            raise serializers.ValidationError({name: ["Unknown field. Use role, team or active."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one of role, team, active."]})
        return attrs


class WorkingHoursSerializer(serializers.Serializer[Any]):
    weekday = serializers.IntegerField(help_text="0 = Monday … 6 = Sunday.")
    start = serializers.CharField(help_text="HH:MM in the rep's time zone.")
    end = serializers.CharField(help_text="HH:MM, after start.")


class RoutingProfileSerializer(serializers.Serializer[RoutingProfile]):
    """The same shape in and out; input is checked by `assignment.profiles.routing_profile_validate`."""

    on_duty = serializers.BooleanField()
    timezone = serializers.CharField(help_text="IANA time zone, e.g. Asia/Shanghai.")
    working_hours = WorkingHoursSerializer(many=True, help_text="Empty: always on duty.")
    daily_receive_cap = serializers.IntegerField(allow_null=True, help_text="Leads a day; 0 receives nothing; null: no cap.")
    max_open = serializers.IntegerField(allow_null=True, help_text="Open leads held at once; null: no limit.")
    weight = serializers.FloatField(help_text="Share in weighted rules; above 0.")
    penalty_until = serializers.DateTimeField(read_only=True, allow_null=True)
    cap_bonus = serializers.IntegerField(read_only=True, help_text="Extra daily cap earned by timeliness.")
    receives_nothing = serializers.SerializerMethodField()

    def get_receives_nothing(self, profile: RoutingProfile) -> bool:
        return receives_nothing(profile)


class MemberCursorPagination(DocumentedCursorPagination):
    example_path = "members"

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return MEMBER_ORDERINGS.get(request.query_params.get("ordering", "name"), MEMBER_ORDERINGS["name"])


_USER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The member's user id.")


@extend_schema_view(
    list=extend_schema(
        summary="List members",
        parameters=[
            OpenApiParameter("role", OpenApiTypes.STR, enum=Role.values, description="Only members with this role."),
            OpenApiParameter("team", OpenApiTypes.STR, description="Only members of this team (exact name)."),
            OpenApiParameter("active", OpenApiTypes.BOOL, description="Default true; false lists removed members."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Text in the name, e-mail or team."),
            OpenApiParameter(
                "ordering", OpenApiTypes.STR, enum=list(MEMBER_ORDERINGS),
                description="Sort by name (default), email, role, team or created_at; a leading - reverses.",
            ),
        ],
        responses={200: MemberOutputSerializer(many=True), 400: PROBLEM},
    ),
    retrieve=extend_schema(summary="Get one member", parameters=[_USER_ID], responses={200: MemberOutputSerializer, 404: PROBLEM}),
)
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    serializer_class = MemberOutputSerializer
    pagination_class = MemberCursorPagination
    required_scopes = SCOPES
    lookup_value_regex = r"[0-9]{1,18}"
    filter_backends: list[Any] = []
    body_required_actions = frozenset({"create", "partial_update"})  # and PUT routing (checked there)

    def _admin_required(self) -> None:
        if self.membership is not None and not self.membership.is_admin:
            raise exceptions.PermissionDenied("Only the workspace's owner and admins can change members.")

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):
            return Membership.all_tenants.none()
        if self.action != "list":
            return member_search(active=None)
        params = self.request.query_params
        errors: dict[str, list[str]] = {
            name: ["Must not be empty: give a value or leave the parameter out."]
            for name in ("role", "team", "active", "ordering") if params.get(name) == ""
        }
        if (role := params.get("role", "")) and role not in Role.values:
            errors["role"] = [f"Unknown role. Use one of: {', '.join(Role.values)}."]
        active_raw = params.get("active", "true").lower()
        if active_raw not in {"true", "false", "all"}:
            errors["active"] = ["Use true, false or all."]
        if (ordering := params.get("ordering", "name")) not in MEMBER_ORDERINGS:
            errors["ordering"] = [f"Use one of: {', '.join(MEMBER_ORDERINGS)}."]
        raw_size = params.get("page_size")
        if raw_size is not None and (not raw_size.isdigit() or not 1 <= int(raw_size) <= 500):
            errors["page_size"] = ["Must be a whole number from 1 to 500."]
        if errors:
            raise exceptions.ValidationError(errors)
        active = None if active_raw == "all" else active_raw == "true"
        return member_search(role=role, team=params.get("team", ""), active=active, q=params.get("q", ""), ordering=ordering)

    def get_object(self) -> Membership:
        try:
            return member_get(user_id=int(self.kwargs["pk"]))
        except (Membership.DoesNotExist, ValueError):
            raise Http404 from None

    @extend_schema(
        summary="Add a member",
        description="Without `password`, the person gets an e-mail with a link to set one. An existing user of "
        "another workspace keeps their account and password. An address already in this workspace is a 409.",
        request=MemberCreateInputSerializer,
        examples=[OpenApiExample("a rep", value={"email": "wang.fang@example.com", "name": "王芳", "role": "rep", "team": "华东一组"}, request_only=True)],
        responses={201: MemberOutputSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._admin_required()
        payload = MemberCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            invited = member_invite(
                tenant=self.tenant, invited_by=self.acting_user, site_url=request.build_absolute_uri("/").rstrip("/"),
                **payload.validated_data,
            )
        except MemberExists as error:
            response = problem_response(
                status_code=409, detail=str(error), errors={"email": ["Already a member of this workspace."]}
            )
            response.data["existing_id"] = error.membership.user_id
            return response
        body = dict(MemberOutputSerializer(invited.membership).data)
        body["invitation_sent"] = invited.invitation_sent
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a member's role, team or active",
        description="`active: false` removes the member from this workspace: they cannot sign in to it any more, "
        "the open leads they hold go back to their pools unowned (audited as `member_removed`), and routing "
        "stops giving them leads. The response says how many leads went back (`returned_leads`).",
        parameters=[_USER_ID], request=MemberUpdateInputSerializer,
        responses={200: MemberOutputSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._admin_required()
        membership = self.get_object()
        payload = MemberUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        active = data.pop("active", None)
        returned = 0
        actor = self.acting_user
        if active is True:
            membership = membership_reactivate(tenant=self.tenant, user_id=membership.user_id, actor=actor)
        if data:
            membership = member_update(tenant=self.tenant, user_id=membership.user_id, actor=actor, **data)
        if active is False:
            removal = member_remove(tenant=self.tenant, user_id=membership.user_id, actor=actor)
            membership, returned = removal.membership, removal.returned_count
        body = dict(MemberOutputSerializer(membership).data)
        body["returned_leads"] = returned
        return Response(body)

    @extend_schema(
        methods=["GET"], summary="Get a member's routing profile", parameters=[_USER_ID],
        responses={200: RoutingProfileSerializer, 403: PROBLEM, 404: PROBLEM},
    )
    @extend_schema(
        methods=["PUT"], summary="Set a member's routing profile", parameters=[_USER_ID],
        request=RoutingProfileSerializer,
        examples=[OpenApiExample("weekdays 9 to 6", value={
            "on_duty": True, "timezone": "Asia/Shanghai",
            "working_hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)],
            "daily_receive_cap": 30, "max_open": 200, "weight": 1,
        }, request_only=True)],
        responses={200: RoutingProfileSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
    )
    @action(detail=True, methods=["get", "put"], url_path="routing")
    def routing(self, request: Request, pk: str | None = None) -> Response:
        membership = self.get_object()
        caller = self.membership
        if request.method == "PUT":
            self._admin_required()
            if not isinstance(request.data, dict) or not request.data:
                raise exceptions.ValidationError({"non_field_errors": ["Send the routing profile as a JSON object."]})
            profile = routing_profile_set(tenant=self.tenant, user_id=membership.user_id, data=request.data, actor=self.acting_user)
        else:
            if (caller is not None and not isinstance(request.user, ApiKeyPrincipal) and not caller.is_admin
                    and caller.role != Role.MANAGER and caller.user_id != membership.user_id):
                raise exceptions.PermissionDenied("Only admins, managers and the rep themself can see a routing profile.")
            profile = routing_profile_get(user_id=membership.user_id)
        return Response(RoutingProfileSerializer(profile).data)
