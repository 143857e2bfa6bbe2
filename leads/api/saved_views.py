"""`/api/v1/views`: a member's saved views of the lead list (leads/saved_views.py).

Views belong to people: a member lists their own and those shared with them, and creates,
renames, re-shares and deletes their own. An API key (the tenant's own system, no person)
reads the views shared with the whole tenant and changes none."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.views import TenantScopedViewSet
from leads.list_columns import LIST_COLUMNS
from leads.models import SAVED_VIEW_NAME_MAX_LENGTH, SavedView, SavedViewSharing
from leads.saved_views import (
    SAVED_VIEW_QUERY_FIELDS,
    SAVED_VIEW_QUERY_MAX_VALUES,
    saved_view_create,
    saved_view_default_id,
    saved_view_default_set,
    saved_view_delete,
    saved_view_list,
    saved_view_update,
    saved_view_visible_to,
)

PROBLEM = OpenApiResponse(description="problem+json")
VIEW_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the saved view.")


class SavedViewAccess(permissions.BasePermission):
    """Keys need the `read` scope (and may only read, told so in the handler after a 404 for
    views they cannot see); any member may keep views of their own."""

    message = "This API key lacks the 'read' scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return not isinstance(user, ApiKeyPrincipal) or "read" in user.api_key.scopes


class SavedViewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The list's filters and `ordering`, as the lead list page's query parameters with their values.",
    )
    columns = serializers.ListField(child=serializers.ChoiceField(choices=list(LIST_COLUMNS)))
    shared_with = serializers.ChoiceField(choices=SavedViewSharing.values)
    owner = serializers.IntegerField(source="owner_id", help_text="User id of the view's owner.")
    is_own = serializers.SerializerMethodField()
    is_default = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_is_own(self, view: SavedView) -> bool:
        return bool(view.owner_id == self.context.get("user_id"))

    def get_is_default(self, view: SavedView) -> bool:
        return bool(view.id == self.context.get("default_id"))


def _query_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=400), max_length=SAVED_VIEW_QUERY_MAX_VALUES),
        required=False,
        help_text=f"Filters and ordering by name, each with a list of values; names: {', '.join(SAVED_VIEW_QUERY_FIELDS)}.",
    )


class SavedViewInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=SAVED_VIEW_NAME_MAX_LENGTH)
    query = _query_field()
    columns = serializers.ListField(child=serializers.ChoiceField(choices=list(LIST_COLUMNS)), required=False)
    shared_with = serializers.ChoiceField(choices=SavedViewSharing.values, required=False)
    is_default = serializers.BooleanField(required=False, help_text="Make it the view the caller's list opens with.")

    def validate_query(self, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if unknown := sorted(set(value) - set(SAVED_VIEW_QUERY_FIELDS)):
            raise serializers.ValidationError(f"Unknown names: {', '.join(unknown)}.")
        return {name: [item for item in items if item] for name, items in value.items() if any(items)}


class SavedViewUpdateSerializer(SavedViewInputSerializer):
    name = serializers.CharField(max_length=SAVED_VIEW_NAME_MAX_LENGTH, required=False)


@extend_schema_view(
    list=extend_schema(summary="List saved views (the caller's own, then those shared with them)",
                       responses={200: SavedViewOutputSerializer(many=True), 401: PROBLEM}),
    retrieve=extend_schema(summary="Get one saved view", parameters=[VIEW_ID],
                           responses={200: SavedViewOutputSerializer, 404: PROBLEM}),
    create=extend_schema(summary="Save a view of the lead list", request=SavedViewInputSerializer,
                         responses={201: SavedViewOutputSerializer, 400: PROBLEM, 403: PROBLEM}),
    partial_update=extend_schema(summary="Rename, re-share or change one's own saved view", parameters=[VIEW_ID],
                                 request=SavedViewUpdateSerializer,
                                 responses={200: SavedViewOutputSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM}),
    destroy=extend_schema(summary="Delete one's own saved view", parameters=[VIEW_ID],
                          responses={204: None, 403: PROBLEM, 404: PROBLEM}),
)
class SavedViewViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    serializer_class = SavedViewOutputSerializer
    permission_classes = [SavedViewAccess]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    body_required_actions = frozenset({"create", "partial_update"})
    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = None  # a member keeps a handful

    def get_queryset(self) -> QuerySet[SavedView]:
        if getattr(self, "swagger_fake_view", False):
            return SavedView.all_tenants.none()
        return saved_view_visible_to(membership=self.membership).order_by("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.membership is not None:
            context["user_id"] = self.membership.user_id
            context["default_id"] = saved_view_default_id(user=self.membership.user)
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        views = saved_view_list(membership=self.membership)
        return Response(SavedViewOutputSerializer(views, many=True, context=self.get_serializer_context()).data)

    def _member(self) -> Any:
        if self.membership is None:
            raise exceptions.PermissionDenied("Saved views belong to people: log in to save or change one.")
        return self.membership

    def _own_view(self) -> SavedView:
        view = self.get_object()  # 404 for a view the caller may not see
        if view.owner_id != self._member().user_id:
            raise exceptions.PermissionDenied("Only the view's owner may change it.")
        return view

    def _validated(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = self._member()
        data = self._validated(SavedViewInputSerializer)
        try:
            view = saved_view_create(
                tenant=self.tenant, owner=member.user, name=data["name"], query=data.get("query", {}),
                columns=data.get("columns", list(LIST_COLUMNS)),
                shared_with=data.get("shared_with", SavedViewSharing.PRIVATE),
                is_default=data.get("is_default", False),
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError(as_serializer_error(error)) from None
        return Response(SavedViewOutputSerializer(view, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = self._own_view()
        data = self._validated(SavedViewUpdateSerializer)
        try:
            saved_view_update(
                view=view, name=data.get("name"), shared_with=data.get("shared_with"), query=data.get("query"),
                columns=data.get("columns"),
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError(as_serializer_error(error)) from None
        if "is_default" in data:
            saved_view_default_set(tenant=self.tenant, user=view.owner, view=view if data["is_default"] else None)
        return Response(SavedViewOutputSerializer(view, context=self.get_serializer_context()).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        saved_view_delete(view=self._own_view())
        return Response(status=status.HTTP_204_NO_CONTENT)
