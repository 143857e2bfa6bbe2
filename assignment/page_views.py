"""Assignment's pages: the pools and their assignment rules (admins), the 公海 a rep browses
and claims from, and the lead page's actions panel (loaded by htmx into the lead page, which
cannot import assignment).

Every action is a plain POST form with CSRF, so the pages work without JavaScript; a refused
form is shown again (400) with each message next to its field; a done one redirects back
(POST → redirect → GET) with a message. Another tenant's ids are 404s, like unknown ones."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assignment.engine import CONDITION_KEYS
from assignment.lead_actions import ActionRefused, claim_allowance, lead_claim, leads_assign, leads_return
from assignment.models import AssignmentRule, Pool, PoolKind, Strategy
from assignment.page_selectors import (
    mask_contacts_for,
    member_choices,
    pool_rows,
    public_pool_leads,
    public_pools_for,
    rep_choices,
)
from assignment.pool_services import pool_create_full, pool_members, pool_update, rule_create, rule_delete, rule_update
from assignment.refusals import refusal_words, transition_words
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import ADMIN_ROLES, Membership, Role
from leads.masking import mask_digits, mask_email, mask_text
from leads.models import STATUS_TRANSITIONS, Grade, Lead, LeadStatus, Tier
from leads.selectors import lead_get
from leads.services import InvalidTransition, StatusChange, lead_status_change_many

PAGE_SIZE = 30
CONDITION_LABELS = {
    "province": gettext_lazy("省份"), "city": gettext_lazy("城市"), "industry": gettext_lazy("行业"),
    "source": gettext_lazy("来源"), "grade": gettext_lazy("静态等级"), "tier": gettext_lazy("热度"),
}
TEXT_CONDITIONS = ("province", "city", "industry", "source")
_SPLIT = re.compile(r"[,，、;；\s]+")


# --- shared helpers -----------------------------------------------------------------------------


def _forbidden(request: TenantHttpRequest, *, title: str, nav_active: str) -> HttpResponse:
    admins = Membership.objects.select_related("user", "tenant").filter(role__in=ADMIN_ROLES, is_active=True)
    context = {"title": title, "admins": [str(m) for m in admins], "nav_active": nav_active}
    return render(request, "assignment/forbidden.html", context, status=403)


def _conditions_from(post: Any, prefix: str) -> dict[str, list[str]]:
    """Conditions from a form: free-text keys as comma/、-separated tags, grade and tier as
    checkboxes."""
    conditions: dict[str, list[str]] = {}
    for key in TEXT_CONDITIONS:
        values = [v for v in _SPLIT.split(post.get(f"{prefix}{key}", "").strip()) if v]
        if values:
            conditions[key] = list(dict.fromkeys(values))
    for key in ("grade", "tier"):
        values = [v for v in post.getlist(f"{prefix}{key}") if v]
        if values:
            conditions[key] = values
    return conditions


def _condition_fields(conditions: dict[str, list[str]], prefix: str) -> dict[str, Any]:
    return {
        "prefix": prefix,
        "text": [(key, str(CONDITION_LABELS[key]), "、".join(conditions.get(key, []))) for key in TEXT_CONDITIONS],
        "grade": conditions.get("grade", []), "tier": conditions.get("tier", []),
        "grade_choices": Grade.choices, "tier_choices": Tier.choices,
    }


def _conditions_words(conditions: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(label, values) for showing a condition set, in CONDITION_KEYS order."""
    labels: dict[str, dict[str, Any]] = {"grade": dict(Grade.choices), "tier": dict(Tier.choices)}
    words = []
    for key in CONDITION_KEYS:
        values = conditions.get(key) or []
        if values:
            shown = [str(labels[key].get(v, v)) if key in labels else v for v in values]
            words.append((str(CONDITION_LABELS[key]), "、".join(shown)))
    return words


