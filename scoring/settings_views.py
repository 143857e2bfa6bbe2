"""The admins' page "分组建议动作 / Group actions" (/<tenant>/settings/group-actions): the
recommended action of each combined group as a 4 × 3 grid (grades down, levels across).

Owners and admins only: other members get a page naming who may (403). A plain POST form with
CSRF, so it works without JavaScript; a rejected form is shown again (400) with each message
next to its cell and nothing changed; a saved one redirects back (POST → redirect → GET)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import ADMIN_ROLES, Membership
from scoring.group_actions import GRADES, LEVELS, MAX_TEXT_LENGTH, field_name, group_action_grid, group_actions_update
from scoring.models import GroupActionCode


@dataclass(frozen=True)
class GridCell:
    group: str
    code: str
    text: str  # as the field shows it: the tenant's words, or a default's translated
    code_field: str
    text_field: str
    code_errors: list[str]
    text_errors: list[str]


def _grid_rows(values: dict[str, str], errors: dict[str, list[str]]) -> list[tuple[str, list[GridCell]]]:
    rows = []
    for grade in GRADES:
        cells = []
        for level in LEVELS:
            code_field, text_field = field_name(grade, level, "code"), field_name(grade, level, "text")
            cells.append(GridCell(
                group=f"{grade}{level}", code=values[code_field], text=values[text_field], code_field=code_field,
                text_field=text_field, code_errors=errors.get(code_field, []), text_errors=errors.get(text_field, []),
            ))
        rows.append((grade, cells))
    return rows


def _current_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for (grade, level), cell in group_action_grid().items():
        values[field_name(grade, level, "code")] = cell.code
        values[field_name(grade, level, "text")] = cell.words
    return values


def _stored_or_same(submitted: dict[str, str]) -> dict[str, str]:
    """A default shown translated and sent back unchanged stays the default (its msgid), so it
    keeps following the reader's language; anything else is the tenant's own words."""
    data = dict(submitted)
    for (grade, level), cell in group_action_grid().items():
        key = field_name(grade, level, "text")
        if key in data and data[key].strip() == cell.words:
            data[key] = cell.text
    return data


@require_http_methods(["GET", "POST"])
@tenant_member_required
def group_actions_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if not request.membership.is_admin:
        admins = Membership.objects.select_related("user", "tenant").filter(role__in=ADMIN_ROLES, is_active=True)
        forbidden = {"admins": [str(m) for m in admins], "nav_active": "group-actions"}
        return render(request, "scoring/group_actions_forbidden.html", forbidden, status=403)
    values = _current_values()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        submitted = {name: request.POST.get(name, "") for name in values}
        try:
            changed = group_actions_update(tenant=request.tenant, actor=request.user, data=_stored_or_same(submitted))
        except ValidationError as error:
            values, errors, status = submitted, error.message_dict, 400
        else:
            if changed:
                messages.success(request, _("已保存 %(groups)s 组的建议动作。") % {"groups": "、".join(changed)})
            else:
                messages.info(request, _("没有改动。"))
            return redirect("scoring:group-actions", tenant_slug=tenant_slug)
    context: dict[str, Any] = {
        "rows": _grid_rows(values, errors),
        "levels": LEVELS,
        "code_choices": GroupActionCode.choices,
        "max_length": MAX_TEXT_LENGTH,
        "has_errors": bool(errors),
        "nav_active": "group-actions",
    }
    return render(request, "scoring/group_actions.html", context, status=status)
