"""Routing under real concurrency: separate processes, each with its own connection to the
test database, and a real Celery worker killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from assignment.models import RepDay
from assignment.tasks import leads_route_task
from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.assignment.helpers import mature_leads_make, pool_with_rule, profile_set, reps_make
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _env() -> dict[str, str]:
    db = connections["default"].settings_dict
    host = db["HOST"] or "localhost"
    return {
        **os.environ, "DJANGO_SETTINGS_MODULE": "leadcrm.settings.test", "DB_ASSUME_APP_ROLE": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
    }


def test_four_processes_route_ten_thousand_leads_without_double_assignment_or_cap_overrun(tmp_path: Path) -> None:
    created = make_tenant("concurrent")
    reps = reps_make(created, 7)
    profile_set(created, reps[0], daily_receive_cap=300)
    pool, _rule = pool_with_rule(created, reps)
    leads = mature_leads_make(created, pool, 10_000)
    id_file = tmp_path / "ids.txt"
    id_file.write_text("\n".join(map(str, leads)))

    started = time.monotonic()
    processes = [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "tests.assignment.route_worker", str(created.tenant.id), str(offset), str(id_file)],
            env=_env(), cwd=settings.BASE_DIR,
        )
        for offset in (0, 2_500, 5_000, 7_500)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    assert time.monotonic() - started < 60

    with tenant_scope(created.tenant.id):
        owner_of = dict(Lead.objects.filter(id__in=leads).values_list("id", "owner_id"))
        assigned_audits = Counter(
            AuditLog.objects.filter(action="lead.owner_change").values_list("object_id", flat=True)
        )
        received = dict(RepDay.objects.values_list("user_id", "received"))
    assert None not in owner_of.values()
    assert set(assigned_audits.values()) == {1} and len(assigned_audits) == 10_000  # no lead assigned twice
    counts = Counter(owner_of.values())
    assert counts[reps[0]] == 300  # its cap, reached and never exceeded
    others = [counts[rep] for rep in reps[1:]]
    assert max(others) - min(others) <= 1  # round-robin spread within ±1
    assert received == dict(counts)


def _wait(predicate: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)


def _start_worker() -> subprocess.Popen[bytes]:
    # A short visibility timeout: the killed worker's unacknowledged task comes back in seconds.
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "leadcrm", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env={**_env(), "CELERY_VISIBILITY_TIMEOUT": "5"}, cwd=settings.BASE_DIR,
    )


def test_a_worker_killed_mid_batch_leaves_nothing_lost_or_double_assigned(tmp_path: Path) -> None:
    from leadcrm.celery import app

    created = make_tenant("killed")
    reps = reps_make(created, 3)
    pool, _rule = pool_with_rule(created, reps)
    batches = [mature_leads_make(created, pool, 400) for _ in range(6)]
    app.control.purge()
    worker = _start_worker()
    try:
        for batch in batches:
            leads_route_task.delay(tenant_id=created.tenant.id, lead_ids=batch)

        def owned() -> int:
            with tenant_scope(created.tenant.id):
                return Lead.objects.filter(pool=pool, owner__isnull=False).count()

        _wait(lambda: owned() > 0)  # the first batch committed: the worker is mid-queue
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        assert owned() < 2_400, "the worker finished before it was killed; nothing was tested"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    restarted = _start_worker()  # acks_late: the unacknowledged task is delivered again
    try:
        _wait(lambda: owned() == 2_400, timeout=120)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    everything = [i for batch in batches for i in batch]
    with tenant_scope(created.tenant.id):
        rows = list(Lead.objects.filter(id__in=everything).values_list("owner_id", "pool_id"))
        audits = Counter(AuditLog.objects.filter(action="lead.owner_change").values_list("object_id", flat=True))
    assert len(rows) == 2_400
    assert all(owner is not None and pool_id == pool.id for owner, pool_id in rows)
    assert len(audits) == 2_400 and set(audits.values()) == {1}
    counts = Counter(owner for owner, _pool in rows)
    assert max(counts.values()) - min(counts.values()) <= 1
