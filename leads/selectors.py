from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Q, QuerySet

from leadcrm.keyset import InvalidCursor, KeysetPage, keyset_page
from leadcrm.tenancy.models import AuditLog, Membership, Role, person_name
from leadcrm.tenancy.scoping import TenantScopeMissing, current_tenant_id
from leads.filters import with_sort_keys
from leads.models import (
    BECAME_HOT_ACTION,
    BECAME_MATURE_ACTION,
    LEAD_EDIT_ACTION,
    OWNER_CHANGE_ACTION,
    POOL_CHANGE_ACTION,
    STATUS_CHANGE_ACTION,
    TRANSFER_REQUEST_ACTION,
    CompanyAlias,
    Customer,
    DedupRule,
    Lead,
    LeadSubmission,
)

logger = logging.getLogger(__name__)


def lead_visible_to(*, membership: Membership | None) -> QuerySet[Lead]:
    """Leads a member may see: reps their own; managers, admins, read-only all (teams come
    with assignment). API keys (membership None) see the whole tenant."""
    qs = Lead.objects.all()
    if membership is not None and membership.role == Role.REP:
        qs = qs.filter(owner_id=membership.user_id)
    return qs


def lead_is_visible_to(*, lead: Lead, membership: Membership | None) -> bool:
    """`lead_visible_to` for one lead in hand, without a query; the two must agree."""
    return membership is None or membership.role != Role.REP or lead.owner_id == membership.user_id


def lead_get(*, lead_id: int, membership: Membership | None = None) -> Lead | None:
    return lead_visible_to(membership=membership).filter(id=lead_id).select_related("owner", "pool").first()


@dataclass(frozen=True)
class PersonLabel:
    """A person as pages show them: a readable name, with the e-mail address for a tooltip."""

    name: str
    email: str

    def __str__(self) -> str:
        return self.name


def owner_labels(*, user_ids: set[int]) -> dict[int, PersonLabel]:
    """Names of the given users as this tenant knows them (`person_name`); users who are no
    longer members by their account. One query, two when some have left."""
    if not user_ids:
        return {}
    rows = Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "display_name", "user__first_name", "user__last_name", "user__email", "tenant__name"
    )
    labels = {
        user_id: PersonLabel(
            name=person_name(
                display_name=display_name, full_name=f"{first} {last}", email=email, tenant_name=tenant_name
            ),
            email=email,
        )
        for user_id, display_name, first, last, email, tenant_name in rows
    }
    if missing := user_ids - labels.keys():
        labels.update({
            user.id: PersonLabel(
                name=person_name(display_name="", full_name=user.get_full_name(), email=user.email), email=user.email
            )
            for user in User.objects.filter(id__in=missing)
        })
    return labels


def owner_display_names(*, user_ids: set[int]) -> dict[int, str]:
    return {user_id: label.name for user_id, label in owner_labels(user_ids=user_ids).items()}


# --- workbench (UI) -----------------------------------------------------------------------------

LEAD_PAGE_SIZE = 50
# Large columns the list never shows: keep the 50-row page narrow.
_LIST_DEFERRED_FIELDS = ("search_text", "notes", "custom", "utm_source", "utm_medium", "utm_campaign")


InvalidLeadCursor = InvalidCursor  # the list's name for it


def lead_keyset_page(
    *,
    queryset: QuerySet[Lead],
    ordering: tuple[str, ...],
    cursor: str = "",
    page_size: int = LEAD_PAGE_SIZE,
    deferred_fields: tuple[str, ...] = _LIST_DEFERRED_FIELDS,
) -> KeysetPage[Lead]:
    """One page of `queryset` in `ordering` (a `leads.filters.ORDERING_CHOICES` value), after or
    before `cursor`, without the large columns the list never shows."""
    queryset = with_sort_keys(queryset.defer(*deferred_fields), ordering)
    return keyset_page(queryset=queryset, ordering=ordering, cursor=cursor, page_size=page_size)


LEAD_COUNT_CAP = 10_000
LEAD_COUNT_TIMEOUT_MS = 30
# An estimate this many times the cap is trusted without counting: planner estimates are
# rarely off by so much, and they cost a fraction of a millisecond against a walk of the cap.
LEAD_COUNT_TRUSTED_ESTIMATE = 10
_QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


