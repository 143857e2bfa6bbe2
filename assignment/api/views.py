"""Pools, their assignment rules and the lead actions (API.md "Pools, assignment, follow-up,
SLA"): thin views over assignment's services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assignment.lead_actions import ActionRefused, lead_claim, leads_assign, leads_return
from assignment.models import AssignmentRule, Pool
from assignment.pool_services import pool_create_full, pool_members, pool_update, rule_create, rule_delete, rule_update
from leadcrm.api.exceptions import ApiProblem
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.models import Role
from leads.api.dedup import OnePage
from leads.api.serializers import LeadOutputSerializer
from leads.models import Lead
from leads.selectors import lead_visible_to
from leads.services import InvalidTransition, StatusChange, lead_status_change_many

PROBLEM = OpenApiResponse(description="problem+json")
ADMIN_SCOPES = {"GET": "read", "HEAD": "read", "POST": "admin", "PATCH": "admin", "DELETE": "admin"}
_LEAD_OUTPUT = LeadOutputSerializer()


def pool_body(pool: Pool) -> dict[str, Any]:
    members, admins = pool_members(pool=pool)
    return {
        "id": pool.id, "name": pool.name, "description": pool.description, "kind": pool.kind,
        "position": pool.position, "is_default": pool.is_default, "entry_conditions": pool.entry_conditions,
        "members": members, "admins": admins, "daily_claim_cap": pool.daily_claim_cap, "max_held": pool.max_held,
        "recycle_after_days": pool.recycle_after_days, "mask_contacts": pool.mask_contacts,
        "is_active": pool.is_active,
    }


def rule_body(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.id, "pool": rule.pool_id, "position": rule.position, "name": rule.name,
        "conditions": rule.conditions, "strategy": rule.strategy, "reps": rule.reps,
        "respect_working_hours": rule.respect_working_hours, "exclude_previous_owner": rule.exclude_previous_owner,
        "is_active": rule.is_active,
    }


def _validation(error: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages})


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"detail": ["Send a JSON object."]})
    return dict(request.data)


def _pool_fields() -> dict[str, Any]:
    return {
        "id": serializers.IntegerField(), "name": serializers.CharField(), "kind": serializers.CharField(),
        "position": serializers.IntegerField(), "is_default": serializers.BooleanField(),
        "entry_conditions": serializers.DictField(), "members": serializers.ListField(child=serializers.IntegerField()),
        "admins": serializers.ListField(child=serializers.IntegerField()),
        "daily_claim_cap": serializers.IntegerField(allow_null=True), "max_held": serializers.IntegerField(allow_null=True),
        "recycle_after_days": serializers.IntegerField(allow_null=True), "mask_contacts": serializers.BooleanField(),
    }


POOL_SCHEMA = inline_serializer("Pool", fields=_pool_fields())
# What a client sends: a name, the rest optional (a private pool that takes every lead by default).
POOL_INPUT_SCHEMA = inline_serializer("PoolInput", fields={
    "name": serializers.CharField(max_length=100),
    "kind": serializers.ChoiceField(choices=["private", "public"], required=False, help_text="Default: private."),
    "position": serializers.IntegerField(required=False, min_value=0),
    "entry_conditions": serializers.DictField(required=False, allow_null=True, help_text="null: {} (every lead)."),
    "members": serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True),
    "admins": serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True),
    "daily_claim_cap": serializers.IntegerField(allow_null=True, required=False, min_value=0),
    "max_held": serializers.IntegerField(allow_null=True, required=False, min_value=0),
    "recycle_after_days": serializers.IntegerField(allow_null=True, required=False, min_value=0),
    "mask_contacts": serializers.BooleanField(required=False),
})
RULE_SCHEMA = inline_serializer("AssignmentRule", fields={
    "id": serializers.IntegerField(), "pool": serializers.IntegerField(), "position": serializers.IntegerField(),
    "conditions": serializers.DictField(), "strategy": serializers.CharField(), "reps": serializers.ListField(),
    "respect_working_hours": serializers.BooleanField(), "exclude_previous_owner": serializers.BooleanField(),
})


_POOL_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the pool.")
_RULE_POOL_ID = OpenApiParameter("pool_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the rule's pool.")
_RULE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the assignment rule.")
_LEAD_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the lead.")


class _AdminConfigViewSet(TenantScopedViewSet):
    required_scopes = ADMIN_SCOPES
    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = OnePage  # a tenant has a handful of pools and rules: one page, in the usual envelope

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD") and self.membership is not None and not self.membership.is_admin:
            raise exceptions.PermissionDenied("Only the tenant's admins can change pools and rules.")

    def _pool(self, pk: Any) -> Pool:
        pool = Pool.objects.filter(id=pk).first()
        if pool is None:
            raise Http404
        return pool


@extend_schema_view(retrieve=extend_schema(parameters=[_POOL_ID]), partial_update=extend_schema(parameters=[_POOL_ID]))
class PoolViewSet(_AdminConfigViewSet):
    queryset = Pool.all_tenants.none()  # the schema's model; the views read through the scoped manager
    @extend_schema(summary="List pools", responses={200: POOL_SCHEMA})
    def list(self, request: Request) -> Response:
        pools = Pool.objects.order_by("is_default", "position", "id")
        return Response({"next": None, "previous": None, "results": [pool_body(p) for p in pools]})

    @extend_schema(summary="Create a pool", request=POOL_INPUT_SCHEMA, responses={201: POOL_SCHEMA, 400: PROBLEM})
    def create(self, request: Request) -> Response:
        try:
            pool = pool_create_full(tenant=self.tenant, data=_body(request), actor=self.acting_user)
        except DjangoValidationError as error:
            raise _validation(error) from None
        return Response(pool_body(pool), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Get a pool", responses={200: POOL_SCHEMA, 404: PROBLEM})
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(pool_body(self._pool(pk)))

    @extend_schema(summary="Change a pool", request=POOL_INPUT_SCHEMA, responses={200: POOL_SCHEMA, 400: PROBLEM, 404: PROBLEM})
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        pool = self._pool(pk)
        try:
            pool = pool_update(tenant=self.tenant, pool=pool, data=_body(request), actor=self.acting_user)
        except DjangoValidationError as error:
            raise _validation(error) from None
        return Response(pool_body(pool))


@extend_schema_view(
    list=extend_schema(parameters=[_RULE_POOL_ID]), create=extend_schema(parameters=[_RULE_POOL_ID]),
    partial_update=extend_schema(parameters=[_RULE_POOL_ID, _RULE_ID]), destroy=extend_schema(parameters=[_RULE_POOL_ID, _RULE_ID]),
)
class RuleViewSet(_AdminConfigViewSet):
    queryset = AssignmentRule.all_tenants.none()  # the schema's model; the views read through the scoped manager
    def _rule(self, pool_pk: Any, pk: Any) -> AssignmentRule:
        rule = AssignmentRule.objects.filter(pool_id=self._pool(pool_pk).id, id=pk).first()
        if rule is None:
            raise Http404
        return rule

    @extend_schema(summary="List a pool's assignment rules", responses={200: RULE_SCHEMA, 404: PROBLEM})
    def list(self, request: Request, pool_pk: Any = None) -> Response:
        rules = AssignmentRule.objects.filter(pool=self._pool(pool_pk)).order_by("position", "id")
        return Response({"next": None, "previous": None, "results": [rule_body(r) for r in rules]})

    @extend_schema(summary="Add an assignment rule", request=RULE_SCHEMA, responses={201: RULE_SCHEMA, 400: PROBLEM, 404: PROBLEM})
    def create(self, request: Request, pool_pk: Any = None) -> Response:
        pool = self._pool(pool_pk)
        try:
            rule = rule_create(tenant=self.tenant, pool=pool, data=_body(request), actor=self.acting_user)
        except DjangoValidationError as error:
            raise _validation(error) from None
        return Response(rule_body(rule), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an assignment rule", request=RULE_SCHEMA, responses={200: RULE_SCHEMA, 400: PROBLEM, 404: PROBLEM})
    def partial_update(self, request: Request, pool_pk: Any = None, pk: Any = None) -> Response:
        rule = self._rule(pool_pk, pk)
        try:
            rule = rule_update(tenant=self.tenant, rule=rule, data=_body(request), actor=self.acting_user)
        except DjangoValidationError as error:
            raise _validation(error) from None
        return Response(rule_body(rule))

    @extend_schema(summary="Delete an assignment rule", responses={204: None, 404: PROBLEM})
    def destroy(self, request: Request, pool_pk: Any = None, pk: Any = None) -> Response:
        rule_delete(tenant=self.tenant, rule=self._rule(pool_pk, pk), actor=self.acting_user)
        return Response(status=status.HTTP_204_NO_CONTENT)


ACTION_INPUT = inline_serializer("LeadActionInput", fields={
    "owner": serializers.IntegerField(required=False), "reason": serializers.CharField(required=False),
    "status": serializers.CharField(required=False),
})


class LeadActionViewSet(TenantScopedViewSet):
    """assign, claim, return, status: each a POST on /leads/{id}/…"""

    required_scopes = {"POST": "leads:write"}
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):
            return Lead.all_tenants.none()
        return lead_visible_to(membership=self.membership)

    def _lead_id(self, pk: Any) -> int:
        if not self.get_queryset().filter(id=pk).exists():
            raise Http404
        return int(pk)

    def _answer(self, lead_id: int) -> Response:
        return Response(_LEAD_OUTPUT.to_representation(Lead.objects.get(id=lead_id)))

    def _manager_only(self) -> None:
        if self.membership is not None and self.membership.role not in (Role.OWNER, Role.ADMIN, Role.MANAGER):
            raise exceptions.PermissionDenied("Only managers and admins assign leads.")

    @extend_schema(summary="Assign a lead to a rep", parameters=[_LEAD_ID], request=ACTION_INPUT, responses={200: LeadOutputSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM})
    def assign(self, request: Request, pk: Any = None) -> Response:
        self._manager_only()
        lead_id = self._lead_id(pk)
        body = _body(request)
        owner = body.get("owner")
        if not isinstance(owner, int) or isinstance(owner, bool):
            raise exceptions.ValidationError({"owner": ["Give the user id of the rep."]})
        try:
            leads_assign(tenant=self.tenant, lead_ids=[lead_id], owner_id=owner, actor=self.acting_user,
                         api_key=self.acting_api_key, note=str(body.get("reason") or ""))
        except DjangoValidationError as error:
            raise _validation(error) from None
        except InvalidTransition as error:
            raise ApiProblem(status_code=409, detail=f"The lead is '{error.current}'; reopen it before assigning it.") from None
        return self._answer(lead_id)

    @extend_schema(summary="Claim a lead from a public pool", parameters=[_LEAD_ID], request=None, responses={200: LeadOutputSerializer, 404: PROBLEM, 409: PROBLEM})
    def claim(self, request: Request, pk: Any = None) -> Response:
        user = self.acting_user
        if self.membership is None and user is None:
            raise ApiProblem(status_code=409, detail="Claiming needs a person: sign in as the rep.")
        # A rep sees only their own leads; the pools they may claim from are checked by the service.
        if not Lead.objects.filter(id=pk).exists():
            raise Http404
        try:
            lead_claim(tenant=self.tenant, lead_id=int(pk), user=user)
        except ActionRefused as error:
            raise ApiProblem(status_code=409, detail=str(error)) from None
        except InvalidTransition as error:
            raise ApiProblem(status_code=409, detail=f"The lead is '{error.current}'; it cannot be claimed.") from None
        return self._answer(int(pk))

    @extend_schema(summary="Return a lead to its pool", parameters=[_LEAD_ID], request=ACTION_INPUT, responses={200: LeadOutputSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM})
    def return_(self, request: Request, pk: Any = None) -> Response:
        lead_id = self._lead_id(pk)
        reason = _body(request).get("reason")
        try:
            leads_return(tenant=self.tenant, lead_ids=[lead_id], reason=str(reason or ""), actor=self.acting_user,
                         api_key=self.acting_api_key)
        except DjangoValidationError as error:
            raise _validation(error) from None
        except InvalidTransition as error:
            raise ApiProblem(status_code=409, detail=f"The lead is '{error.current}'; it cannot be returned.") from None
        return self._answer(lead_id)

    @extend_schema(summary="Change a lead's status", parameters=[_LEAD_ID], request=ACTION_INPUT, responses={200: LeadOutputSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM})
    def status(self, request: Request, pk: Any = None) -> Response:
        lead_id = self._lead_id(pk)
        body = _body(request)
        new_status = body.get("status")
        if not isinstance(new_status, str) or new_status not in {s for s, _ in Lead._meta.get_field("status").choices or []}:
            raise exceptions.ValidationError({"status": ["Use one of: pending, following, converted, invalid, returned, transferred, voided."]})
        if new_status == "returned":
            return self.return_(request, pk)
        try:
            lead_status_change_many(
                tenant=self.tenant, actor=self.acting_user, api_key=self.acting_api_key,
                changes=[StatusChange(lead_id=lead_id, status=new_status, reason=str(body.get("reason") or ""))],
            )
        except DjangoValidationError as error:
            raise _validation(error) from None
        except InvalidTransition as error:
            raise ApiProblem(
                status_code=409, detail=f"The lead is '{error.current}'; it cannot become '{error.requested}'."
            ) from None
        return self._answer(lead_id)
