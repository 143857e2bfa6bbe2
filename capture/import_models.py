"""Models of file imports: the uploaded file (its bytes in PostgreSQL, so any worker can read
it and nothing is lost when one dies), the jobs run over it (dry run or import), the rows
that could not be read, and the column mapping each tenant used last."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel


class ImportFile(TenantOwnedModel):
    """An uploaded CSV or XLSX: what was found when it arrived (kind, encoding, sheets, header);
    the bytes are in `ImportFileChunk` rows."""

    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    kind = models.CharField(max_length=4)  # csv | xlsx
    encoding = models.CharField(max_length=16, blank=True)  # CSV only: utf-8-sig, utf-8, gb18030
    sheets = models.JSONField(default=list)  # XLSX: sheet names in workbook order
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "sha256"], name="capture_importfile_sha_idx")]

    def __str__(self) -> str:
        return self.name


class ImportFileChunk(TenantOwnedModel):
    """One slice of a file's bytes (at most 1 MiB), read back in `seq` order."""

    file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="+", db_index=False)
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "file", "seq"], name="capture_importchunk_seq_uniq")]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_IMPORT_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)
OUTCOMES = ("created", "merged", "updated", "quarantined", "invalid")


class ImportJob(TenantOwnedModel):
    """A run over an uploaded file: a dry run (nothing written; outcomes of the first rows kept
    as a preview) or the import itself. Its rows are run part by part
    (`ImportPart`), each committed with the job's counts, so a run that dies resumes with the
    parts left undone."""

    file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="+", db_index=False)
    is_dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    sheet = models.CharField(max_length=255, blank=True)
    headers = models.JSONField(default=list)  # the file's column headers, in file order
    mapping = models.JSONField(default=dict)  # column header -> lead field ("" = not imported)
    source = models.CharField(max_length=50, blank=True)  # for rows without a source of their own
    language = models.CharField(max_length=10, default="zh-hans")  # of the validation messages
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # data rows, once counted
    records_done = models.PositiveIntegerField(default=0)  # data rows of the parts done
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    quarantined_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=list)  # dry run: the first rows' outcomes
    error = models.TextField(blank=True)  # why the job failed
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="capture_importjob_recent_idx")]
        constraints = [
            # One import (not a dry run) of a file at a time: a second would collect every row twice.
            models.UniqueConstraint(
                fields=["tenant", "file"], condition=Q(status__in=["queued", "running"], is_dry_run=False),
                name="capture_importjob_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_IMPORT_STATUSES

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: getattr(self, f"{outcome}_count") for outcome in OUTCOMES}

    @property
    def rows_done(self) -> int:
        return sum(self.counts.values())

    @property
    def progress(self) -> float:
        if self.status == ImportStatus.DONE:
            return 1.0
        if not self.rows_total:
            return 0.0
        return min(1.0, self.records_done / self.rows_total)

    @property
    def percent(self) -> int:
        return int(self.progress * 100)


class ImportPart(TenantOwnedModel):
    """A slice of a job's data rows (`first`, 0-based, and `count`): one intake call, one
    transaction. Workers take undone parts with SKIP LOCKED and mark them done in the same
    transaction, so a part is run once, and a worker killed mid-part leaves it undone."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    first = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "job", "first"], name="capture_importpart_first_uniq")]


class ImportErrorRow(TenantOwnedModel):
    """A row that was not imported as is: invalid (with its errors) or quarantined (with its
    reasons), for the error report. `problems` are codes and fields, worded when read."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    line = models.PositiveIntegerField()  # as the spreadsheet numbers it: the header is line 1
    outcome = models.CharField(max_length=12)  # invalid | quarantined
    cells = models.JSONField(default=list)  # the row as read
    problems = models.JSONField(default=list)  # [{"code"|"field", "messages"?: [...]}, ...]

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "job", "line"], name="capture_importerror_line_idx")]


class ImportMappingMemory(TenantOwnedModel):
    """The lead field a tenant last mapped a column header to, guessed first next time."""

    header = models.CharField(max_length=255)  # normalised (capture.import_mapping.header_key)
    field = models.CharField(max_length=80)  # "" = the column was left out

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "header"], name="capture_mappingmemory_uniq")]
