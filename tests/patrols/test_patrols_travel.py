"""Travel between zones (`travel.speed_kmh`, `travel.matrix`): each team shift is an ordered route
whose consecutive visits in different zones are at least the journey apart; planned, refused
when invalid, checked independently (rule `travel`, travelling soldiers in the cap), and shown
in the routes of the exports."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from patrols_cli import planned_and_checked, small_protocol

from safecities.patrols.check import check_plan
from safecities.patrols.export import _route_text, read_plan_rows, team_shifts
from safecities.patrols.planner import HEADER
from safecities.patrols.protocol import load_protocol, read_document, validate_document

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"
TZ = "Europe/Brussels"


def _protocol(tmp_path: Path, travel: dict, **extra) -> Path:
    doc = read_document(MINI)[0]
    doc["travel"] = travel
    doc.update(extra)
    f = tmp_path / "travel.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def _write(path: Path, visits: list[tuple[str, str, str, str, str]]) -> Path:
    """(start, end, zone, police unit, soldier unit or '') local times of 2026-04-07."""
    posts = {"clemenceau": "cp-south", "peterbos": "cp-south", "railway-south": "cp-rail"}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for s, e, zone, pu, su in visits:
            a = pd.Timestamp(f"2026-04-07T{s}").tz_localize(TZ)
            b = pd.Timestamp(f"2026-04-07T{e}").tz_localize(TZ)
            for k in range(int((b - a) / pd.Timedelta(minutes=15))):
                t = a + pd.Timedelta(minutes=15 * k)
                w.writerow([t.isoformat(), (t + pd.Timedelta(minutes=15)).isoformat(), zone,
                            f"{pu}+{su}" if su else pu, 2, 2 if su else 0, posts[zone],
                            "patrol", pu, su, "DL-S1" if su else ""])  # fmt: skip
    return path


def test_centroid_travel_times_and_the_matrix(tmp_path: Path) -> None:
    f = _protocol(tmp_path, {"speed_kmh": 25, "matrix": {"clemenceau": {"peterbos": 40}}})
    p = load_protocol(f)
    ids = [z.id for z in p.zones]
    m = np.array(p.travel)
    c, pb = ids.index("clemenceau"), ids.index("peterbos")
    assert m[c, pb] == m[pb, c] == 40  # the matrix, either direction
    rs, mg = ids.index("railway-south"), ids.index("metro-gare-du-midi")
    # Brussels-South station and the Gare du Midi metro: a few hundred metres at 25 km/h
    assert 0 < m[rs, mg] < 5
    assert p.travel_visits()[c, pb] == 3 and p.travel_visits()[rs, mg] == 1


def test_a_plan_with_travel_keeps_teams_in_place_and_passes_the_check(tmp_path: Path) -> None:
    f = _protocol(tmp_path, {"speed_kmh": 5}, handover_minutes=15)
    p = load_protocol(f)
    plan = tmp_path / "plan.csv"
    res = planned_and_checked(f, date(2026, 4, 2), date(2026, 4, 5), plan, seed=4)
    assert res.objective <= res.bound + 1e-6 and res.gap <= 0.01
    df = read_plan_rows(plan, p)
    shifts = [s for s in team_shifts(df, p) if s["kind"] == "patrol"]
    # a team shift is a route of a few stops, not a new zone every 15 minutes
    assert np.median([len(s["route"]) for s in shifts]) == 1
    assert max(len(s["route"]) for s in shifts) <= 4
    # the FIPA of 3 April 20:00 in Clemenceau is staffed from its start: its soldier units left
    # their patrol in time (the checker's travel rule held for them)
    fipa = df[(df["kind"] == "fipa") & (df["start"] == "2026-04-03T20:00:00+02:00")]
    assert len(fipa) == 1 and fipa["soldiers"].iloc[0] == 2


def test_the_checker_reports_journeys_too_short_and_merges_travel_into_the_shift(
    tmp_path: Path,
) -> None:
    f = _protocol(tmp_path, {"speed_kmh": 25, "matrix": {"clemenceau": {"peterbos": 40}}})
    fast = [("06:00", "10:00", "clemenceau", "POL-001", ""),
            ("10:15", "14:00", "peterbos", "POL-001", "")]  # fmt: skip
    fast = _write(tmp_path / "fast.csv", fast)
    rep = check_plan(fast, f)
    travel = [v for v in rep.violations if v.rule == "travel"]
    assert len(travel) == 1 and travel[0].units == ["POL-001"] and travel[0].rows == [17]
    assert travel[0].numbers == {"gap_minutes": 15.0, "travel_minutes": 45.0}
    assert "goes from clemenceau to peterbos in 15 min" in travel[0].message
    # 45 minutes apart: the journey is allowed, and working time (one 8-hour shift, no rest rule)
    ok = _write(tmp_path / "ok.csv", [("06:00", "10:00", "clemenceau", "POL-001", ""),
                                      ("10:45", "14:00", "peterbos", "POL-001", "")])  # fmt: skip
    rules = {v.rule for v in check_plan(ok, f).violations}
    assert not rules & {"travel", "rest", "shift_length"}, rules
    # the route shows the journey, in the briefing's language
    p = load_protocol(f)
    (sh,) = team_shifts(read_plan_rows(ok, p), p)
    assert [st["zone"] for st in sh["route"]] == ["clemenceau", "peterbos"]
    assert _route_text(sh, p.tz) == "06:00 clemenceau; (travel 45 min) 10:45 peterbos"
    assert "(verplaatsing 45 min) 10:45" in _route_text(sh, p.tz, "nl")


def test_soldiers_on_their_way_count_in_the_cap(tmp_path: Path) -> None:
    f = _protocol(tmp_path, {"speed_kmh": 25, "matrix": {"clemenceau": {"railway-south": 30}}})
    visits = [("10:00", "12:00", "railway-south", f"POL-00{i}", f"DEF-00{i}") for i in (1, 2)]
    visits += [("10:00", "11:00", "clemenceau", "POL-004", "DEF-004"),
               ("11:30", "12:00", "railway-south", "POL-004", "DEF-004"),
               ("11:00", "11:30", "railway-south", "POL-003", "DEF-003")]  # fmt: skip
    rep = check_plan(_write(tmp_path / "cap.csv", visits), f)
    cap = [v for v in rep.violations if v.rule == "soldier_cap"]
    # 8 soldiers deployed while DEF-004 is on its way (11:00-11:30), cap 6: the rows alone say 6
    assert len(cap) == 1 and cap[0].numbers == {"soldiers": 8, "cap": 6}
    assert (cap[0].start, cap[0].end) == ("2026-04-07T11:00:00+02:00", "2026-04-07T11:30:00+02:00")
    assert not [v for v in rep.violations if v.rule == "travel"]


def test_invalid_travel_is_refused_with_its_path() -> None:
    doc = read_document(MINI)[0]
    bad = [
        ({"speed_kmh": -5}, "$.travel.speed_kmh"),
        ({"matrix": {"atlantis": {"peterbos": 5}}, "speed_kmh": 25}, "$.travel.matrix.atlantis"),
        ({"matrix": {"clemenceau": {"peterbos": 5}}}, "$.travel.matrix"),
        ({"matrix": {"clemenceau": {"peterbos": -1}}, "speed_kmh": 25},
         "$.travel.matrix.clemenceau.peterbos"),
        ({}, "$.travel"),
    ]  # fmt: skip
    for travel, path in bad:
        issues = validate_document({**doc, "travel": travel})
        assert [i.path for i in issues] == [path], (travel, issues)
    # a zone the city drew without an outline has no centroid: name it
    zones = [*doc["zones"], {"id": "atlantis", "command_post": "cp-south"}]
    issues = validate_document({**doc, "zones": zones, "travel": {"speed_kmh": 25}})
    assert [i.path for i in issues] == ["$.zones[4]"]
    assert "no outline to compute travel times from" in issues[0].message


def test_the_dst_night_hands_over_to_a_team_already_in_place(tmp_path: Path) -> None:
    """29 March 2026: the 22:00 night shift of 8 hours ends at 07:00, an hour into the 06:00
    shift; the team taking over a zone minimum joins the outgoing one before it leaves."""
    f = _protocol(tmp_path, {"speed_kmh": 5}, handover_minutes=15)
    plan = tmp_path / "dst.csv"
    planned_and_checked(f, date(2026, 3, 27), date(2026, 3, 30), plan, seed=0)
    df = pd.read_csv(plan, keep_default_na=False)
    rail = df[(df["zone_id"] == "railway-south") & (df["soldiers"] > 0)]
    at7 = rail[rail["start"] == "2026-03-29T07:00:00+02:00"]
    assert len(at7) == 2  # the night team's handover and its successor, there since 06:00 or so


def _old_and_replan(tmp_path: Path, f: Path, seed: int, changes: dict, name: str = "new"):
    """plan make 6-8 April 2026 (old.csv), then plan make --from-plan it from 7 April with
    `changes`: (old, new, the re-plan's CLI result)."""
    from patrols_cli import run_cli

    old = tmp_path / "old.csv"
    common = ["--protocol", str(f), "--seed", str(seed), "--workers", "1", "--json"]
    if not old.exists():
        res = run_cli(["plan", "make", "--from", "2026-04-06", "--to", "2026-04-08", "--out",
                       str(old), *common])  # fmt: skip
        assert res.exit_code == 0, res.stderr
    ch = tmp_path / f"{name}.yaml"
    ch.write_text(yaml.safe_dump(changes))
    new = tmp_path / f"{name}.csv"
    res = run_cli(["plan", "make", "--from", "2026-04-07", "--to", "2026-04-08", "--from-plan",
                   str(old), "--changes", str(ch), "--out", str(new), *common])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return old, new, res


def test_a_replan_with_travel_and_handover_holds(tmp_path: Path, db_env) -> None:
    """Re-planning keeps the past, the old shifts it can (handover visits read as the shift's own)
    and passes the check with the changes: routes continue from where the kept visits left."""
    import json

    from patrols_cli import activate, run_cli

    from safecities.patrols.replan import read_changes

    f = _protocol(tmp_path, {"speed_kmh": 5}, handover_minutes=15)
    pid = activate(f)
    # approvers see the field rules they decide on
    shown = json.loads(run_cli(["protocol", "show", str(pid), "--json"]).stdout)
    assert shown["handover_minutes"] == 15 and shown["travel"] == {"speed_kmh": 5}
    closed = {"zone": "clemenceau", "from": "2026-04-07T10:00", "to": "2026-04-07T16:00"}
    old, new, res = _old_and_replan(
        tmp_path, f, 4, {"units_out": ["DEF-002"], "close_zone": [closed]}
    )
    ch = tmp_path / "new.yaml"
    out = json.loads(res.stdout)
    assert out["check"]["ok"] and out["replan"]["old_shifts"] > 0
    assert out["replan"]["changed_shifts"] < out["replan"]["old_shifts"]
    assert out["objective"] <= out["bound"] + 1e-6
    p = load_protocol(f)
    rep = check_plan(new, f, changes=read_changes(ch, p))
    assert rep.ok, [v.message for v in rep.violations][:5]
    # unchanged: every shift and every visit kept (routes and handovers included), the old gap
    _, same, res = _old_and_replan(tmp_path, f, 4, {}, "same")
    rp = json.loads(res.stdout)["replan"]
    assert rp["fallback"] is None and rp["changed_shifts"] == 0, rp
    assert rp["changed_assignments"] == rp["new_assignments"] == 0, rp
    a, b = (pd.read_csv(x, keep_default_na=False) for x in (old, same))
    pd.testing.assert_frame_equal(a, b)


def test_a_replan_with_routes_keeps_the_hours_the_change_leaves_alone(
    tmp_path: Path, db_env
) -> None:
    """A zone closed 10:00-16:00: the visits before it stand, the shifts under way are re-routed,
    and from the next shift change where every unit is new the old routes stand again (their
    handovers from the re-routed teams included); the whole passes the check."""
    import json

    from patrols_cli import activate

    from safecities.patrols.replan import read_changes

    f = _protocol(tmp_path, {"speed_kmh": 5}, handover_minutes=15)
    activate(f)
    closed = {"zone": "peterbos", "from": "2026-04-07T10:00", "to": "2026-04-07T16:00"}
    old, new, res = _old_and_replan(tmp_path, f, 2, {"close_zone": [closed]})
    ch = tmp_path / "new.yaml"
    rp = json.loads(res.stdout)["replan"]
    assert rp["fallback"] is None and rp["changed_shifts"] == 0, rp
    assert 0 < rp["changed_assignments"] < rp["old_assignments"] / 2, rp
    p = load_protocol(f)
    assert check_plan(new, f, changes=read_changes(ch, p)).ok
    a, b = (pd.read_csv(x, keep_default_na=False) for x in (old, new))
    cols = ["start", "zone_id", "kind", "police_units", "soldier_units"]

    def visits(df: pd.DataFrame, lo: str, hi: str) -> set[tuple]:
        t = pd.to_datetime(df["start"], utc=True)
        sel = (t >= pd.Timestamp(lo, tz=TZ)) & (t < pd.Timestamp(hi, tz=TZ))
        return set(df.loc[sel, cols].itertuples(index=False))

    assert visits(a, "2026-04-07 00:00", "2026-04-07 10:00") == visits(
        b, "2026-04-07 00:00", "2026-04-07 10:00"
    )
    # no visit in the closed zone while it is closed
    closed_rows = visits(b, "2026-04-07 10:00", "2026-04-07 16:00")
    assert not [r for r in closed_rows if r[1] == "peterbos" and r[2] == "patrol"]
    # the day after, every unit is new at 06:00: the old routes stand from then on
    assert visits(a, "2026-04-08 06:15", "2026-04-09 00:00") == visits(
        b, "2026-04-08 06:15", "2026-04-09 00:00"
    )


def test_soldiers_starting_a_shift_pair_with_a_crew_that_need_not_travel(tmp_path: Path) -> None:
    """A soldier starting its shift waits for its crew: paired with a crew that must first travel
    to the soldiers' zones, its first visit came a journey late, so its duty period (from its
    first visit, as the checker reads it) was shorter than the shift (found by the property
    test: DEF-001 worked 5.75 h 08:15-14:00 of a 6 h shift). Soldiers starting a shift now take
    the crew that can be in a soldiers' zone soonest."""
    f = small_protocol(
        tmp_path / "pair.yaml",
        [("clemenceau", "cp-a", True, 1.0), ("peterbos", "cp-b", False, 1.0)],
        police=6, defence=1, defence_size=1, cap=6, shift_starts=[6, 8], shift_length=6,
        travel={"speed_kmh": 25},
    )  # fmt: skip
    for seed in (1, 2, 20):  # each broke the shift length before
        planned_and_checked(f, date(2026, 4, 19), date(2026, 4, 20), tmp_path / "p.csv", seed=seed)


def test_a_crew_comes_in_time_to_a_soldier_whose_crew_goes_off(tmp_path: Path) -> None:
    """Found by the property test (shifts 8-18, 14-24 and 22-08, 5 km/h): at 18:00 the soldier
    holding peterbos's minimum stays on while its crew goes off, no crew starts then, and the
    nearest crew patrolling alone was 45 minutes away: the minimum lapsed 18:00-18:45. That
    crew now leaves its patrol in time and is the soldier's pair from 18:00."""
    f = small_protocol(
        tmp_path / "meet.yaml",
        [("clemenceau", "cp-a", False, 0.5), ("peterbos", "cp-b", True, 1.0, 1)],
        police=8, defence=4, defence_size=2, cap=9, shift_starts=[8, 14, 22], shift_length=10,
        travel={"speed_kmh": 5}, week=24,
    )  # fmt: skip
    planned_and_checked(f, date(2026, 4, 9), date(2026, 4, 9), tmp_path / "p.csv", seed=266)
    # the same at 08:00 (shifts 6-16, 16-02, 22-08), the soldier staying on patrolling elsewhere
    # (railway-north, 45 minutes away): it and its next crew leave their patrols in time
    zones = [("clemenceau", "cp-a", True, 2.0, 1), ("peterbos", "cp-b", False, 2.0),
             ("matonge", "cp-a", False, 0.5), ("railway-north", "cp-b", True, 2.0)]  # fmt: skip
    f = small_protocol(
        tmp_path / "meet2.yaml", zones, police=8, defence=4, defence_size=1, cap=7,
        shift_starts=[6, 16, 22], shift_length=10, travel={"speed_kmh": 5}, rest=11,
        max_patrols=3,
    )  # fmt: skip
    planned_and_checked(f, date(2026, 4, 2), date(2026, 4, 2), tmp_path / "q.csv", seed=620)


def test_the_crew_going_to_a_fipa_leaves_no_soldier_alone(tmp_path: Path) -> None:
    """Found by the property test (5 km/h, a FIPA at 09:00 in a police-only zone): the crew sent
    ahead to the FIPA was another soldier's, which then had no visit from 08:15 until a new crew
    came at 09:45 (two duty periods for the checker: 0.25 h, then 1.5 h of rest). The crews of
    the soldiers going to the FIPA go first, then crews patrolling alone."""
    fipa = {"id": "f1", "date": "2026-04-01", "start": "09:00", "end": "10:00",
            "zone": "clemenceau", "soldiers": 2}  # fmt: skip
    f = small_protocol(
        tmp_path / "fipa.yaml",
        [("clemenceau", "cp-a", False, 1.0), ("peterbos", "cp-b", True, 1.0),
         ("matonge", "cp-a", True, 0.5)],
        police=3, defence=6, defence_size=2, cap=8, shift_starts=[8], shift_length=10,
        travel={"speed_kmh": 5}, week=48, diminishing=0.9, fipa=[fipa],
    )  # fmt: skip
    planned_and_checked(f, date(2026, 3, 31), date(2026, 4, 4), tmp_path / "p.csv", seed=200)
