"""Safe input/output helpers."""

from __future__ import annotations

from typing import Any

#: OWASP CSV injection: a cell starting with one of these may be run as a formula by a spreadsheet
#: (tab and carriage return too, since some spreadsheets strip them before parsing).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` made harmless for a spreadsheet cell: a str starting with = + - @ (or tab or CR)
    gets a leading `'` (OWASP); anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
