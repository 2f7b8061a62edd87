"""`handover_minutes`: at shift changes in zones with minima the outgoing mixed patrol stays until
the incoming one has been there that long; planned (within the cap and working time), refused
when invalid, and checked independently (rule `handover`), across a plan's seam too."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from patrols_cli import planned_and_checked

from safecities.patrols.check import check_plan
from safecities.patrols.planner import HEADER, Planner, write_plan
from safecities.patrols.protocol import load_protocol, read_document, validate_document
from safecities.patrols.replan import load_previous_plan
from safecities.patrols.risk import default_profile

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _protocol(tmp_path: Path, minutes: int = 15, pairs: int | None = None) -> Path:
    doc = read_document(MINI)[0]
    doc["handover_minutes"] = minutes
    if pairs is not None:
        doc["unit_series"][1]["count"] = pairs
    f = tmp_path / "handover.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def _plan(f: Path, first: date, last: date, out: Path, **kw) -> Path:
    p = load_protocol(f)
    res = Planner(p, first, last, default_profile(p), seed=2, time_limit=30, workers=1, **kw).run()
    write_plan(res.rows, out)
    return out


def test_outgoing_patrols_stay_until_the_incoming_one_has_been_there(tmp_path: Path) -> None:
    f = _protocol(tmp_path)
    plan = _plan(f, date(2026, 4, 6), date(2026, 4, 8), tmp_path / "plan.csv")
    rep = check_plan(plan, f)
    assert rep.ok, [v.message for v in rep.violations][:5]
    df = pd.read_csv(plan, keep_default_na=False)
    rail = df[(df["zone_id"] == "railway-south") & (df["soldiers"] > 0)]
    for change in ("2026-04-07T06:00", "2026-04-07T14:00", "2026-04-07T22:00"):
        now = rail[rail["start"].str[:16] == change]
        before = rail[rail["end"].str[:16] == change]
        # two mixed patrols in the first visit of the change: the one leaving (there the visit
        # before, gone after) and the one arriving, which stays
        assert len(now) == 2, change
        gone = set(before["patrol_id"]) & set(now["patrol_id"])
        assert len(gone) == 1, change
        after = rail[rail["start"].str[:16] == change[:-2] + "15"]
        assert not gone & set(after["patrol_id"]), change
    # the handover is working time: the outgoing shift lasts 8 h 15 and the cap (6) still holds
    counts = df.groupby("start")["soldiers"].sum()
    assert counts.max() <= 6


def test_the_checker_reports_a_patrol_leaving_before_its_relief_arrived(tmp_path: Path) -> None:
    f = _protocol(tmp_path)
    rows = []
    t0 = pd.Timestamp("2026-04-07T05:00:00").tz_localize("Europe/Brussels")
    # POL-001+DEF-001 holds railway-south until 06:00; POL-002+DEF-002 arrives at 06:00 sharp
    for q in range(8):
        s = t0 + pd.Timedelta(minutes=15 * q)
        team = ("POL-001", "DEF-001") if q < 4 else ("POL-002", "DEF-002")
        e = s + pd.Timedelta(minutes=15)
        rows.append([s.isoformat(), e.isoformat(), "railway-south", "+".join(team), 2, 2,
                     "cp-rail", "patrol", team[0], team[1], "DL-R1"])  # fmt: skip
    plan = tmp_path / "bad.csv"
    with open(plan, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    horizon = (t0.to_pydatetime(), (t0 + pd.Timedelta(hours=2)).to_pydatetime())
    rep = check_plan(plan, f, horizon=horizon)
    ho = [v for v in rep.violations if v.rule == "handover"]
    assert len(ho) == 1, [v.message for v in rep.violations]
    v = ho[0]
    assert v.units == ["POL-001", "DEF-001"] and v.zone == "railway-south"
    assert v.numbers == {"relief": 0, "minimum": 1, "handover_minutes": 15}
    assert "leaves railway-south at 2026-04-07 06:00 with 0 mixed patrols there since 05:45" in (
        v.message
    )
    # without a handover in the protocol the same plan is compliant on that point
    assert not [v for v in check_plan(plan, MINI, horizon=horizon).violations
                if v.rule == "handover"]  # fmt: skip


def test_chained_plans_hand_over_at_the_seam(tmp_path: Path) -> None:
    f = _protocol(tmp_path, 30)
    a = _plan(f, date(2026, 4, 2), date(2026, 4, 5), tmp_path / "a.csv")
    p = load_protocol(f)
    prev = load_previous_plan(a, p, date(2026, 4, 6), date(2026, 4, 8))
    assert prev["frozen_until"] == 6  # the handover visits do not push the seam past 06:00
    b = _plan(f, date(2026, 4, 6), date(2026, 4, 8), tmp_path / "b.csv",
              history=prev["history"], frozen_until=prev["frozen_until"])  # fmt: skip
    rep = check_plan(b, f, after=a)
    assert rep.ok, [v.message for v in rep.violations][:5]
    da = pd.read_csv(a)
    # the previous plan's last night hands over to the next plan's first morning
    assert (da["end"] == "2026-04-06T06:30:00+02:00").sum() >= 1


def test_invalid_handovers_are_refused_with_their_path(tmp_path: Path) -> None:
    doc = read_document(MINI)[0]
    for bad in (20, 60, -15):
        issues = validate_document({**doc, "handover_minutes": bad})
        assert [i.path for i in issues] == ["$.handover_minutes"], (bad, issues)
    doc["working_time"]["police"]["shift_max_hours"] = 8
    issues = validate_document({**doc, "handover_minutes": 15})
    assert [str(i) for i in issues] == [
        "$.handover_minutes: 8-hour police shifts plus a 15-minute handover exceed "
        "shift_max_hours 8 h"
    ]


def test_only_units_with_room_hold_a_minimum_through_a_handover(tmp_path: Path) -> None:
    """The handover is counted where it is worked: units on 6 shifts of 8 h (48 h, the weekly
    maximum) still plan, and the teams holding a minimum at a change are others. Six Defence
    pairs for a cap of three: every pair works as much as it may."""
    f = _protocol(tmp_path, pairs=6)
    plan = tmp_path / "week.csv"
    res = planned_and_checked(f, date(2026, 4, 6), date(2026, 4, 12), plan, seed=3)
    week = (
        res.horizon[0] + pd.Timedelta(hours=22),
        res.horizon[0] + pd.Timedelta(days=7, hours=22),
    )
    starts: dict[str, int] = {}
    for sh in res.shifts:  # shifts starting 6 April 00:00 to 12 April 22:00 (the eve's excluded)
        at = res.horizon[0] + pd.Timedelta(hours=sh.start)
        if sh.unit.startswith("DEF") and week[0] < at <= week[1]:
            starts[sh.unit] = starts.get(sh.unit, 0) + 1
    assert max(starts.values()) >= 6  # 6 shifts of 8 h: 48 h in the week, no room for more
    df = pd.read_csv(plan, keep_default_na=False)
    handed = df[df["end"].str[11:16].isin(["06:15", "14:15", "22:15"])]
    assert len(handed) > 0  # handovers worked by units with room (the checker found none over)


def test_a_fresh_plan_holds_its_first_midnight_without_travel(tmp_path: Path) -> None:
    """Brussels with a handover and no travel, a week not starting on the protocol's first day:
    the plan begins with the eve's night, when no minimum holds yet. The mixed patrols in a
    railway zone in the eve's last visit now hold its minimum from 00:00 (crews with room for
    the handover); before, one left at 00:00 with no relief there since 23:45 and the checker
    rejected the plan (rule `handover`), for every seed tried."""
    from safecities.patrols.protocol import bundled_protocol_path

    doc = read_document(bundled_protocol_path())[0]
    doc.pop("travel")
    assert doc["handover_minutes"] == 15
    f = tmp_path / "no-travel.yaml"
    f.write_text(yaml.safe_dump(doc))
    out = _plan(f, date(2026, 4, 6), date(2026, 4, 7), tmp_path / "plan.csv")
    report = check_plan(out, f)
    assert report.ok, [v.message for v in report.violations][:3]
