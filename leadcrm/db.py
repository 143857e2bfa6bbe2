"""Set-based writes that the ORM makes slow."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, TypeVar, cast

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.fields import NOT_PROVIDED
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from psycopg.pq import ExecStatus

M = TypeVar("M", bound=Model)


def joined_ints(values: list[int]) -> str:
    """'1,2,3', for `string_to_array(%s, ',')::bigint[]`: client-side binding quotes a Python
    list element by element, which for thousands of ids costs more than the query."""
    return ",".join(map(str, values))


class _RowEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but datetimes keep their microseconds (it cuts them to milliseconds),
    so the stored row holds exactly what the instance does."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def json_param(value: Any) -> str:
    """`value` as JSON for a `%s::jsonb` parameter, datetimes with their microseconds."""
    return json.dumps(value, cls=_RowEncoder, ensure_ascii=False)


@dataclass(frozen=True)
class _InsertPlan:
    fields: tuple[Field[Any, Any], ...]
    fields_without_pk: tuple[Field[Any, Any], ...]  # a single row takes its id from the column default
    auto_now_attnames: tuple[str, ...]
    insert_sql: str  # the columns all rows share as a JSON object, the rest as a JSON array of objects
    insert_one_sql: str  # one row as one JSON object parameter, returning its id
    nextval_sql: str


@cache
def _insert_plan(model: type[Model]) -> _InsertPlan:
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = tuple(f for f in meta.concrete_fields if f.db_default is NOT_PROVIDED)
    fields_without_pk = tuple(f for f in fields if not f.primary_key)
    columns = ", ".join(quote(f.column) for f in fields)
    columns_without_pk = ", ".join(quote(f.column) for f in fields_without_pk)
    # identifiers come from model meta; values are always one parameter
    return _InsertPlan(
        fields=fields,
        fields_without_pk=fields_without_pk,
        auto_now_attnames=tuple(
            f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ),
        insert_sql=(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM jsonb_populate_recordset(jsonb_populate_record(NULL::{table}, %s::jsonb), %s::jsonb)"
        ),
        insert_one_sql=(
            f"INSERT INTO {table} ({columns_without_pk}) "  # noqa: S608
            f"SELECT {columns_without_pk} FROM jsonb_populate_record(NULL::{table}, %s::jsonb) "
            f"RETURNING {quote(meta.pk.column)}"
        ),
        nextval_sql=(
            f"SELECT nextval(pg_get_serial_sequence('{meta.db_table}', '{meta.pk.column}')) "  # noqa: S608
            "FROM generate_series(1, %s)"
        ),
    )


@cache
def _build_plan(model: type[Model]) -> tuple[tuple[str, Any, bool], ...]:
    """(attname, default, default is a callable) of each concrete field, in field order."""
    plan = []
    for f in model._meta.concrete_fields:
        if f.has_default():
            plan.append((f.attname, f.default, callable(f.default)))
        else:
            plan.append((f.attname, f.get_default(), False))  # None, or "" for text columns
    return tuple(plan)


def model_build(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` for intake's hot path, by field attname (`tenant_id`, not `tenant`).

    Django's `__init__` walks every field's descriptors and sends two signals: ~70 µs for a
    lead with keywords, ~20 µs positionally. With nobody listening to those signals the
    instance is assembled as `Model.from_db` leaves it, with defaults applied as the model
    declares them."""
    by_attname = {
        attname: values[attname] if attname in values else (default() if is_callable else default)
        for attname, default, is_callable in _build_plan(model)
    }  # in field order
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(*by_attname.values())
    instance = model.__new__(model)
    instance.__dict__.update(by_attname)
    instance._state = ModelState()  # adding, no database yet: as `__init__` leaves it
    return instance


Params = Sequence[Any] | Mapping[str, Any]


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


