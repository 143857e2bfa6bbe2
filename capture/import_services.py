"""File imports (SPEC issue 11): store an upload, start a dry run or an import over it, run it
in batches through the intake pipeline, and read back what became of the rows.

Every row goes through `leads.intake.lead_intake_many` (channel "import") after the same
per-row type check as a REST item (`LeadCreateInputSerializer`), so a file row and an API item
are judged alike. A job is cut into parts of 1000 rows; a worker takes an undone part with SKIP
LOCKED and commits its leads together with the part marked done, the job's counts and the
part's error rows, so several worker processes share a job, a worker killed mid-import leaves
whole parts behind, and the next delivery of the task carries on with the undone ones: no row
is lost or imported twice. A dry run runs each part the same way inside a savepoint that is
rolled back (no lead, quarantine record, notification or task survives it: `committed` hooks
are dropped with the savepoint) and keeps only the counts, the error rows and a preview.
Rows that share a contact are kept apart by intake's own locks, as for concurrent bulk calls;
a dry run cannot see a duplicate in another part of the file (it was rolled back).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import tempfile
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from rest_framework import exceptions as drf_exceptions
from rest_framework.serializers import as_serializer_error

from capture.import_mapping import (
    MappingProblem,
    header_key,
    header_looks_like_data,
    mapping_guess,
    mapping_problems,
    row_payload,
)
from capture.import_messages import refusal_message
from capture.import_models import (
    ACTIVE_IMPORT_STATUSES,
    OUTCOMES,
    ImportErrorRow,
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportMappingMemory,
    ImportPart,
    ImportStatus,
)
from capture.import_reader import FileFacts, ImportFileError, Row, file_inspect, rows_read
from leadcrm.api.exceptions import _flatten_errors
from leadcrm.tenancy.models import Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leads.api.serializers import LeadCreateInputSerializer
from leads.intake import IntakeOutcome, lead_intake_many

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
# A part is one intake call and one transaction: the size at which REST bulk is fastest.
PART_ROWS = 1000
# Deliveries of a job's task: each free worker process takes parts of the job side by side
# (intake serialises rows that share a contact with its own locks, as for concurrent bulk calls).
FAN_OUT = 4
PREVIEW_ROWS = 200
CHANNEL = "import"

# Who may import: admins and managers, as for the quarantine (an import writes many leads at once).
IMPORT_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})

_LEAD_INPUT = LeadCreateInputSerializer()  # keeps no state between calls (see leads.api.views)


class ImportRefused(Exception):
    """The upload or the job's settings cannot be used; nothing was started.
    `code` names the problem; `problems` (mapping) are by column header."""

    def __init__(self, code: str, *, problems: dict[str, list[MappingProblem]] | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.problems = problems or {}
        self.params = params


class ImportAlreadyRunning(Exception):
    """The same file (same bytes) is being imported already."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id)
        self.job_id = job_id


# --- the file --------------------------------------------------------------------------------


def import_file_store(*, tenant: Tenant, stream: IO[bytes], name: str, size: int, uploaded_by: User | None) -> ImportFile:
    """Check the upload is a readable spreadsheet and keep its bytes (inside the caller's
    transaction). Raises ImportRefused (empty, too big, not a spreadsheet)."""
    try:
        facts = file_inspect(stream, size=size)
    except ImportFileError as error:
        raise ImportRefused(error.code, **error.params) from None
    digest = hashlib.sha256()
    stream.seek(0)
    while block := stream.read(CHUNK_BYTES):
        digest.update(block)
    file = ImportFile.objects.create(
        tenant=tenant, name=name[:255], sha256=digest.hexdigest(), size=size, kind=facts.kind,
        encoding=facts.encoding, sheets=facts.sheets, uploaded_by=uploaded_by,
    )
    stream.seek(0)
    seq = 0
    while block := stream.read(CHUNK_BYTES):
        ImportFileChunk.objects.create(tenant=tenant, file=file, seq=seq, data=block)
        seq += 1
    stream.seek(0)
    return file