def _whole_number(post: Any, key: str, errors: dict[str, list[str]], *, blank_is_none: bool = True) -> int | None:
    raw = post.get(key, "").strip()
    if not raw:
        return None if blank_is_none else 0
    if not raw.isdigit():
        errors[key] = [_("请填写 0 或更大的整数，留空为不限")]
        return None
    return int(raw)


def _user_ids(post: Any, key: str) -> list[int]:
    return [int(v) for v in post.getlist(key) if v.isdigit()]


def _service_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {key: [refusal_words(m) for m in messages_] for key, messages_ in error.message_dict.items()}
    return {"form": [refusal_words(m) for m in error.messages]}


# --- pools (admins) -----------------------------------------------------------------------------


@require_GET
@tenant_member_required
def pools_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if not request.membership.is_admin:
        return _forbidden(request, title=_("只有管理员可以配置线索池"), nav_active="pools")
    rows = pool_rows()
    for row in rows:
        row.conditions = _conditions_words(row.pool.entry_conditions)
    return render(request, "assignment/pools.html", {"rows": rows, "nav_active": "pools"})


def _pool_values(pool: Pool | None) -> dict[str, Any]:
    if pool is None:
        return {"name": "", "description": "", "kind": PoolKind.PRIVATE, "position": 0, "conditions": {},
                "members": [], "admins": [], "daily_claim_cap": None, "max_held": None, "recycle_after_days": None,
                "mask_contacts": False, "is_active": True}
    members, admins = pool_members(pool=pool)
    return {"name": pool.name, "description": pool.description, "kind": pool.kind, "position": pool.position,
            "conditions": pool.entry_conditions, "members": members, "admins": admins,
            "daily_claim_cap": pool.daily_claim_cap, "max_held": pool.max_held,
            "recycle_after_days": pool.recycle_after_days, "mask_contacts": pool.mask_contacts,
            "is_active": pool.is_active}


def _pool_data_from(post: Any, pool: Pool | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "name": post.get("name", ""), "description": post.get("description", ""),
        "kind": post.get("kind", PoolKind.PRIVATE),
        "members": _user_ids(post, "members"), "admins": _user_ids(post, "admins"),
        "mask_contacts": post.get("mask_contacts") == "on",
    }
    if pool is None or not pool.is_default:
        data["entry_conditions"] = _conditions_from(post, "entry_")
        data["is_active"] = post.get("is_active") == "on"
        data["position"] = _whole_number(post, "position", errors, blank_is_none=False)
    for key in ("daily_claim_cap", "max_held", "recycle_after_days"):
        data[key] = _whole_number(post, key, errors)
    return data, errors


