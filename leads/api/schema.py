"""What the API docs say about the leads endpoints beyond what the serializers tell
drf-spectacular: what each response status means, with an example of each outcome, the list's
cursor envelope and its parameters. Integrators read these (/api/v1/docs/); the contract they
describe is API.md."""

from __future__ import annotations

import base64
import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from leads.api.serializers import LeadBulkOutputSerializer, LeadIntakeOutputSerializer
from leads.filters import ORDERING_CHOICES, Q_HELP_TEXT

EXAMPLE_BASE_URL = "https://crm.example.com/api/v1/leads"


def _example_cursor(direction: str, created_at: str, lead_id: int) -> str:
    """A cursor as the list hands them out (leads.selectors._cursor_encode): opaque to clients."""
    raw = json.dumps([direction, "created_at", created_at, lead_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _lead_example(lead_id: int, **changes: Any) -> dict[str, Any]:
    lead: dict[str, Any] = {
        "id": lead_id, "status": "pending", "owner": 17, "pool": 3, "name": "王伟", "mobile": "+8613912340586",
        "phone": "", "email": "wang.wei@fenyang-tech.cn", "wechat": "", "company": "北京纷扬科技有限公司",
        "title": "市场总监", "industry": "软件与信息服务", "company_size": "200-500", "annual_revenue": 12500000.0,
        "province": "北京", "city": "北京", "source": "官网", "campaign": "2026 春季发布会", "utm_source": "baidu",
        "utm_medium": "cpc", "utm_campaign": "spring-launch", "external_id": "", "notes": "", "custom": {},
        "tags": [], "duplicate_of": None, "created_at": "2026-11-28T04:34:21.123456Z",
        "updated_at": "2026-11-28T04:34:21.123456Z",
        "score": {
            "total": 0.0, "static": 0.0, "dynamic": 0.0, "smart": None, "grade": "D", "level": 3, "group": "D3",
            "tier": "cold", "mature": False,
        },
    }
    lead.update(changes)
    return lead


_CREATED = _lead_example(4210)
_MERGED = _lead_example(3877, status="following", created_at="2026-10-02T08:15:00Z", updated_at="2026-11-28T04:34:21Z")
_UPDATED = _lead_example(3990, external_id="crm-000318", source="官网", title="CMO", updated_at="2026-11-28T04:34:21Z")
_QUARANTINED = {"outcome": "quarantined", "intake_id": 912, "reasons": ["invalid.mobile"]}

INTAKE_RESPONSES = {
    201: OpenApiResponse(
        LeadIntakeOutputSerializer,
        description="`created`: the submission is a new lead, returned in full. `lead.duplicate_of` is set when "
        "a tag-only or route-to-owner duplicate rule matched an older lead.",
        examples=[OpenApiExample("created", value={"outcome": "created", "lead": _CREATED})],
    ),
    200: OpenApiResponse(
        LeadIntakeOutputSerializer,
        description="`merged`: the submission matched an existing lead (same mobile, e-mail, or company and name) "
        "and was collected into it; `lead` is that existing lead. `updated`: it carried the `external_id` and "
        "`source` of an existing lead, which it updated. A key without the `read` scope gets the outcome and "
        '`"lead": {"id": …}` only.',
        examples=[
            OpenApiExample("merged", value={"outcome": "merged", "lead": _MERGED}),
            OpenApiExample("updated", value={"outcome": "updated", "lead": _UPDATED}),
        ],
    ),
    202: OpenApiResponse(
        LeadIntakeOutputSerializer,
        description="`quarantined`: blacklisted, invalid or sensitive; kept in quarantine under `intake_id` with "
        "the reason codes (e.g. `invalid.mobile`, `blacklist.email_domain`, `sensitive_word`, `no_contact`). "
        "Nothing is lost: a quarantined submission can be restored.",
        examples=[OpenApiExample("quarantined", value=_QUARANTINED)],
    ),
}

BULK_RESPONSE = OpenApiResponse(
    LeadBulkOutputSerializer,
    description="One result per submitted item, in order (`index` is its position). Each item is taken in on its "
    "own: an invalid item gets the outcome `invalid` with its `errors` and the others go ahead.",
    examples=[
        OpenApiExample(
            "mixed outcomes",
            value={
                "results": [
                    {"index": 0, "outcome": "created", "lead": _CREATED},
                    {"index": 1, "outcome": "merged", "lead": _MERGED},
                    {"index": 2, **_QUARANTINED},
                    {"index": 3, "outcome": "invalid", "errors": {"email": ["Ensure this field has no more than 254 characters."]}},
                ]
            },
        )
    ],
)

def list_response(lead_serializer: Any) -> OpenApiResponse:
    # One lead: drf-spectacular wraps it in the paginated envelope's example.
    return OpenApiResponse(
        lead_serializer,
        description="One page of leads that match every filter given, in `ordering`.",
        examples=[OpenApiExample("a page of leads", value=_CREATED)],
    )


LIST_PARAMETERS = [
    OpenApiParameter(
        "ordering", OpenApiTypes.STR, enum=list(ORDERING_CHOICES),
        description="Order of the list: `-created_at` (newest first, the default), `created_at`, `-score` "
        "(highest total score first) or `score`. Ties are broken by id.",
    ),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 500}, description="Leads per page: 1 to 500; default 50."
    ),
    OpenApiParameter(
        "q", OpenApiTypes.STR, description=Q_HELP_TEXT,
        examples=[
            OpenApiExample("a person's name", value="王伟"),
            OpenApiExample("part of a company name", value="华为"),
            OpenApiExample("digits of a phone number", value="8524"),
            OpenApiExample("the beginning of an e-mail address", value="zhang.wei@"),
        ],
    ),
]

