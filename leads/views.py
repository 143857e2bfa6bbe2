"""The lead workbench pages: the list (filters, search, ordering, keyset pages) and one lead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from leadcrm.keyset import KeysetPage
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.selectors import member_list
from leads.fields import CONTACT_FIELD_NAMES, LEAD_FIELDS
from leads.filters import GROUP_CHOICES, ORDERING_CHOICES, LeadFilter, ordering_for
from leads.list_extensions import lead_list_bulk_bar, lead_list_notes
from leads.masking import contacts_for, contacts_masked, payload_masked
from leads.models import (
    BECAME_HOT_ACTION,
    BECAME_MATURE_ACTION,
    LEAD_EDIT_ACTION,
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    SYSTEM_STATUS_REASONS,
    TRANSFER_REQUEST_ACTION,
    Grade,
    Lead,
    LeadStatus,
    OwnerChangeReason,
    Tier,
)
from leads.saved_view_views import saved_view_default_redirect, saved_view_list_context
from leads.selectors import (
    InvalidLeadCursor,
    LeadCount,
    PersonLabel,
    customer_name,
    lead_count,
    lead_dedup_rule_names,
    lead_duplicate_list,
    lead_get,
    lead_history_list,
    lead_keyset_page,
    lead_masking_pool_ids,
    lead_pool_names,
    lead_search_unmasking_excluded,
    lead_source_suggestions,
    lead_submission_list,
    lead_visible_to,
    owner_labels,
)
from leads.timeline_extensions import lead_timeline_extra

# The page orders by the API's `ordering` values (leads.filters.ORDERING_CHOICES): a link
# shared from one works in the other. A value without a label here fails at import.
_ORDERING_LABELS = {
    "-created_at": _("最新创建"),
    "created_at": _("最早创建"),
    "-score": _("评分从高到低"),
    "score": _("评分从低到高"),
}
ORDERING_OPTIONS = [(value, _ORDERING_LABELS[value]) for value in ORDERING_CHOICES]
DEFAULT_ORDERING = "-created_at"
OWNER_ME = "me"
OWNER_UNASSIGNED = "unassigned"
# What submissions collected before duplicate rules were rows say about their rule.
SUBMISSION_RULE_LABELS = {"same_mobile": _("手机号相同"), "same_email": _("邮箱相同")}
PAYLOAD_FIELD_LABELS = {field.name: field.label for field in LEAD_FIELDS}
CHANNEL_LABELS = {
    "api": "API",
    "bulk": _("批量 API"),
    "import": _("文件导入"),
    "form": _("网页表单"),
    "manual": _("手动录入"),
}


def _with_blank(label: Any, choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class LeadListForm(forms.Form):
    """The list page's query string. Valid fields filter even when another field is wrong."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    status = forms.ChoiceField(required=False, choices=_with_blank(_("全部状态"), LeadStatus.choices))
    tier = forms.ChoiceField(required=False, choices=_with_blank(_("全部热度"), Tier.choices))
    grade = forms.ChoiceField(required=False, choices=_with_blank(_("全部等级"), Grade.choices))
    group = forms.MultipleChoiceField(
        required=False, choices=GROUP_CHOICES,
        error_messages={"invalid_choice": _("分组只能是 A1 到 D3，请重新勾选。")},
    )
    mature = forms.ChoiceField(
        required=False, choices=[("", _("全部")), ("true", _("已达及格线")), ("false", _("未达及格线"))]
    )
    scored = forms.ChoiceField(required=False, choices=[("", _("全部")), ("true", _("已评分")), ("false", _("未评分"))])
    source = forms.CharField(required=False, max_length=50, strip=True)
    owner = forms.CharField(required=False, max_length=20)
    pool = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    min_score = forms.DecimalField(
        required=False, min_value=0, max_value=100, decimal_places=2,
        error_messages={"invalid": _("最低分请填写 0–100 之间的数字。")},
    )
    max_score = forms.DecimalField(
        required=False, min_value=0, max_value=100, decimal_places=2,
        error_messages={"invalid": _("最高分请填写 0–100 之间的数字。")},
    )
    created_from = forms.DateField(
        required=False, error_messages={"invalid": _("开始日期格式应为 年-月-日，例如 2025-03-01。")}
    )
    created_to = forms.DateField(
        required=False, error_messages={"invalid": _("结束日期格式应为 年-月-日，例如 2025-03-31。")}
    )
    ordering = forms.ChoiceField(required=False, choices=ORDERING_OPTIONS)
    cursor = forms.CharField(required=False, max_length=400)

    def __init__(self, *args: Any, owner_choices: list[tuple[str, str]], pool_choices: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owner_choices = owner_choices
        pool_field = cast(forms.TypedChoiceField, self.fields["pool"])
        pool_field.choices = _with_blank(_("全部线索池"), [(str(i), n) for i, n in pool_choices])

    def clean_owner(self) -> str:
        owner = self.cleaned_data["owner"]
        if owner and owner not in {value for value, _label in self.owner_choices}:
            raise forms.ValidationError(_("这个负责人不在本团队中，请从列表里重新选择。"))
        return owner

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_score"), cleaned.get("max_score")
        if low is not None and high is not None and low > high:
            self.add_error("max_score", _("最高分低于最低分，请调换两个数值。"))
            cleaned.pop("max_score", None)
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("结束日期早于开始日期，请调整日期范围。"))
            cleaned.pop("created_to", None)
        return cleaned