@dataclass(frozen=True)
class LeadCount:
    """How many leads a list matches: exactly `value`; more than `value` (the cap); or about
    `value` (PostgreSQL's estimate, for lists too long to count on every page view)."""

    value: int
    kind: Literal["exact", "more_than", "about"]


def _round_estimate(value: float) -> int:
    """Two significant digits: an estimate should not look precise (1,000,008 → 1,000,000)."""
    value = int(value)
    if value < 100:
        return value
    step = 10 ** (len(str(value)) - 2)
    return round(value / step) * step


def _capped_count(ids: QuerySet[Lead, int], *, cap: int, timeout_ms: int) -> int | None:
    """count(*) of at most cap + 1 rows, or None when it takes longer than `timeout_ms`."""
    sql, params = ids[: cap + 1].query.sql_with_params()
    try:
        # A savepoint, so that a cancelled count leaves the page's transaction usable; the
        # SET LOCAL would last until the transaction ends, so it is put back in the same round trip.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL statement_timeout = {int(timeout_ms)}; SELECT count(*) FROM ({sql}) AS capped; "
                "SET LOCAL statement_timeout TO DEFAULT",
                params,
            )
            cursor.nextset()
            return int(cursor.fetchone()[0])
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != _QUERY_CANCELED:
            raise
        return None


def lead_count(
    *, queryset: QuerySet[Lead], cap: int = LEAD_COUNT_CAP, timeout_ms: int = LEAD_COUNT_TIMEOUT_MS
) -> LeadCount | None:
    """The number of leads in `queryset` for the list's header, cheap at any size.

    PostgreSQL's estimate first (EXPLAIN: planning only). Far above the cap, that is the
    answer ("about"). Otherwise a count of at most cap + 1 rows (a short walk of an index),
    under a statement timeout: a filter combination the indexes serve badly could make even that
    walk much of the tenant. Past the cap or the timeout, the estimate when it is above the cap,
    else "more than the cap"; None when there is no honest answer (a timed-out count and an
    estimate within the cap)."""
    ids = queryset.order_by().values_list("id", flat=True)
    estimate = _round_estimate(json.loads(ids.explain(format="json"))[0]["Plan"]["Plan Rows"])
    if estimate >= cap * LEAD_COUNT_TRUSTED_ESTIMATE:
        return LeadCount(value=estimate, kind="about")
    counted = _capped_count(ids, cap=cap, timeout_ms=timeout_ms)
    if counted is not None and counted <= cap:
        return LeadCount(value=counted, kind="exact")
    if estimate > cap:
        return LeadCount(value=estimate, kind="about")
    return LeadCount(value=cap, kind="more_than") if counted is not None else None


SOURCE_SUGGESTIONS_WINDOW = 5_000
SOURCE_SUGGESTIONS_SECONDS = 300
# The most used sources among the tenant's newest leads: a walk of the newest rows of the
# (tenant, created_at, id) index, whatever the size of the tenant; every distinct value would
# mean a pass over all of them.
_SOURCE_SUGGESTIONS_SQL = """
    SELECT source FROM (
        SELECT source FROM leads_lead WHERE tenant_id = %(tenant_id)s
        ORDER BY created_at DESC, id DESC LIMIT %(window)s
    ) AS recent
    WHERE source <> '' GROUP BY source ORDER BY count(*) DESC, source LIMIT %(limit)s
"""


