"""Defence liaisons as protocol data: `defence_liaison.counts_in_cap` (the liaisons on duty count in
the soldier cap at every moment) and `defence_liaison.rostered` (liaison turns follow Defence
working time), planned, validated and checked independently."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from patrols_cli import plan_checked

from safecities.patrols.check import check_plan
from safecities.patrols.planner import HEADER
from safecities.patrols.protocol import load_protocol, read_document, validate_document

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _protocol(tmp_path: Path, **liaison) -> Path:
    doc = read_document(MINI)[0]
    doc["defence_liaison"].update(liaison)
    f = tmp_path / "liaisons.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def test_liaisons_in_the_cap_leave_fewer_soldiers_for_patrols_and_fipa(tmp_path: Path) -> None:
    f = _protocol(tmp_path, counts_in_cap=True)
    p = load_protocol(f)
    assert p.liaisons_on_duty == 2 and p.patrol_cap == 4  # cap 6, one liaison per post
    df = plan_checked(f, date(2026, 4, 2), date(2026, 4, 4), tmp_path / "plan.csv", seed=5)
    per_slot = df.groupby("start")["soldiers"].sum()
    assert per_slot.max() <= 4
    liaisons = df[df["liaison"] != ""].groupby("start")["liaison"].nunique()
    assert (per_slot.add(liaisons, fill_value=0) <= 6).all()
    assert (df.loc[df["kind"] == "fipa", "soldiers"] == 2).all()  # the FIPA still staffed


def _write(tmp_path: Path, rows: list[list]) -> Path:
    plan = tmp_path / "hand.csv"
    with open(plan, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return plan


def _t(day: int, hh: int, mm: int = 0) -> str:
    return f"2026-04-{day:02d}T{hh:02d}:{mm:02d}:00+02:00"


def test_checker_counts_the_liaisons_shown_in_the_cap(tmp_path: Path) -> None:
    rows = [
        [_t(3, 21), _t(3, 21, 15), "railway-south", f"POL-00{i}+DEF-00{i}", 2, 2, "cp-rail",
         "patrol", f"POL-00{i}", f"DEF-00{i}", "DL-R1"]
        for i in (1, 2)
    ] + [
        [_t(3, 21), _t(3, 21, 15), "clemenceau", "POL-003+DEF-003", 2, 2, "cp-south", "patrol",
         "POL-003", "DEF-003", "DL-S1"],
    ]  # fmt: skip
    plan = _write(tmp_path, rows)  # 6 soldiers on patrol and 2 liaisons
    cap = [v for v in check_plan(plan, _protocol(tmp_path, counts_in_cap=True)).violations
           if v.rule == "soldier_cap"]  # fmt: skip
    assert len(cap) == 1 and cap[0].numbers == {"soldiers": 8, "cap": 6, "liaisons": 2}
    assert (
        cap[0].message == "8 soldiers deployed 2026-04-03 21:00-21:15 (2 of them liaisons), cap 6"
    )
    assert not [v for v in check_plan(plan, MINI).violations if v.rule == "soldier_cap"]


def test_rostered_liaisons_take_defence_shifts_in_rotation(tmp_path: Path) -> None:
    f = _protocol(tmp_path, rostered=True)
    df = plan_checked(f, date(2026, 4, 6), date(2026, 4, 12), tmp_path / "plan.csv", seed=5)
    li = df[df["liaison"] != ""]
    start = pd.to_datetime(li["start"], utc=True).dt.tz_convert("Europe/Brussels")
    # turns of the Defence shift (8 h from 06:00, 14:00, 22:00): one liaison per post and turn
    turn = ((start.dt.hour - 6) % 24) // 8 + 3 * start.dt.day_of_year - 3 * (start.dt.hour < 6)
    assert (li.groupby([li["command_post"], turn])["liaison"].nunique() == 1).all()


def test_rostered_rota_that_breaks_defence_working_time_is_refused(tmp_path: Path) -> None:
    doc = read_document(_protocol(tmp_path, rostered=True))[0]
    doc["command_posts"][0]["liaisons"] = ["DL-S1", "DL-S2"]
    msgs = [i.message for i in validate_document(doc) if i.path == "$.command_posts[0].liaisons"]
    assert msgs == [
        "2 liaisons on 8-hour turns rest 8 h between turns, Defence minimum 11 h",
        "2 liaisons on 8-hour turns work up to 88 h in an ISO week, Defence maximum 48 h",
    ]
    three = read_document(_protocol(tmp_path, rostered=True))[0]
    three["command_posts"][1]["liaisons"] = ["DL-R1", "DL-R2", "DL-R3"]
    msgs = [i.message for i in validate_document(three) if i.path == "$.command_posts[1].liaisons"]
    assert msgs == [
        "3 liaisons on 8-hour turns work up to 64 h in an ISO week, Defence maximum 48 h"
    ]
    assert not validate_document(read_document(_protocol(tmp_path, rostered=True))[0])
    doc["defence_liaison"]["counts_in_cap"] = "yes"
    assert "$.defence_liaison.counts_in_cap" in {i.path for i in validate_document(doc)}


def test_checker_finds_a_liaison_on_duty_without_rest(tmp_path: Path) -> None:
    rows = []
    for q in range(4 * 14):  # DL-S1 at cp-south 06:00-20:00 with one 3-hour hole: one 14 h turn
        s = pd.Timestamp(_t(7, 6)) + pd.Timedelta(minutes=15 * q)
        if 10 <= s.hour < 13:
            continue
        rows.append([s.isoformat(), (s + pd.Timedelta(minutes=15)).isoformat(), "clemenceau",
                     "POL-001+DEF-001", 2, 2, "cp-south", "patrol", "", "", "DL-S1"])  # fmt: skip
    plan = _write(tmp_path, rows)
    rostered = check_plan(plan, _protocol(tmp_path, rostered=True)).violations
    bad = [v for v in rostered if v.rule == "liaison_working_time"]
    assert len(bad) == 1 and bad[0].units == ["DL-S1"]
    assert bad[0].numbers == {"hours": 14.0, "max": 10.0, "min_rest": 11.0}
    assert not [v for v in check_plan(plan, MINI).violations if v.rule.startswith("liaison_")]


def test_checker_finds_a_liaison_above_the_defence_weekly_hours(tmp_path: Path) -> None:
    rows = []
    for day in range(6, 13):  # DL-S1 06:00-14:00 every day of the ISO week of 6 April: 56 h
        for q in range(32):
            s = pd.Timestamp(_t(day, 6)) + pd.Timedelta(minutes=15 * q)
            e = s + pd.Timedelta(minutes=15)
            rows.append([s.isoformat(), e.isoformat(), "clemenceau", "POL-001+DEF-001", 2, 2,
                         "cp-south", "patrol", "", "", "DL-S1"])  # fmt: skip
    plan = _write(tmp_path, rows)
    bad = [v for v in check_plan(plan, _protocol(tmp_path, rostered=True)).violations
           if v.rule.startswith("liaison_")]  # fmt: skip
    assert [v.rule for v in bad] == ["liaison_weekly_hours"]
    assert bad[0].numbers == {"hours": 56.0, "max": 48.0} and bad[0].units == ["DL-S1"]
    assert (
        bad[0].message
        == "liaison DL-S1 is on duty 56 h in the week of 2026-04-06, Defence maximum 48 h"
    )
