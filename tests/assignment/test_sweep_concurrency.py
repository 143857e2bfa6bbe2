"""Sweeps racing each other, and a worker killed in the middle of one (real PostgreSQL, real
worker processes): each breach gives exactly one violation and one recycle, and nothing is
lost or left half done."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from assignment.models import Pool, Violation
from assignment.sweep import SweepResult, sla_sweep
from assignment.tasks import sla_sweep_task
from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.assignment.sla_helpers import policy_make, rep_make
from tests.conftest import celery_worker_start, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)
SWEEPERS = 3


def overdue_leads(created, owner_ids: list[int], count: int) -> list[int]:
    """`count` leads owned round the owners, assigned three hours ago, deadline an hour ago."""
    now = timezone.now()
    with tenant_scope(created.tenant.id):
        pool = Pool.objects.get(is_default=True)
        leads = Lead.objects.bulk_create([
            Lead(tenant=created.tenant, name=f"客户{n}", mobile=f"+86139{n:08d}", owner_id=owner_ids[n % len(owner_ids)],
                 pool=pool, status="pending", owner_assigned_at=now - timedelta(hours=3),
                 deadline_at=now - timedelta(hours=1))
            for n in range(count)
        ], batch_size=2000)
    return [lead.id for lead in leads]


def recycles_per_lead(created, lead_ids: list[int]) -> Counter[str]:
    with tenant_scope(created.tenant.id):
        return Counter(
            AuditLog.objects.filter(action="lead.owner_change", changes__reason="recycle", object_type="lead")
            .values_list("object_id", flat=True)
        )


def test_three_sweeps_at_once_record_each_breach_once_and_recycle_it_once():
    created = make_tenant("sweep-race", with_api_key=False)
    reps = [rep_make(created, f"rep{n}@race.test").id for n in range(4)]
    policy_make(created)
    lead_ids = overdue_leads(created, reps, 300)
    barrier = threading.Barrier(SWEEPERS)
    results: list[SweepResult] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(sla_sweep(tenant=created.tenant, batch_size=25))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(SWEEPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.violations for r in results) == 300
    assert sum(r.recycled for r in results) == 300
    with tenant_scope(created.tenant.id):
        per_lead = Counter(Violation.objects.values_list("lead_id", flat=True))
        leads = list(Lead.objects.filter(id__in=lead_ids).values_list("owner_id", "status", "deadline_at", "pool_id"))
    assert set(per_lead.values()) == {1} and set(per_lead) == set(lead_ids)
    assert set(recycles_per_lead(created, lead_ids).values()) == {1}
    assert all(owner is None and status == "returned" and deadline is None and pool for owner, status, deadline, pool in leads)


def test_worker_killed_mid_sweep_loses_nothing_and_recycles_nothing_twice():
    created = make_tenant("sweep-kill", with_api_key=False)
    reps = [rep_make(created, f"rep{n}@kill.test").id for n in range(5)]
    policy_make(created)
    lead_ids = overdue_leads(created, reps, 6000)
    from leadcrm.celery import app

    app.control.purge()
    worker = celery_worker_start(DJANGO_SLA_SWEEP_BATCH="200")
    try:
        sla_sweep_task.delay(tenant_id=created.tenant.id)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it once some batches are committed, others not
            with tenant_scope(created.tenant.id):
                done = Violation.objects.count()
            if done >= 400:
                break
            assert worker.poll() is None, "the worker died on its own"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    with tenant_scope(created.tenant.id):
        recorded_at_kill = Violation.objects.count()
    assert 0 < recorded_at_kill < 6000, "the kill did not land in the middle of the sweep"

    worker = celery_worker_start(DJANGO_SLA_SWEEP_BATCH="200")
    try:
        sla_sweep_task.delay(tenant_id=created.tenant.id)  # the next beat; the killed one may come back too
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with tenant_scope(created.tenant.id):
                if not Lead.objects.filter(deadline_at__isnull=False).exists():
                    break
            assert worker.poll() is None, "the restarted worker died"
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    with tenant_scope(created.tenant.id):
        per_lead = Counter(Violation.objects.values_list("lead_id", flat=True))
        leads = list(Lead.objects.filter(id__in=lead_ids).values_list("owner_id", "status", "deadline_at", "pool_id"))
    assert len(leads) == 6000  # none lost
    assert set(per_lead) == set(lead_ids) and set(per_lead.values()) == {1}
    assert set(recycles_per_lead(created, lead_ids).values()) == {1}
    assert len(recycles_per_lead(created, lead_ids)) == 6000
    # Every lead is back in its pool, unowned, with no deadline left: none stranded.
    assert all(o is None and s == "returned" and d is None and p is not None for o, s, d, p in leads)