def file_facts(file: ImportFile) -> FileFacts:
    return FileFacts(kind=file.kind, encoding=file.encoding, sheets=list(file.sheets))


@contextmanager
def import_file_open(*, file: ImportFile) -> Iterator[IO[bytes]]:
    """The file's bytes in a temporary file, copied one chunk per query (never whole in
    memory), each query in its own short tenant scope so no transaction stays open."""
    with tempfile.TemporaryFile() as copy:
        with tenant_scope(file.tenant_id):
            seqs = list(ImportFileChunk.objects.filter(file_id=file.id).order_by("seq").values_list("seq", flat=True))
        for seq in seqs:
            with tenant_scope(file.tenant_id):
                data = ImportFileChunk.objects.filter(file_id=file.id, seq=seq).values_list("data", flat=True).get()
            copy.write(bytes(data))
        copy.seek(0)
        yield copy


def file_header(stream: IO[bytes], *, file: ImportFile, sheet: str) -> list[str]:
    """The first row: the column headers. Raises ImportRefused when the file has no rows."""
    try:
        with closing(rows_read(stream, facts=file_facts(file), sheet=sheet)) as rows:
            for row in rows:
                return row.cells
    except ImportFileError as error:
        raise ImportRefused(error.code, **error.params) from None
    raise ImportRefused("empty")


def sheet_resolve(*, file: ImportFile, sheet: str) -> str:
    """The sheet to read: the one asked for, or the only one. Raises ImportRefused."""
    if file.kind != "xlsx":
        return ""
    if sheet:
        if sheet not in file.sheets:
            raise ImportRefused("unknown_sheet", sheet=sheet, sheets=", ".join(file.sheets))
        return sheet
    if len(file.sheets) > 1:
        raise ImportRefused("choose_sheet", sheets=", ".join(file.sheets))
    return file.sheets[0]


def mapping_remembered() -> dict[str, str]:
    return dict(ImportMappingMemory.objects.values_list("header", "field"))


def mapping_for(*, headers: list[str], mapping: dict[str, Any] | None) -> dict[str, str]:
    """The mapping a job will use: the one given (checked against the headers) or the guess.
    Raises ImportRefused when it is wrong or maps nothing."""
    if mapping is not None:
        problems = mapping_problems(mapping, headers=headers)
        if problems:
            raise ImportRefused("mapping", problems=problems)
        chosen = {header: str(target) for header, target in mapping.items()}
    else:
        chosen = mapping_guess(headers, remembered=mapping_remembered())
    if not any(chosen.values()):
        if mapping is None and header_looks_like_data(headers):
            raise ImportRefused("no_header")
        raise ImportRefused("nothing_mapped", headers=", ".join(h for h in headers if h))
    return chosen


def _mapping_remember(*, tenant: Tenant, mapping: dict[str, str]) -> None:
    rows = {header_key(header): target for header, target in mapping.items() if header_key(header)}
    ImportMappingMemory.objects.bulk_create(
        [ImportMappingMemory(tenant=tenant, header=key[:255], field=target) for key, target in rows.items()],
        update_conflicts=True, unique_fields=["tenant", "header"], update_fields=["field", "updated_at"],
    )


# --- the job ---------------------------------------------------------------------------------


