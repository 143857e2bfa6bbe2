"""The admins' scoring pages (/<tenant>/settings/scoring…): the rule set versions, the draft
editor (thresholds, caps, attribute rules, event types, the ideal customer profile), the
preview, publishing, and the rescore's progress.

Owners and admins only (others get 403). Every action is a plain POST form, so the pages work
without JavaScript; a rejected form is shown again with the messages next to its fields and
nothing changed. The progress bar polls with htmx every second; without JS the page refreshes
itself (meta refresh) while the job runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.fields import FIELDS_BY_NAME
from scoring.models import (
    AttributeRule,
    CapPeriod,
    Dimension,
    EventType,
    Operator,
    RuleSetStatus,
    ScoringRuleSet,
    Strength,
)
from scoring.rescore import RescoreBusy, rescore_job_retry
from scoring.rule_set_selectors import (
    rescore_job_eta,
    rescore_job_get,
    rescore_job_latest,
    rule_set_draft,
    rule_set_get,
    rule_set_list,
    rule_set_preview,
)
from scoring.rule_sets import (
    THRESHOLD_FIELDS,
    NotADraft,
    attribute_rule_delete,
    attribute_rule_save,
    event_type_delete,
    event_type_save,
    icp_current,
    ideal_customer_profile_apply,
    rule_set_draft_get_or_create,
    rule_set_draft_settings_update,
    rule_set_publish,
    validation_messages,
)
from scoring.services import RULE_FIELD_NAMES

View = Callable[..., HttpResponse]


def scoring_admin_required(view: View) -> View:
    """Owners and admins only; other members get a page saying so (403)."""

    @wraps(view)
    def wrapper(request: TenantHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_admin:
            return render(request, "scoring/settings/forbidden.html", {"nav_active": "scoring"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _field_choices() -> list[tuple[str, str]]:
    return [(name, str(FIELDS_BY_NAME[name].label)) for name in sorted(RULE_FIELD_NAMES, key=list(FIELDS_BY_NAME).index)]


@require_http_methods(["GET", "POST"])
@tenant_member_required
@scoring_admin_required
def rule_sets_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The versions; POST opens (or creates) the draft."""
    if request.method == "POST":
        draft = rule_set_draft_get_or_create(tenant=request.tenant)
        return redirect("scoring:rule-set", tenant_slug=tenant_slug, rule_set_id=draft.id)
    context = {
        "rule_sets": list(rule_set_list()), "draft": rule_set_draft(), "job": rescore_job_latest(),
        "nav_active": "scoring",
    }
    return render(request, "scoring/settings/rule_sets.html", context)


def _values_of(rule_set: ScoringRuleSet) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(rule_set, name) for name in THRESHOLD_FIELDS}
    values["inactivity_days"] = rule_set.inactivity_days
    values["inactivity_points"] = rule_set.inactivity_points
    for dimension in Dimension.values:
        values[f"cap_{dimension}"] = (rule_set.dimension_caps or {}).get(dimension, "")
    return values


def _rule_value_text(rule: AttributeRule) -> str:
    if isinstance(rule.value, list):
        return ", ".join(str(item) for item in rule.value)
    if isinstance(rule.value, dict):
        return f"{rule.value.get('min') or '…'} – {rule.value.get('max') or '…'}"
    if isinstance(rule.value, bool):
        return _("是") if rule.value else _("否")
    return "" if rule.value is None else str(rule.value)


def _rule_form_values(rule: AttributeRule) -> dict[str, Any]:
    """A rule as its edit form's fields (what `attribute_rule_save` reads back)."""
    values: dict[str, Any] = {
        "label": rule.label, "dimension": rule.dimension, "field": rule.field, "operator": rule.operator,
        "points": rule.points, "value": "",
    }
    if isinstance(rule.value, dict):
        values["min"], values["max"] = rule.value.get("min") or "", rule.value.get("max") or ""
    else:
        values["value"] = _rule_value_text(rule)
    return values


def _event_form_values(item: EventType) -> dict[str, Any]:
    return {
        "key": item.key, "label": item.label, "strength": item.strength, "points": item.points,
        "cap_count": item.cap_count or "", "cap_period": item.cap_period, "half_life_days": item.half_life_days or "",
    }


def _posted_id(data: dict[str, Any] | None, name: str) -> int | None:
    text = str((data or {}).get(name, ""))
    return int(text) if text.isdigit() else None


