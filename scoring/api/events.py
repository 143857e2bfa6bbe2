"""`POST /api/v1/events` (API.md "Events"). The serializers here describe the body for the
schema; the batch is checked by `scoring.events.event_batch_parse`, one plain pass over up to
1000 items, so the endpoint keeps its rate (a serializer per item would cost more than the
insert)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.exceptions import ApiProblem
from leadcrm.api.views import TenantScopedViewSet
from scoring.events import MAX_BATCH, EventBatchInvalid, events_after_commit, events_ingest

PROBLEM = OpenApiResponse(description="problem+json")


class EventLeadReferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="The lead's id in LeadCRM.")
    external_id = serializers.CharField(required=False, help_text="The lead's `external_id`.")
    source = serializers.CharField(  # type: ignore[assignment]  # a field: DRF pops it from the class
        required=False,
        help_text="Extension: with `external_id` only, the lead's `source` (a lead is unique by source + "
        "external id). Without it, an external id that two sources use is ambiguous.",
    )
    mobile = serializers.CharField(required=False, help_text="Any way of writing it; compared as E.164.")
    email = serializers.CharField(required=False, help_text="Compared as intake stores it (lower case).")


class EventInputSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=200, help_text="Yours, unique per event: a repeat counts once.")
    lead = EventLeadReferenceSerializer(help_text="Exactly one of id, external_id, mobile, email.")
    type = serializers.CharField(max_length=50, help_text="A key of the event-type catalogue, e.g. `demo_request`.")
    occurred_at = serializers.DateTimeField(help_text="ISO-8601; without an offset it is read as Asia/Shanghai.")
    properties = serializers.DictField(required=False, help_text="Anything; kept with the event.")


class EventBatchInputSerializer(serializers.Serializer):
    events = EventInputSerializer(many=True, help_text="1 to 1000 events.")


class EventFlaggedSerializer(serializers.Serializer):
    unknown_type = serializers.IntegerField()
    future = serializers.IntegerField()
    too_old = serializers.IntegerField()
    ambiguous = serializers.IntegerField()


class EventBatchOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="New events stored, pending and flagged ones included.")
    duplicates = serializers.IntegerField(help_text="Events whose `event_id` was already known (or repeated).")
    pending = serializers.IntegerField(help_text="Of the accepted, those whose lead is not known yet.")
    flagged = EventFlaggedSerializer(
        help_text="Extension: of the accepted, those kept but not scored, by reason: a type the catalogue does not "
        "know, a time in the future (beyond 5 minutes) or more than 10 years ago, a reference that matches "
        "more than one lead (attached to none)."
    )


ACCEPTED_EXAMPLE = {
    "accepted": 998, "duplicates": 2, "pending": 12,
    "flagged": {"unknown_type": 1, "future": 0, "too_old": 0, "ambiguous": 0},
}
REQUEST_EXAMPLE = {
    "events": [
        {
            "event_id": "evt-20260301-0001", "lead": {"mobile": "139 1234 0586"}, "type": "demo_request",
            "occurred_at": "2026-03-01T09:30:00+08:00", "properties": {"page": "/demo"},
        },
        {
            "event_id": "evt-20260301-0002", "lead": {"external_id": "crm-000318", "source": "官网"},
            "type": "pricing_page_view", "occurred_at": "2026-03-01T09:41:12+08:00",
        },
    ]
}


class EventViewSet(TenantScopedViewSet):
    """Behaviour events in: stored at once, scored by the worker right after."""

    serializer_class = EventBatchInputSerializer  # for OPTIONS and the schema; see the module docstring
    required_scopes = {"POST": "events:write"}
    body_required_actions = frozenset({"create"})
    max_body_bytes = int(settings.API_MAX_BULK_BODY_BYTES)

    @extend_schema(
        operation_id="events_create",
        summary="Send up to 1000 behaviour events",
        description=(
            "The batch is checked whole: if any item is malformed, the answer is a 400 problem naming each bad "
            "item and field (`events[3].occurred_at`) and nothing of the batch is stored; fix it and send it "
            "again (event ids already stored count as duplicates). A `lead.id` that is not one of your leads "
            "keeps the event pending for good; a mobile, e-mail or external id that no lead has yet keeps it "
            "pending until intake brings that lead. The scores change a moment later, in the worker."
        ),
        request=EventBatchInputSerializer,
        examples=[OpenApiExample("two events", value=REQUEST_EXAMPLE, request_only=True)],
        responses={
            202: OpenApiResponse(
                EventBatchOutputSerializer, examples=[OpenApiExample("accepted", value=ACCEPTED_EXAMPLE)]
            ),
            400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 409: PROBLEM, 413: PROBLEM, 422: PROBLEM, 429: PROBLEM,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data
        if isinstance(data, dict) and isinstance(data.get("events"), list) and len(data["events"]) > MAX_BATCH:
            raise ApiProblem(
                status_code=413,
                detail=f"The batch has {len(data['events'])} events; send at most {MAX_BATCH} per request.",
            )
        try:
            result = events_ingest(tenant_id=self.tenant.id, data=data)
        except EventBatchInvalid as invalid:
            raise serializers.ValidationError(invalid.errors) from None
        events_after_commit(tenant_id=self.tenant.id, result=result)
        body = {
            "accepted": result.accepted, "duplicates": result.duplicates, "pending": result.pending,
            "flagged": result.flagged,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
