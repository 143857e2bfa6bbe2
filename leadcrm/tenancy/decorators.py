"""The tenant edge of every UI page.

`tenant_member_required` resolves `tenant_slug` once, from the user's own memberships, so an
unknown tenant and a tenant the user does not belong to look exactly the same (404): a page
never reveals that another company uses LeadCRM. The view then runs inside
`tenant_scope()`, i.e. one transaction with row-level security set to that tenant.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from leadcrm.tenancy.models import Membership, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.selectors import membership_list_for_user
from leadcrm.tenancy.sessions import SESSION_TENANT_KEY


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class TenantHttpRequest(HtmxHttpRequest):
    """A request that passed `tenant_member_required`."""

    user: User
    tenant: Tenant
    membership: Membership
    memberships: list[Membership]  # every tenant the user belongs to, for the switcher


View = TypeVar("View", bound=Callable[..., HttpResponse])


def tenant_member_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, tenant_slug: str, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)
        memberships = membership_list_for_user(user=user)
        membership = next((m for m in memberships if m.tenant.slug == tenant_slug), None)
        if membership is None:
            raise Http404("No such workspace.")
        tenant_request = cast(TenantHttpRequest, request)
        tenant_request.tenant = membership.tenant
        tenant_request.membership = membership
        tenant_request.memberships = memberships
        if request.session.get(SESSION_TENANT_KEY) != membership.tenant_id:
            request.session[SESSION_TENANT_KEY] = membership.tenant_id  # the API follows the page
        # Dates on the page read in the tenant's time zone, whatever the server's is.
        with tenant_scope(membership.tenant_id), timezone.override(zoneinfo.ZoneInfo(membership.tenant.timezone)):
            return view(tenant_request, *args, tenant_slug=tenant_slug, **kwargs)

    return cast(View, login_required(wrapper))
