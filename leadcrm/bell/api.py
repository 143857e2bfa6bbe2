"""`GET /api/v1/notifications` and `POST /api/v1/notifications/read` (API.md).

The caller's own notifications only: the signed-in user's, or, for an API key, those of the
person who created the key (a key nobody created has none). Another person's or another
tenant's notification is never listed, and marking its id read changes nothing."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.pagination import DocumentedCursorPagination
from leadcrm.api.permissions import HasScope
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.notifications.models import Notification
from leadcrm.notifications.selectors import notification_list, notification_unread_count
from leadcrm.notifications.services import notifications_mark_read

PROBLEM = OpenApiResponse(description="problem+json")
MAX_IDS = 500


class NotificationOutputSerializer(serializers.ModelSerializer[Notification]):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "data", "read", "read_at", "created_at")

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: `"all": 0` is a client's mistake, not "no"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NotificationReadInputSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=MAX_IDS)
    all = StrictBooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == bool(attrs.get("all")):
            raise serializers.ValidationError(
                {"non_field_errors": ['Send either {"ids": [..]} or {"all": true}.']}
            )
        return attrs


class OwnNotificationsOnly(HasScope):
    """Reading your own notifications and marking them read takes `read` (a key) and is
    allowed to read-only members too: it changes nothing of the tenant's."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "POST" and getattr(view, "membership", None) is not None:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class NotificationPagination(DocumentedCursorPagination):
    example_path = "notifications"

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["unread"] = self.unread
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["unread"] = {"type": "integer", "description": "The caller's unread notifications."}
        envelope["required"].append("unread")
        return envelope

    unread = 0


class NotificationViewSet(TenantScopedViewSet):
    serializer_class = NotificationOutputSerializer
    pagination_class = NotificationPagination
    permission_classes = [OwnNotificationsOnly]
    required_scopes = {"GET": "read", "HEAD": "read", "POST": "read"}
    filter_backends: list[Any] = []
    body_required_actions = frozenset({"read"})

    def _recipient_id(self) -> int | None:
        user = self.acting_user
        return None if user is None else int(user.id)

    def get_queryset(self) -> QuerySet[Notification]:
        recipient_id = self._recipient_id()
        if getattr(self, "swagger_fake_view", False) or recipient_id is None:
            return Notification.all_tenants.none()
        unread = self.request.query_params.get("unread")
        # Present but empty is a client bug (a form's blank field), not "all": say so.
        if unread is not None and unread.lower() not in {"true", "false"}:
            raise exceptions.ValidationError({"unread": ["Use true (unread only), false, or leave it out."]})
        return notification_list(recipient_id=recipient_id, unread_only=(unread or "").lower() == "true")

    @extend_schema(
        summary="The caller's notifications",
        description="Newest first, with `unread`: how many of the caller's notifications are unread.",
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="true: unread only.")],
        responses={200: NotificationOutputSerializer(many=True), 400: PROBLEM},
    )
    def list(self, request: Request) -> Response:
        paginator = self.paginator
        assert isinstance(paginator, NotificationPagination)
        queryset = self.get_queryset()
        recipient_id = self._recipient_id()
        paginator.unread = 0 if recipient_id is None else notification_unread_count(recipient_id=recipient_id)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(NotificationOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Mark notifications read",
        request=NotificationReadInputSerializer,
        examples=[
            OpenApiExample("some", value={"ids": [12, 13]}, request_only=True),
            OpenApiExample("all", value={"all": True}, request_only=True),
        ],
        responses={200: OpenApiResponse(description='{"marked": n, "unread": n}'), 400: PROBLEM},
    )
    def read(self, request: Request) -> Response:
        payload = NotificationReadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        recipient_id = self._recipient_id()
        if recipient_id is None:
            return Response({"marked": 0, "unread": 0})
        ids = None if payload.validated_data.get("all") else payload.validated_data["ids"]
        marked = notifications_mark_read(recipient_id=recipient_id, ids=ids)
        return Response({"marked": marked, "unread": notification_unread_count(recipient_id=recipient_id)})
