"""Reads of imports: the job list, one job, the file's header, and the error report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from capture.import_messages import outcome_label, problem_message
from capture.import_models import ImportErrorRow, ImportFile, ImportJob

_REPORT_BATCH = 2000
# A cell starting with one of these is a formula to Excel (CSV injection): a quote disarms it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def import_job_list(*, status: str = "", is_dry_run: bool | None = None, file_id: int | None = None) -> QuerySet[ImportJob]:
    """The tenant's jobs, newest first (Import.objects is tenant-scoped)."""
    jobs = ImportJob.objects.select_related("file", "created_by").order_by("-created_at", "-id")
    if status:
        jobs = jobs.filter(status=status)
    if is_dry_run is not None:
        jobs = jobs.filter(is_dry_run=is_dry_run)
    if file_id is not None:
        jobs = jobs.filter(file_id=file_id)
    return jobs


def import_job_get(*, job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("file", "created_by").filter(id=job_id).first()


def import_file_get(*, file_id: int) -> ImportFile | None:
    return ImportFile.objects.filter(id=file_id).first()


def import_job_headers(*, job: ImportJob) -> list[str]:
    """The columns of the job's file, in file order."""
    return list(job.headers)


def import_has_error_rows(*, job: ImportJob) -> bool:
    return job.invalid_count + job.quarantined_count > 0


def excel_safe(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def import_error_report_rows(*, job: ImportJob) -> Iterator[list[str]]:
    """The error report, a row at a time, in the active language: line, outcome, reasons, then
    the row's own cells under the file's headers. Every cell is made safe for Excel."""
    headers = import_job_headers(job=job)
    yield [excel_safe(cell) for cell in [_("行号"), _("结果"), _("原因"), *headers]]
    last: tuple[int, int] = (0, 0)
    while True:
        rows = list(
            ImportErrorRow.objects.filter(job_id=job.id)
            .filter(Q(line__gt=last[0]) | Q(line=last[0], id__gt=last[1]))  # keyset: the report can be long
            .order_by("line", "id")[:_REPORT_BATCH]
        )
        if not rows:
            return
        for row in rows:
            reasons = "; ".join(problem_message(problem, headers=headers) for problem in row.problems)
            cells: list[Any] = [str(row.line), outcome_label(row.outcome), reasons, *row.cells]
            yield [excel_safe(str(cell)) for cell in cells]
        last = (rows[-1].line, rows[-1].id)
