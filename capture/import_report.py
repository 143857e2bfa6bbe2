"""The error report as a CSV download: UTF-8 with a BOM so Excel opens it as such."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import HttpResponse

from capture.import_models import ImportJob
from capture.import_selectors import import_error_report_rows


def _csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"  # Excel reads UTF-8 only after a BOM
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def error_report_response(job: ImportJob) -> HttpResponse:
    """The report as a download, built while the caller's tenant scope is open (a streamed
    body would be read after it closed); it holds only the rows that were not imported."""
    response = HttpResponse("".join(_csv_lines(import_error_report_rows(job=job))), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.id}-errors.csv"'
    return response
