"""The quarantine pages (隔离区): the rejected submissions with their reasons, filters and
counts; restore, purge, and purge of selected rows. Admins and managers may look (managers
see contact details masked); only admins restore and purge. Every action is a POST form that
works without JavaScript (redirect back with a message); htmx swaps the list in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.validators import RegexValidator
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.cleansing import BUILTIN_SENSITIVE_WORDS, sensitive_words_found
from leads.fields import INPUT_FIELD_NAMES
from leads.masking import payload_masked
from leads.models import IntakeRecord, IntakeStatus
from leads.normalization import normalise_lead
from leads.quarantine import (
    IntakeRecordNotFound,
    IntakeRecordNotQuarantined,
    IntakeRestored,
    IntakeStillRejected,
    intake_record_purge,
    intake_record_purge_many,
    intake_record_restore,
    quarantine_may_read,
    quarantine_may_work,
)
from leads.quarantine_selectors import (
    InvalidIntakeCursor,
    intake_counts_of,
    intake_record_get,
    intake_record_keyset_page,
    intake_record_list,
)
from leads.reasons import reason_filter_choices, reason_is_known, reason_label
from leads.selectors import owner_display_names
from leads.views import CHANNEL_LABELS, PAYLOAD_FIELD_LABELS

STATUS_ALL = "all"
STATUS_CHOICES = [*IntakeStatus.choices, (STATUS_ALL, _("全部状态"))]
STATUS_LABELS = dict(STATUS_CHOICES)
FILTER_NAMES = ("q", "reason", "channel", "status", "created_from", "created_to")
_reason_code = RegexValidator(r"^[a-z0-9_.]+$", _("原因代码只含小写字母、数字、下划线和点。"))


class QuarantineListForm(forms.Form):
    """The list's query string. Valid fields filter even when another field is wrong."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    reason = forms.CharField(required=False, max_length=64, strip=True, validators=[_reason_code])
    channel = forms.ChoiceField(required=False, choices=[("", _("全部渠道")), *CHANNEL_LABELS.items()])
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    created_from = forms.DateField(
        required=False, error_messages={"invalid": _("开始日期格式应为 年-月-日，例如 2025-03-01。")}
    )
    created_to = forms.DateField(
        required=False, error_messages={"invalid": _("结束日期格式应为 年-月-日，例如 2025-03-31。")}
    )
    cursor = forms.CharField(required=False, max_length=400)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("结束日期早于开始日期，请调整日期范围。"))
            cleaned.pop("created_to", None)
        return cleaned


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _list_filters(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The form's values as `intake_record_list` arguments. No status given: the work still to
    do (quarantined)."""
    status = cleaned.get("status") or IntakeStatus.QUARANTINED
    filters: dict[str, Any] = {
        "q": cleaned.get("q") or "", "reason": cleaned.get("reason") or "", "channel": cleaned.get("channel") or "",
        "status": "" if status == STATUS_ALL else status,
    }
    if start := cleaned.get("created_from"):
        filters["created_after"] = _day_start(start)
    if end := cleaned.get("created_to"):  # inclusive: up to the start of the next day
        filters["created_before"] = _day_start(end + dt.timedelta(days=1))
    return filters


@dataclass(frozen=True)
class ReasonChip:
    code: str
    label: str
    count: int
    url: str
    is_active: bool


@dataclass(frozen=True)
class QuarantineRow:
    record: IntakeRecord
    name: str
    company: str
    contacts: list[str]  # mobile, phone, e-mail, WeChat as shown to this member
    reasons: list[tuple[str, str]]  # (code, label)
    channel: str
    status_label: str
    note: str  # the start of the notes: where spam usually says what it is
    sensitive_words: list[str]


NOTE_EXCERPT_LENGTH = 40


def _sensitive_words(record: IntakeRecord, payload: dict[str, Any]) -> list[str]:
    """The built-in sensitive words in the submission, so a reviewer sees why without reading
    every field (computed for the rows shown: one automaton pass each)."""
    if "sensitive_word" not in record.reasons or not payload:
        return []
    return sensitive_words_found(normalise_lead(payload).fields, BUILTIN_SENSITIVE_WORDS)


def _shown_payload(record: IntakeRecord, *, may_work: bool) -> dict[str, Any]:
    if record.status == IntakeStatus.PURGED:
        return {}
    payload = record.payload if isinstance(record.payload, dict) else {}
    return payload if may_work else payload_masked(payload)


def _reasons(codes: list[str]) -> list[tuple[str, str]]:
    return [(code, reason_label(code)) for code in codes]


def _joined(labels: list[str]) -> str:
    """A list in running text: 敏感词、手机号无效 / Sensitive word, Invalid mobile."""
    return ("、" if (get_language() or "").startswith("zh") else ", ").join(labels)


def _row(record: IntakeRecord, *, may_work: bool) -> QuarantineRow:
    payload = _shown_payload(record, may_work=may_work)
    contacts = [str(payload[name]) for name in ("mobile", "phone", "email", "wechat") if payload.get(name)]
    note = " ".join(str(payload.get("notes") or "").split())
    if len(note) > NOTE_EXCERPT_LENGTH:
        note = note[:NOTE_EXCERPT_LENGTH] + "…"
    return QuarantineRow(
        record=record, name=str(payload.get("name") or ""), company=str(payload.get("company") or ""),
        contacts=contacts, reasons=_reasons(record.reasons),
        channel=str(CHANNEL_LABELS.get(record.channel, record.channel)),
        status_label=str(STATUS_LABELS.get(record.status, record.status)),
        note=note, sensitive_words=_sensitive_words(record, payload),
    )


def _query_without(params: QueryDict, *names: str) -> QueryDict:
    """The filters of `params` (no blanks, no cursor), less `names`."""
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name in FILTER_NAMES and name not in names and (values := [v for v in values if v]):
            kept.setlist(name, values)
    return kept


def _list_context(request: TenantHttpRequest, params: QueryDict) -> dict[str, Any]:
    form = QuarantineListForm(params)
    form.is_valid()  # errors are shown; the valid fields still filter
    cleaned = form.cleaned_data
    filters = _list_filters(cleaned)
    records = intake_record_list(**filters)
    cursor_expired = False
    try:
        page = intake_record_keyset_page(queryset=records, cursor=cleaned.get("cursor") or "")
    except InvalidIntakeCursor:
        cursor_expired = True
        page = intake_record_keyset_page(queryset=records)
    # The chips count every reason under the other filters, so each says what picking it shows.
    counts = intake_counts_of(queryset=intake_record_list(**{**filters, "reason": ""}))
    list_url = reverse("leads:quarantine", kwargs={"tenant_slug": request.tenant.slug})
    base_query = _query_without(params)
    without_reason = _query_without(params, "reason")
    active_reason = filters["reason"]
    chips = []
    for code, count in counts.by_reason.items():
        query = without_reason.copy()
        if code != active_reason:  # a second click on the active chip clears it
            query["reason"] = code
        chips.append(ReasonChip(
            code=code, label=reason_label(code), count=count, is_active=code == active_reason,
            url=f"{list_url}?{query.urlencode()}" if query else list_url,
        ))
    may_work = quarantine_may_work(membership=request.membership)
    return {
        "form": form,
        "page": page,
        "rows": [_row(record, may_work=may_work) for record in page.rows],
        "chips": chips,
        "counts": counts,
        "all_reasons_url": f"{list_url}?{without_reason.urlencode()}" if without_reason else list_url,
        "reason_choices": reason_filter_choices(counts.by_reason),
        "channel_choices": list(CHANNEL_LABELS.items()),
        "status_choices": STATUS_CHOICES,
        "current_status": cleaned.get("status") or IntakeStatus.QUARANTINED,
        "base_query": base_query.urlencode(),
        "return_to": base_query.urlencode(),
        "has_filters": any(cleaned.get(name) for name in FILTER_NAMES if name != "status"),
        "cursor_expired": cursor_expired,
        "may_work": may_work,
        "list_url": list_url,
        "nav_active": "quarantine",
    }


def _forbidden(request: TenantHttpRequest, *, action: bool = False) -> HttpResponse:
    return render(
        request, "leads/quarantine_forbidden.html", {"is_action": action, "nav_active": "quarantine"}, status=403
    )


def _render_list(request: TenantHttpRequest, params: QueryDict, *, fragment: bool) -> HttpResponse:
    template = "leads/quarantine_list.html" + ("#quarantine-results" if fragment else "")
    response = render(request, template, {**_list_context(request, params), "is_fragment": fragment})
    patch_vary_headers(response, ["HX-Request"])  # one URL serves the page and the fragment
    return response


@require_http_methods(["GET", "HEAD"])
@tenant_member_required
def quarantine_list_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if not quarantine_may_read(membership=request.membership):
        return _forbidden(request)
    # A history-restore request wants the whole page even though it comes from htmx.
    is_fragment = bool(request.htmx) and not request.htmx.history_restore_request
    return _render_list(request, request.GET, fragment=is_fragment)


def _record_or_404(record_id: int) -> IntakeRecord:
    record = intake_record_get(record_id=record_id)
    if record is None:  # another tenant's, or no such record: both look the same
        raise Http404("No such intake record.")
    return record


@require_http_methods(["GET", "HEAD"])
@tenant_member_required
def quarantine_detail_page(request: TenantHttpRequest, tenant_slug: str, record_id: int) -> HttpResponse:
    if not quarantine_may_read(membership=request.membership):
        return _forbidden(request)
    record = _record_or_404(record_id)
    may_work = quarantine_may_work(membership=request.membership)
    payload = _shown_payload(record, may_work=may_work)
    # After a restore refused for reasons not waived: those reasons, offered for waiving too.
    also = [
        code for code in dict.fromkeys(request.GET.getlist("also"))
        if reason_is_known(code) and code not in record.reasons
    ]
    people = owner_display_names(
        user_ids={uid for uid in (record.restored_by_id, record.purged_by_id, record.submitted_by_id) if uid}
    )
    custom = payload.get("custom")
    order = {name: position for position, name in enumerate(INPUT_FIELD_NAMES)}
    shown = sorted(
        ((key, value) for key, value in payload.items() if key != "custom" and value not in (None, "")),
        key=lambda item: order.get(item[0], len(order)),  # the lead's field order; anything else after
    )
    context = {
        "record": record,
        "fields": [(str(PAYLOAD_FIELD_LABELS.get(key, key)), str(value)) for key, value in shown],
        "sensitive_words": _sensitive_words(record, payload),
        "custom": list(custom.items()) if isinstance(custom, dict) else [],
        "reasons": _reasons(record.reasons),
        "also_reasons": _reasons(also),
        "waived_text": _joined([reason_label(code) for code in record.waived_reasons]),
        "channel": CHANNEL_LABELS.get(record.channel, record.channel),
        "status_label": STATUS_LABELS.get(record.status, record.status),
        "restored_by": people.get(record.restored_by_id or 0, ""),
        "purged_by": people.get(record.purged_by_id or 0, ""),
        "submitted_by": people.get(record.submitted_by_id or 0, ""),
        "may_work": may_work,
        "return_to": _query_without(QueryDict(request.GET.get("return_to", ""))).urlencode(),
        "nav_active": "quarantine",
    }
    return render(request, "leads/quarantine_detail.html", context)


def _back(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """After an action: the list as it was filtered (htmx: its fragment; otherwise a redirect)."""
    params = _query_without(QueryDict(request.POST.get("return_to", "")))
    if request.htmx:
        return _render_list(request, params, fragment=True)
    url = reverse("leads:quarantine", kwargs={"tenant_slug": tenant_slug})
    return HttpResponseRedirect(f"{url}?{params.urlencode()}" if params else url)


def _to_detail(request: TenantHttpRequest, tenant_slug: str, record_id: int, query: str = "") -> HttpResponse:
    url = reverse("leads:quarantine-detail", kwargs={"tenant_slug": tenant_slug, "record_id": record_id})
    if query:
        url += f"?{query}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # a full page: the detail is not part of the list
        return response
    return HttpResponseRedirect(url)


def _restored_message(request: TenantHttpRequest, restored: IntakeRestored) -> None:
    lead = restored.outcome.lead
    assert lead is not None
    url = reverse("leads:detail", kwargs={"tenant_slug": request.tenant.slug, "lead_id": lead.id})
    name = lead.name or lead.company or f"#{lead.id}"
    texts = {
        "created": gettext("已恢复为新线索：%(lead)s"),
        "merged": gettext("已恢复：这条提交已归集到现有线索 %(lead)s"),
        "updated": gettext("已恢复：已用这条提交更新现有线索 %(lead)s"),
    }
    text = texts.get(restored.outcome.outcome, texts["created"])
    link = format_html('<a href="{}">{}</a>', url, name)
    messages.success(request, format_html(text.replace("%(lead)s", "{}"), link))


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def quarantine_restore(request: TenantHttpRequest, tenant_slug: str, record_id: int) -> HttpResponse:
    if request.method != "POST":  # the confirm step is the record's page
        if not quarantine_may_read(membership=request.membership):
            return _forbidden(request)
        _record_or_404(record_id)
        return _to_detail(request, tenant_slug, record_id)
    if not quarantine_may_work(membership=request.membership):
        return _forbidden(request, action=True)
    waive = [code for code in request.POST.getlist("waive") if code]
    try:
        restored = intake_record_restore(
            tenant=request.tenant, record_id=record_id, actor=request.user, waive=waive
        )
    except IntakeRecordNotFound:
        raise Http404("No such intake record.") from None
    except IntakeRecordNotQuarantined as error:
        record = error.record
        if record.status == IntakeStatus.RESTORED:
            messages.error(request, gettext("这条记录已经恢复过了，没有再次恢复。"))
        else:
            messages.error(request, gettext("这条记录的个人信息已清除，无法恢复。"))
        return _back(request, tenant_slug)
    except IntakeStillRejected as error:
        if error.reasons:
            labels = _joined([reason_label(code) for code in error.reasons])
            messages.error(
                request,
                gettext("未恢复：重新检查后仍会因「%(reasons)s」被隔离，记录保持不变。如确认无误，可同时豁免这些原因后再恢复。")
                % {"reasons": labels},
            )
            query = QueryDict(mutable=True)
            query.setlist("also", error.reasons)
            return _to_detail(request, tenant_slug, record_id, query.urlencode())
        problems = "; ".join(f"{field}: {' '.join(texts)}" for field, texts in error.errors.items())
        messages.error(
            request, gettext("未恢复：这条提交已不符合当前的字段设置（%(problems)s），记录保持不变。") % {"problems": problems}
        )
        return _to_detail(request, tenant_slug, record_id)
    except forms.ValidationError:
        messages.error(request, gettext("未恢复：要豁免的原因无法识别，请在详情页重新选择。"))
        return _to_detail(request, tenant_slug, record_id)
    _restored_message(request, restored)
    return _back(request, tenant_slug)


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def quarantine_purge(request: TenantHttpRequest, tenant_slug: str, record_id: int) -> HttpResponse:
    if request.method != "POST":  # the confirm step is the record's page
        if not quarantine_may_read(membership=request.membership):
            return _forbidden(request)
        _record_or_404(record_id)
        return _to_detail(request, tenant_slug, record_id)
    if not quarantine_may_work(membership=request.membership):
        return _forbidden(request, action=True)
    try:
        intake_record_purge(tenant=request.tenant, record_id=record_id, actor=request.user)
    except IntakeRecordNotFound:
        raise Http404("No such intake record.") from None
    except IntakeRecordNotQuarantined as error:
        if error.record.status == IntakeStatus.RESTORED:
            messages.error(request, gettext("这条记录已恢复为线索，不能清除；它的信息保存在线索中。"))
        else:
            messages.error(request, gettext("这条记录已经清除过了。"))
        return _back(request, tenant_slug)
    messages.success(request, gettext("已清除这条提交的个人信息；原因、渠道和时间仍保留用于统计。"))
    return _back(request, tenant_slug)


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def quarantine_purge_selected(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if request.method != "POST":  # nothing to show here: the selection is made on the list
        return HttpResponseRedirect(reverse("leads:quarantine", kwargs={"tenant_slug": tenant_slug}))
    if not quarantine_may_work(membership=request.membership):
        return _forbidden(request, action=True)
    ids = sorted({int(value) for value in request.POST.getlist("ids") if value.isdigit() and len(value) <= 18})
    if not ids:
        messages.error(request, gettext("请先勾选要清除的记录。"))
        return _back(request, tenant_slug)
    try:
        result = intake_record_purge_many(tenant=request.tenant, record_ids=ids, actor=request.user)
    except forms.ValidationError:
        messages.error(request, gettext("一次最多清除 500 条，请分批操作。"))
        return _back(request, tenant_slug)
    if result.purged:
        messages.success(request, gettext("已清除 %(count)d 条提交的个人信息。") % {"count": len(result.purged)})
    if result.skipped:
        messages.warning(
            request, gettext("%(count)d 条已恢复或已清除的记录未做改动。") % {"count": len(result.skipped)}
        )
    return _back(request, tenant_slug)

