"""The admin pages 成员 / People (/<tenant>/settings/people…) and API 密钥 / API keys
(/<tenant>/settings/api-keys…).

Owners and admins only: other members get a page naming who may (403). Every action is a
plain POST form with CSRF, so the pages work without JavaScript (the working-hours editor is a
row of fields per weekday); a form with errors is shown again with each message next to its
field; a change redirects back (POST → redirect → GET). Removing a member and revoking a key
go through a confirm page that says what will happen."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from assignment.models import RepDay, RoutingProfile
from assignment.people import member_open_leads_by_pool, member_remove
from assignment.profiles import receives_nothing, routing_profile_get, routing_profile_set, routing_profiles_by_user
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.members import (
    ASSIGNABLE_ROLES,
    MEMBER_ORDERINGS,
    MemberExists,
    member_get,
    member_invite,
    member_search,
    member_teams,
    member_update,
    membership_reactivate,
)
from leadcrm.tenancy.models import ADMIN_ROLES, ApiKey, ApiScope, Membership, Role
from leadcrm.tenancy.selectors import api_key_list
from leadcrm.tenancy.services import api_key_create, api_key_revoke

PAGE_SIZE = 50
WEEKDAYS = [
    gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
    gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日"),
]
SORTS = [
    ("name", gettext_lazy("按姓名")), ("-created_at", gettext_lazy("最近加入")), ("role", gettext_lazy("按角色")),
    ("team", gettext_lazy("按团队")), ("email", gettext_lazy("按邮箱")),
]
SCOPE_HELP = {
    ApiScope.LEADS_WRITE: gettext_lazy("提交线索（网站表单、投放平台）"),
    ApiScope.EVENTS_WRITE: gettext_lazy("上报行为事件"),
    ApiScope.READ: gettext_lazy("读取线索、评分和配置"),
    ApiScope.ADMIN: gettext_lazy("修改配置：成员、清洗规则等"),
}
SECRET_SESSION_KEY = "people.new_api_key"

View = Callable[..., HttpResponse]


def _role_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Role.choices if value in ASSIGNABLE_ROLES]


# --- forms ----------------------------------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.EmailField(
        max_length=254, error_messages={"required": gettext_lazy("请填写邮箱"), "invalid": gettext_lazy("邮箱格式不对")}
    )
    name = forms.CharField(max_length=100, required=False)
    role = forms.ChoiceField(choices=_role_choices, initial=Role.REP)
    team = forms.CharField(max_length=100, required=False)


class MemberForm(forms.Form):
    role = forms.ChoiceField(choices=_role_choices)
    team = forms.CharField(max_length=100, required=False)


class FilterForm(forms.Form):
    role = forms.ChoiceField(required=False, choices=[("", gettext_lazy("全部角色")), *Role.choices])
    team = forms.CharField(required=False, max_length=100)
    active = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("在职")), ("removed", gettext_lazy("已停用")), ("all", gettext_lazy("全部"))]
    )
    q = forms.CharField(required=False, max_length=100, strip=True)
    sort = forms.ChoiceField(required=False, choices=SORTS)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, error_messages={"required": gettext_lazy("请给密钥起个名字，说明它用在哪里")})
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("至少选择一项权限")},
    )
    rate_limit_per_minute = forms.IntegerField(
        required=False, min_value=1, max_value=100_000,
        error_messages={"min_value": gettext_lazy("至少每分钟 1 次；留空使用默认限额"), "invalid": gettext_lazy("请填写整数")},
    )


# --- the edge -------------------------------------------------------------------------------------


def people_admin_required(view: View) -> View:
    """Owners and admins only; other members get a page naming who may (403)."""

    @wraps(view)
    def wrapper(request: TenantHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_admin:
            admins = Membership.objects.select_related("user", "tenant").filter(role__in=ADMIN_ROLES, is_active=True)
            context = {"admins": [str(m) for m in admins], "nav_active": "people"}
            return render(request, "people/forbidden.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _service_errors(form: forms.Form, error: ValidationError) -> None:
    for name, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


def _query_without_page(query: Any) -> str:
    kept = query.copy()
    kept.pop("page", None)
    return str(kept.urlencode())


def _member_or_404(user_id: int) -> Membership:
    try:
        return member_get(user_id=user_id)
    except Membership.DoesNotExist:
        raise Http404("No such member.") from None


def _people_url(request: TenantHttpRequest) -> str:
    return reverse("people:list", kwargs={"tenant_slug": request.tenant.slug})


def _member_url(request: TenantHttpRequest, user_id: int) -> str:
    return reverse("people:member", kwargs={"tenant_slug": request.tenant.slug, "user_id": user_id})


def is_working_now(profile: RoutingProfile, *, now: datetime) -> bool:
    """Whether the profile's working hours include `now` (empty hours: always)."""
    if not profile.working_hours:
        return True
    local = now.astimezone(zoneinfo.ZoneInfo(profile.timezone))
    hhmm = local.strftime("%H:%M")
    return any(
        period["weekday"] == local.weekday() and period["start"] <= hhmm < period["end"]
        for period in profile.working_hours
    )


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    profile: RoutingProfile
    duty: str  # "on" (receiving now), "off_hours", "off" (off duty or receives nothing)
    received_today: int


