"""What configuration a batch runs under, read in one round trip.

Every stage and hook that applies tenant rules (cleansing lists, duplicate rules, scoring
rules) keeps them in a per-process cache keyed by a version that changes with every edit. What
each needs from the database per batch is only that version: a probe, one scalar subquery
registered by its owner. Intake sends all of them as one SELECT the first time a stage asks
(`IntakeBatch.config`), so a submission pays one small query however many apps plug in.

A probe is SQL returning one value (a number, or an array for several), with
`%(tenant_id)s` (a bigint) as its only parameter; row-level security applies to it as to any query. It
returns NULL when the tenant has no row, and its owner treats that as its defaults.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.numeric import Int8

from leadcrm.db import fetch_prepared

_probes: dict[str, str] = {}
_statement: tuple[tuple[str, ...], str] | None = None  # (names, SQL), built on first use


def intake_config_probe_register(*, name: str, sql: str) -> None:
    """Register (or replace, on a repeated `ready()`) the probe called `name`."""
    global _statement
    _probes[name] = sql
    _statement = None


def intake_config_probe_unregister(*, name: str) -> None:
    global _statement
    _probes.pop(name, None)
    _statement = None


def intake_config_read(*, tenant_id: int) -> dict[str, Any]:
    """Every registered probe's value for the tenant (inside its tenant scope), by name."""
    global _statement
    if not _probes:
        return {}
    if _statement is None:
        names = tuple(_probes)
        _statement = names, "SELECT " + ", ".join(f"({_probes[name]})" for name in names)
    names, sql = _statement
    # Prepared: every submission sends it, and planning six subqueries cost more than running them.
    (row,) = fetch_prepared([(sql, {"tenant_id": Int8(tenant_id)})])
    return dict(zip(names, row, strict=True))
