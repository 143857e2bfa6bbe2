from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.views import TenantScopedViewSet
from leads.models import Lead
from leads.selectors import lead_visible_to
from scoring.api.serializers import LeadScoreExplanationSerializer, explanation_body
from scoring.group_actions import group_action_for
from scoring.services import lead_score_explain

LEAD_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the lead.")


class LeadScoreViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    """`GET /leads/{id}/score`: the lead's score explained."""

    serializer_class = LeadScoreExplanationSerializer
    required_scopes = {"GET": "read", "HEAD": "read"}
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return Lead.all_tenants.none()
        return lead_visible_to(membership=self.membership)

    @extend_schema(
        operation_id="leads_score_retrieve", summary="Score explanation", parameters=[LEAD_ID],
        responses={200: LeadScoreExplanationSerializer, 404: OpenApiResponse(description="problem+json")},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        action = group_action_for(grade=lead.grade, level=lead.level) if lead.scored_at is not None else None
        return Response(explanation_body(result=lead_score_explain(lead=lead), scored_at=lead.scored_at, action=action))
