"""Admin pages of the web forms (网页表单): the list (filters, sorting, submission and bot
counts), creating and editing a form (fields chosen from the lead fields and the tenant's
custom fields, with labels and required flags), its preview and the snippet to paste."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from capture.webform_models import WebForm, WebFormLanguage
from capture.webform_selectors import ORDERINGS, webform_get, webform_list
from capture.webform_services import CONTACT_NAMES, WebFormInput, field_catalog, webform_create, webform_update
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required

View = TypeVar("View", bound=Callable[..., HttpResponse])
ORDERING_LABELS = {
    "-created_at": _("最新创建"),
    "created_at": _("最早创建"),
    "name": _("按名称"),
    "-submissions": _("提交最多"),
    "-bots": _("机器人拦截最多"),
}
STATUS_LABELS = {"": _("全部状态"), "active": _("启用中"), "inactive": _("已停用")}
DEFAULT_FIELDS = [
    {"name": "name", "label": "", "required": True},
    {"name": "mobile", "label": "", "required": True},
    {"name": "company", "label": "", "required": False},
]


def webform_admin_required(view: View) -> View:
    """Owners and admins only; other members get a page saying so (403)."""

    @wraps(view)
    def wrapper(request: TenantHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_admin:
            return render(request, "capture/webform_forbidden.html", {"nav_active": "webforms"}, status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


@require_http_methods(["GET", "HEAD"])
@tenant_member_required
@webform_admin_required
def webform_list_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in STATUS_LABELS else ""
    ordering = request.GET.get("ordering", "")
    ordering = ordering if ordering in ORDERINGS else "-created_at"
    page = Paginator(webform_list(q=q, status=status, ordering=ordering), per_page=25).get_page(request.GET.get("page"))
    query = QueryDict(mutable=True)
    for name, value in (("q", q), ("status", status), ("ordering", ordering if ordering != "-created_at" else "")):
        if value:
            query[name] = value
    context = {
        "page": page,
        "q": q,
        "status": status,
        "ordering": ordering,
        "status_options": list(STATUS_LABELS.items()),
        "ordering_options": list(ORDERING_LABELS.items()),
        "has_filters": bool(q or status),
        "base_query": query.urlencode(),
        "nav_active": "webforms",
    }
    return render(request, "capture/webform_list.html", context)


def _posted_input(request: TenantHttpRequest) -> WebFormInput:
    """The editor's POST: a row per catalog field (use, required, label, position)."""
    post = request.POST
    chosen: list[tuple[float, int, dict[str, Any]]] = []
    for index, (name, _label) in enumerate(field_catalog(tenant=request.tenant)):
        if not post.get(f"use:{name}"):
            continue
        try:
            position = float(post.get(f"position:{name}") or index + 1)
        except ValueError:
            position = index + 1
        spec = {"name": name, "label": post.get(f"label:{name}", "")[:200], "required": bool(post.get(f"required:{name}"))}
        chosen.append((position, index, spec))
    return WebFormInput(
        name=post.get("name", "")[:200], fields=[spec for _p, _i, spec in sorted(chosen, key=lambda row: row[:2])],
        thank_you=post.get("thank_you", "")[:2000], source=post.get("source", "")[:200],
        campaign=post.get("campaign", "")[:200], language=post.get("language", ""), is_active=bool(post.get("is_active")),
    )


def _editor_rows(request: TenantHttpRequest, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chosen = {spec["name"]: (position, spec) for position, spec in enumerate(fields, start=1)}
    rows = []
    for name, label in field_catalog(tenant=request.tenant):
        position, spec = chosen.get(name, (None, None))
        rows.append({
            "name": name, "default_label": label, "used": spec is not None, "required": bool(spec and spec["required"]),
            "label": spec["label"] if spec else "", "position": position or "", "is_contact": name in CONTACT_NAMES,
            "is_custom": name.startswith("custom."),
        })
    return sorted(rows, key=lambda row: (not row["used"], row["position"] or 0))


def _snippets(request: TenantHttpRequest, form: WebForm) -> dict[str, str]:
    url = request.build_absolute_uri(reverse("capture:webform-public", kwargs={"key": form.key}))
    script = request.build_absolute_uri(reverse("capture:webform-embed", kwargs={"key": form.key}))
    return {
        "public_url": url,
        "iframe": f'<iframe src="{url}" title="{escape(form.name)}" loading="lazy" '
        f'style="width:100%;max-width:640px;height:720px;border:0"></iframe>',
        "script": f'<script src="{script}" data-title="{escape(form.name)}" async></script>',
    }


def _editor(
    request: TenantHttpRequest, *, form: WebForm | None, data: WebFormInput, errors: dict[str, list[str]], status: int = 200
) -> HttpResponse:
    context = {
        "webform": form,
        "values": data,
        "rows": _editor_rows(request, data.fields),
        "errors": errors,
        "language_options": WebFormLanguage.choices,
        "snippets": _snippets(request, form) if form is not None else None,
        "nav_active": "webforms",
    }
    return render(request, "capture/webform_edit.html", context, status=status)


def _errors(error: ValidationError) -> dict[str, list[str]]:
    return {name: [str(text) for text in texts] for name, texts in error.message_dict.items()}


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
@webform_admin_required
def webform_new_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if request.method != "POST":
        data = WebFormInput(name="", fields=DEFAULT_FIELDS, thank_you=gettext("感谢你的留言，我们会尽快与你联系。"))
        return _editor(request, form=None, data=data, errors={})
    data = _posted_input(request)
    try:
        form = webform_create(tenant=request.tenant, actor=request.user, data=data)
    except ValidationError as error:
        return _editor(request, form=None, data=data, errors=_errors(error), status=400)
    messages.success(request, gettext("表单已创建：复制下面的代码放到你的网站上。"))
    return HttpResponseRedirect(reverse("capture:webform", kwargs={"tenant_slug": tenant_slug, "form_id": form.id}))


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_member_required
@webform_admin_required
def webform_edit_page(request: TenantHttpRequest, tenant_slug: str, form_id: int) -> HttpResponse:
    form = webform_get(form_id=form_id)
    if form is None:
        raise Http404("No such form.")
    if request.method != "POST":
        data = WebFormInput(
            name=form.name, fields=form.fields, thank_you=form.thank_you, source=form.source, campaign=form.campaign,
            language=form.language, is_active=form.is_active,
        )
        return _editor(request, form=form, data=data, errors={})
    data = _posted_input(request)
    try:
        webform_update(tenant=request.tenant, form=form, actor=request.user, data=data)
    except ValidationError as error:
        form.refresh_from_db()
        return _editor(request, form=form, data=data, errors=_errors(error), status=400)
    messages.success(request, gettext("已保存。已嵌入的表单会立即使用新的设置。"))
    return HttpResponseRedirect(reverse("capture:webform", kwargs={"tenant_slug": tenant_slug, "form_id": form.id}))
