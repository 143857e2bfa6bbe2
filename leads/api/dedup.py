"""Duplicate rules and company aliases over the API (SPEC §3). An admin's session or an API key:
reading takes the `read` scope, changing takes `leads:write`; other members get a 403. Errors
are problem+json with messages by field; a rejected change changes nothing."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, pagination, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.pagination import CursorPagination
from leadcrm.api.permissions import HasScope
from leadcrm.api.views import TenantScopedViewSet
from leads.dedup_rules import MAX_WINDOW_DAYS, DedupAction, DedupCompareWith, DedupField
from leads.dedup_services import (
    company_alias_create,
    company_alias_delete,
    dedup_rule_create,
    dedup_rule_delete,
    dedup_rule_update,
)
from leads.models import CompanyAlias, DedupRule
from leads.selectors import company_alias_list, dedup_rule_list

PROBLEM = OpenApiResponse(description="problem+json")
ACCESS = ("An admin's session, or an API key: reading takes the `read` scope, changing takes `leads:write`. "
          "Other members get a 403. Every change is audited and applies to the next submission.")
EXAMPLE_URL = "https://crm.example.com/api/v1"


def _envelope_schema(results: dict[str, Any], *, path: str, example_cursor: str | None) -> dict[str, Any]:
    """API.md's list envelope: `next` and `previous` URLs, null at either end."""
    next_link: dict[str, Any] = {
        "type": "string", "nullable": True, "format": "uri",
        "description": "The next page; null on the last page." if example_cursor else "Always null: one page.",
    }
    previous_link: dict[str, Any] = {
        "type": "string", "nullable": True, "format": "uri",
        "description": "The page before; null on the first page." if example_cursor else "Always null: one page.",
    }
    if example_cursor:
        next_link["example"] = f"{EXAMPLE_URL}/{path}?cursor={example_cursor}"
        previous_link["example"] = f"{EXAMPLE_URL}/{path}?cursor=cj0xJnA9MjAyNi0xMS0yOA"
    return {
        "type": "object", "required": ["next", "previous", "results"],
        "properties": {"next": next_link, "previous": previous_link, "results": results},
    }


class OnePage(pagination.BasePagination):
    """The list envelope around every row: a tenant has a handful of duplicate rules."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        return list(queryset)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": None, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _envelope_schema(schema, path="dedup-rules", example_cursor=None)


class AliasCursorPagination(CursorPagination):
    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError({"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _envelope_schema(schema, path="company-aliases", example_cursor="cD0yMDI2LTExLTI4KzA0JTNBMzQ")
_SCOPES = {"GET": "read", "HEAD": "read", "POST": "leads:write", "PATCH": "leads:write", "DELETE": "leads:write"}


class AdminsOnly(permissions.BasePermission):
    """Configuration is the admins' (owner, admin); an API key is judged by its scopes alone."""

    message = "Only the workspace's admins can read or change its duplicate rules and company aliases."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.user, ApiKeyPrincipal):
            return True
        membership = getattr(view, "membership", None)
        return membership is not None and membership.is_admin


