# ruff: noqa: E501
"""Re-planning: a FIPA is added and a unit drops out; the rest of the plan changes as little as it can."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import yaml
from patrols_cli import activate, run_cli, small_protocol

from safecities.patrols.check import check_plan

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _replan(tmp_path: Path, old: Path, changes: dict, name: str, protocol: Path = MINI):
    ch = tmp_path / f"{name}.yaml"
    ch.write_text(yaml.safe_dump(changes))
    out = tmp_path / f"{name}.csv"
    res = run_cli(
        ["plan", "make", "--protocol", str(protocol), "--from", "2026-04-07", "--to", "2026-04-08",
         "--seed", "4", "--workers", "1", "--from-plan", str(old), "--changes", str(ch),
         "--out", str(out), "--json"]
    )  # fmt: skip
    return res, out


def _old_plan(tmp_path: Path) -> Path:
    old = tmp_path / "old.csv"
    res = run_cli(
        ["plan", "make", "--protocol", str(MINI), "--from", "2026-04-06", "--to", "2026-04-08",
         "--seed", "4", "--workers", "1", "--out", str(old)]
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return old


def test_replan_keeps_the_past_and_most_of_the_future(tmp_path: Path, db_env) -> None:
    activate(MINI)
    old = _old_plan(tmp_path)
    changes = {
        "units_out": ["DEF-002"],
        # a whole day without the railway zone (its minimum lapses while it is closed)
        "close_zone": [{"zone": "railway-south", "from": "2026-04-08T00:00", "to": "2026-04-09T00:00"}],
        "unit_unavailable": [{"unit": "POL-003", "from": "2026-04-07T10:00", "to": "2026-04-07T20:00"}],
        "cap": {"value": 4, "from": "2026-04-08T00:00"},
    }  # fmt: skip
    res, new = _replan(tmp_path, old, changes, "new")
    assert res.exit_code == 0, res.stderr
    rp = json.loads(res.stdout)["replan"]
    assert rp["kept_rows"] > 0 and rp["old_assignments"] > 0 and rp["old_shifts"] > 0
    assert 0 <= rp["changed_assignments"] < rp["old_assignments"]  # not everything was redrawn
    assert 0 <= rp["changed_shifts"] <= rp["old_shifts"]
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.replan import read_changes

    # judged with the changes (closed zone, lower cap) it holds; without them the closed
    # railway zone lacks its minimum, as it should
    ch = read_changes(tmp_path / "new.yaml", load_protocol(MINI))
    assert check_plan(new, MINI, changes=ch).ok
    assert check_plan(new, MINI).counts() == {"zone_min_mixed": 1}
    df_old, df_new = (pd.read_csv(f, keep_default_na=False) for f in (old, new))
    cut = "2026-04-07T00:00:00+02:00"
    assert df_old[df_old["start"] < cut].equals(
        df_new[df_new["start"] < cut].reset_index(drop=True)
    )
    later = df_new[df_new["start"] >= "2026-04-07T06:00:00+02:00"]
    assert "DEF-002" not in set(later["soldier_units"])  # out (after finishing a started shift)
    day8 = df_new[df_new["start"].str.startswith("2026-04-08")]
    assert len(day8) and "railway-south" not in set(day8["zone_id"])
    pol3 = df_new[(df_new["police_units"] == "POL-003") & (df_new["start"] >= "2026-04-07T10:00")
                  & (df_new["start"] < "2026-04-07T20:00")]  # fmt: skip
    assert pol3.empty
    assert day8.groupby("start")["soldiers"].sum().max() <= 4


def test_an_unchanged_replan_changes_nothing_and_reports_its_own_gap(
    tmp_path: Path, db_env
) -> None:
    activate(MINI)
    old = _old_plan(tmp_path)
    res, _ = _replan(tmp_path, old, {}, "same")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["replan"]["changed_shifts"] == 0
    assert out["gap"] <= 0.01  # the plan's own objective, not the stability bonus


def test_a_new_fipa_needs_an_approved_amendment(tmp_path: Path, db_env) -> None:
    activate(MINI)
    old = _old_plan(tmp_path)
    fipa = {"id": "fipa-new", "date": "2026-04-08", "start": "18:00", "end": "20:00",
            "zone": "clemenceau", "soldiers": 2}  # fmt: skip
    res, out = _replan(tmp_path, old, {"add_fipa": [fipa]}, "refused")
    assert res.exit_code == 1 and not out.exists() and "$.add_fipa" in res.stderr
    res, out = _replan(tmp_path, old, {"fipa": ["fipa-new"]}, "unknown")
    assert (
        res.exit_code == 1 and "$.fipa[0]: 'fipa-new' is not a FIPA of the protocol" in res.stderr
    )
    # the amended protocol, approved by both ministries like any version, then re-plan with it
    from safecities.patrols.protocol import read_document

    doc = read_document(MINI)[0]
    doc["version"] = "test.2"
    doc["fipa"].append(fipa)
    amended = tmp_path / "amended.yaml"
    amended.write_text(yaml.safe_dump(doc))
    res, out = _replan(tmp_path, old, {"fipa": ["fipa-new"]}, "with-amendment", amended)
    assert res.exit_code == 1 and "approved" in res.stderr, res.stderr  # not yet approved
    activate(amended)
    res, out = _replan(tmp_path, old, {"fipa": ["fipa-new"]}, "with-amendment", amended)
    assert res.exit_code == 0, res.stderr
    assert "fipa-new" in set(pd.read_csv(out)["patrol_id"]) and check_plan(out, amended).ok


def test_changes_file_errors_are_all_named(tmp_path: Path, db_env) -> None:
    activate(MINI)
    old = _old_plan(tmp_path)
    bad = {"close_zone": [{"zone": "atlantis", "from": "soon", "to": "2026-04-08T00:00"}],
           "cap": {"value": 99, "from": "2026-04-08T00:00"}, "units_out": ["DEF-999"]}  # fmt: skip
    res, out = _replan(tmp_path, old, bad, "bad")
    assert res.exit_code == 1 and not out.exists()
    for where in ("$.close_zone[0].zone", "$.close_zone[0].from", "$.cap.value", "$.units_out"):
        assert where in res.stderr, (where, res.stderr)


def test_a_replan_that_cannot_keep_the_old_plan_is_planned_afresh(
    tmp_path: Path, db_env, monkeypatch
) -> None:
    """A re-plan never fails where a fresh plan of the same days succeeds: when keeping the old
    shifts and visits fails (here forced), the days are planned afresh with the same past and
    changes, checked, written, and the answer says so."""
    from safecities.patrols.planner import InfeasiblePlan
    from safecities.patrols.service import plans

    activate(MINI)
    old = _old_plan(tmp_path)

    def cannot_keep(self, planner) -> None:
        raise InfeasiblePlan("the old shifts clash with the changes", [])

    monkeypatch.setattr(plans.Replan, "keep_old", cannot_keep)
    changes = {"unit_unavailable": [{"unit": "POL-003", "from": "2026-04-07T10:00", "to": "2026-04-07T20:00"}]}  # fmt: skip
    res, new = _replan(tmp_path, old, changes, "fresh")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["replan"]["fallback"].startswith("keeping the old plan failed (the old shifts clash")
    assert any("planned afresh from 2026-04-07" in n for n in out["notes"])
    assert out["replan"]["kept_rows"] > 0 and out["check"]["ok"]
    df_old, df_new = (pd.read_csv(f, keep_default_na=False) for f in (old, new))
    cut = "2026-04-07T00:00:00+02:00"  # the past is kept as it was
    assert df_old[df_old["start"] < cut].equals(
        df_new[df_new["start"] < cut].reset_index(drop=True)
    )
    # an ordinary re-plan says it kept the old plan
    monkeypatch.undo()
    res, _ = _replan(tmp_path, old, changes, "kept")
    assert res.exit_code == 0 and json.loads(res.stdout)["replan"]["fallback"] is None


def test_a_replan_fails_only_when_a_fresh_plan_fails_too(tmp_path: Path, db_env) -> None:
    activate(MINI)
    old = _old_plan(tmp_path)
    # every police unit away for a day: no mixed patrol can meet the zone minima, kept or fresh
    from safecities.patrols.protocol import load_protocol

    police = [u.code for u in load_protocol(MINI).units if u.force == "police"]
    away = [{"unit": u, "from": "2026-04-08T00:00", "to": "2026-04-09T00:00"} for u in police]
    res, out = _replan(tmp_path, old, {"unit_unavailable": away}, "none")
    assert res.exit_code == 1 and not out.exists(), res.stdout
    assert json.loads(res.stdout)["status"] == "INFEASIBLE"  # with the rules that clash


def test_a_plan_that_continues_another_is_replanned_with_its_predecessor(
    tmp_path: Path, db_env
) -> None:
    """Week plans continue each other (`--after`); re-planning the second one keeps judging it
    with the first (the night across the seam, rest and weekly hours), from its first day or
    later."""
    activate(MINI)
    first = _old_plan(tmp_path)  # 6 to 8 April
    second = tmp_path / "second.csv"
    res = run_cli(
        ["plan", "make", "--protocol", str(MINI), "--from", "2026-04-09", "--to", "2026-04-10",
         "--seed", "4", "--workers", "1", "--after", str(first), "--out", str(second)]
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    ch = tmp_path / "ch.yaml"
    ch.write_text(yaml.safe_dump({"unit_unavailable": [
        {"unit": "POL-003", "from": "2026-04-10T06:00", "to": "2026-04-10T14:00"}]}))  # fmt: skip
    for day in ("2026-04-09", "2026-04-10"):
        out = tmp_path / f"second-{day}.csv"
        res = run_cli(
            ["plan", "make", "--protocol", str(MINI), "--from", day, "--to", "2026-04-10",
             "--seed", "4", "--workers", "1", "--from-plan", str(second), "--after", str(first),
             "--changes", str(ch), "--out", str(out), "--json"]
        )  # fmt: skip
        assert res.exit_code == 0, (day, res.stderr)
        doc = json.loads(res.stdout)
        assert doc["check"]["ok"] and doc["after"] == str(first)
        from safecities.patrols.protocol import load_protocol
        from safecities.patrols.replan import read_changes

        changes = read_changes(ch, load_protocol(MINI))
        assert check_plan(out, MINI, after=first, changes=changes).ok


def test_a_unit_unavailable_one_day_keeps_its_other_shifts(tmp_path: Path, db_env) -> None:
    """Only the shift the change hits moves: the unit's other old shifts are kept (a bonus per
    old shift kept, not only for the whole roster unchanged)."""
    from safecities.patrols.planner import Grid
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.replan import load_old_plan

    activate(MINI)
    old = _old_plan(tmp_path)
    p = load_protocol(MINI)
    from datetime import date

    grid = Grid(p, date(2026, 4, 7), date(2026, 4, 8))
    shifts = load_old_plan(old, grid)["old_shifts"]
    # a unit with a shift on each of the two re-planned days
    unit = next(u for u, sp in sorted(shifts.items()) if len(sp) >= 2)
    a, b = shifts[unit][-1]
    hit = {"unit": unit, "from": grid.local(a).isoformat(), "to": grid.local(b).isoformat()}
    res, new = _replan(tmp_path, old, {"unit_unavailable": [hit]}, "one")
    assert res.exit_code == 0, res.stderr
    rp = json.loads(res.stdout)["replan"]
    assert rp["fallback"] is None
    after = load_old_plan(new, grid)["old_shifts"]
    assert shifts[unit][:-1] == [s for s in after.get(unit, []) if s != shifts[unit][-1]]
    assert shifts[unit][-1] not in after.get(unit, [])
    assert rp["changed_shifts"] <= 2, rp  # the hit shift (and at most one other unit's)


def test_an_unchanged_replan_with_routes_of_a_continued_plan_changes_nothing(
    tmp_path: Path,
) -> None:
    """Found by the chain property test: with travel, an old hour was redrawn where a fresh draw
    was worth 0.6 % more, and with it the rest of the shift (it no longer hung together): an
    unchanged re-plan changed 88 of 797 visits. Without a new risk table, the old hours stay."""
    zones = [("clemenceau", "cp-a", True, 1.0), ("peterbos", "cp-b", True, 2.0),
             ("matonge", "cp-a", False, 2.0), ("railway-north", "cp-b", False, 0.5)]  # fmt: skip
    f = small_protocol(
        tmp_path / "p.yaml", zones, police=9, defence=2, defence_size=1, cap=2,
        shift_starts=[6, 16, 22], shift_length=8, travel={"speed_kmh": 25},
    )  # fmt: skip
    report, check, fallback = _chain_replan(
        tmp_path, f, date(2026, 4, 15), date(2026, 4, 16), date(2026, 4, 18), {}, seed=248
    )
    assert check["ok"] and report["old_assignments"] > 0 and fallback is None
    assert (report["changed_shifts"], report["changed_assignments"]) == (0, 0), report
    b, c = tmp_path / "b.csv", tmp_path / "c.csv"
    assert pd.read_csv(b).equals(pd.read_csv(c))


def test_a_unit_whose_old_shift_the_replan_drops_keeps_none_of_its_visits(tmp_path: Path) -> None:
    """Found by the chain property test: with travel and no handover, the old visits of a crew
    whose shift the re-plan dropped were kept as if it were handing over, so the kept plan had
    it working 5 h of an 8 h shift, the checker rejected it and the re-plan fell back to a fresh
    plan. An hour with rows of a unit off duty is now redrawn."""
    f = small_protocol(
        tmp_path / "p.yaml", [("clemenceau", "cp-a", False, 0.5), ("peterbos", "cp-b", False, 1.0)],
        police=8, defence=5, defence_size=1, cap=3, shift_starts=[6, 14], shift_length=8,
        travel={"speed_kmh": 5}, rest=11, week=24,
    )  # fmt: skip
    closed = {"zone": "peterbos", "from": "2026-04-18T19:00:00", "to": "2026-04-19T06:00:00"}
    report, check, fallback = _chain_replan(
        tmp_path, f, date(2026, 4, 17), date(2026, 4, 18), date(2026, 4, 18),
        {"close_zone": [closed]}, seed=1,
    )  # fmt: skip
    assert check["ok"] and fallback is None, fallback
    assert report["changed_shifts"] > 0  # the closure frees crews: some old shifts go


def test_a_replan_at_a_shift_change_under_a_handover(tmp_path: Path) -> None:
    """Found by the chain property test (shifts at 0, 8 and 16 h, a 15-minute handover, travel):
    a re-plan from a day whose first hour is a shift change wrote no handover for the old plan's
    night teams going off at 00:00 (the minima were taken to start at the re-plan's first hour,
    though its kept rows are its past), and a zone reopening at 21:00 got its next holders
    during its closure (3 visits while closed); now they patrol elsewhere and leave in time."""
    zones = [("clemenceau", "cp-a", True, 2.0, 1), ("peterbos", "cp-b", True, 0.5),
             ("matonge", "cp-a", True, 2.0, 1)]  # fmt: skip
    f = small_protocol(
        tmp_path / "p.yaml", zones, police=6, defence=6, defence_size=1, cap=5,
        shift_starts=[0, 8, 16], shift_length=8, travel={"speed_kmh": 25}, rest=11, week=48,
        handover=15, max_patrols=3, diminishing=0.9,
    )  # fmt: skip
    days = (date(2026, 4, 10), date(2026, 4, 14), date(2026, 4, 14))
    _, check, _ = _chain_replan(tmp_path, f, *days, {}, seed=217, fresh=True)
    assert check["ok"]
    closed = {"zone": "clemenceau", "from": "2026-04-14T17:00:00", "to": "2026-04-14T21:00:00"}
    for fresh in (True, False):
        _, check, fallback = _chain_replan(
            tmp_path, f, *days, {"close_zone": [closed]}, seed=217, fresh=fresh
        )
        assert check["ok"] and fallback in ("fresh", None), fallback


def _chain_replan(
    tmp_path: Path,
    f: Path,
    first,
    start,
    last,
    raw: dict,
    *,
    seed: int,
    fresh: bool = False,
    first_last=None,
):
    """As the chain property test: a.csv plans `first`, b.csv continues it (`--after`) from the
    next day to `last`, c.csv re-plans b.csv from `start` with the changes `raw` (the CLI's path:
    `Replan.of`, `plan_with_fallback`; `fresh`: as its fallback, without keeping the old shifts
    and visits). a.csv ends on `first_last` if given. The re-plan's `replan` report, check and
    fallback."""
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.replan import load_previous_plan, parse_changes
    from safecities.patrols.service.plans import Replan, make_plan, plan_with_fallback

    p = load_protocol(f)
    run = {"time_limit": 6, "workers": 1, "seed": seed}
    a, b, c = (tmp_path / f"{x}.csv" for x in "abc")
    first_last = first_last or first
    make_plan(p, f, first, first_last, a, **run)
    first2 = first_last + timedelta(days=1)
    prev = load_previous_plan(a, p, first2, last)
    kw = {"history": prev["history"], "frozen_until": prev["frozen_until"]}
    make_plan(p, f, first2, last, b, after=a, planner_kwargs=kw, **run)
    changes = parse_changes(raw, p)
    rp = Replan.of(p, b, start, last, changes, after=a)
    if fresh:  # raises PlanRejected if the checker finds a violation
        res, check = make_plan(p, f, start, last, c, extra_rows=rp.old["kept"], changes=changes,
                               planner_kwargs=rp.planner_kwargs, after=a, **run)  # fmt: skip
        return rp.report(res, "fresh"), check, "fresh"
    res, check, fallback = plan_with_fallback(
        rp, p, f, start, last, c, planner_kwargs=rp.planner_kwargs, after=a, **run
    )
    return rp.report(res, fallback), check, fallback


def test_an_unchanged_replan_from_midweek_keeps_a_short_roster(tmp_path: Path) -> None:
    """Found by the chain property test: re-planned from a Wednesday, a soldier with 12 of its 24
    weekly hours worked and one old shift left lost it (only rosters of 3 or 4 days were
    enumerated, all above its remaining hours). Rosters as short as the old ones now exist."""
    zones = [("clemenceau", "cp-a", True, 2.0), ("peterbos", "cp-b", False, 1.0),
             ("matonge", "cp-a", True, 1.0)]  # fmt: skip
    f = small_protocol(
        tmp_path / "p.yaml", zones, police=3, defence=5, defence_size=2, cap=2,
        shift_starts=[14, 16], shift_length=6, travel={"speed_kmh": 25}, week=24, handover=15,
    )  # fmt: skip
    report, check, fallback = _chain_replan(
        tmp_path, f, date(2026, 3, 28), date(2026, 4, 8), date(2026, 4, 11), {}, seed=0,
        first_last=date(2026, 4, 3),
    )  # fmt: skip
    assert check["ok"] and fallback is None
    assert (report["changed_shifts"], report["changed_assignments"]) == (0, 0), report


def test_an_unchanged_replan_gives_no_new_shift_to_a_unit_off_duty(tmp_path: Path) -> None:
    """Found by the chain property test: re-planned from a Sunday, two crews off duty that day in
    the old plan were given a Sunday night that pushed their own old shifts of Tuesday and
    Wednesday out (no cost for a new shift). A unit off duty in the old plan's days now stays off
    unless a new shift is needed: each costs as much as an old shift lost."""
    zones = [("clemenceau", "cp-a", True, 0.5), ("peterbos", "cp-b", True, 0.5)]
    f = small_protocol(
        tmp_path / "p.yaml", zones, police=6, defence=2, defence_size=1, cap=0,
        shift_starts=[6, 8, 22], shift_length=10, travel={"speed_kmh": 25}, rest=11, week=24,
        max_patrols=2, diminishing=0.5,
    )  # fmt: skip
    report, check, fallback = _chain_replan(
        tmp_path, f, date(2026, 3, 20), date(2026, 3, 22), date(2026, 3, 25), {}, seed=0
    )
    assert check["ok"] and fallback is None
    assert (report["changed_shifts"], report["new_shifts"]) == (0, 0), report
    assert report["changed_assignments"] == 0, report
