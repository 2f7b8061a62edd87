"""FIPA rows carry the police units the soldiers secure with (`patrol.police_min_per_fipa`):
the planner holds them at the FIPA, the independent checker refuses a FIPA row without them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from patrols_cli import plan_checked

from safecities.patrols.check import check_plan
from safecities.patrols.planner import HEADER
from safecities.patrols.protocol import read_document, validate_document

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _protocol(tmp_path: Path, police_min: int | None) -> Path:
    doc = read_document(MINI)[0]
    if police_min is not None:
        doc["patrol"]["police_min_per_fipa"] = police_min
    f = tmp_path / f"fipa-police-{police_min}.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def test_planner_holds_police_units_at_each_fipa_slot(tmp_path: Path) -> None:
    df = plan_checked(
        _protocol(tmp_path, 4), date(2026, 4, 2), date(2026, 4, 4), tmp_path / "p.csv", seed=3
    )  # 4 officers: two police units of 2
    fipa = df[df["kind"] == "fipa"]
    assert len(fipa) == 12  # fipa-1, 20:00-23:00, every quarter
    assert (fipa["police"] == 4).all()
    units = fipa["police_units"].str.split(";")
    assert (
        units.map(len).eq(2).all()
        and units.map(lambda u: all(c.startswith("POL-") for c in u)).all()
    )
    # those police units do not patrol while at the FIPA
    patrols = df[df["kind"] == "patrol"]
    for _, r in fipa.iterrows():
        same = patrols[patrols["start"] == r["start"]]
        busy = {c for cs in same["police_units"] for c in cs.split(";") if c}
        assert not busy & set(r["police_units"].split(";"))
    # the same police stay at the FIPA within a shift (no reshuffle every hour)
    assert fipa["police_units"].nunique() <= 2


def test_default_minimum_is_the_mixed_patrol_minimum(tmp_path: Path) -> None:
    df = plan_checked(
        _protocol(tmp_path, None), date(2026, 4, 2), date(2026, 4, 4), tmp_path / "p.csv", seed=3
    )
    fipa = df[df["kind"] == "fipa"]
    assert len(fipa) and (fipa["police"] >= 2).all() and (fipa["police_units"] != "").all()


def _rows(police: int, units: str) -> list[list]:
    return [
        ["2026-04-03T20:00:00+02:00", "2026-04-03T20:15:00+02:00", "clemenceau", "fipa-1",
         police, 2, "cp-south", "fipa", units, "DEF-005", "DL-S1"],
    ]  # fmt: skip


def _check(tmp_path: Path, f: Path, rows: list[list]):
    plan = tmp_path / "hand.csv"
    with open(plan, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return [v for v in check_plan(plan, f).violations if v.rule == "fipa_police"]


def test_checker_refuses_a_fipa_row_without_police_or_below_the_minimum(tmp_path: Path) -> None:
    f = _protocol(tmp_path, 4)
    none = _check(tmp_path, f, _rows(0, ""))
    assert len(none) == 1 and none[0].numbers == {"police": 0, "minimum": 4}
    assert none[0].message == (
        "FIPA row fipa-1 in clemenceau 2026-04-03 20:00-20:15 has 0 police, minimum 4"
    )
    few = _check(tmp_path, f, _rows(2, "POL-001"))
    assert len(few) == 1 and few[0].numbers == {"police": 2, "minimum": 4}
    assert not _check(tmp_path, f, _rows(4, "POL-001;POL-002"))
    # without the field the mixed-patrol minimum (2) applies
    assert _check(tmp_path, MINI, _rows(0, ""))
    assert not _check(tmp_path, MINI, _rows(2, "POL-001"))


def test_schema_validates_police_min_per_fipa() -> None:
    doc = read_document(MINI)[0]
    doc["patrol"]["police_min_per_fipa"] = 0
    assert "$.patrol.police_min_per_fipa" in {i.path for i in validate_document(doc)}
    doc["patrol"]["police_min_per_fipa"] = "two"
    assert "$.patrol.police_min_per_fipa" in {i.path for i in validate_document(doc)}
    doc["patrol"]["police_min_per_fipa"] = 3
    assert not validate_document(doc)


def test_replan_of_a_plan_whose_fipa_rows_had_no_police_gives_them_police(
    tmp_path: Path, db_env
) -> None:
    from patrols_cli import activate, run_cli

    activate(MINI)
    old = tmp_path / "old.csv"
    res = run_cli(["plan", "make", "--protocol", str(MINI), "--from", "2026-04-02", "--to",
                   "2026-04-04", "--seed", "4", "--workers", "1", "--out", str(old)])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    df = pd.read_csv(old, keep_default_na=False)  # as a plan made before FIPA held police
    df.loc[df["kind"] == "fipa", ["police", "police_units"]] = [0, ""]
    df.to_csv(old, index=False)
    ch = tmp_path / "none.yaml"
    ch.write_text("{}\n")
    new = tmp_path / "new.csv"
    res = run_cli(["plan", "make", "--protocol", str(MINI), "--from", "2026-04-03", "--to",
                   "2026-04-04", "--seed", "4", "--workers", "1", "--from-plan", str(old),
                   "--changes", str(ch), "--out", str(new)])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    fipa = pd.read_csv(new, keep_default_na=False).query("kind == 'fipa'")
    assert len(fipa) == 12 and (fipa["police"] >= 2).all() and (fipa["police_units"] != "").all()
