"""The duplicate search page (查重, `/<tenant_slug>/dedup-search`) for every member, and the
"ask for this lead" action. The search is a GET form; the request is a POST form that works
without JavaScript (redirect back to the same search with a message); htmx swaps the search
in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import Role
from leads.dedup_search import (
    CANDIDATE_CAP,
    CRITERIA,
    RESULT_LIMIT,
    TRANSFER_MESSAGE_MAX_LENGTH,
    DuplicateMatch,
    DuplicateSearchResult,
    TransferRequestNotFound,
    TransferRequestRefused,
    duplicate_search,
    lead_transfer_request,
    transfer_requests_recent,
)
from leads.models import Lead


class DuplicateSearchForm(forms.Form):
    """The page's query string; what the values mean is the selector's to judge."""

    mobile = forms.CharField(required=False, max_length=40, label=_("手机号"))
    email = forms.CharField(required=False, max_length=254, label=_("邮箱"))
    wechat = forms.CharField(required=False, max_length=64, label=_("微信号"))
    company = forms.CharField(required=False, max_length=200, label=_("公司"))
    name = forms.CharField(required=False, max_length=100, label=_("联系人"))


@dataclass(frozen=True)
class SearchRow:
    match: DuplicateMatch
    requested_at: dt.datetime | None  # when the member asked the owner for it, within 24 hours


def _criteria(params: QueryDict) -> QueryDict:
    """The search criteria of `params`, without blanks: the page's canonical query string."""
    kept = QueryDict(mutable=True)
    for name in CRITERIA:
        if value := params.get(name, "").strip():
            kept[name] = value
    return kept


def _search_context(request: TenantHttpRequest, params: QueryDict) -> dict[str, Any]:
    is_submitted = any(name in params for name in CRITERIA)
    form = DuplicateSearchForm(params if is_submitted else None)
    result: DuplicateSearchResult | None = None
    if is_submitted and form.is_valid():
        try:
            result = duplicate_search(membership=request.membership, **form.cleaned_data)
        except ValidationError as error:
            for field, texts in error.message_dict.items():
                for text in texts:
                    form.add_error(None if field == "__all__" else field, text)
    rows: list[SearchRow] = []
    if result is not None:
        hidden = [match.lead.id for match in result.matches if not match.is_visible and match.lead.owner_id]
        requested = transfer_requests_recent(user_id=request.user.id, lead_ids=hidden)
        rows = [SearchRow(match=match, requested_at=requested.get(match.lead.id)) for match in result.matches]
    return {
        "form": form,
        "result": result,
        "rows": rows,
        "may_request": request.membership.role != Role.READ_ONLY,
        "candidate_cap": CANDIDATE_CAP,
        "result_limit": RESULT_LIMIT,
        "message_max_length": TRANSFER_MESSAGE_MAX_LENGTH,
        "return_to": _criteria(params).urlencode(),
        "search_url": reverse("leads:dedup-search", kwargs={"tenant_slug": request.tenant.slug}),
        "nav_active": "dedup",
    }


def _render(request: TenantHttpRequest, params: QueryDict, *, fragment: bool) -> HttpResponse:
    template = "leads/dedup_search.html" + ("#dedup-search" if fragment else "")
    response = render(request, template, {**_search_context(request, params), "is_fragment": fragment})
    patch_vary_headers(response, ["HX-Request"])  # one URL serves the page and the fragment
    return response


@require_http_methods(["GET", "HEAD"])
@tenant_member_required
def dedup_search_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    # A history-restore request wants the whole page even though it comes from htmx.
    is_fragment = bool(request.htmx) and not request.htmx.history_restore_request
    return _render(request, request.GET, fragment=is_fragment)


def _back(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """After the request: the same search again (htmx: its fragment; otherwise a redirect)."""
    params = _criteria(QueryDict(request.POST.get("return_to", "")))
    if request.htmx:
        response = _render(request, params, fragment=True)
        # The address bar keeps showing the search, not the action's URL.
        url = reverse("leads:dedup-search", kwargs={"tenant_slug": tenant_slug})
        response["HX-Replace-Url"] = f"{url}?{params.urlencode()}" if params else url
        return response
    url = reverse("leads:dedup-search", kwargs={"tenant_slug": tenant_slug})
    return HttpResponseRedirect(f"{url}?{params.urlencode()}" if params else url)


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def lead_transfer_request_action(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    if request.method != "POST":  # the button lives on the search page
        if not Lead.objects.filter(id=lead_id).exists():
            raise Http404("No such lead.")
        return HttpResponseRedirect(reverse("leads:dedup-search", kwargs={"tenant_slug": tenant_slug}))
    lead_url = request.build_absolute_uri(reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": lead_id}))
    try:
        requested = lead_transfer_request(
            tenant=request.tenant, lead_id=lead_id, requested_by=request.user,
            message=request.POST.get("message", ""), lead_url=lead_url,
        )
    except TransferRequestNotFound:
        raise Http404("No such lead.") from None
    except TransferRequestRefused as refused:
        messages.error(request, str(refused.message))
        return _back(request, tenant_slug)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, tenant_slug)
    lead = requested.lead
    label = " · ".join(part for part in (lead.name, lead.company) if part) or f"#{lead.id}"
    if requested.is_repeat:
        at = formats.date_format(timezone.localtime(requested.requested_at), "H:i")
        messages.info(
            request,
            gettext("你已在 %(time)s 请求过「%(lead)s」，24 小时内不再重复提醒 %(owner)s。")
            % {"time": at, "lead": label, "owner": requested.owner_name},
        )
    else:
        messages.success(
            request,
            gettext("已发送请求：%(owner)s 会收到邮件，请他/她把「%(lead)s」转给你。")
            % {"owner": requested.owner_name, "lead": label},
        )
    return _back(request, tenant_slug)
