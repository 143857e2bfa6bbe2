"""The notifications page (/<tenant>/notifications): the signed-in member's own notifications,
newest first, unread ones only on request; mark one or all read. Plain POST forms, so it
works without JavaScript; with htmx the list swaps in place."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadcrm.notifications.selectors import notification_list, notification_unread_count
from leadcrm.notifications.services import notifications_mark_read
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required

PAGE_SIZE = 30


def _list_url(request: TenantHttpRequest, *, unread_only: bool) -> str:
    url = reverse("bell:list", kwargs={"tenant_slug": request.tenant.slug})
    return f"{url}?unread=1" if unread_only else url


@tenant_member_required
@require_GET
def notification_list_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notification_list(recipient_id=request.user.id, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav_active": "notifications", "page": page, "unread_only": unread_only,
        "unread_count": notification_unread_count(recipient_id=request.user.id),
        "current_url": _list_url(request, unread_only=unread_only),
        "list_url": _list_url(request, unread_only=False),
    }
    template = "notifications/list.html" + ("#notification-list" if request.htmx and not request.htmx.history_restore_request else "")
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@tenant_member_required
@require_http_methods(["GET", "POST"])
def notification_read(request: TenantHttpRequest, tenant_slug: str, notification_id: int) -> HttpResponse:
    """Mark one read; with `go=1`, then open where it leads (its `url`, a workbench path).
    Only the member's own: another's notification is a 404, as if it did not exist."""
    url = notification_list(recipient_id=request.user.id).filter(id=notification_id).values_list("url", flat=True).first()
    if url is None:
        raise Http404("No such notification.")
    if request.method == "GET":  # the buttons live on the list
        return HttpResponseRedirect(_list_url(request, unread_only=False))
    notifications_mark_read(recipient_id=request.user.id, ids=[notification_id])
    target = _list_url(request, unread_only=request.POST.get("unread") == "1")
    if request.POST.get("go") == "1" and url.startswith("/") and not url.startswith("//"):
        target = url
    return HttpResponseRedirect(target)


@tenant_member_required
@require_POST
def notification_read_all(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    notifications_mark_read(recipient_id=request.user.id)
    return HttpResponseRedirect(_list_url(request, unread_only=request.POST.get("unread") == "1"))
