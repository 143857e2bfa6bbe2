"""Saved views of the lead list: the list's menu of them (`saved_view_list_context`), saving
the current list, and the page where a member renames, shares, deletes and picks a default."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.list_columns import COLUMNS_PARAM, LIST_COLUMNS
from leads.models import SAVED_VIEW_NAME_MAX_LENGTH, SavedView, SavedViewSharing
from leads.saved_views import (
    VIEW_PARAM,
    list_columns_for,
    saved_view_create,
    saved_view_default_get,
    saved_view_default_id,
    saved_view_default_set,
    saved_view_delete,
    saved_view_get,
    saved_view_list,
    saved_view_own_get,
    saved_view_query,
    saved_view_query_from,
    saved_view_stale_fields,
    saved_view_update,
)


class SavedViewForm(forms.Form):
    name = forms.CharField(
        strip=True,  # the service says how long a name may be, in its own words
        error_messages={"required": gettext_lazy("请给视图起个名字。")},
    )
    shared_with = forms.ChoiceField(choices=SavedViewSharing.choices, initial=SavedViewSharing.PRIVATE)
    is_default = forms.BooleanField(required=False)


def _list_url(tenant_slug: str, query: QueryDict | None = None) -> str:
    url = reverse("leads:list", kwargs={"tenant_slug": tenant_slug})
    return f"{url}?{query.urlencode()}" if query else url


def saved_view_url(view: SavedView, *, tenant_slug: str) -> str:
    return _list_url(tenant_slug, saved_view_query(view=view))


def saved_view_default_redirect(request: TenantHttpRequest) -> str | None:
    """The member's default view, when they open the plain list (no query at all)."""
    if request.GET or request.htmx:
        return None
    view = saved_view_default_get(membership=request.membership)
    return saved_view_url(view, tenant_slug=request.tenant.slug) if view else None


def _with_columns(query: QueryDict, columns: tuple[str, ...]) -> QueryDict:
    query = query.copy()
    query.setlist(COLUMNS_PARAM, ["name", *columns])
    return query


def saved_view_list_context(
    request: TenantHttpRequest, *, query: QueryDict, form_errors: Any, has_pools: bool
) -> dict[str, Any]:
    """What the list needs for its views menu, its columns and its export links."""
    view_id = query.get(VIEW_PARAM, "")
    active = saved_view_get(view_id=int(view_id), membership=request.membership) if view_id.isdigit() else None
    columns = list_columns_for(query=query, view=active)
    if not has_pools:  # a tenant without pools has nothing to show in that column
        columns = tuple(key for key in columns if key != "pool")
    views = saved_view_list(membership=request.membership)
    save_query = QueryDict(mutable=True)
    for name, values in saved_view_query_from(query).items():
        save_query.setlist(name, values)
    return {
        "columns": columns,
        "column_choices": [(key, label) for key, label in LIST_COLUMNS.items() if has_pools or key != "pool"],
        "active_view": active,
        "view_unknown": bool(view_id) and active is None,
        "stale_view_fields": saved_view_stale_fields(view=active, form_errors=form_errors) if active else [],
        "saved_views": [(view, saved_view_url(view, tenant_slug=request.tenant.slug)) for view in views],
        "default_view_id": saved_view_default_id(user=request.user),
        "save_view_form": SavedViewForm(),
        "save_query": _with_columns(save_query, columns).urlencode(),
        "sharing_choices": SavedViewSharing.choices,
        "view_name_max_length": SAVED_VIEW_NAME_MAX_LENGTH,
    }


def _manage_page(request: TenantHttpRequest, *, form: SavedViewForm | None = None, query: QueryDict | None = None,
                 rename_errors: dict[int, list[str]] | None = None, status: int = 200) -> HttpResponse:
    views = saved_view_list(membership=request.membership)
    context = {
        "rows": [
            {"view": view, "url": saved_view_url(view, tenant_slug=request.tenant.slug),
             "is_own": view.owner_id == request.user.id, "errors": (rename_errors or {}).get(view.id, [])}
            for view in views
        ],
        "default_view_id": saved_view_default_id(user=request.user),
        "sharing_choices": SavedViewSharing.choices,
        "form": form,
        "save_query": (query or QueryDict()).urlencode(),
        "view_name_max_length": SAVED_VIEW_NAME_MAX_LENGTH,
        "nav_active": "leads",
    }
    return render(request, "leads/saved_views.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_member_required
def saved_view_list_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """GET: the member's views; POST: save the list (its query in the form) as a new view."""
    if request.method == "GET":
        return _manage_page(request)
    form = SavedViewForm(request.POST)
    # The list's query string as the page had it (filters, ordering, columns), in one field.
    list_query = QueryDict(request.POST.get("list_query", "")[:4000])
    if form.is_valid():
        try:
            view = saved_view_create(
                tenant=request.tenant, owner=request.user, name=form.cleaned_data["name"],
                query=saved_view_query_from(list_query),
                columns=list_columns_for(query=list_query, view=None) if COLUMNS_PARAM in list_query
                else tuple(LIST_COLUMNS),
                shared_with=form.cleaned_data["shared_with"], is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("已保存视图「%(name)s」。") % {"name": view.name})
            return redirect(saved_view_url(view, tenant_slug=tenant_slug))
    return _manage_page(request, form=form, query=list_query, status=400)


def _own_view(request: TenantHttpRequest, view_id: int) -> SavedView:
    view = saved_view_own_get(view_id=view_id, user=request.user)
    if view is None:  # another's view (even a shared one) is not theirs to change: 404, as unknown
        raise Http404("No such view.")
    return view


@require_POST
@tenant_member_required
def saved_view_update_action(request: TenantHttpRequest, tenant_slug: str, view_id: int) -> HttpResponse:
    view = _own_view(request, view_id)
    try:
        saved_view_update(
            view=view, name=request.POST.get("name"), shared_with=request.POST.get("shared_with") or None
        )
    except ValidationError as error:
        view.refresh_from_db()
        errors = [message for messages_ in error.message_dict.values() for message in messages_]
        return _manage_page(request, rename_errors={view.id: errors}, status=400)
    messages.success(request, _("已更新视图「%(name)s」。") % {"name": view.name})
    return redirect("leads:saved-views", tenant_slug=tenant_slug)


@require_POST
@tenant_member_required
def saved_view_delete_action(request: TenantHttpRequest, tenant_slug: str, view_id: int) -> HttpResponse:
    view = _own_view(request, view_id)
    name = view.name
    saved_view_delete(view=view)
    messages.success(request, _("已删除视图「%(name)s」。") % {"name": name})
    return redirect("leads:saved-views", tenant_slug=tenant_slug)


@require_POST
@tenant_member_required
def saved_view_default_action(request: TenantHttpRequest, tenant_slug: str, view_id: int) -> HttpResponse:
    """Make a view (one's own or shared with one) the default; posting `clear` unsets it."""
    view = saved_view_get(view_id=view_id, membership=request.membership)
    if view is None:
        raise Http404("No such view.")
    if request.POST.get("clear"):
        saved_view_default_set(tenant=request.tenant, user=request.user, view=None)
        messages.success(request, _("已取消默认视图，线索列表将显示全部线索。"))
    else:
        saved_view_default_set(tenant=request.tenant, user=request.user, view=view)
        messages.success(request, _("打开线索列表时将默认使用视图「%(name)s」。") % {"name": view.name})
    return redirect("leads:saved-views", tenant_slug=tenant_slug)
