"""Scoring's pages. The lead page (leads app) cannot import scoring, so it loads this panel by
URL name with htmx; without JavaScript its link opens the same fragment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.selectors import lead_get
from scoring import engine
from scoring.group_actions import group_action_for
from scoring.history import lead_score_history
from scoring.models import CapPeriod, Dimension, GroupActionCode
from scoring.services import lead_score_explain


@dataclass(frozen=True)
class ContributionLine:
    kind: str
    words: str
    points: Decimal
    at: datetime | None


def contribution_words(item: engine.Contribution) -> str:
    """One contribution in words, in the request's language. Labels the tenant never changed
    are the defaults' words, translated; its own labels are shown as written."""
    label = _(item.label) if item.label else ""
    if item.kind == "attribute":
        return _("符合规则「%(label)s」") % {"label": label}
    if item.kind == "event":
        return _("行为：%(label)s") % {"label": label}
    if item.kind == "decay":
        return _("「%(label)s」随时间衰减") % {"label": label}
    if item.kind == "inactivity":
        return _("连续 %(days)s 天无互动") % {"days": item.detail}
    if item.detail == "dimension":
        dimension = Dimension(item.label).label if item.label in Dimension.values else item.label
        return _("「%(dimension)s」维度达到上限") % {"dimension": dimension}
    if item.detail == "range":
        return {
            "static": _("静态分保持在 0–100 之间"),
            "dynamic": _("动态分保持在 −100–100 之间"),
        }.get(item.label, _("总分保持在 0–100 之间"))
    extra, cap, period = (item.detail.split("/") + ["", "", ""])[:3]
    period_words = CapPeriod(period).label if period in CapPeriod.values else period
    return _("「%(label)s」超过%(period)s %(cap)s 次的上限，另外 %(extra)s 次不计分") % {
        "label": label, "period": period_words, "cap": cap, "extra": extra,
    }


@require_GET
@tenant_member_required
def lead_score_panel(request: TenantHttpRequest, tenant_slug: str, lead_id: int) -> HttpResponse:
    lead = lead_get(lead_id=lead_id, membership=request.membership)
    if lead is None:  # another tenant's, another rep's, or no such lead: all look the same
        raise Http404("No such lead.")
    result = lead_score_explain(lead=lead)
    lines = [
        ContributionLine(kind=item.kind, words=contribution_words(item), points=item.points, at=item.at)
        for item in (result.contributions if result else ())
    ]
    scored = lead.scored_at is not None
    action = group_action_for(grade=lead.grade, level=lead.level) if scored else None
    history = lead_score_history(lead=lead)
    context = {
        "lead": lead, "result": result, "lines": lines,
        "action": action,
        "action_kind": GroupActionCode(action.code).label if action and action.code in GroupActionCode.values else "",
        "history": history,
        "chart_json": json.dumps(history.chart_data(), ensure_ascii=False),  # escaped by the template
        "base_template": "scoring/_fragment.html" if request.headers.get("HX-Request") else "base.html",
    }
    response = render(request, "scoring/_score_panel.html", context)
    response["Vary"] = "HX-Request"
    return response
