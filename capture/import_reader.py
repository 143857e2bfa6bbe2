"""Reading an uploaded spreadsheet, row by row, without holding it in memory.

Pure module, no ORM. A CSV is UTF-8 (with or without BOM) or GBK/GB18030, decided by one
streaming pass over the bytes; an XLSX is read with openpyxl's read-only (streaming) mode,
taking the values Excel cached for formulas. Problems are `ImportFileError`s with a code the
pages and the API word themselves.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

# Documented in API.md: a bigger upload is refused with this limit in the message.
MAX_IMPORT_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 200
_HEAD = 8192
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")


class ImportFileError(Exception):
    """The file cannot be imported; `code` says why (`params` fill the message)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FileFacts:
    kind: str  # csv | xlsx
    encoding: str = ""
    sheets: list[str] = field(default_factory=list)


def file_inspect(stream: IO[bytes], *, size: int) -> FileFacts:
    """What the file is: refuses an empty file, one too big, and one that is not a spreadsheet."""
    if size == 0:
        raise ImportFileError("empty")
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError("too_big", size=size, limit=MAX_IMPORT_BYTES)
    stream.seek(0)
    head = stream.read(_HEAD)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return FileFacts(kind="xlsx", sheets=_xlsx_sheets(stream))
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise ImportFileError("not_spreadsheet")
    encoding = _csv_encoding(stream)
    if not head.strip(b"\xef\xbb\xbf \t\r\n,;"):
        raise ImportFileError("empty")
    return FileFacts(kind="csv", encoding=encoding)


def _xlsx_sheets(stream: IO[bytes]) -> list[str]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ImportFileError("not_spreadsheet") from error
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()
        stream.seek(0)


def _csv_encoding(stream: IO[bytes]) -> str:
    """UTF-8 when every byte decodes as UTF-8 (one streaming pass), else GB18030 (a superset
    of GBK); bytes neither reads are not a text file."""
    stream.seek(0)
    first = stream.read(3)
    stream.seek(0)
    bom = first == codecs.BOM_UTF8
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(0)
            continue
        stream.seek(0)
        if encoding == "utf-8":
            return "utf-8-sig" if bom else "utf-8"
        return encoding
    raise ImportFileError("not_spreadsheet")


@dataclass(frozen=True)
class Row:
    line: int  # 1 = the header
    cells: list[str]
    problems: list[dict[str, Any]] = field(default_factory=list)  # cells that could not be read


def rows_read(stream: IO[bytes], *, facts: FileFacts, sheet: str = "") -> Generator[Row, None, None]:
    """Every row of the file (or of `sheet`), the header first, cells as text."""
    if facts.kind == "csv":
        yield from _csv_rows(stream, encoding=facts.encoding)
    else:
        yield from _xlsx_rows(stream, sheet=sheet or facts.sheets[0])


def _csv_rows(stream: IO[bytes], *, encoding: str) -> Generator[Row, None, None]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first_line = text.readline()
        text.seek(0)
        # The header decides the delimiter (csv.Sniffer guesses from data, and notes full of
        # semicolons fool it): the most frequent of comma, semicolon and tab; commas on a tie.
        delimiter = max(",;\t", key=lambda candidate: (first_line.count(candidate), candidate == ","))
        reader = csv.reader(text, delimiter=delimiter)
        line = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # a cell over the csv module's limit, a stray NUL…
                raise ImportFileError("bad_csv", line=line + 1, error=str(error)) from None
            line += 1
            yield Row(line=line, cells=[cell.strip() for cell in cells[:MAX_COLUMNS]])
    finally:
        if not stream.closed:
            text.detach()  # the caller owns the stream: closing the wrapper must not close it


