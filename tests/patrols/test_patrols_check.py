# ruff: noqa: E501  (tabular test rows)
"""The independent checker finds every kind of violation, with rule, time, zone, units, numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from safecities.patrols.check import check_plan

DATA = Path(__file__).resolve().parents[1] / "data" / "patrols"
MINI = DATA / "mini.yaml"
HEADER = ["start", "end", "zone_id", "patrol_id", "police", "soldiers", "command_post", "kind",
          "police_units", "soldier_units", "liaison"]  # fmt: skip


def _write(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _t(s: str) -> str:
    return f"2026-04-03T{s}:00+02:00"


BAD = [
    [_t("21:00"), _t("21:15"), "clemenceau", "A", 2, 2, "cp-south", "patrol", "POL-001", "DEF-001", "DL-S1"],
    [_t("21:00"), _t("21:15"), "clemenceau", "B", 2, 2, "cp-south", "patrol", "POL-002", "DEF-002", "DL-S1"],
    [_t("21:00"), _t("21:15"), "railway-south", "C", 2, 2, "cp-rail", "patrol", "POL-003", "DEF-003", "DL-S2"],
    [_t("21:00"), _t("21:15"), "peterbos", "D", 2, 2, "cp-south", "patrol", "", "", "DL-S1"],
    [_t("21:15"), _t("21:30"), "metro-gare-du-midi", "E", 1, 1, "cp-rail", "patrol", "", "", "DL-R1"],
    [_t("21:15"), _t("21:30"), "clemenceau", "F", 2, 3, "cp-rail", "patrol", "", "", "DL-S1"],
    [_t("21:15"), _t("21:30"), "nowhere", "G", 2, 0, "cp-rail", "patrol", "", "", ""],
    ["2026-10-01T10:00:00+02:00", "2026-10-01T10:15:00+02:00", "clemenceau", "H", 2, 0, "cp-south",
     "patrol", "", "", ""],
    [_t("20:00"), _t("20:15"), "clemenceau", "fipa-1", 0, 2, "cp-south", "fipa", "", "DEF-005", ""],
    [_t("21:30"), _t("21:45"), "clemenceau", "I", 2, 0, "cp-south", "patrol", "POL-001;POL-001", "", ""],
    ["not a time", _t("21:45"), "clemenceau", "J", "two", 0, "cp-south", "walk", "", "", ""],
    # working time: a 12 h period, then only 4 h of rest
    ["2026-04-06T06:00:00+02:00", "2026-04-06T18:00:00+02:00", "peterbos", "K", 2, 0, "cp-south",
     "patrol", "POL-010", "", ""],
    ["2026-04-06T22:00:00+02:00", "2026-04-07T06:00:00+02:00", "peterbos", "K", 2, 0, "cp-south",
     "patrol", "POL-010", "", ""],
]  # fmt: skip


def test_each_violation_kind_is_reported(tmp_path: Path) -> None:
    report = check_plan(_write(tmp_path / "bad.csv", BAD), MINI)
    rules = report.counts()
    msgs = [v.message for v in report.violations]
    assert "8 soldiers deployed 2026-04-03 21:00-21:15, cap 6" in msgs
    for rule in ("soldier_cap", "approved_area", "mixed_police_min", "soldiers_max", "zone",
                 "command_post", "period", "liaison", "fipa_soldiers", "unit_double_booked",
                 "unit_count", "format", "shift_length", "rest", "zone_min_mixed"):  # fmt: skip
        assert rule in rules, (rule, rules)
    cap = next(v for v in report.violations if v.rule == "soldier_cap")
    assert cap.numbers == {"soldiers": 8, "cap": 6}
    liaison = [v for v in report.violations if v.rule == "liaison"]
    assert any(v.zone == "railway-south" for v in liaison)  # DL-S2 is not a liaison of cp-rail
    rest = next(v for v in report.violations if v.rule == "rest" and v.units == ["POL-010"])
    assert rest.units == ["POL-010"] and rest.numbers["rest_hours"] == 4
    fmt = next(v for v in report.violations if v.rule == "format")
    assert "start" in fmt.message and "police" in fmt.message and "kind" in fmt.message


def _mixed_day(day: str, hours: range, unit: int) -> list[list]:
    """One mixed patrol in railway-south (minimum 1), a 15-min visit each quarter of `hours`."""
    rows = []
    for k in range(len(hours) * 4):
        a = pd.Timestamp(day).tz_localize("Europe/Brussels") + pd.Timedelta(
            minutes=60 * hours[0] + 15 * k
        )
        b = a + pd.Timedelta(minutes=15)
        rows.append([a.isoformat(), b.isoformat(), "railway-south", f"POL-{unit:03d}+DEF-{unit:03d}",
                     2, 2, "cp-rail", "patrol", f"POL-{unit:03d}", f"DEF-{unit:03d}", "DL-R1"])  # fmt: skip
    return rows


def _full_day(day: str, first_unit: int = 1) -> list[list]:
    return [r for i, hh in enumerate((range(0, 8), range(8, 16), range(16, 24)))
            for r in _mixed_day(day, hh, first_unit + i)]  # fmt: skip


def test_compliant_plan_passes(tmp_path: Path) -> None:
    report = check_plan(_write(tmp_path / "ok.csv", _full_day("2026-04-06")), MINI)
    assert report.ok, [v.message for v in report.violations]
    assert report.horizon == ("2026-04-06T00:00:00+02:00", "2026-04-07T00:00:00+02:00")


def test_a_day_is_covered_from_00_00_to_24_00(tmp_path: Path) -> None:
    # 06:00-14:00 only: the day's night and evening have no mixed patrol in railway-south
    report = check_plan(
        _write(tmp_path / "day.csv", _mixed_day("2026-04-06", range(6, 14), 1)), MINI
    )
    gaps = [(v.start, v.end) for v in report.violations if v.rule == "zone_min_mixed"]
    assert gaps == [("2026-04-06T00:00:00+02:00", "2026-04-06T06:00:00+02:00"),
                    ("2026-04-06T14:00:00+02:00", "2026-04-07T00:00:00+02:00")]  # fmt: skip
    # the protocol's first day (20 March) starts at its first shift start, 06:00
    first = _mixed_day("2026-03-20", range(6, 14), 1)
    report = check_plan(_write(tmp_path / "first.csv", first), MINI)
    gaps = [(v.start, v.end) for v in report.violations if v.rule == "zone_min_mixed"]
    assert gaps == [("2026-03-20T14:00:00+01:00", "2026-03-21T00:00:00+01:00")]


def test_cli_check_json(tmp_path: Path, cli) -> None:
    f = _write(tmp_path / "bad.csv", BAD)
    res = cli(["plan", "check", str(f), "--protocol", str(MINI), "--json"])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["ok"] is False and out["counts_by_rule"]["soldier_cap"] == 1
    assert set(out["violations"][0]) == {"rule", "message", "start", "end", "zone", "units", "numbers",
                                         "rows"}  # fmt: skip
    assert out["manifest"]["inputs"]["plan"]


def test_missing_columns_is_an_input_error(tmp_path: Path, cli) -> None:
    f = tmp_path / "x.csv"
    f.write_text("start,end\n")
    res = cli(["plan", "check", str(f), "--protocol", str(MINI)])
    assert res.exit_code == 1 and "missing column" in res.stderr


def _day_plan(start: str, end: str, zone: str = "clemenceau") -> list:
    return [start, end, zone, "POL-001", 2, 0, "cp-south", "patrol", "POL-001", "", ""]


def test_times_without_offset_or_with_a_foreign_offset_are_refused(tmp_path: Path, cli) -> None:
    rows = [
        _day_plan("2026-04-06T10:00:00+02:00", "2026-04-06T10:15:00+02:00"),  # fine (CEST)
        _day_plan("2026-04-06T08:15:00+00:00", "2026-04-06T08:30:00+00:00"),  # same instant, relabelled
        _day_plan("2026-04-06T10:30:00", "2026-04-06T10:45:00+02:00"),  # naive start
        _day_plan("2026-04-06T10:45:00+02:00", "2026-04-06T09:00:00Z"),  # Z end
        # DST: 29 March 2026 02:00 CET jumps to 03:00 CEST; 25 October 03:00 CEST back to 02:00 CET
        _day_plan("2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00"),  # fine, across the jump
        _day_plan("2026-03-29T03:00:00+01:00", "2026-03-29T03:15:00+01:00"),  # winter offset in summer
        _day_plan("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"),  # both 02:30s exist
    ]  # fmt: skip
    report = check_plan(_write(tmp_path / "tz.csv", rows), MINI)
    fmt = {v.rows[0]: v.message for v in report.violations if v.rule == "format"}
    assert set(fmt) == {2, 3, 4, 6}, fmt
    assert "field 'start' has offset +00:00, but Europe/Brussels is at +02:00" in fmt[2]
    assert fmt[3].startswith("row 3: field 'start' has no UTC offset")
    assert "field 'end' has offset Z" in fmt[4]
    assert "has offset +01:00, but Europe/Brussels is at +02:00" in fmt[6]
    res = cli(["plan", "check", str(tmp_path / "tz.csv"), "--protocol", str(MINI)])
    assert res.exit_code == 1 and "row 2: field 'start' has offset +00:00" in res.stdout