LEAD_ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the lead.")

_SUBMISSION = {
    "name": "王伟", "mobile": "139 1234 5678", "email": "Wang.Wei@fenyang-tech.cn", "company": "北京纷扬科技有限公司",
    "title": "市场总监", "province": "北京", "city": "北京", "source": "官网", "campaign": "2026 春季发布会",
    "utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "spring-launch",
}
INTAKE_REQUEST_EXAMPLES = [
    OpenApiExample(
        "a web form's submission", value=_SUBMISSION, request_only=True,
        description="Every field is optional; a lead needs at least one of mobile, phone, email, wechat. Values "
        "are normalised on intake (the mobile to E.164, the e-mail to lower case).",
    ),
    OpenApiExample(
        "from your own system, with its id", request_only=True,
        value={"name": "李娜", "mobile": "13800138000", "source": "官网", "external_id": "crm-000318", "custom": {}},
        description="`external_id` with `source` identifies the lead: sending them again updates it.",
    ),
]
BULK_REQUEST_EXAMPLES = [
    OpenApiExample(
        "three submissions", request_only=True,
        value={"leads": [_SUBMISSION, {"name": "李娜", "mobile": "13800138000", "source": "展会"}, {"email": "not-an-email"}]},
    )
]

CURSOR_DESCRIPTION = (
    "A position in the list. Do not build it: request the `next` or `previous` URL of a response as it is."
)


def paginated_response_schema(results_schema: dict[str, Any]) -> dict[str, Any]:
    """The list's envelope (API.md): `next` and `previous` URLs, null at either end."""
    return {
        "type": "object",
        "required": ["next", "previous", "results"],
        "properties": {
            "next": {
                "type": "string", "nullable": True, "format": "uri",
                "description": "The next page, with the same filters and ordering; null on the last page.",
                "example": f"{EXAMPLE_BASE_URL}?status=pending&cursor="
                + _example_cursor("next", "2026-11-27T09:12:44.501233+00:00", 4161),
            },
            "previous": {
                "type": "string", "nullable": True, "format": "uri",
                "description": "The page before; null on the first page.",
                "example": f"{EXAMPLE_BASE_URL}?status=pending&cursor="
                + _example_cursor("previous", "2026-11-28T04:34:21.123456+00:00", 4210),
            },
            "results": results_schema,
        },
    }