def _rows(memberships: list[Membership]) -> list[MemberRow]:
    user_ids = [m.user_id for m in memberships]
    profiles = routing_profiles_by_user(user_ids=user_ids)
    received = dict(
        RepDay.objects.filter(user_id__in=user_ids, day=timezone.localdate()).values_list("user_id", "received")
    )
    now = timezone.now()
    rows = []
    for membership in memberships:
        profile = profiles.get(membership.user_id) or RoutingProfile(user_id=membership.user_id)
        duty = "off" if receives_nothing(profile) or not membership.is_active else (
            "on" if is_working_now(profile, now=now) else "off_hours"
        )
        rows.append(MemberRow(membership=membership, profile=profile, duty=duty, received_today=received.get(membership.user_id, 0)))
    return rows


def _render(request: TenantHttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, {"nav_active": "people", **context}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- people ---------------------------------------------------------------------------------------


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def people_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The members with their routing at a glance, the filters, and the invite form."""
    invite_form = InviteForm()
    if request.method == "POST":
        invite_form = InviteForm(request.POST)
        if invite_form.is_valid():
            data = invite_form.cleaned_data
            try:
                invited = member_invite(
                    tenant=request.tenant, email=data["email"], name=data["name"], role=data["role"],
                    team=data["team"], invited_by=request.user,
                    site_url=request.build_absolute_uri("/").rstrip("/"),
                )
            except ValidationError as error:
                _service_errors(invite_form, error)
            except MemberExists:
                invite_form.add_error("email", _("这个邮箱已经是本团队的成员"))
            else:
                if invited.invitation_sent:
                    messages.success(request, _("已邀请 {email}：设置密码的链接已发到这个邮箱").format(email=data["email"]))
                else:
                    messages.success(request, _("已添加 {email}：用现有账号登录即可").format(email=data["email"]))
                return HttpResponseRedirect(_people_url(request))
    filters = FilterForm(request.GET)
    filters.is_valid()
    cleaned = filters.cleaned_data
    active = {"": True, "removed": False, "all": None}[cleaned.get("active") or ""]
    sort = cleaned.get("sort") or "name"
    queryset = member_search(
        role=cleaned.get("role") or "", team=cleaned.get("team") or "", active=active, q=cleaned.get("q") or "",
        ordering=sort if sort in MEMBER_ORDERINGS else "name",
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters, "page": page, "rows": _rows(list(page.object_list)), "teams": member_teams(),
        "invite_form": invite_form, "sorts": SORTS, "role_choices": Role.choices,
        "has_filters": any(cleaned.get(name) for name in ("role", "team", "active", "q")),
        "list_url": _people_url(request), "base_query": _query_without_page(request.GET),
    }
    wants_table = bool(request.htmx) and request.htmx.target == "people-table" and not request.htmx.history_restore_request
    return _render(request, "people/people_list.html" + ("#people-table" if wants_table else ""), context,
                   status=400 if invite_form.errors else 200)


@dataclass(frozen=True)
class HoursRow:
    index: int
    weekday: int
    weekday_label: str
    enabled: bool
    start: str
    end: str
    errors: list[str]


def _hours_rows(profile: RoutingProfile) -> list[HoursRow]:
    """A row per stored period, and one (unticked, 09:00–18:00) for each weekday without one."""
    rows: list[HoursRow] = []
    for weekday in range(7):
        periods = [p for p in profile.working_hours if p["weekday"] == weekday] or [None]
        for period in periods:
            rows.append(HoursRow(
                index=len(rows), weekday=weekday, weekday_label=str(WEEKDAYS[weekday]), enabled=period is not None,
                start=period["start"] if period else "09:00", end=period["end"] if period else "18:00", errors=[],
            ))
    return rows


@dataclass
class RoutingFormState:
    on_duty: bool
    timezone: str
    daily_receive_cap: str
    max_open: str
    weight: str
    hours: list[HoursRow]
    errors: dict[str, list[str]]


def _routing_state(profile: RoutingProfile) -> RoutingFormState:
    return RoutingFormState(
        on_duty=profile.on_duty, timezone=profile.timezone,
        daily_receive_cap="" if profile.daily_receive_cap is None else str(profile.daily_receive_cap),
        max_open="" if profile.max_open is None else str(profile.max_open),
        weight=f"{profile.weight.normalize():f}", hours=_hours_rows(profile), errors={},
    )


def _member_context(request: TenantHttpRequest, membership: Membership, **extra: Any) -> dict[str, Any]:
    profile = routing_profile_get(user_id=membership.user_id)
    return {
        "member": membership,
        "row": _rows([membership])[0],
        "member_form": MemberForm(initial={"role": membership.role, "team": membership.team}),
        "routing": _routing_state(profile),
        "profile": profile,
        "teams": member_teams(),
        "timezones": sorted(zoneinfo.available_timezones()),
        "is_owner": membership.role == Role.OWNER,
        "is_self": membership.user_id == request.user.id,
        **extra,
    }


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def member_page(request: TenantHttpRequest, tenant_slug: str, user_id: int) -> HttpResponse:
    """One member: role and team, the routing profile, and the way to remove them."""
    membership = _member_or_404(user_id)
    if request.method == "POST":
        form = MemberForm(request.POST)
        if form.is_valid():
            try:
                member_update(tenant=request.tenant, user_id=user_id, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _service_errors(form, error)
            else:
                messages.success(request, _("已保存 {name} 的角色和团队").format(name=membership.name))
                return HttpResponseRedirect(_member_url(request, user_id))
        return _render(request, "people/member.html", _member_context(request, membership, member_form=form), status=400)
    return _render(request, "people/member.html", _member_context(request, membership))


def _routing_payload(post: Any) -> tuple[dict[str, Any], list[int]]:
    """The form as the API's payload, and for each submitted period the row it came from."""
    hours, origins = [], []
    count = min(int(post.get("hours-count", "0") or 0) if str(post.get("hours-count", "0")).isdigit() else 0, 50)
    for index in range(count):
        if post.get(f"hours-{index}-on"):
            weekday = post.get(f"hours-{index}-weekday", "")
            hours.append({
                "weekday": int(weekday) if weekday.isdigit() else weekday,
                "start": post.get(f"hours-{index}-start", ""), "end": post.get(f"hours-{index}-end", ""),
            })
            origins.append(index)
    payload = {
        "on_duty": bool(post.get("on_duty")), "timezone": post.get("timezone", ""), "working_hours": hours,
        "daily_receive_cap": post.get("daily_receive_cap", "").strip() or None,
        "max_open": post.get("max_open", "").strip() or None, "weight": post.get("weight", "").strip() or "1",
    }
    return payload, origins


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def member_routing(request: TenantHttpRequest, tenant_slug: str, user_id: int) -> HttpResponse:
    membership = _member_or_404(user_id)
    if request.method == "GET":  # the form lives on the member's page
        return HttpResponseRedirect(_member_url(request, user_id) + "#routing")
    payload, origins = _routing_payload(request.POST)
    try:
        routing_profile_set(tenant=request.tenant, user_id=user_id, data=payload, actor=request.user)
    except ValidationError as error:
        messages_by_field = error.message_dict
        post = request.POST
        count = len(origins) and max(origins) + 1
        count = max(count, int(post.get("hours-count", "0")) if str(post.get("hours-count", "0")).isdigit() else 0)
        rows = []
        for index in range(min(count, 50)):
            weekday = post.get(f"hours-{index}-weekday", "0")
            weekday_number = int(weekday) if weekday.isdigit() and int(weekday) < 7 else 0
            row_errors: list[str] = []
            if index in origins:
                position = origins.index(index)
                for key, field_messages in messages_by_field.items():
                    if key.startswith(f"working_hours[{position}]"):
                        row_errors.extend(field_messages)
            rows.append(HoursRow(
                index=index, weekday=weekday_number, weekday_label=str(WEEKDAYS[weekday_number]),
                enabled=bool(post.get(f"hours-{index}-on")), start=post.get(f"hours-{index}-start", ""),
                end=post.get(f"hours-{index}-end", ""), errors=row_errors,
            ))
        state = RoutingFormState(
            on_duty=bool(post.get("on_duty")), timezone=post.get("timezone", ""),
            daily_receive_cap=post.get("daily_receive_cap", ""), max_open=post.get("max_open", ""),
            weight=post.get("weight", ""), hours=rows, errors=messages_by_field,
        )
        return _render(request, "people/member.html", _member_context(request, membership, routing=state), status=400)
    messages.success(request, _("已保存 {name} 的接收设置").format(name=membership.name))
    return HttpResponseRedirect(_member_url(request, user_id) + "#routing")


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def member_remove_page(request: TenantHttpRequest, tenant_slug: str, user_id: int) -> HttpResponse:
    """GET: what removing the member will do (their open leads, per pool); POST: do it."""
    membership = _member_or_404(user_id)
    if request.method == "POST":
        try:
            removal = member_remove(tenant=request.tenant, user_id=user_id, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(_member_url(request, user_id))
        messages.success(request, _("已停用 {name}，{count} 条线索已退回线索池").format(
            name=membership.name, count=removal.returned_count,
        ))
        return HttpResponseRedirect(_people_url(request))
    pools = member_open_leads_by_pool(user_id=user_id)
    context = {
        "member": membership, "pools": pools, "lead_total": sum(p.lead_count for p in pools),
        "is_owner": membership.role == Role.OWNER, "is_self": membership.user_id == request.user.id,
    }
    return _render(request, "people/member_remove.html", context)


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def member_restore(request: TenantHttpRequest, tenant_slug: str, user_id: int) -> HttpResponse:
    membership = _member_or_404(user_id)
    if request.method == "GET":  # the button lives on the member's page
        return HttpResponseRedirect(_member_url(request, user_id))
    membership_reactivate(tenant=request.tenant, user_id=user_id, actor=request.user)
    messages.success(request, _("已恢复 {name}；接收新线索前请检查接收设置").format(name=membership.name))
    return HttpResponseRedirect(_member_url(request, user_id))


# --- API keys -------------------------------------------------------------------------------------


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def api_keys_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The keys, the create form, and a new key's secret: shown once, right after creation."""
    form = ApiKeyForm(initial={"scopes": [ApiScope.LEADS_WRITE]})
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = api_key_create(
                    tenant=request.tenant, name=data["name"], scopes=data["scopes"], created_by=request.user,
                    rate_limit_per_minute=data["rate_limit_per_minute"],
                )
            except ValidationError as error:
                _service_errors(form, error)
            else:
                # The secret is stored nowhere but this session entry, read once by the next GET.
                request.session[SECRET_SESSION_KEY] = {"id": created.api_key.id, "secret": created.raw_key}
                return HttpResponseRedirect(reverse("people:api-keys", kwargs={"tenant_slug": tenant_slug}))
    new_key = request.session.pop(SECRET_SESSION_KEY, None) if request.method == "GET" else None
    keys = list(api_key_list())
    context = {
        "nav_active": "api-keys", "form": form, "keys": keys, "new_key": new_key,
        "scope_options": [(value, label, SCOPE_HELP[ApiScope(value)]) for value, label in ApiScope.choices],
        "chosen_scopes": form["scopes"].value() or [],
    }
    response = _render(request, "people/api_keys.html", context, status=400 if form.errors else 200)
    if new_key:
        response["Cache-Control"] = "no-store"  # the secret must not come back from a cache
    return response


@tenant_member_required
@require_http_methods(["GET", "POST"])
@people_admin_required
def api_key_revoke_page(request: TenantHttpRequest, tenant_slug: str, key_id: int) -> HttpResponse:
    api_key = ApiKey.objects.select_related("created_by").filter(id=key_id).first()
    if api_key is None:
        raise Http404("No such key.")
    if request.method == "POST":
        api_key_revoke(tenant=request.tenant, api_key_id=key_id, revoked_by=request.user)
        messages.success(request, _("已吊销密钥“{name}”：用它的请求从现在起都会被拒绝").format(name=api_key.name))
        return HttpResponseRedirect(reverse("people:api-keys", kwargs={"tenant_slug": tenant_slug}))
    return _render(request, "people/api_key_revoke.html", {"nav_active": "api-keys", "key": api_key})
