"""The import service, run in the test process (the worker runs the same function)."""

from __future__ import annotations

import io

import pytest

from capture.import_models import ImportErrorRow, ImportJob
from capture.import_services import import_file_store, import_job_run, import_job_start
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import IntakeRecord, Lead
from tests.capture.helpers import csv_bytes, good_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _start(created: CreatedTenant, data: bytes, **options: object) -> ImportJob:
    with tenant_scope(created.tenant.id):
        file = import_file_store(
            tenant=created.tenant, stream=io.BytesIO(data), name="leads.csv", size=len(data),
            uploaded_by=created.owner.user,
        )
        return import_job_start(tenant=created.tenant, file=file, **options)  # type: ignore[arg-type]


def test_an_import_creates_every_good_row_and_lists_the_bad_ones(tenant_a: CreatedTenant) -> None:
    rows = good_rows(30) + [["坏行", "12345", "", "not-an-email", ""]]
    job = _start(tenant_a, csv_bytes(rows))
    done = import_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
    assert done is not None and done.status == "done"
    assert done.counts == {"created": 30, "merged": 0, "updated": 0, "quarantined": 1, "invalid": 0}
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 30
        error = ImportErrorRow.objects.get(job=job)
    assert error.line == 32 and error.outcome == "quarantined"


def test_a_dry_run_writes_nothing(tenant_a: CreatedTenant) -> None:
    job = _start(tenant_a, csv_bytes(good_rows(5) + [["坏行", "12345", "", "", ""]]), is_dry_run=True)
    done = import_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
    assert done is not None and done.status == "done"
    assert done.counts["created"] == 5 and done.counts["quarantined"] == 1
    assert [entry["outcome"] for entry in done.preview] == ["created"] * 5 + ["quarantined"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0
        assert IntakeRecord.objects.count() == 0


def test_a_dry_run_leaves_no_submission_audit_notification_or_task(tenant_a: CreatedTenant) -> None:
    from leadcrm.notifications.models import Notification
    from leadcrm.tenancy.models import AuditLog
    from leads.models import LeadSubmission
    from tests.capture.helpers import mobile

    existing = [["老客户", mobile(0), "星河0号科技有限公司", "", ""]]
    real = import_job_run(tenant_id=tenant_a.tenant.id, job_id=_start(tenant_a, csv_bytes(existing)).id)
    assert real is not None and real.counts["created"] == 1
    with tenant_scope(tenant_a.tenant.id):
        before = (LeadSubmission.objects.count(), AuditLog.objects.count(), Notification.objects.count())
    rows = good_rows(3) + [["坏行", "12345", "", "", ""]]  # row 2 has the known mobile: collected
    dry = import_job_run(tenant_id=tenant_a.tenant.id, job_id=_start(tenant_a, csv_bytes(rows), is_dry_run=True).id)
    assert dry is not None and dry.counts["merged"] == 1 and dry.counts["created"] == 2
    assert dry.preview[0]["outcome"] == "merged" and dry.preview[0]["lead"]["name"] == "老客户"
    with tenant_scope(tenant_a.tenant.id):
        assert (LeadSubmission.objects.count(), AuditLog.objects.count(), Notification.objects.count()) == before
        assert Lead.objects.count() == 1 and IntakeRecord.objects.count() == 0
