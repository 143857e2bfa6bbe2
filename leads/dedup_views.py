"""The admins' pages for duplicate rules (/<tenant>/settings/dedup) and company aliases
(/<tenant>/settings/company-aliases). Thin: the services validate and write, audited; a rejected
form is shown again with the messages next to its fields and nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.dedup_rules import (
    MAX_WINDOW_DAYS,
    DedupAction,
    DedupCompareWith,
    DedupField,
    condition_labels,
)
from leads.dedup_services import (
    company_alias_create,
    company_alias_delete,
    dedup_rule_create,
    dedup_rule_delete,
    dedup_rule_move,
    dedup_rule_update,
)
from leads.models import CompanyAlias, DedupRule
from leads.selectors import company_alias_list, dedup_rule_get, dedup_rule_list

ALIAS_PAGE_SIZE = 200


def _require_admin(request: TenantHttpRequest) -> None:
    # Like a page that does not exist: the 404 page says the link may be one you may not open.
    if not request.membership.is_admin:
        raise Http404("Only admins configure duplicate rules.")


def _rule_form_data(post: QueryDict) -> dict[str, Any]:
    """A rule as the form sends it, for the service to judge (the API sends the same shape)."""
    return {
        "name": post.get("name", ""),
        "conditions": post.getlist("conditions"),
        "compare_with": post.get("compare_with", ""),
        "window_days": post.get("window_days", "").strip() or None,
        "action": post.get("action", ""),
        "is_active": post.get("is_active") == "on",
    }


def _errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            "form" if name == "__all__" else name: [str(message) for item in items for message in item.messages]
            for name, items in error.error_dict.items()
        }
    return {"form": [str(message) for message in error.messages]}


@dataclass(frozen=True)
class RuleRow:
    rule: DedupRule
    conditions: list[str]
    is_first: bool
    is_last: bool


def _form_context(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "field_choices": DedupField.choices,
        "compare_choices": DedupCompareWith.choices,
        "action_choices": DedupAction.choices,
        "max_window": MAX_WINDOW_DAYS,
    }


_NEW_RULE = {"name": "", "conditions": [], "compare_with": DedupCompareWith.LEADS, "window_days": 180,
             "action": DedupAction.COLLECT, "is_active": True}


@require_http_methods(["GET", "POST"])
@tenant_member_required
def dedup_rules_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    _require_admin(request)
    values: dict[str, Any] = dict(_NEW_RULE)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = _rule_form_data(request.POST)
        try:
            rule = dedup_rule_create(tenant=request.tenant, data=values, actor=request.user)
        except ValidationError as error:
            errors, status = _errors(error), 400
        else:
            messages.success(request, _("已添加规则「%(name)s」。") % {"name": rule.name})
            return redirect("leads:dedup-rules", tenant_slug=tenant_slug)
    rules = list(dedup_rule_list())
    rows = [
        RuleRow(rule=rule, conditions=condition_labels(rule.conditions), is_first=index == 0,
                is_last=index == len(rules) - 1)
        for index, rule in enumerate(rules)
    ]
    context = {"rows": rows, "nav_active": "dedup-rules", "compare_labels": dict(DedupCompareWith.choices),
               "action_labels": dict(DedupAction.choices), **_form_context(values, errors)}
    return render(request, "leads/dedup_rules.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_member_required
def dedup_rule_page(request: TenantHttpRequest, tenant_slug: str, rule_id: int) -> HttpResponse:
    """One rule: its form, and the buttons that move, switch or delete it (all POSTs here)."""
    _require_admin(request)
    rule = dedup_rule_get(rule_id=rule_id)
    if rule is None:
        raise Http404("No such rule.")
    values: dict[str, Any] = {
        "name": rule.name, "conditions": list(rule.conditions), "compare_with": rule.compare_with,
        "window_days": rule.window_days, "action": rule.action, "is_active": rule.is_active,
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "save")
        try:
            if op in ("up", "down"):
                dedup_rule_move(tenant=request.tenant, rule_id=rule.id, direction=op, actor=request.user)
            elif op in ("enable", "disable"):
                dedup_rule_update(tenant=request.tenant, rule_id=rule.id, data={"is_active": op == "enable"},
                                  actor=request.user)
                messages.success(request, (_("已启用「%(name)s」。") if op == "enable" else _("已停用「%(name)s」。"))
                                 % {"name": rule.name})
            elif op == "delete":
                dedup_rule_delete(tenant=request.tenant, rule_id=rule.id, actor=request.user)
                messages.success(request, _("已删除规则「%(name)s」。") % {"name": rule.name})
            else:
                values = _rule_form_data(request.POST)
                saved = dedup_rule_update(tenant=request.tenant, rule_id=rule.id, data=values, actor=request.user)
                messages.success(request, _("已保存规则「%(name)s」。") % {"name": saved.name})
        except ValidationError as error:
            errors, status = _errors(error), 400
        except DedupRule.DoesNotExist:
            raise Http404("No such rule.") from None
        else:
            return redirect("leads:dedup-rules", tenant_slug=tenant_slug)
    context = {"rule": rule, "nav_active": "dedup-rules", **_form_context(values, errors)}
    return render(request, "leads/dedup_rule_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_member_required
def company_aliases_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    _require_admin(request)
    values = {"alias": "", "company": ""}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            if delete_id := request.POST.get("delete"):
                if not delete_id.isdigit():
                    raise Http404("No such alias.")
                company_alias_delete(tenant=request.tenant, alias_id=int(delete_id), actor=request.user)
                messages.success(request, _("已删除别名。"))
            else:
                values = {"alias": request.POST.get("alias", ""), "company": request.POST.get("company", "")}
                alias = company_alias_create(
                    tenant=request.tenant, alias=values["alias"], company=values["company"], actor=request.user
                )
                messages.success(request, _("已添加别名：%(alias)s → %(company)s。") % {
                    "alias": alias.alias, "company": alias.company})
        except ValidationError as error:
            errors, status = _errors(error), 400
        except CompanyAlias.DoesNotExist:
            raise Http404("No such alias.") from None
        else:
            return redirect("leads:company-aliases", tenant_slug=tenant_slug)
    aliases = list(company_alias_list()[:ALIAS_PAGE_SIZE])
    context = {"aliases": aliases, "values": values, "errors": errors, "nav_active": "company-aliases",
               "page_size": ALIAS_PAGE_SIZE}
    return render(request, "leads/company_aliases.html", context, status=status)
