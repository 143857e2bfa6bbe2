"""Manual entry and editing on the workbench: the new-lead form (posted through intake with the
channel "manual", live duplicate hints as a contact or company is typed) and a lead's edit form
(the fields the member's role may change, through `lead_update`). Both work without
JavaScript: plain POSTs, messages next to the fields, values kept."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import Role
from leads.dedup_search import DuplicateSearchResult, duplicate_search
from leads.fields import CONTACT_FIELD_NAMES, FIELDS_BY_NAME
from leads.intake import lead_intake_many
from leads.lead_edits import (
    READ_ONLY_FIELD_NAMES,
    READ_ONLY_REASON,
    LeadEditForbidden,
    LeadEditNotFound,
    LeadEditStale,
    lead_contact_problems,
    lead_editable_field_names,
    lead_update,
)
from leads.masking import contacts_masked
from leads.reasons import reason_label
from leads.selectors import lead_get, lead_is_visible_to, lead_masking_pool_ids

# The new-lead form's fields, in the order people fill them in.
ENTRY_FIELD_NAMES = (
    "name", "mobile", "email", "wechat", "phone", "company", "title", "industry", "company_size", "annual_revenue",
    "province", "city", "source", "campaign", "notes",
)
# Typing one of these asks for duplicate hints.
HINT_FIELD_NAMES = ("mobile", "email", "wechat", "company")
INPUT_TYPES = {"mobile": "tel", "phone": "tel", "email": "email", "annual_revenue": "text"}
PLACEHOLDERS = {
    "mobile": _("例如 139 1234 5678"),
    "phone": _("例如 021-6234 5678"),
    "email": _("例如 zhang.wei@163.com"),
    "company": _("例如 北京纷扬科技有限公司"),
}


def _lead_form_class(field_names: tuple[str, ...]) -> type[forms.Form]:
    """A form of the named lead fields, with the lengths intake accepts."""
    declared: dict[str, forms.Field] = {}
    for name in field_names:
        spec = FIELDS_BY_NAME[name]
        if spec.kind == "decimal":
            declared[name] = forms.DecimalField(
                required=False, min_value=Decimal(0), max_digits=16, decimal_places=2, label=str(spec.label),
                error_messages={"invalid": _("请填写数字，例如 5000000。")},
            )
        else:
            declared[name] = forms.CharField(
                required=False, max_length=spec.max_length, label=str(spec.label), widget=forms.Textarea
                if name == "notes" else forms.TextInput,
            )
    return type("LeadFieldsForm", (forms.Form,), declared)


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    value: Any
    errors: list[str]
    input_type: str
    max_length: int | None
    placeholder: str
    is_hinted: bool  # typing asks for duplicate hints
    is_wide: bool


def _rows(form: forms.Form, *, hints: bool = False) -> list[FieldRow]:
    rows = []
    for name, bound in form.fields.items():
        value = form[name].value()
        spec = FIELDS_BY_NAME[name]
        rows.append(FieldRow(
            name=name, label=str(spec.label), value="" if value is None else value,
            errors=[str(error) for error in form.errors.get(name, [])], input_type=INPUT_TYPES.get(name, "text"),
            max_length=getattr(bound, "max_length", None), placeholder=str(PLACEHOLDERS.get(name, "")),
            is_hinted=hints and name in HINT_FIELD_NAMES, is_wide=name == "notes",
        ))
    return rows


def _may_write(request: TenantHttpRequest) -> bool:
    return request.membership.role != Role.READ_ONLY


def _hints(request: TenantHttpRequest, params: QueryDict) -> DuplicateSearchResult | None:
    """Leads matching what was typed so far, or None while nothing searchable is there yet (a
    half-typed mobile is not an error here: the hints stay quiet until it is a number)."""
    criteria = {name: params.get(name, "").strip() for name in HINT_FIELD_NAMES}
    criteria = {name: value for name, value in criteria.items() if value}
    while criteria:
        try:
            return duplicate_search(
                membership=request.membership, limit=5, mobile=criteria.get("mobile", ""),
                email=criteria.get("email", ""), wechat=criteria.get("wechat", ""), company=criteria.get("company", ""),
            )
        except ValidationError as error:
            bad = set(error.message_dict) & set(criteria)
            if not bad:
                return None
            for name in bad:
                criteria.pop(name)
    return None


@require_http_methods(["GET", "HEAD"])
@tenant_member_required
def lead_duplicate_hints(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The new-lead form's duplicate hints (htmx swaps them in as a field changes)."""
    return render(request, "leads/_entry_hints.html", {"hints": _hints(request, request.GET)})