def _day_start(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone()).isoformat()


def _filter_data(cleaned: dict[str, Any], *, user_id: int) -> QueryDict:
    """Translate the page's friendly parameters into `LeadFilter`'s (shared with the API)."""
    data = QueryDict(mutable=True)
    for name in ("q", "source", "min_score", "max_score", "pool"):
        if (value := cleaned.get(name)) not in (None, ""):
            data[name] = str(value)
    for name in ("status", "tier", "grade"):
        if value := cleaned.get(name):
            data.setlist(name, [value])
    if groups := cleaned.get("group"):
        data.setlist("group", list(groups))
    for name in ("mature", "scored"):
        if value := cleaned.get(name):
            data[name] = value
    owner = cleaned.get("owner") or ""
    if owner == OWNER_ME:
        data["owner"] = str(user_id)
    elif owner == OWNER_UNASSIGNED:
        data["unassigned"] = "true"
    elif owner:
        data["owner"] = owner
    if start := cleaned.get("created_from"):
        data["created_after"] = _day_start(start)
    if end := cleaned.get("created_to"):  # inclusive: up to the start of the next day
        data["created_before"] = _day_start(end + dt.timedelta(days=1))
    return data


def _owner_choices(request: TenantHttpRequest) -> list[tuple[str, str]]:
    if request.membership.role == Role.REP:
        return []  # a rep sees only their own leads; an owner filter would be noise
    members = [(str(m.user_id), str(m)) for m in member_list(tenant=request.tenant)]
    return [(OWNER_ME, str(_("我负责的"))), (OWNER_UNASSIGNED, str(_("未分配"))), *members]


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    owner: PersonLabel | None
    notes: list[str]  # other apps' few words about the row (scoring: why it is hot)
    contact: str  # the mobile or e-mail shown under a lead without a company, masked when its pool says so


def _masking_pool_ids(request: TenantHttpRequest) -> frozenset[int]:
    """The pools whose contacts this member sees masked (none for an admin: no query)."""
    return frozenset() if request.membership.is_admin else lead_masking_pool_ids()


def _masked(lead: Lead, request: TenantHttpRequest, masking_pool_ids: frozenset[int]) -> bool:
    return contacts_masked(
        pool_id=lead.pool_id, owner_id=lead.owner_id, viewer_id=request.user.id,
        viewer_is_admin=request.membership.is_admin, masking_pool_ids=masking_pool_ids,
    )


