"""The export module and safe_cell on their own: what a spreadsheet receives cell by cell."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from openpyxl import load_workbook

from safecities import exports
from safecities.safeio import safe_cell


def test_safe_cell_neutralises_formula_starts_only():
    for bad in ("=1+1", "+32 2 123", "-x", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(bad) == "'" + bad
    for ok in ("Anderlecht", "", " =1", "a=b", "'=x"):
        assert safe_cell(ok) == ok
    assert safe_cell(-1) == -1 and safe_cell(None) is None and safe_cell(2.5) == 2.5


def test_rows_to_csv_xlsx_geojson():
    at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # the night of the DST change in Brussels
    rows = [
        {"id": 1, "name": "Sint-Gillis / Saint-Gilles", "n": -3, "at": at, "lines": ["2", "6"],
         "lat": 50.83, "lon": 4.34, "ok": True, "extra": {"a": 1}},
        {"id": 2, "name": "=cmd", "n": None, "at": None, "lines": [], "lat": None, "lon": None},
    ]  # fmt: skip
    csv_bytes = exports.export(rows, "csv", "t").body
    text = csv_bytes.decode("utf-8-sig")
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    lines = text.splitlines()
    assert lines[0] == "id;name;n;at;lines;lat;lon;ok;extra"
    assert lines[1].startswith("1;Sint-Gillis / Saint-Gilles;-3;2025-03-30T01:30:00+00:00;2,6;")
    assert lines[2] == "2;'=cmd;;;;;;;"
    ws = load_workbook(io.BytesIO(exports.export(rows, "xlsx", "t").body)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[1][2] == -3 and values[2][1] == "'=cmd"
    geo = json.loads(exports.export(rows, "geojson", "t").body)
    assert len(geo["features"]) == 1  # the row without a position is left out
    assert geo["features"][0]["geometry"]["coordinates"] == [4.34, 50.83]
    # an empty export still names its columns
    assert exports.export([], "csv", "t", ["a", "b"]).body.decode("utf-8-sig") == "a;b\r\n"


def test_control_characters_never_break_an_xlsx_nor_hide_a_formula():
    rows = [{"a": "bell\x07 and nul\x00", "b": "\x1b=cmd"}]
    ws = load_workbook(io.BytesIO(exports.export(rows, "xlsx", "t").body)).active
    cells = list(ws.iter_rows())[1]
    assert [c.value for c in cells] == ["bell and nul", "'=cmd"]
    assert all(c.data_type != "f" for c in cells)
