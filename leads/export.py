"""Exports of a lead list (CSV and XLSX), read through the list's own path.

The caller hands over the list exactly as the page or the API built it (`LeadFilter` over
`lead_visible_to`, the search's unmasking guard, the ordering), so an export never shows a lead
or a contact its reader could not see on screen. Rows are read in keyset chunks of the list's
own selector (`lead_keyset_page`): each chunk is one short indexed query at any depth, and the
first bytes leave before the second chunk is read.

CSV streams (UTF-8 with a byte-order mark, so Excel opens Chinese). XLSX cannot be streamed
(the file is a zip whose directory comes last): it is written with openpyxl's write-only mode
(rows go to a temporary file, memory stays flat) and refused above `XLSX_ROW_CAP` rows with a
message pointing to CSV. Every text cell goes through `leadcrm.spreadsheet.cell_safe`. Every
export is audited: who, which filters, how many rows, and whether the download finished.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from leadcrm.spreadsheet import cell_safe
from leadcrm.tenancy.models import ApiKey, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import audit_log_record
from leads.list_columns import LIST_COLUMNS
from leads.masking import contacts_for, contacts_masked
from leads.models import Lead, LeadStatus, Tier
from leads.selectors import lead_keyset_page, owner_labels

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_ACTION = "lead.export"
EXPORT_CHUNK_SIZE = 2_000
EXPORT_FIRST_ROWS = 100
# Excel opens a million rows, but a workbook cannot be streamed: past this size CSV (which
# streams at any size) is the answer, and the refusal says so.
XLSX_ROW_CAP = 50_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class ExportTooLarge(ValueError):
    """An XLSX export of more rows than `XLSX_ROW_CAP`."""


@dataclass(frozen=True)
class LeadExport:
    """One export: the list as its reader sees it, the columns to write and who asked."""

    tenant: Tenant
    leads: QuerySet[Lead]  # filtered and limited to what the reader may see
    ordering: tuple[str, ...]
    columns: tuple[str, ...]  # keys of `LIST_COLUMNS`, in the table's order
    viewer_id: int | None  # None: an API key, which reads contacts whole (leads.masking)
    viewer_is_admin: bool
    masking_pool_ids: frozenset[int]
    pool_names: dict[int, str]
    filters: dict[str, list[str]] = field(default_factory=dict)  # as asked, for the audit
    actor: User | None = None
    actor_api_key: ApiKey | None = None


def export_headers(columns: tuple[str, ...]) -> list[str]:
    """The header row in the active language: the lead's identity, then the chosen columns."""
    identity = [_("编号"), _("姓名"), _("公司"), _("职位"), _("手机"), _("邮箱")]
    return [*identity, *(str(LIST_COLUMNS[key]) for key in columns)]


# The columns an export reads: the model's other columns stay in the table.
EXPORT_FIELDS = (
    "id", "name", "company", "title", "mobile", "email", "status", "score_total", "grade", "level", "tier", "scored_at",
    "source", "province", "city", "owner_id", "pool_id", "created_at",
)


@dataclass(frozen=True)
class _Words:
    """The export's words in the active language, translated once (not once per row)."""

    statuses: dict[str, str]
    tiers: dict[str, str]
    unscored: str
    unassigned: str

    @classmethod
    def active(cls) -> _Words:
        return cls(
            statuses={value: str(label) for value, label in LeadStatus.choices},
            tiers={value: str(label) for value, label in Tier.choices},
            unscored=_("未评分"), unassigned=_("未分配"),
        )


def _column_value(key: str, lead: Lead, *, owners: dict[int, str], pool_names: dict[int, str], words: _Words) -> Any:
    scored = lead.scored_at is not None  # an unscored lead holds defaults it was never given
    if key == "status":
        return words.statuses.get(lead.status, lead.status)
    if key == "score":
        return lead.score_total if scored else None
    if key == "grade":
        return f"{lead.grade}{lead.level}" if scored else words.unscored
    if key == "tier":
        return words.tiers.get(lead.tier, lead.tier) if scored else ""
    if key == "source":
        return lead.source
    if key == "region":
        return " ".join(part for part in dict.fromkeys((lead.province, lead.city)) if part)
    if key == "owner":
        return owners.get(lead.owner_id, "") if lead.owner_id else words.unassigned
    if key == "pool":
        return pool_names.get(lead.pool_id, "") if lead.pool_id else ""
    if key == "created_at":
        return timezone.localtime(lead.created_at).strftime("%Y-%m-%d %H:%M")
    raise KeyError(key)