def _lead_rows(page: KeysetPage[Lead], *, request: TenantHttpRequest, masking_pool_ids: frozenset[int]) -> list[LeadRow]:
    owners = owner_labels(user_ids={lead.owner_id for lead in page.rows if lead.owner_id})
    notes = lead_list_notes(leads=page.rows)
    rows = []
    for lead in page.rows:
        contacts = contacts_for(mobile=lead.mobile, phone="", email=lead.email, wechat="",
                                masked=_masked(lead, request, masking_pool_ids))
        rows.append(LeadRow(lead=lead, owner=owners.get(lead.owner_id or 0), notes=notes.get(lead.id, []),
                            contact=contacts["mobile"] or contacts["email"]))
    return rows


def _query_with_aliases(query: QueryDict) -> QueryDict:
    """Links from before the page spoke the API's `ordering` say `sort`: still honoured."""
    if "sort" not in query:
        return query
    query = query.copy()
    sort = query.pop("sort")
    if "ordering" not in query:
        query.setlist("ordering", sort)
    return query


def _list_count(*, queryset: Any, page: KeysetPage[Lead], cursor: str) -> LeadCount | None:
    if not cursor and page.next_cursor is None:  # the whole list is on this page: nothing to count
        return LeadCount(value=len(page.rows), kind="exact")
    return lead_count(queryset=queryset)


@dataclass(frozen=True)
class LeadListQuery:
    """The list as a member asked for it: the form (with its errors), the leads it matches and
    their order. The page and its exports read the list through this one path."""

    form: LeadListForm
    cleaned: dict[str, Any]
    ordering: tuple[str, ...]
    leads: QuerySet[Lead]
    masking_pool_ids: frozenset[int]
    pools: dict[int, str]
    owner_choices: list[tuple[str, str]]


def lead_list_query(request: TenantHttpRequest, query: QueryDict) -> LeadListQuery:
    pools = lead_pool_names()
    owner_choices = _owner_choices(request)
    form = LeadListForm(query, owner_choices=owner_choices, pool_choices=list(pools.items()))
    form.is_valid()  # errors are shown; the valid fields still filter
    cleaned = form.cleaned_data
    lead_filter = LeadFilter(
        _filter_data(cleaned, user_id=request.user.id), queryset=lead_visible_to(membership=request.membership)
    )
    masking_pool_ids = _masking_pool_ids(request)
    leads = lead_search_unmasking_excluded(
        queryset=lead_filter.qs, q=cleaned.get("q") or "", viewer_id=request.user.id, masking_pool_ids=masking_pool_ids
    )
    return LeadListQuery(
        form=form, cleaned=cleaned, ordering=ordering_for(cleaned.get("ordering")), leads=leads,
        masking_pool_ids=masking_pool_ids, pools=pools, owner_choices=owner_choices,
    )


