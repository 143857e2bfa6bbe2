"""Reads of web forms: the admin list (filters, sorting) and the public look-up by key."""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from capture.webform_models import WebForm

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,40}")
ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "name": ("name", "id"),
    "-submissions": ("-submission_count", "-id"),
    "-bots": ("-bot_count", "-id"),
}


def webform_list(*, q: str = "", status: str = "", ordering: str = "-created_at") -> QuerySet[WebForm]:
    """The current tenant's forms; `status` is "active", "inactive" or "" for all."""
    forms = WebForm.objects.all()
    if q:
        forms = forms.filter(Q(name__icontains=q) | Q(source__icontains=q) | Q(campaign__icontains=q))
    if status == "active":
        forms = forms.filter(is_active=True)
    elif status == "inactive":
        forms = forms.filter(is_active=False)
    return forms.order_by(*ORDERINGS.get(ordering, ORDERINGS["-created_at"]))


def webform_get(*, form_id: int) -> WebForm | None:
    return WebForm.objects.filter(id=form_id).first()


def webform_by_key(*, key: str) -> WebForm | None:
    """The form a public URL names, of whichever tenant, with its tenant: no tenant is known yet.
    Row-level security shows only the row whose key the transaction names (see the model's
    `rls_extra_using`), so this reads that one row and nothing else."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.webform_key', %s, true)", [key])
        # all_tenants: the tenant is what this look-up finds out; RLS above limits it to one key.
        return WebForm.all_tenants.filter(key=key).select_related("tenant").first()