def _edit_forms(
    request: TenantHttpRequest, *, rules: list[AttributeRule], event_types: list[EventType],
    errors: dict[str, dict[str, list[str]]], posted: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The add forms and the row being edited in place (?edit_rule= / ?edit_event=, or the
    row whose save was refused, with the values as sent and the errors beside their fields)."""
    context: dict[str, Any] = {
        "rule_add_values": {}, "rule_add_errors": {}, "rule_edit_id": None,
        "event_add_values": {}, "event_add_errors": {}, "event_edit_id": None,
    }
    rule_id = _posted_id(posted.get("rule"), "rule_id")
    if "rule" in posted and rule_id is None:
        context["rule_add_values"], context["rule_add_errors"] = posted["rule"], errors.get("rule", {})
    edit_rule = rule_id or _posted_id(request.GET.dict(), "edit_rule")
    for rule in rules:
        if rule.id == edit_rule:
            context["rule_edit_id"] = rule.id
            context["rule_edit_values"] = posted["rule"] if rule_id else _rule_form_values(rule)
            context["rule_edit_errors"] = errors.get("rule", {}) if rule_id else {}
    event_id = _posted_id(posted.get("event"), "event_type_id")
    if "event" in posted and event_id is None:
        context["event_add_values"], context["event_add_errors"] = posted["event"], errors.get("event", {})
    edit_event = event_id or _posted_id(request.GET.dict(), "edit_event")
    for item in event_types:
        if item.id == edit_event:
            context["event_edit_id"] = item.id
            context["event_edit_values"] = posted["event"] if event_id else _event_form_values(item)
            context["event_edit_errors"] = errors.get("event", {}) if event_id else {}
    return context


@require_http_methods(["GET", "POST"])
@tenant_member_required
@scoring_admin_required
def rule_set_page(request: TenantHttpRequest, tenant_slug: str, rule_set_id: int) -> HttpResponse:
    """One version: read-only when published or archived, the editor when it is the draft."""
    rule_set = rule_set_get(rule_set_id=rule_set_id)
    if rule_set is None:
        raise Http404("No such rule set.")
    errors: dict[str, dict[str, list[str]]] = {}
    posted: dict[str, dict[str, Any]] = {}
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "")
        data = request.POST.dict()
        try:
            if op == "settings":
                rule_set_draft_settings_update(rule_set=rule_set, data=data)
                messages.success(request, _("已保存阈值与上限。"))
            elif op == "rule":
                rule_id = int(data["rule_id"]) if data.get("rule_id", "").isdigit() else None
                attribute_rule_save(rule_set=rule_set, rule_id=rule_id, data=data)
                messages.success(request, _("已保存规则「%(label)s」。") % {"label": data.get("label", "")})
            elif op == "rule-delete":
                attribute_rule_delete(rule_set=rule_set, rule_id=int(data.get("rule_id", "0") or 0))
                messages.success(request, _("已删除规则。"))
            elif op == "event":
                item_id = int(data["event_type_id"]) if data.get("event_type_id", "").isdigit() else None
                event_type_save(rule_set=rule_set, event_type_id=item_id, data=data)
                messages.success(request, _("已保存事件类型「%(key)s」。") % {"key": data.get("key", "")})
            elif op == "event-delete":
                event_type_delete(rule_set=rule_set, event_type_id=int(data.get("event_type_id", "0") or 0))
                messages.success(request, _("已删除事件类型。"))
            elif op == "icp":
                ideal_customer_profile_apply(rule_set=rule_set, data=data)
                messages.success(request, _("已按理想客户画像生成规则。"))
            elif op == "publish":
                published = rule_set_publish(tenant=request.tenant, rule_set=rule_set, user=request.user)
                messages.success(request, _("已发布 v%(version)s，正在重新评分所有线索。") % {"version": published.rule_set.version})
                return redirect("scoring:rescore-job", tenant_slug=tenant_slug, job_id=published.job.id)
            else:
                raise Http404("No such action.")
        except NotADraft:
            messages.error(request, _("已发布或已归档的版本不能修改；请编辑草稿。"))
            status = 409
        except RescoreBusy:
            messages.error(request, _("上一次重新评分还在进行，完成后才能发布。"))
            status = 409
        except (AttributeRule.DoesNotExist, EventType.DoesNotExist):
            raise Http404("No such rule.") from None
        except ValidationError as error:
            errors[op] = validation_messages(error)
            posted[op] = data
            status = 400
        else:
            return redirect("scoring:rule-set", tenant_slug=tenant_slug, rule_set_id=rule_set.id)
        rule_set.refresh_from_db()
    rules = list(rule_set.attribute_rules.order_by("position", "id"))
    event_types = list(rule_set.event_types.order_by("key"))
    context = {
        **_edit_forms(request, rules=rules, event_types=event_types, errors=errors, posted=posted),
        "rule_set": rule_set,
        "is_draft": rule_set.status == RuleSetStatus.DRAFT,
        "values": posted.get("settings") or _values_of(rule_set),
        "rules": [(rule, _rule_value_text(rule)) for rule in rules],
        "event_types": event_types,
        "errors": errors,
        "posted": posted,
        "icp": posted.get("icp") or icp_current(rule_set=rule_set),
        "field_choices": _field_choices(),
        "dimension_choices": Dimension.choices,
        "operator_choices": Operator.choices,
        "strength_choices": Strength.choices,
        "period_choices": CapPeriod.choices,
        "dimensions": Dimension.values,
        "nav_active": "scoring",
    }
    return render(request, "scoring/settings/rule_set.html", context, status=status)


@require_GET
@tenant_member_required
@scoring_admin_required
def rule_set_preview_page(request: TenantHttpRequest, tenant_slug: str, rule_set_id: int) -> HttpResponse:
    rule_set = rule_set_get(rule_set_id=rule_set_id)
    if rule_set is None:
        raise Http404("No such rule set.")
    preview = rule_set_preview(tenant_id=request.tenant.id, rule_set=rule_set)
    context = {"rule_set": rule_set, "preview": preview, "nav_active": "scoring",
               "is_draft": rule_set.status == RuleSetStatus.DRAFT}
    return render(request, "scoring/settings/preview.html", context)


@require_http_methods(["GET", "POST"])
@tenant_member_required
@scoring_admin_required
def rescore_job_page(request: TenantHttpRequest, tenant_slug: str, job_id: int) -> HttpResponse:
    job = rescore_job_get(job_id=job_id)
    if job is None:
        raise Http404("No such job.")
    if request.method == "POST":
        try:
            rescore_job_retry(tenant=request.tenant, job=job)
        except RescoreBusy:
            messages.error(request, _("另一次重新评分正在进行。"))
        return redirect("scoring:rescore-job", tenant_slug=tenant_slug, job_id=job.id)
    eta = rescore_job_eta(job)
    context = {"job": job, "eta_seconds": None if eta is None else int(eta.total_seconds()), "nav_active": "scoring"}
    template = "scoring/settings/_rescore_progress.html" if request.htmx else "scoring/settings/rescore_job.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response
