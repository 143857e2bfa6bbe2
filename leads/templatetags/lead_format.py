"""`{% load lead_format %}`: amounts and lead counts in the page's language (leads/formatting.py)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import get_language, gettext, ngettext

from leads.formatting import amount_display, amount_exact_display, approximate_count_display
from leads.selectors import LeadCount

register = template.Library()


@register.filter
def amount(value: Decimal | int | float | str | None) -> str:
    """`{{ lead.annual_revenue|amount }}`: 1,250 万元 / ¥12.5M."""
    return amount_display(value, language=get_language() or "zh-hans")


@register.filter
def amount_exact(value: Decimal | int | float | str | None) -> str:
    """`{{ lead.annual_revenue|amount_exact }}`: ¥12,500,000.00, for a tooltip."""
    return amount_exact_display(value)


@register.filter
def lead_count(count: LeadCount | None) -> str:
    """`{{ count|lead_count }}`: 共 1,234 条 / 1,234 leads; 超过 10,000 条; 约 120 万条."""
    if count is None:
        return ""
    if count.kind == "exact":
        return ngettext("共 %(count)s 条", "共 %(count)s 条", count.value) % {"count": f"{count.value:,}"}
    if count.kind == "more_than":
        return gettext("超过 %(count)s 条") % {"count": f"{count.value:,}"}
    shown = approximate_count_display(count.value, language=get_language() or "zh-hans")
    return gettext("约 %(count)s条") % {"count": shown}


@register.filter
def name_in(key: int | None, names: dict[int, str]) -> str:
    """`{{ lead.pool_id|name_in:pool_names }}`: the name of an id from a page's lookup, or ""."""
    return names.get(key or 0, "") if names else ""
