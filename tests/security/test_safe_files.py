"""Finding H3/H4/L (issue 18): YAML alias bombs, oversized spreadsheets and formula cells.

Each test feeds the real entry point (protocol validator, camera importer, review plan, error
report writer) the attack input; before the fix they expanded it or wrote it unescaped.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from safecities import safeio
from safecities.errors import InputError

#: 9 levels of 9 aliases: 387 million list items once expanded (332 bytes, finding H3).
LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_aliases_are_refused_before_expansion():
    with pytest.raises(safeio.UnsafeYAML, match="aliases"):
        safeio.load_yaml(LAUGHS)
    assert safeio.load_yaml("a: 1\nb: [x, y]\n") == {"a": 1, "b": ["x", "y"]}


def test_yaml_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(safeio.UnsafeYAML):
        safeio.load_yaml("[" * 100_000 + "]" * 100_000)


def test_protocol_validation_refuses_an_alias_bomb(tmp_path):
    from safecities.patrols.protocol import read_document

    p = tmp_path / "bomb.yaml"
    p.write_text(LAUGHS)
    with pytest.raises(InputError, match="bomb.yaml"):
        read_document(p)


def test_protocol_json_nan_and_deep_nesting_are_input_errors(tmp_path):
    from safecities.patrols.protocol import read_document

    for text in ('{"version": NaN}', "[" * 100_000 + "]" * 100_000):
        p = tmp_path / "p.json"
        p.write_text(text)
        with pytest.raises(InputError, match="p.json"):
            read_document(p)


def test_camera_mapping_and_review_plan_refuse_an_alias_bomb(tmp_path):
    from safecities.cameras.importers import load_mapping
    from safecities.review.plan import load_plan

    p = tmp_path / "bomb.yaml"
    p.write_text(LAUGHS)
    with pytest.raises(InputError, match="bomb.yaml"):
        load_mapping(p)
    with pytest.raises(InputError, match="bomb.yaml"):
        load_plan(p)


def _xlsx_declaring(path: Path, ref: str, rows: int = 2) -> Path:
    """A tiny real workbook (openpyxl) whose sheet dimension is rewritten to `ref`."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["camera_id", "lat", "lon"])
    for i in range(rows - 1):
        ws.append([f"c{i}", 50.85, 4.35])
    src = path.with_suffix(".src.xlsx")
    wb.save(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<dimension ref="') + len('<dimension ref="')
                data = (text[:start] + ref + text[text.index('"', start) :]).encode()
            zout.writestr(item, data)
    return path


def test_xlsx_declaring_a_huge_sheet_is_refused_before_allocating(tmp_path):
    from safecities.cameras.tabular import read_table

    bomb = _xlsx_declaring(tmp_path / "inventory.xlsx", "A1:XFD1048576")
    assert bomb.stat().st_size < 10_000
    with pytest.raises(InputError, match="inventory.xlsx: workbook too large: .*declares"):
        read_table(bomb)


def test_xlsx_within_limits_still_reads(tmp_path):
    from safecities.cameras.tabular import read_table

    ok = _xlsx_declaring(tmp_path / "ok.xlsx", "A1:C3", rows=3)
    df = read_table(ok)
    assert list(df.columns) == ["camera_id", "lat", "lon"] and len(df) == 2


def test_xlsx_actual_rows_and_expanded_size_are_bounded(tmp_path):
    ok = _xlsx_declaring(tmp_path / "ok.xlsx", "A1:C3", rows=3)
    liar = _xlsx_declaring(tmp_path / "liar.xlsx", "A1:C1", rows=3)  # declares 1 row, holds 3
    with pytest.raises(safeio.SpreadsheetTooLarge, match="more than 2 rows"):
        list(safeio.xlsx_rows(liar, max_rows=2))
    with pytest.raises(safeio.SpreadsheetTooLarge, match="declares 3 rows"):
        list(safeio.xlsx_rows(ok, max_rows=2))
    with pytest.raises(safeio.SpreadsheetTooLarge, match="expands"):
        list(safeio.xlsx_rows(ok, max_expanded=1000))


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", '=HYPERLINK("x")'])
def test_formula_cells_are_neutralised(cell):
    assert safeio.safe_cell(cell) == "'" + cell
    assert safeio.safe_cell(-3.5) == -3.5 and safeio.safe_cell("Anderlecht") == "Anderlecht"


def test_errors_csv_neutralises_formula_cells(tmp_path):
    from safecities.domain import RowError
    from safecities.register.service import write_error_report

    out = tmp_path / "errors.csv"
    write_error_report([RowError("=cmd|' /C calc'!A0", 2, "kind", "unknown kind", "@SUM(1)")], out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[1][4] == "'@SUM(1)"


def test_chosen_csv_neutralises_formula_cells(tmp_path):
    from safecities.cameras.planning import write_chosen_csv

    report = {"chosen": [{"site_id": '=HYPERLINK("http://x")', "cost": 1000}]}
    out = tmp_path / "chosen.csv"
    write_chosen_csv(report, out)
    df = pd.read_csv(out, dtype=str)
    assert df.iloc[0]["site_id"].startswith("'=") and df.iloc[0]["cost"] == "1000"


def test_frame_helper_leaves_numbers_alone():
    df = pd.DataFrame({"zone": ["=evil", "Clemenceau"], "risk": [-0.5, 1.0]})
    out = safeio.safe_frame(df)
    assert list(out["zone"]) == ["'=evil", "Clemenceau"] and list(out["risk"]) == [-0.5, 1.0]