def _object_body(data: Any, *, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
    if unknown := sorted(set(data) - allowed):
        raise exceptions.ValidationError(
            {name: [f"Unknown field. Use: {', '.join(sorted(allowed))}."] for name in unknown}
        )
    return dict(data)


class DedupRuleSerializer(serializers.Serializer):
    """A duplicate rule. `conditions` must all hold on one existing record; the first active
    rule by `position` that matches a submission decides what happens to it."""

    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(
        min_value=1, required=False, help_text="1-based order; the first matching rule wins. Default: last."
    )
    name = serializers.CharField(max_length=100)
    is_active = serializers.BooleanField(default=True)
    compare_with = serializers.ChoiceField(
        choices=DedupCompareWith.values, default=DedupCompareWith.LEADS,
        help_text="Existing leads, customers' contacts, or both.",
    )
    conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=DedupField.values), min_length=1,
        help_text="Fields that must all match: mobile, email, wechat, phone (equal), company (fuzzy, through the "
        "company aliases), name (the contact person; not on its own).",
    )
    window_days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, allow_null=True, required=False,
        help_text="Only records created within this many days match; null: any time.",
    )
    action = serializers.ChoiceField(
        choices=DedupAction.values,
        help_text="route_to_owner: a new lead linked to the duplicate and given to its owner (a customer's owner "
        "first); assign: a new linked lead left for the normal assignment; collect: no new lead, the submission "
        "is kept on the existing lead (leads only); update_and_reown: the existing lead's key fields take the "
        "submission's non-empty values and it goes to the matching customer's owner, whose predecessor is told; "
        "tag: a new lead, tagged and linked, nothing else.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


_RULE_FIELDS = frozenset({"position", "name", "is_active", "compare_with", "conditions", "window_days", "action"})
_RULE_EXAMPLE = {
    "name": "公司相同且联系人相同（180 天内）", "conditions": ["company", "name"], "compare_with": "leads",
    "window_days": 180, "action": "route_to_owner", "is_active": True,
}
RULE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the rule.")


@extend_schema_view(
    list=extend_schema(summary="List duplicate rules, in order", description=ACCESS, responses={200: DedupRuleSerializer(many=True), 403: PROBLEM}),
    retrieve=extend_schema(summary="Get one duplicate rule", parameters=[RULE_ID],
                           responses={200: DedupRuleSerializer, 403: PROBLEM, 404: PROBLEM}),
    create=extend_schema(
        summary="Add a duplicate rule", description=ACCESS, request=DedupRuleSerializer,
        examples=[OpenApiExample("company and contact name", value=_RULE_EXAMPLE, request_only=True)],
        responses={201: DedupRuleSerializer, 400: PROBLEM, 403: PROBLEM},
    ),
    partial_update=extend_schema(
        summary="Change a duplicate rule (or move it: `position`)", parameters=[RULE_ID],
        responses={200: DedupRuleSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
    ),
    destroy=extend_schema(summary="Delete a duplicate rule", parameters=[RULE_ID],
                          responses={204: None, 403: PROBLEM, 404: PROBLEM}),
)
class DedupRuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    serializer_class = DedupRuleSerializer
    permission_classes = [HasScope, AdminsOnly]
    required_scopes = _SCOPES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    body_required_actions = frozenset({"create", "partial_update"})
    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = OnePage

    def get_queryset(self) -> QuerySet[DedupRule]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return DedupRule.all_tenants.none()
        return dedup_rule_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _object_body(request.data, allowed=_RULE_FIELDS)
        rule = dedup_rule_create(tenant=self.tenant, data=data, actor=self.acting_user, api_key=self.acting_api_key)
        return Response(DedupRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _object_body(request.data, allowed=_RULE_FIELDS)
        try:
            rule = dedup_rule_update(
                tenant=self.tenant, rule_id=int(kwargs["pk"]), data=data, actor=self.acting_user,
                api_key=self.acting_api_key,
            )
        except DedupRule.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(DedupRuleSerializer(rule).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            dedup_rule_delete(
                tenant=self.tenant, rule_id=int(kwargs["pk"]), actor=self.acting_user, api_key=self.acting_api_key
            )
        except DedupRule.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class CompanyAliasSerializer(serializers.Serializer):
    """A brand or product name that stands for a company: duplicate rules comparing the company
    treat the alias and the company's name as one company, for leads typed either way."""

    id = serializers.IntegerField(read_only=True)
    alias = serializers.CharField(max_length=200, help_text="The brand or product name.")
    company = serializers.CharField(max_length=200, help_text="The company it stands for.")
    created_at = serializers.DateTimeField(read_only=True)


ALIAS_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the alias.")


@extend_schema_view(
    list=extend_schema(summary="List company aliases, newest first", description=ACCESS,
                       responses={200: CompanyAliasSerializer(many=True), 400: PROBLEM, 403: PROBLEM}),
    create=extend_schema(
        summary="Add a company alias", description=ACCESS, request=CompanyAliasSerializer,
        examples=[OpenApiExample("a product name", value={"alias": "纷享销客", "company": "北京纷扬科技有限公司"},
                                 request_only=True)],
        responses={201: CompanyAliasSerializer, 400: PROBLEM, 403: PROBLEM},
    ),
    destroy=extend_schema(summary="Delete a company alias", parameters=[ALIAS_ID],
                          responses={204: None, 403: PROBLEM, 404: PROBLEM}),
)
class CompanyAliasViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet):
    serializer_class = CompanyAliasSerializer
    permission_classes = [HasScope, AdminsOnly]
    required_scopes = _SCOPES
    http_method_names = ["get", "post", "delete", "head", "options"]
    body_required_actions = frozenset({"create"})
    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = AliasCursorPagination

    def get_queryset(self) -> QuerySet[CompanyAlias]:
        if getattr(self, "swagger_fake_view", False):
            return CompanyAlias.all_tenants.none()
        return company_alias_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _object_body(request.data, allowed=frozenset({"alias", "company"}))
        problems = {
            name: ["Must be a string."] for name in ("alias", "company") if not isinstance(data.get(name, ""), str)
        }
        if problems:
            raise exceptions.ValidationError(problems)
        alias = company_alias_create(
            tenant=self.tenant, alias=data.get("alias", ""), company=data.get("company", ""),
            actor=self.acting_user, api_key=self.acting_api_key,
        )
        return Response(CompanyAliasSerializer(alias).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            company_alias_delete(
                tenant=self.tenant, alias_id=int(kwargs["pk"]), actor=self.acting_user, api_key=self.acting_api_key
            )
        except CompanyAlias.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(status=status.HTTP_204_NO_CONTENT)
