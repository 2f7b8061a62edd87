"""Continuity: a plan covers its days from 00:00 to 24:00, and `plan make --after` continues the
previous plan so that the two joined break no rule (rest, weekly hours, the seam, minima)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from patrols_cli import activate, run_cli

from safecities.patrols.check import check_plan

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _make(out: Path, first: str, last: str, *extra: str) -> dict:
    res = run_cli(
        ["plan", "make", "--protocol", str(MINI), "--from", first, "--to", last, "--out", str(out),
         "--seed", "3", "--workers", "1", "--time-limit", "30", "--json", *extra]
    )  # fmt: skip
    assert res.exit_code == 0, (res.stderr, res.stdout[-2000:])
    return json.loads(res.stdout)


@pytest.fixture
def chain(tmp_path: Path, db_env) -> tuple[Path, Path]:
    """Thursday to Sunday, then Monday to Wednesday after it (the seam is an ISO week's)."""
    activate(MINI)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _make(a, "2026-04-02", "2026-04-05")
    out = _make(b, "2026-04-06", "2026-04-08", "--after", str(a))
    assert out["after"] == str(a) and out["check"]["ok"]
    return a, b


def test_a_fresh_plan_covers_its_first_day_from_midnight(tmp_path: Path, chain) -> None:
    a, _ = chain
    df = pd.read_csv(a)
    # the eve's night shift (1 April 22:00) covers 2 April from 00:00; the last night ends at 06:00
    assert df["start"].min() == "2026-04-01T22:00:00+02:00"
    assert df["end"].max() == "2026-04-06T06:00:00+02:00"
    rep = check_plan(a, MINI)
    assert rep.ok and rep.horizon == ("2026-04-02T00:00:00+02:00", "2026-04-06T00:00:00+02:00")
    mixed = df[(df["zone_id"] == "railway-south") & (df["soldiers"] > 0)]
    for day in ("2026-04-02T00", "2026-04-05T23"):
        assert (mixed["start"].str[:13] == day).sum() >= 4, day


def test_the_continuation_plans_the_seam_once_and_joins_without_violation(
    tmp_path: Path, chain
) -> None:
    a, b = chain
    da, db = pd.read_csv(a), pd.read_csv(b)
    # the night of Sunday to Monday is in the previous plan only; the new plan starts after it
    assert db["start"].min() >= da["end"].max() == "2026-04-06T06:00:00+02:00"
    # alone, the continuation lacks its first night (it is the previous plan's) ...
    alone = check_plan(b, MINI)
    assert not alone.ok and {v.rule for v in alone.violations} == {"zone_min_mixed"}
    # ... judged with its predecessor it is complete, and the two files joined break no rule
    assert check_plan(b, MINI, after=a).ok
    joined = tmp_path / "joined.csv"
    joined.write_text(a.read_text() + "".join(b.read_text().splitlines(True)[1:]))
    rep = check_plan(joined, MINI)
    assert rep.ok, [v.message for v in rep.violations][:5]
    res = run_cli(["plan", "check", str(b), "--protocol", str(MINI), "--after", str(a), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["after"] == str(a)


def test_after_a_plan_that_does_not_end_the_day_before(tmp_path: Path, chain) -> None:
    a, _ = chain
    out = tmp_path / "c.csv"
    res = run_cli(
        ["plan", "make", "--protocol", str(MINI), "--from", "2026-04-08", "--to", "2026-04-08",
         "--out", str(out), "--after", str(a)]
    )  # fmt: skip
    assert res.exit_code == 1 and not out.exists()
    assert "the previous plan ends on 2026-04-05, so --from must be 2026-04-06" in res.stderr
    # the checker says the same of two plans that do not follow each other
    rep = check_plan(a, MINI, after=a)
    assert "continuity" in rep.counts()


def _quiet(tmp_path: Path, fipa_day: str | None = None) -> Path:
    """mini.yaml with no zone minimum and no FIPA (days that need nothing), or one FIPA."""
    from safecities.patrols.protocol import read_document
    from safecities.safeio import dump_yaml

    doc = read_document(MINI)[0]
    doc["version"] = "test.quiet" + (f".{fipa_day}" if fipa_day else "")
    for z in doc["zones"]:
        z.pop("min_mixed_patrols", None)
    doc["fipa"] = []
    if fipa_day:
        doc["fipa"] = [{"id": "f1", "date": fipa_day, "start": "18:00", "end": "20:00",
                        "zone": "clemenceau", "soldiers": 2}]  # fmt: skip
    path = tmp_path / f"{doc['version']}.yaml"
    path.write_text(dump_yaml(doc))
    activate(path)
    return path


def _make_with(protocol: Path, out: Path, first: str, last: str, *extra: str):
    return run_cli(
        ["plan", "make", "--protocol", str(protocol), "--from", first, "--to", last, "--out",
         str(out), "--seed", "3", "--workers", "1", "--time-limit", "20", "--json", *extra]
    )  # fmt: skip


def test_after_a_plan_whose_last_days_needed_nothing(tmp_path: Path, db_env) -> None:
    """A plan's last day is known from its rows only up to the day its last shift starts: days of
    its own left empty after it are accepted as such where they need nothing (no zone minimum, no
    FIPA), and refused, by the planner and the checker alike, where they do."""
    quiet = _quiet(tmp_path)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _make_with(quiet, a, "2026-04-06", "2026-04-07").exit_code == 0
    # A's last shift starts on 7 April: 8 April needed nothing, so B may start on the 9th
    res = _make_with(quiet, b, "2026-04-09", "2026-04-09", "--after", str(a))
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["check"]["ok"] and check_plan(b, quiet, after=a).ok
    # a FIPA on 8 April needs that day planned: no plan may leave it empty
    fipa = _quiet(tmp_path, "2026-04-08")
    c = tmp_path / "c.csv"
    res = _make_with(fipa, c, "2026-04-09", "2026-04-09", "--after", str(a))
    assert res.exit_code == 1 and not c.exists()
    assert (
        "the previous plan ends on 2026-04-07, so --from must be 2026-04-08 (got 2026-04-09); "
        "2026-04-08 to 2026-04-08 need zone minima or a FIPA" in res.stderr
    ), res.stderr
    rep = check_plan(b, fipa, after=a)
    assert rep.counts()["continuity"] == 1 and rep.violations[0].numbers == {
        "after_last_day": "2026-04-07",
        "first_day": "2026-04-09",
    }


def test_after_and_from_an_empty_plan(tmp_path: Path, db_env) -> None:
    """A plan with no row (its days needed nothing) can be continued and re-planned: nothing of it
    carries over."""
    from safecities.patrols.planner import HEADER

    quiet = _quiet(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(HEADER) + "\n")
    b, c = tmp_path / "b.csv", tmp_path / "c.csv"
    res = _make_with(quiet, b, "2026-04-09", "2026-04-09", "--after", str(empty))
    assert res.exit_code == 0, res.stderr
    assert check_plan(b, quiet, after=empty).ok and len(pd.read_csv(b)) > 0
    res = _make_with(quiet, c, "2026-04-09", "2026-04-09", "--from-plan", str(empty))
    assert res.exit_code == 0, res.stderr
    rp = json.loads(res.stdout)["replan"]
    assert (rp["kept_rows"], rp["old_shifts"], rp["old_assignments"]) == (0, 0, 0)
    assert rp["fallback"] is None and check_plan(c, quiet).ok


def test_a_night_shift_with_a_journey_across_midnight_is_one_shift(tmp_path: Path) -> None:
    """With travel, a unit's visits are apart by its journey (no row): rows of a unit apart by no
    more than the longest journey are one duty period, as the checker reads them, so a night shift
    that travels after midnight is the previous plan's last shift, not a shift of the next plan."""
    from datetime import date

    from safecities.patrols.planner import HEADER
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.replan import load_previous_plan
    from safecities.safeio import dump_yaml

    doc = read_document(MINI)[0]
    doc["travel"] = {"speed_kmh": 25}
    proto = tmp_path / "travel.yaml"
    proto.write_text(dump_yaml(doc))
    p = load_protocol(proto)
    rows = [",".join(HEADER)]
    t = pd.Timestamp("2026-04-07T22:00", tz="Europe/Brussels")
    while t < pd.Timestamp("2026-04-08T06:00", tz="Europe/Brussels"):
        zone = "clemenceau" if t.hour >= 22 or t.hour < 2 else "peterbos"
        if t != pd.Timestamp("2026-04-08T01:45", tz="Europe/Brussels"):  # on the way
            e = t + pd.Timedelta(minutes=15)
            rows.append(
                f"{t.isoformat()},{e.isoformat()},{zone},POL-001,2,0,cp-south,patrol,POL-001,,"
            )
        t += pd.Timedelta(minutes=15)
    plan = tmp_path / "prev.csv"
    plan.write_text("\n".join(rows) + "\n")
    prev = load_previous_plan(plan, p, date(2026, 4, 8), date(2026, 4, 8))
    assert [(s.unit, s.start, s.end) for s in prev["history"]] == [("POL-001", -2, 6)]
    assert prev["frozen_until"] == 6