def lead_source_suggestions(*, limit: int = 12) -> list[str]:
    """The sources the current tenant's leads actually use, most used first (among the newest
    few thousand), for the list's source filter. Cached per tenant for a few minutes."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantScopeMissing("lead_source_suggestions() outside tenant_scope()")
    key = f"lead-source-suggestions:{tenant_id}:{limit}"
    # Suggestions are a convenience: a cache outage costs a query, not the page.
    try:
        cached: list[str] | None = cache.get(key)
    except Exception as error:  # noqa: BLE001 - whatever the backend raises
        logger.warning("lead source suggestions: cache unavailable (%s)", error)
        cached = None
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(_SOURCE_SUGGESTIONS_SQL, {"tenant_id": tenant_id, "window": SOURCE_SUGGESTIONS_WINDOW, "limit": limit})
        sources = [row[0] for row in cursor.fetchall()]
    try:
        cache.set(key, sources, timeout=SOURCE_SUGGESTIONS_SECONDS)
    except Exception as error:  # noqa: BLE001
        logger.warning("lead source suggestions: cache unavailable (%s)", error)
    return sources


def lead_submission_list(*, lead_id: int, limit: int = 100) -> list[LeadSubmission]:
    """Submissions collected (归集) into a lead, newest first."""
    return list(LeadSubmission.objects.filter(lead_id=lead_id).order_by("-created_at", "-id")[:limit])


def lead_duplicate_list(*, lead_id: int, membership: Membership | None, limit: int = 20) -> list[Lead]:
    """Leads tagged as duplicates of this one that the member may see."""
    return list(
        lead_visible_to(membership=membership)
        .filter(duplicate_of_id=lead_id)
        .only("id", "name", "company", "status", "owner_id", "created_at", "duplicate_rule_id")
        .order_by("-created_at", "-id")[:limit]
    )


def lead_history_list(*, lead_id: int, limit: int = 100) -> list[AuditLog]:
    """The lead's audited pool, owner and status changes, edits of its fields, the requests to
    take it over and the moments its score became hot or mature, newest first."""
    actions = [
        POOL_CHANGE_ACTION, OWNER_CHANGE_ACTION, STATUS_CHANGE_ACTION, TRANSFER_REQUEST_ACTION, BECAME_HOT_ACTION,
        BECAME_MATURE_ACTION, LEAD_EDIT_ACTION,
    ]
    return list(
        AuditLog.objects.filter(object_type="lead", object_id=str(lead_id), action__in=actions)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def lead_pool_names() -> dict[int, str]:
    """The tenant's pools by id, for the list's pool filter and the lead's labels (a tenant
    has a handful). Pools belong to assignment, which leads must not import: the model is
    reached through the lead's own foreign key to it."""
    pool_model = Lead._meta.get_field("pool").related_model
    assert isinstance(pool_model, type)
    return dict(pool_model._default_manager.filter(tenant_id=current_tenant_id()).order_by("name").values_list("id", "name"))


def lead_masking_pool_ids() -> frozenset[int]:
    """The tenant's pools that mask their leads' contacts (`leads.masking.contacts_masked`):
    one query for a page, whatever its number of rows; read through the lead's foreign key."""
    pool_model = Lead._meta.get_field("pool").related_model
    assert isinstance(pool_model, type)
    return frozenset(
        pool_model._default_manager.filter(tenant_id=current_tenant_id(), mask_contacts=True).values_list("id", flat=True)
    )


def lead_search_unmasking_excluded(
    *, queryset: QuerySet[Lead], q: str, viewer_id: int, masking_pool_ids: frozenset[int]
) -> QuerySet[Lead]:
    """The search `q` must not reveal a masked contact piece by piece (138 → 1381 → …): a
    masked lead the viewer does not own matches only by its name, company or title, or by a
    whole contact (the full mobile number, e-mail or WeChat id; shown masked all the same)."""
    q = q.strip()
    if not q or not masking_pool_ids:
        return queryset
    from leads.normalization import parse_phone

    parsed = parse_phone(q)
    whole = Q(name__icontains=q) | Q(company__icontains=q) | Q(title__icontains=q) | Q(email__iexact=q) | Q(wechat=q)
    whole |= Q(mobile=parsed.e164) | Q(phone=parsed.e164) if parsed else Q(mobile=q) | Q(phone=q)
    hidden = Q(pool_id__in=masking_pool_ids) & ~Q(owner_id=viewer_id)  # unowned leads too
    return queryset.exclude(hidden & ~whole)


# --- duplicate rules, company aliases ------------------------------------------------------------


def dedup_rule_list() -> QuerySet[DedupRule]:
    """The tenant's duplicate rules in the order intake tries them."""
    return DedupRule.objects.order_by("position", "id")


def dedup_rule_get(*, rule_id: int) -> DedupRule | None:
    return DedupRule.objects.filter(id=rule_id).first()


def company_alias_list() -> QuerySet[CompanyAlias]:
    return CompanyAlias.objects.order_by("-created_at", "-id")


def lead_dedup_rule_names(*, rule_ids: set[int]) -> dict[int, str]:
    """Names of the duplicate rules that matched, for a lead's page."""
    if not rule_ids:
        return {}
    return dict(DedupRule.objects.filter(id__in=rule_ids).values_list("id", "name"))


def customer_name(*, customer_id: int) -> str:
    return Customer.objects.filter(id=customer_id).values_list("name", flat=True).first() or ""