def import_job_start(
    *, tenant: Tenant, file: ImportFile, stream: IO[bytes] | None = None, mapping: dict[str, Any] | None = None,
    sheet: str = "", source: str = "", is_dry_run: bool = False, created_by: User | None = None,
    language: str = "zh-hans",
) -> ImportJob:
    """Check the sheet and mapping against the file's header and queue the job (inside the
    caller's transaction; the task is sent on commit). Raises ImportRefused, or
    ImportAlreadyRunning when the same bytes are being imported."""
    from capture.tasks import import_job_run_task  # deferred: the task module imports this one

    sheet = sheet_resolve(file=file, sheet=sheet)
    if stream is None:
        with import_file_open(file=file) as copy:
            headers = file_header(copy, file=file, sheet=sheet)
    else:
        headers = file_header(stream, file=file, sheet=sheet)
    if not any(headers):
        raise ImportRefused("no_header")
    chosen = mapping_for(headers=headers, mapping=mapping)
    if not is_dry_run:
        running = (
            ImportJob.objects.filter(status__in=ACTIVE_IMPORT_STATUSES, is_dry_run=False, file__sha256=file.sha256)
            .order_by("id").first()
        )
        if running is not None:
            raise ImportAlreadyRunning(running.id)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                tenant=tenant, file=file, is_dry_run=is_dry_run, sheet=sheet, headers=headers, mapping=chosen, source=source[:50],
                language=language, created_by=created_by,
            )
    except IntegrityError:  # the same file started twice at once (the unique constraint)
        running = ImportJob.objects.filter(file=file, is_dry_run=False, status__in=ACTIVE_IMPORT_STATUSES).first()
        raise ImportAlreadyRunning(running.id if running else 0) from None
    _mapping_remember(tenant=tenant, mapping=chosen)
    import_job_run_task.delay_on_commit(tenant_id=tenant.id, job_id=job.id)
    return job


@dataclass
class _BatchResult:
    counts: dict[str, int]
    error_rows: list[ImportErrorRow]
    preview: list[dict[str, Any]]


def import_job_run(*, tenant_id: int, job_id: int) -> ImportJob | None:
    """Run (or resume) a job: take its undone parts one by one until none is left to take,
    then mark it done if every part is. Several deliveries (the fan-out, a redelivery after a
    worker died) share the parts. Returns None when the job is gone."""
    job = _job_start(tenant_id=tenant_id, job_id=job_id)
    if job is None or not job.is_active:
        return job
    tenant = Tenant.objects.get(id=tenant_id)
    try:
        with import_file_open(file=job.file) as stream, _RowCursor(stream, job=job) as cursor:
            while _part_run(tenant=tenant, job_id=job_id, cursor=cursor):
                pass
    except ImportFileError as error:  # the file breaks off (a malformed CSV line): the parts before it stay
        with translation.override(job.language):
            import_job_fail(tenant_id=tenant_id, job_id=job_id, error=refusal_message(error.code, error.params))
    with tenant_scope(tenant_id):
        job = ImportJob.objects.select_for_update().select_related("file").get(id=job_id)
        if job.is_active and not ImportPart.objects.filter(job_id=job_id, done_at__isnull=True).exists():
            job.status, job.finished_at = ImportStatus.DONE, timezone.now()
            job.save(update_fields=["status", "finished_at", "updated_at"])
    return job


