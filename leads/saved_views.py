"""Saved views of the lead list: a member's named filters, ordering and columns, kept for
themselves or shared with their team or the whole tenant, and the one their list opens with.

A view stores the list's question (its query string), never rows: whoever picks it runs the
question as themselves, so a shared view shows each viewer only the leads they may see. A value
that no longer means anything (a pool deleted since) is the list form's to refuse, field by field,
as for any link: the page says the view has a stale filter instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from leadcrm.tenancy.models import Membership, Tenant
from leads.list_columns import COLUMNS_PARAM, DEFAULT_COLUMNS, columns_clean
from leads.models import SAVED_VIEW_NAME_MAX_LENGTH, SavedView, SavedViewDefault, SavedViewSharing

# The list page's query parameters a view keeps: its filters and ordering (leads.views.LeadListForm,
# without the page cursor; a test holds the two together).
SAVED_VIEW_QUERY_FIELDS = (
    "q", "status", "tier", "grade", "group", "mature", "scored", "source", "owner", "pool", "min_score", "max_score",
    "created_from", "created_to", "ordering",
)
VIEW_PARAM = "view"
SAVED_VIEW_QUERY_MAX_VALUES = 50  # a view of every group is 12 values; more is not a list page's query


# --- selectors ----------------------------------------------------------------------------------


def saved_view_visible_to(*, membership: Membership | None) -> QuerySet[SavedView]:
    """Views a member may pick: their own, those shared with the whole tenant, and those their
    team's members share with the team. An API key (membership None) sees the tenant's shared ones."""
    shared = Q(shared_with=SavedViewSharing.TENANT)
    if membership is None:
        return SavedView.objects.filter(shared)
    mine = Q(owner_id=membership.user_id)
    if membership.team:
        teammates = Membership.objects.filter(team=membership.team, is_active=True).values("user_id")
        shared |= Q(shared_with=SavedViewSharing.TEAM, owner_id__in=teammates)
    return SavedView.objects.filter(mine | shared)


def saved_view_list(*, membership: Membership | None) -> list[SavedView]:
    """The views a member may pick: their own first, then the shared ones, each by name."""
    views = list(saved_view_visible_to(membership=membership).order_by("name", "id"))
    user_id = membership.user_id if membership else None
    return sorted(views, key=lambda view: view.owner_id != user_id)


def saved_view_get(*, view_id: int, membership: Membership | None) -> SavedView | None:
    return saved_view_visible_to(membership=membership).filter(id=view_id).first()


def saved_view_own_get(*, view_id: int, user: User) -> SavedView | None:
    """One of the user's own views (only the owner renames, shares or deletes a view)."""
    return SavedView.objects.filter(id=view_id, owner_id=user.id).first()


def saved_view_default_get(*, membership: Membership) -> SavedView | None:
    """The member's default view, if they still may pick it (a teammate may have unshared it)."""
    view_id = SavedViewDefault.objects.filter(user_id=membership.user_id).values_list("view_id", flat=True).first()
    return saved_view_get(view_id=view_id, membership=membership) if view_id else None


def saved_view_query(*, view: SavedView) -> QueryDict:
    """The list's query string that opens `view`: its filters and ordering, its columns, its id."""
    query = QueryDict(mutable=True)
    for name, values in (view.query or {}).items():
        if name in SAVED_VIEW_QUERY_FIELDS and isinstance(values, list):
            query.setlist(name, [str(value) for value in values])
    query.setlist(COLUMNS_PARAM, ["name", *columns_clean(view.columns or [])])
    query[VIEW_PARAM] = str(view.id)
    return query


def list_columns_for(*, query: QueryDict, view: SavedView | None) -> tuple[str, ...]:
    """The columns the list shows: the query's choice (the column picker always sends `name`),
    else the view's, else all of them."""
    if COLUMNS_PARAM in query:
        return columns_clean(query.getlist(COLUMNS_PARAM))
    if view is not None:
        return columns_clean(view.columns or [])
    return DEFAULT_COLUMNS


def saved_view_stale_fields(*, view: SavedView, form_errors: Iterable[str]) -> list[str]:
    """The view's filters the list form refused (a pool deleted since, an owner who left)."""
    return [name for name in form_errors if name in (view.query or {})]