def _lead_chunks(export: LeadExport) -> Iterator[list[Lead]]:
    cursor = ""
    leads = export.leads.only(*EXPORT_FIELDS)
    while True:
        page = lead_keyset_page(
            queryset=leads, ordering=export.ordering, cursor=cursor, page_size=EXPORT_CHUNK_SIZE, deferred_fields=()
        )
        if page.rows:
            yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def export_rows(export: LeadExport) -> Iterator[list[Any]]:
    """Every row of the export after the header, values raw (numbers stay numbers)."""
    owners: dict[int, str] = {}
    words = _Words.active()
    for chunk in _lead_chunks(export):
        if missing := {lead.owner_id for lead in chunk if lead.owner_id and lead.owner_id not in owners}:
            owners.update({user_id: label.name for user_id, label in owner_labels(user_ids=missing).items()})
        for lead in chunk:
            masked = contacts_masked(
                pool_id=lead.pool_id, owner_id=lead.owner_id, viewer_id=export.viewer_id,
                viewer_is_admin=export.viewer_is_admin, masking_pool_ids=export.masking_pool_ids,
            )
            contacts = contacts_for(mobile=lead.mobile, phone="", email=lead.email, wechat="", masked=masked)
            yield [
                lead.id, lead.name, lead.company, lead.title, _phone_cell(contacts["mobile"]), contacts["email"],
                *(
                    _column_value(key, lead, owners=owners, pool_names=export.pool_names, words=words)
                    for key in export.columns
                ),
            ]


def _phone_cell(e164: str) -> str:
    """A mainland number as people write it (13800138000): in E.164 its leading `+` made the
    cell a would-be formula, exported as `'+86…`. Other countries keep their E.164 form."""
    return e164[3:] if e164.startswith("+861") else e164


def _audit(export: LeadExport, *, file_format: str, row_count: int, is_complete: bool) -> None:
    audit_log_record(
        tenant=export.tenant, action=EXPORT_ACTION, object_type="lead_list", object_id=file_format,
        actor=export.actor, actor_api_key=export.actor_api_key,
        changes={
            "format": file_format, "rows": row_count, "complete": is_complete, "filters": export.filters,
            "ordering": export.ordering[0], "columns": list(export.columns),
        },
    )


def _csv_text(value: Any) -> str:
    if isinstance(value, Decimal):
        value = f"{value.normalize():f}"
    return cell_safe(value)


class _Echo:
    """A file-like `write` that hands the line back, so csv.writer formats rows for a stream."""

    def write(self, value: str) -> str:
        return value


def lead_export_csv_stream(*, export: LeadExport) -> Generator[str, None, None]:
    """The CSV, a chunk of rows at a time. It runs after the view has returned, so the tenant's
    scope, the language and the time zone are entered again here; the audit row is written
    when the stream ends, finished or cut off."""
    tenant_id = export.tenant.id
    language, zone = translation.get_language(), timezone.get_current_timezone()
    writer = csv.writer(_Echo())

    def generate() -> Generator[str, None, None]:
        row_count, is_complete = 0, False
        try:
            with tenant_scope(tenant_id), translation.override(language), timezone.override(zone):
                # The header goes out at once: the download starts before the first query.
                yield "\ufeff" + writer.writerow(export_headers(export.columns))
                lines: list[str] = []
                for row in export_rows(export):
                    lines.append(writer.writerow([_csv_text(value) for value in row]))
                    row_count += 1
                    # The first few rows go out at once (the reader sees the download work),
                    # then a chunk at a time.
                    if len(lines) == EXPORT_CHUNK_SIZE or row_count == EXPORT_FIRST_ROWS:
                        yield "".join(lines)
                        lines = []
                if lines:
                    yield "".join(lines)
            is_complete = True
        finally:  # a fresh transaction: a cut-off stream's own one was rolled back
            with tenant_scope(tenant_id):
                _audit(export, file_format="csv", row_count=row_count, is_complete=is_complete)

    return generate()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    # openpyxl stores a string starting with "=" as a formula: text must be neutralised here too.
    # Control characters (a lead named "A\x01B" is accepted text) are not allowed in an XLSX
    # cell at all: openpyxl refuses the whole workbook, so they are left out.
    return ILLEGAL_CHARACTERS_RE.sub("", cell_safe(value))


def lead_export_xlsx(*, export: LeadExport) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small), rewound; refuses more than
    `XLSX_ROW_CAP` rows with `ExportTooLarge` before writing any."""
    if export.leads.order_by().values("id")[: XLSX_ROW_CAP + 1].count() > XLSX_ROW_CAP:
        raise ExportTooLarge(XLSX_ROW_CAP)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("线索"))
    sheet.append(export_headers(export.columns))
    row_count = 0
    for row in export_rows(export):
        sheet.append([_xlsx_value(value) for value in row])
        row_count += 1
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    workbook.save(output)
    output.seek(0)
    _audit(export, file_format="xlsx", row_count=row_count, is_complete=True)
    return output


def export_filename(*, tenant: Tenant, file_format: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"leads-{tenant.slug}-{stamp}.{file_format}"


def export_filters(query: Any, *, ignored: frozenset[str] = frozenset({"cursor", "format", "cols"})) -> dict[str, list[str]]:
    """The query's filters as asked (for the audit), without paging and format parameters."""
    return {name: values for name, values in query.lists() if name not in ignored and any(values)}

