"""Imports in a real Celery worker: to the end, and through a worker killed mid-import."""

from __future__ import annotations

import io
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from capture.import_models import ImportJob
from capture.import_services import import_file_store, import_job_start
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.capture.helpers import csv_bytes, good_rows, mobile
from tests.conftest import celery_worker_start, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate: Callable[[], bool], *, timeout: float, worker: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        if worker is not None:
            assert worker.poll() is None, "the worker died"
        time.sleep(0.1)


def _job(created: CreatedTenant, job_id: int) -> ImportJob:
    with tenant_scope(created.tenant.id):
        return ImportJob.objects.get(id=job_id)


def _start_import(created: CreatedTenant, rows: int) -> int:
    data = csv_bytes(good_rows(rows))
    with tenant_scope(created.tenant.id):
        file = import_file_store(
            tenant=created.tenant, stream=io.BytesIO(data), name="leads.csv", size=len(data),
            uploaded_by=created.owner.user,
        )
        return import_job_start(tenant=created.tenant, file=file, created_by=created.owner.user).id


def test_the_worker_imports_a_file_to_the_end(celery_worker_process) -> None:
    created = make_tenant("import-worker", with_api_key=False)
    job_id = _start_import(created, 1500)
    _wait(lambda: _job(created, job_id).status == "done", timeout=120, worker=celery_worker_process)
    job = _job(created, job_id)
    assert job.status == "done" and job.counts["created"] == 1500 and job.progress == 1
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 1500


def test_a_worker_killed_mid_import_resumes_without_losing_or_doubling_a_row(transactional_db) -> None:
    from leadcrm.celery import app

    created = make_tenant("import-killed", with_api_key=False)
    rows = 12_000
    app.control.purge()
    worker = celery_worker_start(CELERY_VISIBILITY_TIMEOUT="5")  # the unacked task comes back in seconds
    try:
        job_id = _start_import(created, rows)
        _wait(lambda: _job(created, job_id).records_done > 0, timeout=120, worker=worker)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        done_when_killed = _job(created, job_id).records_done
        assert 0 < done_when_killed < rows, "the import ended before the worker was killed; nothing was tested"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    restarted = celery_worker_start(CELERY_VISIBILITY_TIMEOUT="5")
    try:
        _wait(lambda: _job(created, job_id).status == "done", timeout=240, worker=restarted)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    job = _job(created, job_id)
    assert job.status == "done" and job.records_done == rows
    assert job.counts == {"created": rows, "merged": 0, "updated": 0, "quarantined": 0, "invalid": 0}
    with tenant_scope(created.tenant.id):
        mobiles = list(Lead.objects.values_list("mobile", flat=True))
    assert len(mobiles) == rows  # every row there, once
    assert sorted(mobiles) == sorted(f"+86{mobile(n)}" for n in range(rows))


def test_two_workers_share_one_import_and_each_row_arrives_once(transactional_db) -> None:
    from leadcrm.celery import app

    created = make_tenant("import-shared", with_api_key=False)
    rows = 8_000
    app.control.purge()
    workers = [celery_worker_start(), celery_worker_start()]
    try:
        job_id = _start_import(created, rows)
        _wait(lambda: _job(created, job_id).status == "done", timeout=240)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
    job = _job(created, job_id)
    assert job.status == "done" and job.counts["created"] == rows and job.records_done == rows
    with tenant_scope(created.tenant.id):
        mobiles = list(Lead.objects.values_list("mobile", flat=True))
    assert sorted(mobiles) == sorted(f"+86{mobile(n)}" for n in range(rows))