# --- services -----------------------------------------------------------------------------------


def saved_view_query_from(query: QueryDict) -> dict[str, list[str]]:
    """The filters and ordering to keep from a list's query string; blanks and paging dropped."""
    kept: dict[str, list[str]] = {}
    for name in SAVED_VIEW_QUERY_FIELDS:
        values = [value for value in query.getlist(name) if value][:SAVED_VIEW_QUERY_MAX_VALUES]
        if values:
            kept[name] = values
    return kept


def _clean_name(name: str, *, owner_id: int, exclude_id: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("请给视图起个名字。")})
    if len(name) > SAVED_VIEW_NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("视图名称最多 %(limit)d 个字，请缩短。") % {"limit": SAVED_VIEW_NAME_MAX_LENGTH}}
        )
    taken = SavedView.objects.filter(owner_id=owner_id, name=name)
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    if taken.exists():
        raise ValidationError({"name": _("你已有名为「%(name)s」的视图，请换一个名字。") % {"name": name}})
    return name


def _clean_sharing(shared_with: str) -> str:
    if shared_with not in SavedViewSharing.values:
        raise ValidationError({"shared_with": _("请选择仅自己、我的团队或全公司。")})
    return shared_with


def _duplicate_name(name: str) -> ValidationError:
    return ValidationError({"name": _("你已有名为「%(name)s」的视图，请换一个名字。") % {"name": name}})


def saved_view_create(
    *,
    tenant: Tenant,
    owner: User,
    name: str,
    query: dict[str, list[str]],
    columns: Iterable[str],
    shared_with: str = SavedViewSharing.PRIVATE,
    is_default: bool = False,
) -> SavedView:
    """Save a list as a view of `owner`'s; `ValidationError` by field when the name is empty,
    too long or already one of theirs."""
    name = _clean_name(name, owner_id=owner.id)
    view = SavedView(
        tenant=tenant, owner=owner, name=name, query=query, columns=list(columns_clean(columns)),
        shared_with=_clean_sharing(shared_with),
    )
    try:
        with transaction.atomic():  # two tabs saving the same name at once: one wins, one is told
            view.save()
    except IntegrityError:
        raise _duplicate_name(name) from None
    if is_default:
        saved_view_default_set(tenant=tenant, user=owner, view=view)
    return view


def saved_view_update(
    *, view: SavedView, name: str | None = None, shared_with: str | None = None,
    query: dict[str, list[str]] | None = None, columns: Iterable[str] | None = None,
) -> SavedView:
    """Rename, re-share or overwrite one's own view; the same messages as `saved_view_create`."""
    changed: list[str] = []
    if name is not None:
        view.name = _clean_name(name, owner_id=view.owner_id, exclude_id=view.id)
        changed.append("name")
    if shared_with is not None:
        view.shared_with = _clean_sharing(shared_with)
        changed.append("shared_with")
    if query is not None:
        view.query = query
        changed.append("query")
    if columns is not None:
        view.columns = list(columns_clean(columns))
        changed.append("columns")
    if changed:
        try:
            with transaction.atomic():
                view.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _duplicate_name(view.name) from None
    return view


def saved_view_delete(*, view: SavedView) -> None:
    view.delete()  # members' defaults pointing at it go with it (CASCADE)


def saved_view_default_set(*, tenant: Tenant, user: User, view: SavedView | None) -> None:
    """Make `view` the one the user's list opens with (None: the plain list again)."""
    if view is None:
        SavedViewDefault.objects.filter(user_id=user.id).delete()
        return
    SavedViewDefault.objects.update_or_create(
        user_id=user.id, defaults={"view": view}, create_defaults={"view": view, "tenant": tenant}
    )


def saved_view_default_id(*, user: User) -> int | None:
    return SavedViewDefault.objects.filter(user_id=user.id).values_list("view_id", flat=True).first()


def saved_view_summary(view: SavedView, *, user_id: int | None) -> dict[str, Any]:
    """What a menu shows of a view: its name, whose it is, how it is shared."""
    return {"view": view, "is_own": view.owner_id == user_id, "sharing": view.get_shared_with_display()}
