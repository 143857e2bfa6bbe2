"""The duplicate search API (查重): `GET /api/v1/dedup/search` and
`POST /api/v1/leads/{id}/transfer-request`.

Searching needs the `read` scope (an API key) or any member's session; a rep's session gets the
leads they may not see with contact details masked. Asking an owner for a lead needs a person
to hand it to: a member's session; an API key gets a 403 (after a 404 for a lead that is not
in its tenant, like every endpoint with an id)."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.api.exceptions import ApiProblem, problem_response
from leadcrm.api.views import TenantScopedViewSet
from leadcrm.tenancy.models import ApiScope
from leads.dedup_search import (
    CANDIDATE_CAP,
    MATCH_LABELS,
    RESULT_LIMIT,
    TRANSFER_MESSAGE_MAX_LENGTH,
    TRANSFER_REQUESTS_PER_DAY,
    DuplicateMatch,
    TransferRequestNotAllowed,
    TransferRequestNotFound,
    TransferRequestRateLimited,
    TransferRequestRefused,
    duplicate_search,
    lead_transfer_request,
)
from leads.models import Lead, LeadStatus

PROBLEM = OpenApiResponse(description="problem+json")

# --- shapes ---------------------------------------------------------------------------------------


class DedupSearchQuerySerializer(serializers.Serializer):
    """The criteria: any one is enough; an empty parameter counts as not given."""

    mobile = serializers.CharField(
        required=False, allow_blank=True, max_length=40,
        help_text="Mobile number in any common format (`139 1234 5678`, `+86 139-1234-5678`, full-width digits); "
        "matched exactly as E.164.",
    )
    email = serializers.CharField(
        required=False, allow_blank=True, max_length=254,
        help_text="E-mail address as typed (case, spaces, a `mailto:` or a display name do not matter); matched exactly.",
    )
    wechat = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="WeChat id; matched exactly (or in lower case)."
    )
    company = serializers.CharField(
        required=False, allow_blank=True, max_length=200,
        help_text="Company name, whole or in part: matched fuzzily by its brand, whatever the region, legal form, "
        "brackets, Traditional characters or width (a short name finds the registered one).",
    )
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Contact name. With `company`: marks the company's leads with this contact (`kind` "
        "`fuzzy_with_name`). Alone: finds leads with this contact name (honorifics, spacing and script aside).",
    )


class DedupLeadOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    company = serializers.CharField()
    mobile = serializers.CharField(help_text="E.164; masked (`+86139****0586`) when `visible` is false.")
    phone = serializers.CharField(help_text="Masked when `visible` is false.")
    email = serializers.CharField(help_text="Masked (`z****@qq.com`) when `visible` is false.")
    wechat = serializers.CharField(help_text="Masked when `visible` is false.")
    owner = serializers.IntegerField(allow_null=True, help_text="User id of the owner; null for a lead in a pool.")
    owner_name = serializers.CharField(help_text="The owner's name as the team knows them: whom to ask for the lead.")
    # Plain strings rather than choice fields: enum components named after a field ("status",
    # "kind") that other responses use with other values would rename theirs in the schema.
    status = serializers.CharField(help_text=f"The lead's status: {', '.join(f'`{v}`' for v in LeadStatus.values)}.")
    created_at = serializers.DateTimeField()
    visible = serializers.BooleanField(
        help_text="Whether the caller may open the lead (GET /leads/{id}). False for a rep and another rep's lead: "
        "contacts are masked; ask the owner with POST /leads/{id}/transfer-request."
    )


class DedupMatchOutputSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="What matched: `mobile`, `email`, `wechat`, `company` or `name`.")
    kind = serializers.CharField(
        help_text="`exact`: the same mobile, e-mail, WeChat id or contact name. `fuzzy`: the same company, written "
        "another way. `fuzzy_with_name`: the same company and the same contact.",
    )
    # The serializer's metaclass takes declared fields off the class, so this does not replace
    # `Field.label`; mypy sees only the class body.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The match in words, e.g. `Same company (fuzzy) and contact`."
    )


class DedupResultOutputSerializer(serializers.Serializer):
    lead = DedupLeadOutputSerializer()
    match = DedupMatchOutputSerializer()


class DedupSearchOutputSerializer(serializers.Serializer):
    results = DedupResultOutputSerializer(many=True, help_text=f"Newest first; at most {RESULT_LIMIT}.")
    truncated = serializers.BooleanField(
        help_text=f"True when there may be more matches than `results`: more than {RESULT_LIMIT} were found, or the "
        f"criterion was so common (a company name that is also a common word) that only the newest {CANDIDATE_CAP} "
        "candidates were checked. Narrow the search (a fuller company name, a contact name, a mobile)."
    )
    more_count = serializers.IntegerField(
        help_text="Matches found beyond `results` (when `truncated` because of the candidate cap, at least this many)."
    )


class LeadTransferRequestInputSerializer(serializers.Serializer):
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=TRANSFER_MESSAGE_MAX_LENGTH,
        help_text="A note to the owner, e.g. why the lead should be yours. Optional.",
    )


class LeadTransferRequestOutputSerializer(serializers.Serializer):
    lead = serializers.IntegerField(help_text="Id of the lead.")
    owner = serializers.IntegerField(help_text="User id of the owner who was asked.")
    owner_name = serializers.CharField()
    requested_at = serializers.DateTimeField(help_text="When the request was made (the first one, for a repeat).")
    repeated = serializers.BooleanField(
        help_text="True when you had already asked within 24 hours: nothing new was recorded and no e-mail was sent."
    )


# --- examples -------------------------------------------------------------------------------------


def _example_result(
    lead_id: int, *, visible: bool, field: str, kind: str, label: str, name: str, company: str, owner: int | None,
    owner_name: str, mobile: str = "", email: str = "", wechat: str = "", status_: str = "following",
    created_at: str = "2026-11-20T02:15:09Z",
) -> dict[str, Any]:
    return {
        "lead": {
            "id": lead_id, "name": name, "company": company, "mobile": mobile, "phone": "", "email": email,
            "wechat": wechat, "owner": owner, "owner_name": owner_name, "status": status_, "created_at": created_at,
            "visible": visible,
        },
        "match": {"field": field, "kind": kind, "label": label},
    }


SEARCH_EXAMPLE = {
    "results": [
        _example_result(
            4210, visible=False, field="company", kind="fuzzy_with_name", label="Same company (fuzzy) and contact",
            name="林晓峰", company="北京纷扬科技有限公司", owner=17, owner_name="张伟", mobile="+86139****0586",
            email="l****@fenyang.com.cn", created_at="2026-11-28T04:34:21Z",
        ),
        _example_result(
            3877, visible=True, field="company", kind="fuzzy", label="Same company (fuzzy)", name="王芳",
            company="紛揚科技（北京）有限公司", owner=21, owner_name="李娜", mobile="+8613812345678",
            email="wang.fang@fenyang.com.cn", status_="pending",
        ),
    ],
    "truncated": False,
    "more_count": 0,
}

SEARCH_PARAMETER_EXAMPLES = [
    OpenApiParameter(
        "company", {"type": "string", "maxLength": 200}, description=DedupSearchQuerySerializer().fields["company"].help_text or "",
        examples=[
            OpenApiExample("a short name", value="北京纷扬"),
            OpenApiExample("brand and trade", value="纷扬科技"),
            OpenApiExample("Traditional characters", value="北京紛揚科技有限公司"),
        ],
    ),
    OpenApiParameter(
        "mobile", {"type": "string", "maxLength": 40}, description=DedupSearchQuerySerializer().fields["mobile"].help_text or "",
        examples=[OpenApiExample("with spaces", value="139 1234 0586"), OpenApiExample("E.164", value="+8613912340586")],
    ),
]


# --- views ----------------------------------------------------------------------------------------


def _match_body(match: DuplicateMatch) -> dict[str, Any]:
    lead = match.lead
    return {
        "lead": {
            "id": lead.id, "name": lead.name, "company": lead.company, "mobile": match.mobile, "phone": match.phone,
            "email": match.email, "wechat": match.wechat, "owner": lead.owner_id, "owner_name": match.owner_name,
            "status": lead.status, "created_at": serializers.DateTimeField().to_representation(lead.created_at),
            "visible": match.is_visible,
        },
        "match": {"field": match.field, "kind": match.kind, "label": str(MATCH_LABELS[(match.field, match.kind)])},
    }


class DedupSearchViewSet(TenantScopedViewSet):
    serializer_class = DedupSearchOutputSerializer
    required_scopes = {"GET": ApiScope.READ, "HEAD": ApiScope.READ}

    @extend_schema(
        operation_id="dedup_search",
        summary="Search for existing leads (duplicate check)",
        description="Who already has this contact or this company? Give any of `mobile`, `email`, `wechat`, "
        "`company`, `name`; each given criterion is searched (a lead found several ways is listed once, by its "
        "surest match). Normalised as intake normalises leads. A rep's session also gets the leads they may not "
        "see, with `visible: false`, contacts masked and the owner's name, so they know whom to ask "
        "(POST /leads/{id}/transfer-request). 400: no criterion, or a criterion that is not what it says (a "
        "mobile that is not a mobile number, an e-mail that is not an address, a company with no recognisable "
        "name); `errors` names the field.",
        parameters=[DedupSearchQuerySerializer, *SEARCH_PARAMETER_EXAMPLES],
        responses={
            200: OpenApiResponse(
                DedupSearchOutputSerializer, description="The matches, newest first.",
                examples=[OpenApiExample("a company found two ways", value=SEARCH_EXAMPLE)],
            ),
            400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 429: PROBLEM,
        },
    )
    @action(detail=False, methods=["get"], url_path="search")
    def search(self, request: Request) -> Response:
        query = DedupSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            result = duplicate_search(membership=self.membership, **query.validated_data)
        except DjangoValidationError as error:
            errors = {
                "non_field_errors" if field == "__all__" else field: texts for field, texts in error.message_dict.items()
            }
            detail = (
                " ".join(errors["non_field_errors"]) if list(errors) == ["non_field_errors"]
                else f"The request has invalid fields: {', '.join(sorted(errors))}."
            )
            return problem_response(status_code=400, detail=detail, errors=errors)
        return Response({
            "results": [_match_body(match) for match in result.matches],
            "truncated": result.has_more,
            "more_count": result.more_count,
        })


TRANSFER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the lead.")


class LeadTransferRequestViewSet(TenantScopedViewSet):
    """`/leads/{id}/transfer-request`: a route of its own so the lead viewset stays as it is."""

    serializer_class = LeadTransferRequestOutputSerializer
    required_scopes = {"POST": ApiScope.LEADS_WRITE}
    lookup_value_regex = r"[0-9]{1,18}"  # anything else is a 404, never a database error

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return Lead.all_tenants.none()
        return Lead.objects.all()

    @extend_schema(
        operation_id="lead_transfer_request",
        summary="Ask a lead's owner to hand it over",
        description="Records the request on the lead (its timeline shows it to those who may see the lead) and "
        "e-mails the owner, in the team's language, with your message. For a session user, typically a rep who "
        "found another rep's lead with GET /dedup/search. Asking again within 24 hours changes nothing and "
        f"sends no second e-mail (`repeated: true`). At most {TRANSFER_REQUESTS_PER_DAY} requests per person in 24 "
        "hours (429 with Retry-After). 403: an API key (there is no person to hand the lead to) or a read-only "
        "member. 404: no such lead in your tenant. 409: you own the lead already, it has no owner (it is in a "
        "pool: claim it there), or its owner has left the team.",
        request=LeadTransferRequestInputSerializer,
        parameters=[TRANSFER_ID],
        examples=[
            OpenApiExample(
                "with a message", request_only=True,
                value={"message": "The customer called me today and wants a demo this week."},
            ),
            OpenApiExample(
                "accepted", response_only=True, status_codes=["202"],
                value={"lead": 4210, "owner": 17, "owner_name": "张伟", "requested_at": "2026-11-28T06:02:11Z",
                       "repeated": False},
            ),
        ],
        responses={
            202: OpenApiResponse(LeadTransferRequestOutputSerializer, description="Asked (or asked already)."),
            400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 413: PROBLEM, 429: PROBLEM,
        },
    )
    @action(detail=True, methods=["post"], url_path="transfer-request")
    def transfer_request(self, request: Request, pk: str | None = None) -> Response:
        lead_id = int(pk or 0)
        if isinstance(request.user, ApiKeyPrincipal):
            if not Lead.objects.filter(id=lead_id).exists():  # another tenant's lead is a 404, as everywhere
                raise exceptions.NotFound()
            raise ApiProblem(
                status_code=403,
                detail="An API key cannot ask for a lead: there is no person to hand it to. Ask from a signed-in "
                "session of the member who wants the lead.",
            )
        assert isinstance(request.user, User)  # authentication let only API keys and users through
        body = LeadTransferRequestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead_url = request.build_absolute_uri(
            reverse("leads:detail", kwargs={"tenant_slug": self.tenant.slug, "lead_id": lead_id})
        )
        try:
            requested = lead_transfer_request(
                tenant=self.tenant, lead_id=lead_id, requested_by=request.user,
                message=body.validated_data.get("message", ""), lead_url=lead_url,
            )
        except TransferRequestNotFound:
            raise exceptions.NotFound() from None
        except TransferRequestRateLimited as limited:
            seconds = max(1, math.ceil(limited.retry_after.total_seconds()))
            return problem_response(status_code=429, detail=str(limited.message), headers={"Retry-After": str(seconds)})
        except TransferRequestNotAllowed as refused:
            raise ApiProblem(status_code=403, detail=str(refused.message)) from None
        except TransferRequestRefused as refused:
            raise ApiProblem(status_code=409, detail=str(refused.message), code=refused.code) from None
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(
            {
                "lead": requested.lead.id, "owner": requested.owner_id, "owner_name": requested.owner_name,
                "requested_at": serializers.DateTimeField().to_representation(requested.requested_at),
                "repeated": requested.is_repeat,
            },
            status=status.HTTP_202_ACCEPTED,
        )