@require_GET
@tenant_member_required
def lead_list_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if default_view_url := saved_view_default_redirect(request):
        return redirect(default_view_url)
    query = _query_with_aliases(request.GET)
    listed = lead_list_query(request, query)
    form, cleaned, ordering, leads = listed.form, listed.cleaned, listed.ordering, listed.leads
    masking_pool_ids, pools, owner_choices = listed.masking_pool_ids, listed.pools, listed.owner_choices
    cursor = cleaned.get("cursor") or ""
    cursor_expired = False
    try:
        page = lead_keyset_page(queryset=leads, ordering=ordering, cursor=cursor)
    except InvalidLeadCursor:
        cursor, cursor_expired = "", True
        page = lead_keyset_page(queryset=leads, ordering=ordering)

    base_query = QueryDict(mutable=True)  # the filters for the pager links: no cursor, no blanks
    for name, values in query.lists():
        if name != "cursor" and (kept := [value for value in values if value]):
            base_query.setlist(name, kept)
    # A history-restore request wants the whole page even though it comes from htmx.
    is_fragment = request.htmx and not request.htmx.history_restore_request
    context = {
        "form": form,
        "page": page,
        "rows": _lead_rows(page, request=request, masking_pool_ids=masking_pool_ids),
        "count": _list_count(queryset=leads, page=page, cursor=cursor),
        # Other apps' bulk actions (assignment: assign, return, invalid); "" hides the checkboxes.
        "bulk_bar": lead_list_bulk_bar(
            request=request, lead_ids=[lead.id for lead in page.rows], back_query=query.urlencode()
        ),
        "pool_names": pools,
        "owner_choices": owner_choices,
        # Only the full page has the filter form (the fragment is the table).
        "source_suggestions": [] if is_fragment else lead_source_suggestions(),
        "ordering_options": ORDERING_OPTIONS,
        "group_grid": [[f"{grade}{level}" for level in (1, 2, 3)] for grade in Grade.values],
        "selected_groups": sorted(set(query.getlist("group")) & {value for value, _label in GROUP_CHOICES}),
        "current_ordering": cleaned.get("ordering") or DEFAULT_ORDERING,
        "base_query": base_query.urlencode(),
        "has_filters": any(cleaned.get(name) for name in form.fields if name not in {"ordering", "cursor"}),
        # the number on the phone's folded filters button (the search box stays in view)
        "active_filter_count": sum(1 for name in form.fields if name not in {"ordering", "cursor", "q"} and cleaned.get(name)),
        "cursor_expired": cursor_expired,
        "is_rep": request.membership.role == Role.REP,
        "nav_active": "leads",
        # saved views, the chosen columns and the export links (leads/saved_view_views.py)
        **saved_view_list_context(request, query=query, form_errors=form.errors, has_pools=bool(pools)),
    }
    template = "leads/lead_list.html" + ("#lead-table" if is_fragment else "")
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # one URL serves the page and the fragment
    return response


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    # created | submission | pool_change | owner_change | status_change | transfer_request | activity
    # | became_hot | became_mature
    kind: str
    title: str
    detail: str = ""


def _edit_detail(fields: dict[str, Any], *, masked: bool) -> str:
    """「手机：138… → 139…」 per changed field; contacts masked where the viewer sees them masked."""
    parts = []
    for name, values in fields.items():
        before, after = (str(values.get(key) if values.get(key) is not None else "") for key in ("from", "to"))
        if masked and name in CONTACT_FIELD_NAMES:
            before, after = (str(payload_masked({name: value})[name]) if value else "" for value in (before, after))
        parts.append(f"{PAYLOAD_FIELD_LABELS.get(name, name)}：{before or '—'} → {after or '—'}")
    return " · ".join(parts)


