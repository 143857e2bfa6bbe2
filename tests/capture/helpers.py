"""Files to import, built in the tests (no fixtures on disk)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

HEADER = ["姓名", "手机号码", "公司名称", "Email", "城市"]


def mobile(n: int) -> str:
    """A distinct mobile per n, its digits scrambled so intake never takes it for a fake."""
    return f"139{(n * 7919 + 13579) % 10**8:08d}"


def good_rows(count: int, *, start: int = 0) -> list[list[str]]:
    return [
        [f"客户{n}", mobile(n), f"星河{n}号科技有限公司", f"kehu{n}@qiye{n % 7}.cn", "上海"]
        for n in range(start, start + count)
    ]


def csv_bytes(rows: Iterable[Sequence[str]], *, header: Sequence[str] | None = HEADER, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] if header is not None else []
    lines += [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list[Any]]], *, merge: Sequence[tuple[str, str]] = ()) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]  # a fresh workbook's one sheet
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for sheet_title, cells in merge:
            if sheet_title == title:
                sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
