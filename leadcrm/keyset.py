"""Keyset pages for every list: `(sort, id) < (?, ?) ORDER BY sort, id LIMIT n+1` rides a
(tenant, …, sort, id) index at any depth, with no OFFSET and no COUNT(*). The page and the API
of every list use it; the cursor names its direction, sort field, value and id, so a cursor
made for another order (or tampered with) is refused rather than misread."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

M = TypeVar("M", bound=models.Model)


class InvalidCursor(ValueError):
    """A page cursor that was tampered with, truncated, or made for another sort order."""


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    rows: list[M]
    next_cursor: str | None
    previous_cursor: str | None
    page_size: int


def _encode(direction: str, sort_field: str, row: models.Model) -> str:
    value = getattr(row, sort_field)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    raw = json.dumps([direction, sort_field, text, row.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _sort_kind(queryset: QuerySet[Any], sort_field: str) -> Any:
    """The sort key's field: a model field, or the output field of an annotated expression."""
    if sort_field in queryset.query.annotations:
        return queryset.query.annotations[sort_field].output_field
    return queryset.model._meta.get_field(sort_field)


def _decode(cursor: str, sort_field: str, kind: Any) -> tuple[str, Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, field, text, row_id = json.loads(raw)
        if direction not in {"next", "previous"} or field != sort_field or not isinstance(row_id, int):
            raise InvalidCursor(cursor)
        if not isinstance(text, str):
            raise InvalidCursor(cursor)
        if isinstance(kind, models.DateTimeField):
            value: Any = datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise InvalidCursor(cursor)
        elif isinstance(kind, models.DecimalField):
            value = Decimal(text)
        else:
            value = int(text)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, InvalidOperation) as exc:
        raise InvalidCursor(cursor) from exc
    return direction, value, row_id


def keyset_page(
    *, queryset: QuerySet[M], ordering: tuple[str, ...], cursor: str = "", page_size: int = 50,
) -> KeysetPage[M]:
    """One page of `queryset` in `ordering` (a sort field or an annotation of `queryset`, "-"
    for descending, then the id the same way), after or before `cursor`."""
    sort_field = ordering[0].lstrip("-")
    is_descending = ordering[0].startswith("-")
    direction, position = "next", None
    if cursor:
        direction, value, row_id = _decode(cursor, sort_field, _sort_kind(queryset, sort_field))
        position = (value, row_id)
    forward = direction == "next"
    page_ordering = ordering if forward else tuple(f[1:] if f.startswith("-") else f"-{f}" for f in ordering)
    qs = queryset.order_by(*page_ordering)
    if position is not None:
        # The row value `(sort, id) < (?, ?)` (Django 5.2's tuple lookups) is the shape PostgreSQL
        # turns into one index range; `sort < ? OR (sort = ? AND id < ?)` is not. Moving forward
        # through a descending order means smaller values, and so on.
        lookup = TupleLessThan if is_descending == forward else TupleGreaterThan
        qs = qs.filter(lookup(Tuple(F(sort_field), F("id")), position))
    rows = list(qs[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if not forward:
        rows.reverse()
    if not rows:
        return KeysetPage(rows=[], next_cursor=None, previous_cursor=None, page_size=page_size)
    has_next = has_more if forward else True
    has_previous = position is not None if forward else has_more
    return KeysetPage(
        rows=rows,
        next_cursor=_encode("next", sort_field, rows[-1]) if has_next else None,
        previous_cursor=_encode("previous", sort_field, rows[0]) if has_previous else None,
        page_size=page_size,
    )
