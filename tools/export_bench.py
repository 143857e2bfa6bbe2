"""`make bench --only export`: the lead list's CSV export through the running server.

A filtered list that matches `EXPORT_ROWS` leads of the bench tenant (the newest ones: a
`created_after` filter at the 100,000th newest lead, or every lead of a smaller bench) exported
with `GET /api/v1/leads/export?format=csv&created_after=...` (after one warm-up request; the
median of three): time to the first byte of the body and to the last, beside PostgreSQL's own `COPY (SELECT ... the same rows, same order) TO STDOUT`
in the same run (the floor: no HTTP, no Python, no words)."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from tools.bench import Context, Row

EXPORT_ROWS = 100_000
RUNS = 3  # medians of three downloads
FIRST_BYTE_TARGET_S = 1.0
_COPY_SQL = """
    COPY (
        SELECT id, name, company, title, mobile, email, status, score_total, grade, level, tier, source, province, city,
               owner_id, pool_id, created_at
        FROM leads_lead WHERE tenant_id = {tenant} AND created_at >= '{since}'::timestamptz
        ORDER BY created_at DESC, id DESC
    ) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def _since(ctx: Context) -> tuple[str, int]:
    """The creation time of the EXPORT_ROWS-th newest lead, and how many leads are that new."""
    import psycopg

    with psycopg.connect(ctx.dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(ctx.tenant_id)])
        cursor.execute(
            "SELECT created_at FROM leads_lead WHERE tenant_id = %s ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [ctx.tenant_id, EXPORT_ROWS - 1],
        )
        found = cursor.fetchone()
        if found is None:  # a smaller bench: every lead
            cursor.execute("SELECT min(created_at) FROM leads_lead WHERE tenant_id = %s", [ctx.tenant_id])
            found = cursor.fetchone()
        if found is None or found[0] is None:
            raise SystemExit("the bench tenant has no leads to export")
        since = found[0]
        cursor.execute("SELECT count(*) FROM leads_lead WHERE tenant_id = %s AND created_at >= %s", [ctx.tenant_id, since])
        counted = cursor.fetchone()
        return since.isoformat(), int(counted[0]) if counted else 0


def _copy_baseline(ctx: Context, since: str) -> tuple[float, float, int]:
    import psycopg

    sql = _COPY_SQL.format(tenant=int(ctx.tenant_id), since=since.replace("'", ""))
    with psycopg.connect(ctx.dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(ctx.tenant_id)])
        started = time.perf_counter()
        first: float | None = None
        size = 0
        with cursor.copy(sql) as copy:
            for block in copy:
                if first is None:
                    first = time.perf_counter() - started
                size += len(block)
        return first or 0.0, time.perf_counter() - started, size


def _http_export(ctx: Context, since: str) -> tuple[int, float, float, int, int, float]:
    """Status, seconds to the first byte of the body (the header line), to the last, bytes, leads,
    and seconds to the first lead's line (the header leaves before the first query)."""
    conn = ctx.connect()
    conn.timeout = 600
    path = f"/api/v1/leads/export?format=csv&created_after={quote(since, safe='')}"
    started = time.perf_counter()
    conn.request("GET", path, headers=ctx.auth)
    response = conn.getresponse()
    chunk = response.read1(65536) if response.status == 200 else response.read()
    first = time.perf_counter() - started
    first_lead = 0.0
    size = lines = 0
    while chunk:
        size += len(chunk)
        lines += chunk.count(b"\n")
        if not first_lead and lines >= 2:
            first_lead = time.perf_counter() - started
        chunk = response.read1(1 << 20)
    total = time.perf_counter() - started
    conn.close()
    return response.status, first, total, size, lines - 1, first_lead or total  # the header is not a lead


def bench_export(ctx: Context) -> list[Row]:
    from tools.bench import Row, fmt_ms

    since, expected = _since(ctx)
    _http_export(ctx, "2999-01-01T00:00:00+00:00")  # warm-up: a worker's first request loads what it lazily needs
    copy_first, copy_total, copy_size = _copy_baseline(ctx, since)
    runs = [_http_export(ctx, since) for _ in range(RUNS)]
    status = max(run[0] for run in runs)
    first = statistics.median(run[1] for run in runs)
    total = statistics.median(run[2] for run in runs)
    size, rows = runs[-1][3], min(run[4] for run in runs)
    first_lead = statistics.median(run[5] for run in runs)
    data: dict[str, Any] = {
        "rows": rows, "expected": expected, "first_byte_s": first, "total_s": total, "bytes": size,
        "first_lead_s": first_lead, "copy_first_byte_s": copy_first, "copy_total_s": copy_total, "copy_bytes": copy_size, "status": status,
    }
    ok = status == 200 and rows == expected
    baseline = f"COPY TO STDOUT: first {fmt_ms(copy_first * 1000)} ms, all {copy_total:.2f} s"
    data["runs"] = [{"first_byte_s": run[1], "total_s": run[2]} for run in runs]
    return [
        Row(
            name=f"CSV export of {expected:,} leads: first byte",
            result=f"{fmt_ms(first * 1000)} ms (first lead {fmt_ms(first_lead * 1000)} ms)",
            baseline=baseline, target=f"<= {FIRST_BYTE_TARGET_S:.0f} s", ok=ok and first <= FIRST_BYTE_TARGET_S,
            note="" if ok else f"HTTP {status}, {rows:,} rows of {expected:,}", data=data,
        ),
        Row(
            name=f"CSV export of {expected:,} leads: whole file",
            result=f"{total:.2f} s ({rows / total if total else 0:,.0f} rows/s, {size / 1e6:.1f} MB)",
            baseline=baseline, target="info", ok=None if ok else False,
            note="filter created_after at the newest leads; keyset chunks of 2,000 through the list's selector",
        ),
    ]
