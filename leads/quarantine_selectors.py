"""Reads of the quarantine (隔离区: the intake log, `IntakeRecord`): the filtered list, keyset
pages of it, one record, and counts by reason and channel. The page and the API call the same
functions; every query is the tenant's (`IntakeRecord.objects` is tenant-scoped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Count, Func, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from leadcrm.keyset import InvalidCursor, KeysetPage, keyset_page
from leads.models import IntakeRecord

INTAKE_PAGE_SIZE = 50
# Payload fields the free-text search looks in: who the submission was about.
SEARCHED_PAYLOAD_FIELDS = ("name", "mobile", "phone", "email", "wechat", "company")


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_reason(reason: str) -> RawSQL:
    """The record has `reason`, or a code of the family `reason` names (`blacklist` →
    `blacklist.phone`). Written as SQL: the ORM has no "any element of an array LIKE"."""
    return RawSQL(
        "EXISTS (SELECT 1 FROM unnest(leads_intakerecord.reasons) AS r(code) WHERE r.code = %s OR r.code LIKE %s)",
        (reason, f"{_like_escaped(reason)}.%"),
        output_field=BooleanField(),
    )


def _payload_text_matches(q: str) -> Q:
    condition = Q()
    for name in SEARCHED_PAYLOAD_FIELDS:
        condition |= Q(**{f"payload__{name}__icontains": q})
    # A phone number typed with spaces or dashes (138 1234 5678) against the payload as sent.
    digits = "".join(ch for ch in q if ch.isdigit())
    if len(digits) >= 3 and not q.strip(" -+()0123456789"):
        condition |= Q(payload_mobile_digits__contains=digits)
    return condition


def intake_record_list(
    *,
    reason: str = "",
    channel: str = "",
    status: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q: str = "",
) -> QuerySet[IntakeRecord]:
    """The tenant's intake records matching every filter given, newest first. `reason` is a
    code or a family; `created_before` is exclusive; `q` is part of the submitted name, mobile,
    phone, e-mail, WeChat id or company (purged records have none)."""
    qs = IntakeRecord.objects.all()
    if reason:
        qs = qs.filter(_has_reason(reason))
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if created_after is not None:
        qs = qs.filter(created_at__gte=created_after)
    if created_before is not None:
        qs = qs.filter(created_at__lt=created_before)
    if q := q.strip():
        qs = qs.alias(
            payload_mobile_digits=Func(
                Cast(KT("payload__mobile"), TextField()), Value(r"\D"), Value(""), Value("g"),
                function="regexp_replace", output_field=TextField(),
            )
        ).filter(_payload_text_matches(q))
    return qs.order_by("-created_at", "-id")


def intake_record_get(*, record_id: int) -> IntakeRecord | None:
    return IntakeRecord.objects.filter(id=record_id).select_related("restored_by", "purged_by", "submitted_by").first()


@dataclass(frozen=True)
class IntakeCounts:
    """Records by reason and by channel. A record with two reasons counts once under each, so
    `by_reason` may add up to more than `total`."""

    total: int
    by_reason: dict[str, int] = field(default_factory=dict)  # most frequent first
    by_channel: dict[str, int] = field(default_factory=dict)


def intake_counts_of(*, queryset: QuerySet[IntakeRecord]) -> IntakeCounts:
    """`IntakeCounts` of a filtered list (`intake_record_list`): two aggregate queries."""
    inner = queryset.order_by().values("reasons")
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.code, count(*) FROM ({sql}) AS s CROSS JOIN LATERAL unnest(s.reasons) AS r(code) "  # noqa: S608 - the ORM's own SQL; values are parameters
            "GROUP BY r.code ORDER BY count(*) DESC, r.code",
            params,
        )
        by_reason: dict[str, int] = dict(cursor.fetchall())
    channels = queryset.order_by().values("channel").annotate(count=Count("id")).order_by("-count", "channel")
    by_channel = {row["channel"]: row["count"] for row in channels}
    return IntakeCounts(total=sum(by_channel.values()), by_reason=by_reason, by_channel=by_channel)


def intake_counts(
    *, since: datetime | None = None, until: datetime | None = None, channel: str = "", status: str = ""
) -> IntakeCounts:
    """The tenant's rejected submissions by reason and by channel, received in [since, until):
    plain data for the quarantine page and the invalid-reason report."""
    return intake_counts_of(
        queryset=intake_record_list(channel=channel, status=status, created_after=since, created_before=until)
    )


# --- keyset pages (the page; the API uses DRF's cursor) ----------------------------------------


InvalidIntakeCursor = InvalidCursor  # the quarantine's name for it


def intake_record_keyset_page(
    *, queryset: QuerySet[IntakeRecord], cursor: str = "", page_size: int = INTAKE_PAGE_SIZE
) -> KeysetPage[IntakeRecord]:
    """One page of `queryset`, newest first, after or before `cursor` (the (tenant, -created_at,
    -id) index at any depth)."""
    return keyset_page(queryset=queryset, ordering=("-created_at", "-id"), cursor=cursor, page_size=page_size)
