"""The `import` row of `make bench`: a CSV of 100,000 leads uploaded through POST
/api/v1/imports and run by a real worker to status `done`, beside COPY into the lead table
measured in the same run; and the worker's peak memory for 10,000 and for 100,000 rows, which
stays flat because the file is streamed a part at a time (called from tools/bench.py)."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.bench import Context

IMPORT_TARGET_RATE = 3000.0
IMPORT_ROWS = 100_000
IMPORT_SMALL_ROWS = 10_000
# Column headers as a Chinese team's spreadsheet names them; the import guesses the mapping.
_COLUMNS = {
    "姓名": "name", "手机号码": "mobile", "邮箱": "email", "公司名称": "company", "职位": "title", "行业": "industry",
    "公司规模": "company_size", "来源": "source", "营销活动": "campaign", "utm_source": "utm_source",
    "utm_medium": "utm_medium", "utm_campaign": "utm_campaign", "备注": "notes",
}


def import_csv(ctx: Context, rows: int) -> bytes:
    """The bulk bench's realistic leads (`lead_payload`) as a CSV, each with its own bench
    mobile, so the import and `bulk` judge the same kind of data."""
    import csv
    import io
    import random

    from tools.bench import lead_payload

    pools = ctx.cache["pools"]
    rnd = random.Random(ctx.args.seed + rows)
    first = ctx.take_numbers(rows)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(_COLUMNS)
    for n in range(first, first + rows):
        payload = lead_payload(n, rnd, pools)
        writer.writerow([payload.get(field, "") for field in _COLUMNS.values()])
    return text.getvalue().encode()


def _multipart(data: bytes, *, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


IMPORT_WORKERS = 2  # worker processes (solo pool each), as `make demo` and a small deployment run them


def _run_import(ctx: Context, rows: int) -> tuple[float, float, dict[str, Any]]:
    """Upload `rows` rows with fresh workers running; (seconds to done, workers' peak RSS MB, job)."""
    from tools.bench import celery_purge, request, start_worker

    body, content_type = _multipart(import_csv(ctx, rows), name=f"bench-{rows}.csv")
    celery_purge(ctx.args)
    workers = [start_worker(ctx.args) for _ in range(IMPORT_WORKERS)]
    try:
        time.sleep(3)  # the workers connect to the broker; not part of the figure
        api = ctx.connect()
        started = time.perf_counter()
        status, data, _ = request(api, "POST", "/api/v1/imports", {**ctx.auth, "Content-Type": content_type}, body)
        if status != 202:
            raise SystemExit(f"POST /api/v1/imports answered {status}: {data[:300]!r}")
        job_id = json.loads(data)["id"]
        job: dict[str, Any] = {}
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            _, data, _ = request(api, "GET", f"/api/v1/imports/{job_id}", ctx.auth)
            job = json.loads(data)
            if job["status"] in ("done", "failed"):
                break
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit("a worker died during the import bench")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        api.close()
        peak = max(_peak_rss_mb(worker.pid) for worker in workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    if job.get("status") != "done":
        raise SystemExit(f"import {job.get('id')} ended {job.get('status')}: {job.get('error', '')}")
    return elapsed, peak, job


def _forget_imports(ctx: Context) -> None:
    """The bench's uploads go with the leads they made (tools.bench.cleanup removes those)."""
    import psycopg

    from tools.bench import _admin_dsn

    with psycopg.connect(_admin_dsn(ctx.args, ctx.args.database), autocommit=True) as conn, conn.transaction():
        for table in ("capture_importerrorrow", "capture_importpart", "capture_importjob", "capture_importfilechunk",
                      "capture_importfile"):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [ctx.tenant_id])


def bench_import_rows(ctx: Context) -> list[dict[str, Any]]:
    """The rows of the table, as Row keyword arguments."""
    from tools.bench import copy_rates

    copy_live, _ = copy_rates(ctx)
    try:
        small_seconds, small_peak, _small = _run_import(ctx, IMPORT_SMALL_ROWS)
        seconds, peak, job = _run_import(ctx, IMPORT_ROWS)
    finally:
        _forget_imports(ctx)
    rate = IMPORT_ROWS / seconds
    counts = job["counts"]
    return [
        {
            "name": "CSV import, 100k rows (upload to done)", "result": f"{rate:,.0f} rows/s",
            "baseline": f"COPY into leads_lead: {copy_live:,.0f} rows/s",
            "target": f">= {IMPORT_TARGET_RATE:,.0f} rows/s", "ok": rate >= IMPORT_TARGET_RATE,
            "note": f"{IMPORT_ROWS:,} rows (the bulk bench's leads) in {seconds:.1f} s through POST /api/v1/imports "
                    f"and {IMPORT_WORKERS} solo-pool workers sharing its parts (1000 rows each through intake: "
                    f"cleansing, dedup, scoring); outcomes {counts}; COPY of "
                    f"{ctx.args.copy_rows:,} generated leads, rolled back",
            "data": {"rows": IMPORT_ROWS, "seconds": seconds, "rows_per_s": rate, "copy_rows_per_s": copy_live,
                     "counts": counts},
        },
        {
            "name": "import worker peak RSS, 10k vs 100k rows", "result": f"{small_peak:.0f} MB / {peak:.0f} MB",
            "baseline": f"10k rows: {IMPORT_SMALL_ROWS / small_seconds:,.0f} rows/s",
            "target": "flat (100k within 1.25 x 10k)", "ok": peak <= small_peak * 1.25,
            "note": "the largest VmHWM of the fresh worker processes of each run: the file is streamed, a part at a time",
            "data": {"small_peak_mb": small_peak, "peak_mb": peak},
        },
    ]