def _job_start(*, tenant_id: int, job_id: int) -> ImportJob | None:
    """Mark the job running and cut it into parts, once (the first delivery to lock it); then
    send more deliveries, so that free worker processes take parts side by side."""
    from capture.tasks import import_job_run_task  # deferred: the task module imports this one

    with tenant_scope(tenant_id):
        job = ImportJob.objects.select_for_update().select_related("file").filter(id=job_id).first()
        if job is None or not job.is_active:
            return job
        if job.status == ImportStatus.QUEUED:
            job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
            job.save(update_fields=["status", "started_at", "updated_at"])
        if ImportPart.objects.filter(job_id=job_id).exists():
            return job
    # Counted outside any transaction: a long file must not hold the job's row lock meanwhile.
    with import_file_open(file=job.file) as stream:
        lines, breaks_off = _rows_count(stream, file=job.file, sheet=job.sheet)
    rows = max(lines - 1, 0)
    planned = rows + (1 if breaks_off else 0)  # a part reaches the broken row, and reports it
    with tenant_scope(tenant_id):
        job = ImportJob.objects.select_for_update().select_related("file").get(id=job_id)
        if not job.is_active or ImportPart.objects.filter(job_id=job_id).exists():
            return job  # another delivery planned it meanwhile
        ImportPart.objects.bulk_create([
            ImportPart(tenant_id=tenant_id, job=job, first=first, count=min(PART_ROWS, planned - first))
            for first in range(0, planned, PART_ROWS)
        ])
        job.rows_total = rows
        job.save(update_fields=["rows_total", "updated_at"])
        for _extra in range(min(FAN_OUT, -(-planned // PART_ROWS)) - 1):
            import_job_run_task.delay_on_commit(tenant_id=tenant_id, job_id=job_id)
    return job


def _rows_count(stream: IO[bytes], *, file: ImportFile, sheet: str) -> tuple[int, bool]:
    """Rows up to the end, or up to a row that cannot be read (True: the file breaks off there)."""
    lines = 0
    try:
        with closing(rows_read(stream, facts=file_facts(file), sheet=sheet)) as rows:
            for _row in rows:
                lines += 1
    except ImportFileError:
        return lines, True
    finally:
        stream.seek(0)
    return lines, False


class _RowCursor:
    """The file's data rows read forward from where the last part ended; a part before that
    (taken out of order) reopens the file. Never more than a part in memory."""

    def __init__(self, stream: IO[bytes], *, job: ImportJob) -> None:
        self.stream = stream
        self.job = job
        self.rows: Generator[Row, None, None] | None = None
        self.position = 0
        self.columns: list[tuple[int, str]] = []

    def __enter__(self) -> _RowCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.rows is not None:
            self.rows.close()

    def _open(self) -> Generator[Row, None, None]:
        if self.rows is not None:
            self.rows.close()
        self.stream.seek(0)
        rows = rows_read(self.stream, facts=file_facts(self.job.file), sheet=self.job.sheet)
        headers = next(rows).cells
        mapping = self.job.mapping
        self.columns = [(index, mapping[header]) for index, header in enumerate(headers) if mapping.get(header)]
        self.rows, self.position = rows, 0
        return rows

    def take(self, *, first: int, count: int) -> list[Row]:
        rows = self.rows if self.rows is not None and first >= self.position else self._open()
        for _skipped in range(first - self.position):
            next(rows, None)
        taken = list(itertools.islice(rows, count))
        self.position = first + len(taken)
        return taken


def _part_run(*, tenant: Tenant, job_id: int, cursor: _RowCursor) -> bool:
    """Take one undone part nobody holds and run it, recording it with the job's counts, its
    error rows and its preview in one transaction. False: none left to take, or the job stopped."""
    with tenant_scope(tenant.id):
        part = (
            ImportPart.objects.select_for_update(skip_locked=True)
            .filter(job_id=job_id, done_at__isnull=True).order_by("first").first()
        )
        if part is None:
            return False
        job = ImportJob.objects.select_related("created_by").get(id=job_id)
        if not job.is_active:
            return False
        rows = cursor.take(first=part.first, count=part.count)
        with_preview = job.is_dry_run and part.first < PREVIEW_ROWS
        if job.is_dry_run:
            with transaction.atomic():
                result = _batch_run(tenant=tenant, job=job, rows=rows, columns=cursor.columns, with_preview=with_preview)
                transaction.set_rollback(True)  # the savepoint: nothing the pipeline wrote stays
        else:
            result = _batch_run(tenant=tenant, job=job, rows=rows, columns=cursor.columns, with_preview=with_preview)
        ImportErrorRow.objects.bulk_create(result.error_rows)
        part.done_at = timezone.now()
        part.save(update_fields=["done_at", "updated_at"])
        # Last, as it locks the job's row until this commits: parts run side by side up to here.
        locked = ImportJob.objects.select_for_update().get(id=job_id)
        for outcome, count in result.counts.items():
            setattr(locked, f"{outcome}_count", getattr(locked, f"{outcome}_count") + count)
        locked.records_done += part.count
        if result.preview:
            locked.preview = sorted([*locked.preview, *result.preview], key=lambda entry: entry["line"])[:PREVIEW_ROWS]
        locked.save()
    return True


def _validated(payload: dict[str, Any]) -> dict[str, Any] | dict[str, list[str]]:
    try:
        validated = _LEAD_INPUT.run_validation(payload)
    except (drf_exceptions.ValidationError, DjangoValidationError) as error:
        detail = error.detail if isinstance(error, drf_exceptions.ValidationError) else as_serializer_error(error)
        raise _RowInvalid(_flatten_errors(detail)) from None
    return {key: value for key, value in validated.items() if value is not None}


class _RowInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _batch_run(
    *, tenant: Tenant, job: ImportJob, rows: list[Row], columns: list[tuple[int, str]], with_preview: bool,
) -> _BatchResult:
    counts = dict.fromkeys(OUTCOMES, 0)
    error_rows: list[ImportErrorRow] = []
    preview: list[dict[str, Any]] = []
    want_preview = with_preview
    payloads: list[dict[str, Any]] = []
    kept: list[Row] = []

    def invalid(row: Row, problems: list[dict[str, Any]]) -> None:
        counts["invalid"] += 1
        error_rows.append(ImportErrorRow(
            tenant=tenant, job=job, line=row.line, outcome="invalid", cells=row.cells, problems=problems,
        ))
        if want_preview:
            preview.append({"line": row.line, "outcome": "invalid", "cells": row.cells, "problems": problems})

    with translation.override(job.language):  # the validation messages, in the uploader's language
        for row in rows:
            payload = row_payload(row.cells, columns=columns)
            if not payload and not row.problems:
                continue  # a blank row: nothing to import, nothing to report
            if row.problems:
                invalid(row, row.problems)
                continue
            if job.source and "source" not in payload:
                payload["source"] = job.source
            try:
                payloads.append(_validated(payload))
            except _RowInvalid as error:
                invalid(row, [{"field": name, "messages": messages} for name, messages in error.errors.items()])
                continue
            kept.append(row)
        outcomes = lead_intake_many(
            tenant=tenant, payloads=payloads, channel=CHANNEL, submitted_by=job.created_by,
        ) if payloads else []
    for row, outcome in zip(kept, outcomes, strict=True):
        _outcome_record(
            tenant=tenant, job=job, row=row, outcome=outcome, counts=counts, error_rows=error_rows,
            preview=preview if want_preview else None,
        )
    return _BatchResult(counts=counts, error_rows=error_rows, preview=preview)


def _outcome_record(
    *, tenant: Tenant, job: ImportJob, row: Row, outcome: IntakeOutcome, counts: dict[str, int],
    error_rows: list[ImportErrorRow], preview: list[dict[str, Any]] | None,
) -> None:
    counts[outcome.outcome] += 1
    problems: list[dict[str, Any]] = []
    if outcome.outcome == "quarantined":
        problems = [{"code": code} for code in outcome.reasons]
    elif outcome.outcome == "invalid":
        problems = [{"field": name, "messages": list(messages)} for name, messages in outcome.errors.items()]
    if problems:
        error_rows.append(ImportErrorRow(
            tenant=tenant, job=job, line=row.line, outcome=outcome.outcome, cells=row.cells, problems=problems,
        ))
    if preview is not None:
        entry: dict[str, Any] = {"line": row.line, "outcome": outcome.outcome, "cells": row.cells, "problems": problems}
        lead = outcome.lead
        if lead is not None and outcome.outcome != "created":  # an existing lead: it stays after the rollback
            entry["lead"] = {"id": lead.id, "name": lead.name}
        if outcome.rule:
            entry["rule"] = outcome.rule
        preview.append(entry)


def import_job_fail(*, tenant_id: int, job_id: int, error: str) -> None:
    """Mark a job failed (a bug or an outage stopped it); the rows committed so far stay."""
    with tenant_scope(tenant_id):
        ImportJob.objects.filter(id=job_id, status__in=ACTIVE_IMPORT_STATUSES).update(
            status=ImportStatus.FAILED, error=error[:2000], finished_at=timezone.now(), updated_at=timezone.now(),
        )
