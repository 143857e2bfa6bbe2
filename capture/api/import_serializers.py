"""Input and output of /api/v1/imports (API.md "Imports")."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from capture.import_models import ImportStatus
from capture.import_reader import MAX_IMPORT_BYTES
from leads.api.serializers import StrictCharField


@extend_schema_field(OpenApiTypes.STR)  # a form field: the object's JSON text
class MappingField(serializers.Field):
    """A JSON object sent as a form field: {"column header": "lead field"}."""

    default_error_messages = {
        "invalid": 'Send a JSON object of column header to lead field, e.g. {{"手机": "mobile"}}.',  # format()ted
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            parsed: Any = data
        else:
            try:
                parsed = json.loads(data) if isinstance(data, str) else None
            except ValueError:
                parsed = None
        if not isinstance(parsed, dict) or not parsed:
            self.fail("invalid")
        return parsed

    def to_representation(self, value: Any) -> Any:
        return value


class ImportCreateInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file gets our own message, naming what to upload
        help_text="CSV (UTF-8 with or without BOM, or GBK/GB18030) or XLSX, the first row being the column "
        f"headers; at most {MAX_IMPORT_BYTES // 1024 // 1024} MB.",
    )
    mapping = MappingField(
        required=False,
        help_text='JSON object {"column header": "lead field"} ("" leaves a column out; `custom.<key>` for a custom '
        "field). Default: guessed from Chinese and English headers (the usual words for name, mobile, company, e-mail, …) and "
        "the mapping this tenant used last.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="true: run every row through intake and report, writing nothing."
    )
    source = StrictCharField(  # type: ignore[assignment]  # a field: DRF pops it from the class
        required=False, allow_blank=True, default="", max_length=50,
        help_text="The lead source of rows without one of their own.",
    )
    sheet = StrictCharField(
        required=False, allow_blank=True, default="", max_length=255,
        help_text="XLSX: the sheet to import; required when the workbook has several.",
    )


class ImportCreatedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[ImportStatus.QUEUED.value])


class ImportCountsSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    merged = serializers.IntegerField()
    updated = serializers.IntegerField()
    quarantined = serializers.IntegerField()
    invalid = serializers.IntegerField()


class ImportOutputSerializer(serializers.Serializer[Any]):
    """An import or dry run and how far it got."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportStatus.values)
    progress = serializers.FloatField(help_text="0 to 1.")
    rows = serializers.IntegerField(help_text="Data rows in the file (0 until the worker has counted them).")
    counts = ImportCountsSerializer()
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True))
    error_report = serializers.URLField(allow_null=True, help_text="CSV of the rows not imported, with their reasons.")
    dry_run = serializers.BooleanField()
    file_name = serializers.CharField()
    sheet = serializers.CharField(allow_blank=True)
    sheets = serializers.ListField(child=serializers.CharField(), help_text="XLSX: every sheet of the workbook.")
    source = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field, as above
    error = serializers.CharField(allow_blank=True, help_text="Why the job failed.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

