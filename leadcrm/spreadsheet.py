"""Cells written to files people open in a spreadsheet (CSV and XLSX exports).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and a leading tab
or carriage return can smuggle one past a naive check), so a lead named `=HYPERLINK(...)` would
run on the exporter's machine (OWASP "CSV injection"). Every exported text goes through
`cell_safe`, which prefixes such a cell with an apostrophe: shown as text, never run.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> str:
    """`value` as the text of a cell a spreadsheet will not run (None is an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