@lru_cache(maxsize=512)
def _native_placeholders(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """`sql` with `%s` / `%(name)s` turned into PostgreSQL's `$n` (and `%%` into `%`), and the
    parameter names in `$n` order (None for positional). psycopg converts a query on every
    execution and caches that only for texts under 4 kB; intake's look-up is longer."""
    names: dict[str, int] = {}
    positional = 0

    def native(match: re.Match[str]) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%"
        if (name := match.group(1)) is None:
            positional += 1
            return f"${positional}"
        return f"${names.setdefault(name, len(names) + 1)}"

    text = _PLACEHOLDER.sub(native, sql)
    if names and positional:
        raise ValueError("mixed named and positional placeholders")
    return text, (tuple(names) if names else None)


def fetch_prepared(statements: Sequence[tuple[str, Params]]) -> list[tuple[Any, ...]]:
    """Run statements in order on Django's connection (its transaction) as server-side prepared
    statements; the rows of the last one.

    For the statements every submission runs: parsing, rewriting (row-level security) and
    planning them cost PostgreSQL more than executing them (intake's duplicate look-up: ~2.5 ms
    to plan, ~0.5 ms to run against a million leads). Prepared once per connection and shape,
    they are planned once. (Sent one by one: psycopg's pipeline mode, measured here, cost more
    CPU and more time than the round trips it saves on a local server.) Parameters are bound
    on the server: give their types in the SQL (`%(x)s::jsonb`) where PostgreSQL cannot infer
    them, and pass ids as `Int8`. Logged like Django's own queries when queries are logged
    (DEBUG, CaptureQueriesContext)."""
    connection.ensure_connection()
    started = time.monotonic()
    try:
        with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
            for sql, params in statements:
                text, names = _native_placeholders(sql)
                values = list(params) if names is None else [cast(Mapping[str, Any], params)[name] for name in names]
                cursor.execute(text, values, prepare=True)
            result = cursor.pgresult  # not `description`: it builds every column's metadata
            return cursor.fetchall() if result is not None and result.status == ExecStatus.TUPLES_OK else []
    finally:
        if connection.queries_logged:
            took = f"{time.monotonic() - started:.3f}"
            connection.queries_log.extend({"sql": f"{sql} /* {params!r} */", "time": took} for sql, params in statements)


def insert_many(instances: Sequence[Model]) -> None:
    """INSERT unsaved instances of one model and set their primary keys.

    `bulk_create` sends ~40 placeholders a row, and psycopg's client-side binding splits and
    quotes that text in Python: for 1000 leads that alone took longer than PostgreSQL's work,
    and for one lead compiling the ORM query costs more than PostgreSQL's insert. Here the SQL
    text is built once per model and the rows travel as JSON: a column with one value in every
    row (tenant, timestamps, defaults) once, as the base record, the others row by row. For
    several rows ids are taken from the sequence first, so each instance gets its own id
    whatever order the rows are written in. Values left as None on `auto_now`/`auto_now_add`
    fields are filled in as `save()` would; explicit ones are kept. (COPY would be faster
    still, but PostgreSQL refuses COPY FROM on tables with row-level security.)
    """
    if not instances:
        return
    plan = _insert_plan(type(instances[0]))
    now = timezone.now()
    for instance in instances:
        for attname in plan.auto_now_attnames:
            if getattr(instance, attname) is None:
                setattr(instance, attname, now)
    if len(instances) == 1:
        # JSON and array values nest as JSON and land in jsonb / array columns as they are.
        # Prepared: the INSERT of every submission, parsed and planned once per connection.
        row = {field.column: getattr(instances[0], field.attname) for field in plan.fields_without_pk}
        ((instances[0].pk,),) = fetch_prepared([(plan.insert_one_sql, [json.dumps(row, cls=_RowEncoder)])])
    else:
        with connection.cursor() as cursor:
            cursor.execute(plan.nextval_sql, [len(instances)])
            for instance, (new_id,) in zip(instances, cursor.fetchall(), strict=True):
                instance.pk = new_id
        shared, varying = _split_columns(plan.fields, instances)
        rows = [dict(zip(varying, values, strict=True)) for values in zip(*varying.values(), strict=True)]
        # A 1000-lead batch is megabytes of JSON: sent as a bound parameter, not quoted into
        # the SQL text (Django's cursors bind on the client), it skips the quoting here and
        # PostgreSQL's parsing of one huge literal. Same connection, same transaction.
        params = [json.dumps(shared, cls=_RowEncoder), json.dumps(rows, cls=_RowEncoder, ensure_ascii=False)]
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw_cursor:
            raw_cursor.execute(plan.insert_sql, params, prepare=False)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def _split_columns(
    fields: tuple[Field[Any, Any], ...], instances: Sequence[Model]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Column → the value every instance has, and column → each instance's value for the rest."""
    shared: dict[str, Any] = {}
    varying: dict[str, list[Any]] = {}
    for field in fields:
        values = [instance.__dict__[field.attname] for instance in instances]
        first = values[0]
        # `type(...) is` too: 0 == False == Decimal(0), and the first must stand for all
        if all(value == first and type(value) is type(first) for value in values):
            shared[field.column] = first
        else:
            varying[field.column] = values
    return shared, varying