def _history_entry(change: Any, names: dict[int, str], pools: dict[int, str], *, masked: bool = False) -> TimelineEntry:
    """One audited pool, owner or status change, edit or transfer request, worded for people
    (never a raw code)."""
    reason = change.changes.get("reason") or ""
    if change.action == LEAD_EDIT_ACTION:
        return TimelineEntry(
            at=change.created_at, kind="edit",
            title=str(_("%(name)s 修改了资料") % {"name": names.get(change.actor_id, "API")}),
            detail=_edit_detail(change.changes.get("fields") or {}, masked=masked),
        )
    if change.action in (BECAME_HOT_ACTION, BECAME_MATURE_ACTION):
        is_hot = change.action == BECAME_HOT_ACTION
        total, group = change.changes.get("total"), change.changes.get("group") or ""
        score_words = _("总分 %(total)s · 分组 %(group)s") % {"total": f"{float(total or 0):.0f}", "group": group}
        return TimelineEntry(
            at=change.created_at, kind="became_hot" if is_hot else "became_mature",
            title=str(_("评分升为热线索") if is_hot else _("评分达到及格线，可以交给销售跟进")), detail=str(score_words),
        )
    if change.action == TRANSFER_REQUEST_ACTION:
        message = change.changes.get("message") or ""
        return TimelineEntry(
            at=change.created_at, kind="transfer_request",
            title=str(_("%(name)s 请求接手这条线索") % {"name": names.get(change.actor_id, "—")}),
            detail=str(_("留言：%(message)s") % {"message": message}) if message else "",
        )
    if change.action == POOL_CHANGE_ACTION:
        pool = pools.get(change.changes.get("to") or 0, "—")
        return TimelineEntry(at=change.created_at, kind="pool_change", title=str(_("进入线索池「%(pool)s」") % {"pool": pool}))
    if change.action == OWNER_CHANGE_ACTION:
        new_owner = change.changes.get("to")
        title = (
            _("分配给 %(name)s") % {"name": names.get(new_owner, "—")} if new_owner else _("退回线索池，暂无负责人")
        )
        detail = OwnerChangeReason(reason).label if reason in OwnerChangeReason.values else reason
        note = change.changes.get("note") or ""
        detail = " · ".join(filter(None, [str(detail), str(_("说明：%(note)s") % {"note": note}) if note else ""]))
        return TimelineEntry(at=change.created_at, kind="owner_change", title=str(title), detail=detail)
    new_status = change.changes.get("to", "")
    label = LeadStatus(new_status).label if new_status in LeadStatus.values else new_status
    return TimelineEntry(
        at=change.created_at, kind="status_change", title=str(_("状态变为「%(status)s」") % {"status": label}),
        detail=str(SYSTEM_STATUS_REASONS.get(reason, reason)),
    )


def _rule_label(*, rule_id: int | None, stored: str, rule_names: dict[int, str]) -> str:
    """The rule as it is called now, else as it was called when it matched (it was deleted)."""
    if rule_id is not None and rule_id in rule_names:
        return rule_names[rule_id]
    return str(SUBMISSION_RULE_LABELS.get(stored, stored))


def _lead_timeline(
    lead: Lead, *, submissions: list[Any], history: list[Any], names: dict[int, str], pools: dict[int, str],
    rule_names: dict[int, str], masked: bool = False,
) -> list[TimelineEntry]:
    """What actually happened to the lead, newest first."""
    entries = [
        TimelineEntry(
            at=lead.created_at, kind="created", title=str(_("线索创建")),
            detail=" · ".join(
                filter(None, [
                    str(_("来源：%(source)s") % {"source": lead.source}) if lead.source else "",
                    names.get(lead.created_by_id or 0, ""),
                ])
            ),
        )
    ]
    entries += [_history_entry(change, names, pools, masked=masked) for change in history]
    for submission in submissions:
        entries.append(
            TimelineEntry(
                at=submission.created_at, kind="submission", title=str(_("再次提交，已归集到本线索")),
                detail=" · ".join(
                    str(part) for part in (
                        CHANNEL_LABELS.get(submission.channel, submission.channel),
                        _rule_label(rule_id=submission.dedup_rule_id, stored=submission.rule, rule_names=rule_names),
                    )
                ),
            )
        )
    if lead.last_activity_at:
        entries.append(TimelineEntry(at=lead.last_activity_at, kind="activity", title=str(_("最近一次互动"))))
    # Follow-ups, violations, events and score changes come from the apps that own them.
    entries += [TimelineEntry(at=at, kind=kind, title=title, detail=detail) for at, kind, title, detail in lead_timeline_extra(lead=lead)]
    # Newest first; what happened at the lead's creation time itself comes after its creation.
    return sorted(entries, key=lambda entry: (entry.at, entry.kind != "created"), reverse=True)


def _phone_display(number: str) -> str:
    """+8613812345678 → 138 1234 5678: how a Chinese rep reads and dials a mobile number."""
    if number.startswith("+86") and len(number) == 14:
        local = number[3:]
        return f"{local[:3]} {local[3:7]} {local[7:]}"
    return number


