"""SLA pages: the lead page's follow-up form (loaded by htmx into the lead page, or a page of
its own without JavaScript), the SLA policies admin page and the follow-up statistics with
their CSV export."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from assignment.followups import follow_up_create
from assignment.models import BreachAction, FollowUpKind, Pool, SlaPolicy, TimeUnit
from assignment.sla_engine import INCENTIVE_MIN_DEADLINES, INCENTIVE_WINDOW_DAYS
from assignment.sla_policies import sla_policy_create, sla_policy_delete, sla_policy_list, sla_policy_update
from assignment.stats import LEAD_ORDERS, REP_ORDERS, lead_stats, rep_stats
from leadcrm.spreadsheet import cell_safe
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import Membership, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import LeadStatus
from leads.selectors import lead_get, owner_labels

# --- the follow-up form ------------------------------------------------------------------------


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(choices=FollowUpKind.choices, initial=FollowUpKind.CALL, widget=forms.RadioSelect,
                             error_messages={"required": gettext_lazy("请选择跟进方式。")})
    content = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(required=False, max_length=200)
    next_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("日期格式应为 年-月-日 时:分。")},
    )

    def clean_next_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("next_at")
        if value is not None and value < timezone.now() - dt.timedelta(minutes=1):
            raise forms.ValidationError(_("下次跟进时间不能早于现在。"))
        return value


def _is_htmx(request: TenantHttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


@require_http_methods(["GET", "POST"])
@tenant_member_required
def lead_follow_up_page(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:
        raise Http404("No such lead.")
    if request.membership.role == Role.READ_ONLY:
        raise PermissionDenied
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            follow_up_create(
                tenant=request.tenant, lead_id=lead.id, by_id=request.user.id, kind=data["kind"],
                content=data["content"], outcome=data["outcome"], next_at=data["next_at"], actor=request.user,
            )
        except ValidationError as error:
            for field, texts in error.message_dict.items():
                form.add_error(field if field in form.fields else None, texts)
        else:
            messages.success(request, _("跟进已记录。"))
            url = reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": lead.id})
            if _is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = {
        "lead": lead, "form": form, "nav_active": "leads",
        "base_template": "scoring/_fragment.html" if _is_htmx(request) else "base.html",
    }
    response = render(request, "assignment/follow_up_form.html", context, status=400 if form.errors else 200)
    response["Vary"] = "HX-Request"
    return response


# --- SLA policies (admins) ---------------------------------------------------------------------


class SlaPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    pool = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    within_value = forms.DecimalField(min_value=Decimal("0.01"), max_digits=8, decimal_places=2)
    within_unit = forms.ChoiceField(choices=TimeUnit.choices)
    warn_before_value = forms.DecimalField(required=False, min_value=Decimal("0.01"), max_digits=8, decimal_places=2)
    warn_before_unit = forms.ChoiceField(choices=TimeUnit.choices, required=False)
    on_breach = forms.ChoiceField(choices=BreachAction.choices, widget=forms.RadioSelect, initial=BreachAction.RECYCLE)
    penalty_days = forms.IntegerField(min_value=0, max_value=365, initial=3)

    def __init__(self, *args: Any, pools: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [("", _("全部线索池（通用）")), *[(str(i), n) for i, n in pools]]  # type: ignore[attr-defined]

    def api_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        warn = data.get("warn_before_value")
        return {
            "name": data["name"], "pool": data.get("pool"),
            "within": {"value": data["within_value"], "unit": data["within_unit"]},
            "warn_before": {"value": warn, "unit": data.get("warn_before_unit") or "minutes"} if warn else None,
            "on_breach": data["on_breach"], "penalty_days": data["penalty_days"],
        }


def _admin_only(request: TenantHttpRequest) -> None:
    if not request.membership.is_admin:
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@tenant_member_required
def sla_policies_page(request: TenantHttpRequest, tenant_slug: str, policy_id: int | None = None) -> HttpResponse:
    _admin_only(request)
    pools = dict(Pool.objects.order_by("position", "name").values_list("id", "name"))
    editing = None
    if policy_id is not None:
        editing = SlaPolicy.objects.filter(id=policy_id).first()
        if editing is None:
            raise Http404("No such policy.")
    initial = {}
    if editing is not None:
        initial = {
            "name": editing.name, "pool": editing.pool_id, "within_value": editing.within_value,
            "within_unit": editing.within_unit, "warn_before_value": editing.warn_before_value,
            "warn_before_unit": editing.warn_before_unit, "on_breach": editing.on_breach,
            "penalty_days": editing.penalty_days,
        }
    form = SlaPolicyForm(request.POST or None, initial=initial, pools=list(pools.items()))
    here = reverse("assignment:sla-policies", kwargs={"tenant_slug": tenant_slug})
    if request.method == "POST" and request.POST.get("delete") and editing is not None:
        sla_policy_delete(tenant=request.tenant, policy=editing, actor=request.user)
        messages.success(request, _("已删除跟进时限规则。"))
        return redirect(here)
    if request.method == "POST" and form.is_valid():
        try:
            if editing is None:
                sla_policy_create(tenant=request.tenant, data=form.api_data(), actor=request.user)
            else:
                sla_policy_update(tenant=request.tenant, policy=editing, data=form.api_data(), actor=request.user)
        except ValidationError as error:
            mapping = {"within": "within_value", "warn_before": "warn_before_value"}
            for field, texts in error.message_dict.items():
                target = mapping.get(field, field)
                form.add_error(target if target in form.fields else None, texts)
        else:
            messages.success(request, _("已保存跟进时限规则。"))
            return redirect(here)
    policies = [
        {"policy": p, "pool": pools.get(p.pool_id or 0, "") if p.pool_id else _("全部线索池（通用）"),
         "within_unit": TimeUnit(p.within_unit).label, "warn_unit": TimeUnit(p.warn_before_unit).label if p.warn_before_unit else "",
         "on_breach": BreachAction(p.on_breach).label}
        for p in sla_policy_list()
    ]
    context = {"form": form, "policies": policies, "editing": editing, "nav_active": "sla-policies"}
    return render(request, "assignment/sla_policies.html", context, status=400 if form.errors else 200)


# --- follow-up statistics (managers and admins) ------------------------------------------------


class StatsFilterForm(forms.Form):
    start = forms.DateField(required=False, error_messages={"invalid": gettext_lazy("开始日期格式应为 年-月-日。")})
    end = forms.DateField(required=False, error_messages={"invalid": gettext_lazy("结束日期格式应为 年-月-日。")})
    team = forms.CharField(required=False, max_length=100)
    rep = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    rep_order = forms.ChoiceField(required=False, choices=[(o, o) for o in REP_ORDERS])
    lead_order = forms.ChoiceField(required=False, choices=[(o, o) for o in LEAD_ORDERS])

    def __init__(self, *args: Any, reps: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rep"].choices = [("", _("全部销售")), *[(str(i), n) for i, n in reps]]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", _("结束日期早于开始日期，请调整日期范围。"))
        return cleaned


REP_ORDER_LABELS = {
    "-timeliness": gettext_lazy("及时率从高到低"), "timeliness": gettext_lazy("及时率从低到高"),
    "-violations": gettext_lazy("违规最多"), "-received": gettext_lazy("分配最多"),
    "avg_first_response": gettext_lazy("首次响应最快"),
}
LEAD_ORDER_LABELS = {
    "-created_at": gettext_lazy("最新创建"), "-follow_ups": gettext_lazy("跟进最多"),
    "-first_response": gettext_lazy("首次响应最慢"), "-violations": gettext_lazy("违规最多"),
}


def duration_words(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)d 分钟") % {"n": minutes}
    if minutes < 60 * 48:
        return _("%(h)d 小时 %(m)d 分") % {"h": minutes // 60, "m": minutes % 60}
    return _("%(d)d 天") % {"d": minutes // (60 * 24)}


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_http_methods(["GET"])
@tenant_member_required
def follow_up_stats_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if request.membership.role not in (Role.OWNER, Role.ADMIN, Role.MANAGER):
        raise PermissionDenied
    members = list(Membership.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER]).order_by("display_name"))
    form = StatsFilterForm(request.GET or None, reps=[(m.user_id, str(m)) for m in members])
    form.is_valid()
    cleaned = form.cleaned_data if form.is_bound else {}
    today = timezone.localdate()
    start_day = cleaned.get("start") or today - dt.timedelta(days=29)
    end_day = cleaned.get("end") or today
    if start_day > end_day:
        start_day, end_day = end_day, start_day
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    team, rep_id = cleaned.get("team") or "", cleaned.get("rep")
    reps = rep_stats(tenant_id=request.tenant.id, start=start, end=end, team=team, rep_id=rep_id,
                     order=cleaned.get("rep_order") or "-timeliness")
    owner_ids = [r.user_id for r in reps] if (team or rep_id) else None
    lead_order = cleaned.get("lead_order") or "-created_at"
    export = request.GET.get("export", "")
    if export in ("reps", "leads"):
        streamed = _stats_csv(export=export, reps=reps, tenant_id=request.tenant.id, start=start, end=end,
                              owner_ids=owner_ids, lead_order=lead_order)
        return streamed  # type: ignore[return-value]  # a streamed answer; the decorator's type knows only HttpResponse
    leads = list(lead_stats(tenant_id=request.tenant.id, start=start, end=end, owner_ids=owner_ids, order=lead_order))
    names = {uid: label.name for uid, label in owner_labels(user_ids={lead.owner_id for lead in leads if lead.owner_id}).items()}
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        "form": form, "reps": reps, "leads": leads, "names": names, "start": start_day, "end": end_day,
        "teams": sorted({m.team for m in members if m.team}), "members": members,
        "rep_orders": list(REP_ORDER_LABELS.items()), "lead_orders": list(LEAD_ORDER_LABELS.items()),
        "rep_order": cleaned.get("rep_order") or "-timeliness", "lead_order": lead_order,
        "status_labels": dict(LeadStatus.choices), "query": query.urlencode(),
        "incentive_window": INCENTIVE_WINDOW_DAYS, "incentive_min": INCENTIVE_MIN_DEADLINES,
        "duration_words": duration_words, "nav_active": "follow-up-stats",
    }
    context["rep_rows"] = [(rep, duration_words(rep.avg_first_response)) for rep in reps]
    context["lead_rows"] = [(lead, duration_words(lead.first_response)) for lead in leads]
    return render(request, "assignment/follow_up_stats.html", context)


def _stats_csv(*, export: str, reps: list[Any], tenant_id: int, start: dt.datetime, end: dt.datetime,
               owner_ids: list[int] | None, lead_order: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def rows() -> Iterator[str]:
        # Streamed after the view returned: the tenant's scope, language and zone are set again.
        with tenant_scope(tenant_id), translation.override(language), timezone.override(zone):
            yield from _csv_rows()

    def _csv_rows() -> Iterator[str]:
        yield "\ufeff"  # Excel opens UTF-8 Chinese correctly with the byte-order mark
        if export == "reps":
            yield writer.writerow([_("销售"), _("团队"), _("分配线索"), _("跟进次数"), _("按时跟进"), _("违规"),
                                   _("平均首次响应（分钟）"), _("及时率 %"), _("激励加量")])
            for rep in reps:
                avg = round(rep.avg_first_response.total_seconds() / 60, 1) if rep.avg_first_response else ""
                yield writer.writerow([cell_safe(v) for v in (
                    rep.name, rep.team, rep.received, rep.follow_ups, rep.in_time, rep.violations, avg,
                    "" if rep.timeliness is None else rep.timeliness, rep.cap_bonus)])
            return
        yield writer.writerow([_("线索编号"), _("姓名"), _("公司"), _("状态"), _("负责人"), _("创建时间"), _("来源"),
                               _("跟进次数"), _("首次响应（分钟）"), _("最近跟进"), _("违规"), _("回收")])
        names: dict[int, str] = {}
        for lead in lead_stats(tenant_id=tenant_id, start=start, end=end, owner_ids=owner_ids, order=lead_order, limit=None):
            if lead.owner_id and lead.owner_id not in names:
                names.update({uid: label.name for uid, label in owner_labels(user_ids={lead.owner_id}).items()})
            first = round(lead.first_response.total_seconds() / 60, 1) if lead.first_response else ""
            yield writer.writerow([cell_safe(v) for v in (
                lead.id, lead.name, lead.company, LeadStatus(lead.status).label if lead.status in LeadStatus.values else lead.status,
                names.get(lead.owner_id or 0, ""), timezone.localtime(lead.created_at).strftime("%Y-%m-%d %H:%M"),
                lead.source, lead.follow_ups, first,
                timezone.localtime(lead.last_follow_up_at).strftime("%Y-%m-%d %H:%M") if lead.last_follow_up_at else "",
                lead.violations, lead.recycles)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="follow-up-{export}.csv"'
    return response