def _outcome_message(request: TenantHttpRequest, outcome: Any) -> None:
    if outcome.outcome == "created":
        messages.success(request, gettext("线索已创建。"))
    elif outcome.outcome in ("merged", "updated"):
        messages.info(
            request, gettext("这条线索与已有线索重复（%(rule)s），提交已归集到这条线索，没有新建。")
            % {"rule": outcome.rule or gettext("查重规则")},
        )


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def lead_new_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if not _may_write(request):
        return render(request, "leads/lead_entry_forbidden.html", {"nav_active": "leads"}, status=403)
    form_class = _lead_form_class(ENTRY_FIELD_NAMES)
    # "Check for duplicates" without JavaScript: the same page with the typed values as a GET.
    data = request.POST if request.method == "POST" else request.GET if "check" in request.GET else None
    form = form_class(data)
    quarantine: list[str] = []
    if request.method == "POST" and form.is_valid():
        payload = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
        if "annual_revenue" in payload:
            payload["annual_revenue"] = str(payload["annual_revenue"])
        # A person is at the form: an unusable contact is for them to fix now, not quarantine.
        problems = lead_contact_problems(payload, set(payload) | {"mobile"})
        for name, texts in problems.items():
            for text in texts:
                form.add_error(name, text)
    if request.method == "POST" and form.is_valid():
        outcome = lead_intake_many(
            tenant=request.tenant, payloads=[payload], channel="manual", submitted_by=request.user,
        )[0]
        if outcome.outcome == "invalid":
            for name, texts in outcome.errors.items():
                for text in texts:
                    form.add_error(name if name in form.fields else None, text)
        elif outcome.outcome == "quarantined":
            quarantine = [reason_label(code) for code in outcome.reasons]
        else:
            assert outcome.lead is not None
            if not lead_is_visible_to(lead=outcome.lead, membership=request.membership):
                # A rep sees only their own leads; this one went to its pool or another rep.
                messages.success(
                    request, gettext("线索 #%(id)s 已提交，已按分配规则交给负责人或进入线索池。") % {"id": outcome.lead.id}
                )
                return HttpResponseRedirect(reverse("leads:list", kwargs={"tenant_slug": tenant_slug}))
            _outcome_message(request, outcome)
            return HttpResponseRedirect(
                reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": outcome.lead.id})
            )
    context = {
        "form": form,
        "rows": _rows(form, hints=True),
        "quarantine": quarantine,
        "hints": _hints(request, data) if data is not None else None,
        "hints_url": reverse("leads:new-hints", kwargs={"tenant_slug": tenant_slug}),
        "nav_active": "leads",
    }
    is_refused = request.method == "POST" and (bool(form.errors) or bool(quarantine))
    return render(request, "leads/lead_new.html", context, status=400 if is_refused else 200)


def _mobile_display(number: str) -> str:
    """+8613812345678 → 138 1234 5678; other numbers as stored."""
    if number.startswith("+86") and len(number) == 14:
        return f"{number[3:6]} {number[6:10]} {number[10:]}"
    return number


def _contacts_hidden(request: TenantHttpRequest, lead: Any) -> bool:
    if request.membership.is_admin:
        return False
    return contacts_masked(
        pool_id=lead.pool_id, owner_id=lead.owner_id, viewer_id=request.user.id, viewer_is_admin=False,
        masking_pool_ids=lead_masking_pool_ids(),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
def lead_edit_page(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:  # another tenant's, another rep's, or none: all look the same
        raise Http404("No such lead.")
    editable = lead_editable_field_names(membership=request.membership)
    if not editable:
        return render(request, "leads/lead_entry_forbidden.html", {"nav_active": "leads", "lead": lead}, status=403)
    # A member who sees this lead's contacts masked may not see them in a form either.
    contacts_hidden = _contacts_hidden(request, lead)
    if contacts_hidden:
        editable = tuple(name for name in editable if name not in CONTACT_FIELD_NAMES)
    editable = tuple(name for name in ENTRY_FIELD_NAMES if name in editable)  # the new-lead form's order
    form_class = _lead_form_class(editable)
    initial = {name: getattr(lead, name) for name in editable}
    if "mobile" in initial:  # as people read it; normalised back to E.164 on save
        initial["mobile"] = _mobile_display(lead.mobile)
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    version = request.POST.get("version", "") if request.method == "POST" else lead.updated_at.isoformat()
    is_stale = False
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if name in request.POST}
        expected = parse_datetime(version)
        try:
            if expected is None:
                raise LeadEditStale(lead)
            edit = lead_update(
                tenant=request.tenant, lead_id=lead.id, membership=request.membership, actor=request.user,
                changes=changes, expected_updated_at=expected, contacts_hidden=contacts_hidden,
            )
        except (LeadEditNotFound, LeadEditForbidden):
            raise Http404("No such lead.") from None
        except LeadEditStale as stale:
            is_stale = True
            version = stale.lead.updated_at.isoformat()
        except ValidationError as error:
            for name, texts in error.message_dict.items():
                for text in texts:
                    form.add_error(name if name in form.fields else None, text)
        else:
            if edit.changes:
                messages.success(request, gettext("已保存修改。"))
            else:
                messages.info(request, gettext("没有改动。"))
            return HttpResponseRedirect(reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": lead.id}))
    read_only = [
        (str(FIELDS_BY_NAME[name].label), getattr(lead, name) or "—")
        for name in (*READ_ONLY_FIELD_NAMES, *(n for n in ("campaign",) if n not in editable))
    ]
    context = {
        "lead": lead,
        "form": form,
        "rows": _rows(form),
        "version": version,
        "is_stale": is_stale,
        "read_only": read_only,
        "read_only_reason": READ_ONLY_REASON,
        "contacts_hidden": contacts_hidden,
        "nav_active": "leads",
    }
    status = 409 if is_stale else 400 if form.errors else 200
    return render(request, "leads/lead_edit.html", context, status=status)