@dataclass(frozen=True)
class DuplicateRow:
    lead: Lead
    rule: str  # the rule that linked it, "" when unknown (deleted, or linked before rules were rows)


@dataclass(frozen=True)
class SubmissionRow:
    created_at: dt.datetime
    channel: str
    rule: str
    fields: list[tuple[str, str]]


def _submission_rows(submissions: list[Any], *, rule_names: dict[int, str], masked: bool) -> list[SubmissionRow]:
    return [
        SubmissionRow(
            created_at=submission.created_at,
            channel=str(CHANNEL_LABELS.get(submission.channel, submission.channel)),
            rule=_rule_label(rule_id=submission.dedup_rule_id, stored=submission.rule, rule_names=rule_names),
            fields=[
                (str(PAYLOAD_FIELD_LABELS.get(key, key)), str(value))
                for key, value in (payload_masked(submission.payload or {}) if masked else submission.payload or {}).items()
                if value not in (None, "")
            ],
        )
        for submission in submissions
    ]


@require_GET
@tenant_member_required
def lead_detail_page(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:  # another tenant's, another rep's, or no such lead: all look the same
        raise Http404("No such lead.")
    submissions = lead_submission_list(lead_id=lead.id)
    history = lead_history_list(lead_id=lead.id)
    pools = lead_pool_names()
    duplicates = lead_duplicate_list(lead_id=lead.id, membership=request.membership)
    duplicate_of = (
        lead_get(lead_id=lead.duplicate_of_id, membership=request.membership) if lead.duplicate_of_id else None
    )
    user_ids = {lead.owner_id, lead.created_by_id, *(d.owner_id for d in duplicates)}
    user_ids |= {c.changes.get("to") for c in history if isinstance(c.changes.get("to"), int)}
    user_ids |= {c.actor_id for c in history if c.action in (TRANSFER_REQUEST_ACTION, LEAD_EDIT_ACTION)}
    labels = owner_labels(user_ids={uid for uid in user_ids if uid})
    names = {user_id: label.name for user_id, label in labels.items()}
    rule_ids = {lead.duplicate_rule_id, *(d.duplicate_rule_id for d in duplicates), *(s.dedup_rule_id for s in submissions)}
    rule_names = lead_dedup_rule_names(rule_ids={rule_id for rule_id in rule_ids if rule_id})
    masked = _masked(lead, request, _masking_pool_ids(request))
    contacts = contacts_for(mobile=lead.mobile, phone=lead.phone, email=lead.email, wechat=lead.wechat, masked=masked)
    context = {
        "lead": lead,
        "submissions": _submission_rows(submissions, rule_names=rule_names, masked=masked),
        "contacts": contacts,
        "contacts_masked": masked,
        "mobile_display": contacts["mobile"] if masked else _phone_display(lead.mobile),
        "duplicates": [
            DuplicateRow(lead=duplicate, rule=rule_names.get(duplicate.duplicate_rule_id or 0, ""))
            for duplicate in duplicates
        ],
        "duplicate_of": duplicate_of,
        "duplicate_rule": rule_names.get(lead.duplicate_rule_id or 0, ""),
        "duplicate_customer": customer_name(customer_id=lead.duplicate_customer_id) if lead.duplicate_customer_id else "",
        "owner": labels.get(lead.owner_id or 0),
        "pool_name": pools.get(lead.pool_id or 0, ""),
        "timeline": _lead_timeline(
            lead, submissions=submissions, history=history, names=names, pools=pools, rule_names=rule_names,
            masked=masked,
        ),
        "nav_active": "leads",
        "now": timezone.now(),
    }
    return render(request, "leads/lead_detail.html", context)


@require_GET
@tenant_member_required
def tenant_home_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    return redirect("leads:list", tenant_slug=tenant_slug)