def _pool_form_context(pool: Pool | None, values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    rules = list(AssignmentRule.objects.filter(pool=pool).order_by("position", "id")) if pool else []
    members = member_choices()
    names = {user_id: label.name for user_id, label in members}
    rule_rows = [
        {"rule": rule, "conditions": _conditions_words(rule.conditions),
         "reps": [(names.get(int(rep["user"]), f"#{rep['user']}"), rep.get("weight", 1)) for rep in rule.reps]}
        for rule in rules
    ]
    return {
        "pool": pool, "values": values, "errors": errors, "members": members, "kind_choices": PoolKind.choices,
        "entry": _condition_fields(values["conditions"], "entry_"), "rule_rows": rule_rows,
        "strategy_choices": Strategy.choices, "new_rule": _rule_form_values(None),
        "new_rule_conditions": _condition_fields({}, "rule_"), "nav_active": "pools",
    }


@require_http_methods(["GET", "POST"])
@tenant_member_required
def pool_page(request: TenantHttpRequest, tenant_slug: str, pool_id: int | None = None) -> HttpResponse:
    """A pool's settings and its assignment rules; without `pool_id`, a new pool."""
    if not request.membership.is_admin:
        return _forbidden(request, title=_("只有管理员可以配置线索池"), nav_active="pools")
    pool = None
    if pool_id is not None:
        pool = Pool.objects.filter(id=pool_id).first()
        if pool is None:
            raise Http404("No such pool.")
    values = _pool_values(pool)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = _pool_data_from(request.POST, pool)
        if not errors:
            try:
                if pool is None:
                    pool = pool_create_full(tenant=request.tenant, data=data, actor=request.user)
                    messages.success(request, _("已创建线索池「%(name)s」。现在可以为它添加分配规则。") % {"name": pool.name})
                else:
                    pool_update(tenant=request.tenant, pool=pool, data=data, actor=request.user)
                    messages.success(request, _("已保存线索池「%(name)s」。") % {"name": pool.name})
                return redirect("assignment:pool", tenant_slug=tenant_slug, pool_id=pool.id)
            except ValidationError as error:
                errors = _service_errors(error)
        values = {**values, **data, "conditions": data.get("entry_conditions", values["conditions"])}
        values.update({key: request.POST.get(key, "") for key in ("daily_claim_cap", "max_held", "recycle_after_days",
                                                                   "position") if key in errors})
    context = _pool_form_context(pool, values, errors)
    return render(request, "assignment/pool.html", context, status=400 if errors else 200)


# --- assignment rules (admins) ------------------------------------------------------------------


def _rule_form_values(rule: AssignmentRule | None) -> dict[str, Any]:
    if rule is None:
        return {"name": "", "strategy": Strategy.ROUND_ROBIN, "reps": {}, "respect_working_hours": True,
                "exclude_previous_owner": False, "is_active": True}
    return {"name": rule.name, "strategy": rule.strategy,
            "reps": {int(rep["user"]): rep.get("weight", 1) for rep in rule.reps},
            "respect_working_hours": rule.respect_working_hours,
            "exclude_previous_owner": rule.exclude_previous_owner, "is_active": rule.is_active}


def _rule_data_from(post: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    reps = []
    for user_id in _user_ids(post, "reps"):
        raw = post.get(f"weight_{user_id}", "1").strip() or "1"
        try:
            weight = float(raw)
        except ValueError:
            errors["reps"] = [_("权重请填写 0 到 10000 之间的数字")]
            continue
        reps.append({"user": user_id, "weight": weight})
    if not reps and "reps" not in errors:
        errors["reps"] = [_("请至少选择一位销售")]
    data = {
        "name": post.get("name", ""), "strategy": post.get("strategy", ""), "reps": reps,
        "conditions": _conditions_from(post, "rule_"),
        "respect_working_hours": post.get("respect_working_hours") == "on",
        "exclude_previous_owner": post.get("exclude_previous_owner") == "on",
        "is_active": post.get("is_active") == "on",
    }
    return data, errors


def _admin_pool(request: TenantHttpRequest, pool_id: int) -> Pool:
    pool = Pool.objects.filter(id=pool_id).first()
    if pool is None:
        raise Http404("No such pool.")
    return pool


@require_http_methods(["GET", "POST"])
@tenant_member_required
def rule_page(request: TenantHttpRequest, tenant_slug: str, pool_id: int, assignment_rule_id: int | None = None) -> HttpResponse:
    """Add a rule to a pool (at the end), or edit one."""
    rule_id = assignment_rule_id  # the URL names it apart from the duplicate rules' rule_id
    if not request.membership.is_admin:
        return _forbidden(request, title=_("只有管理员可以配置分配规则"), nav_active="pools")
    pool = _admin_pool(request, pool_id)
    rule = None
    if rule_id is not None:
        rule = AssignmentRule.objects.filter(id=rule_id, pool=pool).first()
        if rule is None:
            raise Http404("No such rule.")
    values = _rule_form_values(rule)
    conditions = rule.conditions if rule else {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = _rule_data_from(request.POST)
        if not errors:
            try:
                if rule is None:
                    last = AssignmentRule.objects.filter(pool=pool).order_by("-position").values_list("position", flat=True).first()
                    rule_create(tenant=request.tenant, pool=pool, actor=request.user,
                                data={**data, "position": 0 if last is None else last + 1})
                    messages.success(request, _("已添加分配规则。"))
                else:
                    rule_update(tenant=request.tenant, rule=rule, data=data, actor=request.user)
                    messages.success(request, _("已保存分配规则。"))
                return redirect(reverse("assignment:pool", kwargs={"tenant_slug": tenant_slug, "pool_id": pool.id}) + "#rules")
            except ValidationError as error:
                errors = _service_errors(error)
        values = {**values, **data, "reps": {rep["user"]: rep["weight"] for rep in data["reps"]}}
        conditions = data["conditions"]
    context = {
        "pool": pool, "rule": rule, "values": values, "errors": errors, "members": member_choices(),
        "conditions": _condition_fields(conditions, "rule_"), "strategy_choices": Strategy.choices,
        "nav_active": "pools",
    }
    return render(request, "assignment/rule.html", context, status=400 if errors else 200)


@require_POST
@tenant_member_required
def rule_move(request: TenantHttpRequest, tenant_slug: str, pool_id: int, assignment_rule_id: int) -> HttpResponse:
    """Move a rule one place up or down; the pool's rules are renumbered 0, 1, 2…"""
    rule_id = assignment_rule_id  # the URL names it apart from the duplicate rules' rule_id
    if not request.membership.is_admin:
        return _forbidden(request, title=_("只有管理员可以配置分配规则"), nav_active="pools")
    pool = _admin_pool(request, pool_id)
    rules = list(AssignmentRule.objects.filter(pool=pool).order_by("position", "id"))
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise Http404("No such rule.")
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
        for position, rule in enumerate(rules):
            if rule.position != position:
                rule_update(tenant=request.tenant, rule=rule, data={"position": position}, actor=request.user)
        messages.success(request, _("已调整规则顺序。"))
    return redirect(reverse("assignment:pool", kwargs={"tenant_slug": tenant_slug, "pool_id": pool.id}) + "#rules")


@require_http_methods(["GET", "POST"])
@tenant_member_required
def rule_delete_page(request: TenantHttpRequest, tenant_slug: str, pool_id: int, assignment_rule_id: int) -> HttpResponse:
    """GET: a confirm step; POST: the rule is deleted."""
    rule_id = assignment_rule_id  # the URL names it apart from the duplicate rules' rule_id
    if not request.membership.is_admin:
        return _forbidden(request, title=_("只有管理员可以配置分配规则"), nav_active="pools")
    pool = _admin_pool(request, pool_id)
    rule = AssignmentRule.objects.filter(id=rule_id, pool=pool).first()
    if rule is None:
        raise Http404("No such rule.")
    if request.method == "POST":
        rule_delete(tenant=request.tenant, rule=rule, actor=request.user)
        messages.success(request, _("已删除分配规则。"))
        return redirect(reverse("assignment:pool", kwargs={"tenant_slug": tenant_slug, "pool_id": pool.id}) + "#rules")
    return render(request, "assignment/rule_delete.html", {"pool": pool, "rule": rule, "nav_active": "pools"})


# --- the 公海 (every member) -----------------------------------------------------------------------


def masked_contacts(lead: Lead, *, masked: bool) -> dict[str, str]:
    """The lead's contact details as this reader may see them."""
    values = {"mobile": lead.mobile, "phone": lead.phone, "email": lead.email, "wechat": lead.wechat}
    if not masked:
        return values
    return {
        "mobile": mask_digits(lead.mobile) if lead.mobile else "", "phone": mask_digits(lead.phone) if lead.phone else "",
        "email": mask_email(lead.email) if lead.email else "", "wechat": mask_text(lead.wechat) if lead.wechat else "",
    }


@require_GET
@tenant_member_required
def public_pool_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    pools = public_pools_for(membership=request.membership)
    by_id = {pool.id: pool for pool in pools}
    get = request.GET
    filters: dict[str, Any] = {key: get.get(key, "").strip()[:100] for key in ("province", "industry", "source", "q")}
    filters["grade"] = get.get("grade", "") if get.get("grade", "") in Grade.values else ""
    filters["tier"] = get.get("tier", "") if get.get("tier", "") in Tier.values else ""
    filters["sort"] = "score" if get.get("sort") == "score" else "newest"
    pool_param = get.get("pool", "")
    filters["pool"] = int(pool_param) if pool_param.isdigit() and int(pool_param) in by_id else None
    page = Paginator(public_pool_leads(pools=pools, filters=filters), PAGE_SIZE).get_page(get.get("page"))
    rows = []
    for lead in page.object_list:
        pool = by_id[lead.pool_id] if lead.pool_id else None
        masked = pool is not None and pool.mask_contacts and not request.membership.is_admin
        rows.append({"lead": lead, "pool": pool, "contacts": masked_contacts(lead, masked=masked), "masked": masked})
    allowances = []
    for pool in pools:
        left = claim_allowance(tenant=request.tenant, user_id=request.user.id, pool=pool)
        allowances.append((pool, left))
    query = get.copy()
    query.pop("page", None)
    context = {
        "pools": pools, "rows": rows, "page": page, "filters": filters, "allowances": allowances,
        "grade_choices": Grade.choices, "tier_choices": Tier.choices, "query": query.urlencode(),
        "nav_active": "public-pool",
    }
    return render(request, "assignment/public_pool.html", context)


@require_POST
@tenant_member_required
def public_pool_claim(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    back = reverse("assignment:public-pool", kwargs={"tenant_slug": tenant_slug})
    next_query = request.POST.get("next_query", "")
    if next_query and not next_query.startswith(("/", "http")):
        back = f"{back}?{next_query}"
    visible = {pool.id for pool in public_pools_for(membership=request.membership)}
    lead = Lead.objects.filter(id=lead_id).only("id", "pool_id", "name").first()
    if lead is None or lead.pool_id not in visible:
        raise Http404("No such lead.")
    try:
        lead_claim(tenant=request.tenant, lead_id=lead_id, user=request.user)
    except ActionRefused as error:
        messages.error(request, refusal_words(str(error)))
    except InvalidTransition as error:
        messages.error(request, transition_words(error))
    else:
        url = reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": lead_id})
        messages.success(request, _("已领取线索「%(name)s」，它现在在你的线索列表里。") % {"name": lead.name or f"#{lead.id}"})
        if request.POST.get("open") == "1":
            return redirect(url)
    return redirect(back)


# --- the lead page's actions panel ----------------------------------------------------------------


def _allowed_statuses(lead: Lead) -> list[tuple[str, str]]:
    """Statuses a person may pick by hand: the allowed transitions, without returned and
    transferred (those are their own actions, with a pool or a rep)."""
    allowed = STATUS_TRANSITIONS.get(lead.status, frozenset()) - {LeadStatus.RETURNED, LeadStatus.TRANSFERRED}
    return [(value, str(label)) for value, label in LeadStatus.choices if value in allowed]


def _panel_context(request: TenantHttpRequest, lead: Lead, errors: dict[str, list[str]] | None = None,
                   action: str = "", confirm: str = "") -> dict[str, Any]:
    role = request.membership.role
    manages = request.membership.is_admin or role == Role.MANAGER
    owns = lead.owner_id == request.user.id
    closed = lead.status in (LeadStatus.CONVERTED, LeadStatus.INVALID, LeadStatus.VOIDED)
    reps = rep_choices() if (manages or owns) and not closed else []
    return {
        "lead": lead, "errors": errors or {}, "action": action, "confirm": confirm, "values": request.POST,
        "can_assign": manages and not closed, "can_transfer": owns and not closed and role != Role.READ_ONLY,
        "can_return": (manages or owns) and lead.owner_id is not None and LeadStatus.RETURNED in STATUS_TRANSITIONS.get(lead.status, ()),
        "can_invalid": (manages or owns) and LeadStatus.INVALID in STATUS_TRANSITIONS.get(lead.status, ()),
        "statuses": _allowed_statuses(lead) if (manages or owns) and role != Role.READ_ONLY else [],
        "reps": [rep for rep in reps if rep.user_id != lead.owner_id],
        "masked": mask_contacts_for(lead=lead, membership=request.membership),
        "base_template": "scoring/_fragment.html" if request.headers.get("HX-Request") else "base.html",
        "nav_active": "leads",
    }


@require_GET
@tenant_member_required
def lead_actions_panel(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:
        raise Http404("No such lead.")
    response = render(request, "assignment/_lead_actions.html", _panel_context(request, lead))
    response["Vary"] = "HX-Request"
    return response


DESTRUCTIVE = {"return", "invalid"}


@require_POST
@tenant_member_required
def lead_action(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    """One action from the panel: assign, transfer, return, invalid or status. Return and
    invalid ask for confirmation first (a second POST with confirmed=1)."""
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:
        raise Http404("No such lead.")
    action = request.POST.get("action", "")
    context = _panel_context(request, lead)
    reason = request.POST.get("reason", "").strip()
    errors: dict[str, list[str]] = {}
    allowed = {"assign": context["can_assign"], "transfer": context["can_transfer"], "return": context["can_return"],
               "invalid": context["can_invalid"], "status": bool(context["statuses"])}
    if not allowed.get(action):
        errors["form"] = [_("你不能对这条线索执行这个操作。")]
    elif action in ("assign", "transfer"):
        owner = request.POST.get("owner", "")
        if not owner.isdigit() or int(owner) not in {rep.user_id for rep in context["reps"]}:
            errors["owner"] = [_("请选择一位销售")]
        if action == "transfer" and not reason:
            errors["reason"] = [_("请说明转交的原因")]
    elif action in DESTRUCTIVE and not reason:
        errors["reason"] = [_("请说明原因")]
    elif action == "status" and request.POST.get("status", "") not in {value for value, _label in context["statuses"]}:
        errors["status"] = [_("请选择允许的状态")]
    if not errors and action in DESTRUCTIVE and request.POST.get("confirmed") != "1":
        return _panel_render(request, lead, action=action, confirm=action)
    if not errors:
        try:
            done = _action_run(request, lead, action=action, reason=reason)
        except ValidationError as error:
            errors = _service_errors(error)
        except InvalidTransition as error:
            errors = {"form": [transition_words(error)]}
        except ActionRefused as error:
            errors = {"form": [refusal_words(str(error))]}
        else:
            messages.success(request, done)
            url = reverse("leads:detail", kwargs={"tenant_slug": tenant_slug, "lead_id": lead.id})
            if request.headers.get("HX-Request"):  # the whole page changes: owner, status, timeline
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    return _panel_render(request, lead, action=action, errors=errors, status=400)


def _panel_render(request: TenantHttpRequest, lead: Lead, *, action: str, confirm: str = "",
                  errors: dict[str, list[str]] | None = None, status: int = 200) -> HttpResponse:
    response = render(request, "assignment/_lead_actions.html",
                      _panel_context(request, lead, errors=errors, action=action, confirm=confirm), status=status)
    response["Vary"] = "HX-Request"
    return response


def _action_run(request: TenantHttpRequest, lead: Lead, *, action: str, reason: str) -> str:
    tenant, user = request.tenant, request.user
    if action in ("assign", "transfer"):
        owner_id = int(request.POST["owner"])
        leads_assign(tenant=tenant, lead_ids=[lead.id], owner_id=owner_id, actor=user, transfer=action == "transfer",
                     note=reason)
        name = next(rep.label.name for rep in rep_choices() if rep.user_id == owner_id)
        return (_("已转交给 %(name)s。") if action == "transfer" else _("已分配给 %(name)s。")) % {"name": name}
    if action == "return":
        leads_return(tenant=tenant, lead_ids=[lead.id], reason=reason, actor=user)
        return _("已退回线索池。")
    new_status = LeadStatus.INVALID if action == "invalid" else request.POST["status"]
    lead_status_change_many(tenant=tenant, actor=user, changes=[StatusChange(lead_id=lead.id, status=new_status, reason=reason)])
    return _("状态已改为「%(status)s」。") % {"status": LeadStatus(new_status).label}