def _xlsx_rows(stream: IO[bytes], *, sheet: str) -> Generator[Row, None, None]:
    """Values as Excel last computed them; a formula cell without one (a file written by a
    program that never calculated it) is reported, never read as blank."""
    from openpyxl import load_workbook

    stream.seek(0)
    values = load_workbook(stream, read_only=True, data_only=True)
    # The formulas come from a second read-only pass over the same bytes, row by row beside the values.
    formulas = load_workbook(stream, read_only=True, data_only=False)
    try:
        if sheet not in values.sheetnames:
            raise ImportFileError("unknown_sheet", sheet=sheet, sheets=", ".join(values.sheetnames))
        merged = _merged_ranges(stream, path=getattr(values[sheet], "_worksheet_path", ""))
        value_rows = values[sheet].iter_rows(values_only=True)
        formula_rows = formulas[sheet].iter_rows(values_only=True)
        fill = _MergedFill(merged)
        for line, (row, formula_row) in enumerate(zip(value_rows, formula_rows, strict=False), start=1):
            cells: list[str] = []
            problems: list[dict[str, Any]] = []
            for column, value in enumerate(row[:MAX_COLUMNS]):
                raw = formula_row[column] if column < len(formula_row) else None
                if value is None and isinstance(raw, str) and raw.startswith("="):
                    problems.append({"code": "formula_without_value", "column": column, "formula": raw[:100]})
                cells.append(cell_text(value))
            fill.apply(cells, line=line)
            yield Row(line=line, cells=cells, problems=problems)
    finally:
        values.close()
        formulas.close()


MergedRange = tuple[int, int, int, int]  # first line, first column, last line, last column (0-based columns)


def _merged_ranges(stream: IO[bytes], *, path: str) -> list[MergedRange]:
    """The sheet's merged ranges (read-only mode does not expose them): one streaming pass over
    the sheet's XML that keeps only the <mergeCell ref="C2:C5"> elements, each finished row
    dropped as it ends."""
    from xml.etree.ElementTree import Element, iterparse  # noqa: S405 - the workbook openpyxl already parsed

    from openpyxl.utils.cell import range_boundaries

    if not path:
        return []
    stream.seek(0)
    ranges: list[MergedRange] = []
    sheet_data: Element | None = None
    with zipfile.ZipFile(stream) as archive, archive.open(path.lstrip("/")) as xml:
        for event, element in iterparse(xml, events=("start", "end")):  # noqa: S314 - as above
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "sheetData":
                    sheet_data = element
                continue
            if tag == "row" and sheet_data is not None:
                sheet_data.clear()  # the rows read so far: their values come from openpyxl
            elif tag == "mergeCell" and (ref := element.get("ref")):
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                if min_col and min_row and max_col and max_row:
                    ranges.append((min_row, min_col - 1, max_row, max_col - 1))
    stream.seek(0)
    return sorted(ranges)


class _MergedFill:
    """Gives every cell of a merged range the value of its first cell, as people read the
    sheet (a company merged over the rows of its three contacts belongs to each of them).
    Rows come in order, so only the ranges over the current row are looked at."""

    def __init__(self, ranges: list[MergedRange]) -> None:
        self.pending = ranges  # sorted by first line
        self.next = 0
        self.active: list[tuple[MergedRange, str]] = []

    def apply(self, cells: list[str], *, line: int) -> None:
        while self.next < len(self.pending) and self.pending[self.next][0] <= line:
            merged = self.pending[self.next]
            self.next += 1
            if merged[0] == line:  # a range whose first line was skipped has no value to give
                first_column = merged[1]
                self.active.append((merged, cells[first_column] if first_column < len(cells) else ""))
        if not self.active:
            return
        for (_first_line, first_column, _last_line, last_column), value in self.active:
            last = min(last_column, MAX_COLUMNS - 1)
            while len(cells) <= last:
                cells.append("")
            for column in range(first_column, last + 1):
                if not cells[column]:
                    cells[column] = value
        self.active = [entry for entry in self.active if entry[0][2] > line]


def cell_text(value: Any) -> str:
    """A cell as the text a person sees: 13812345678 (a number) not 13812345678.0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
