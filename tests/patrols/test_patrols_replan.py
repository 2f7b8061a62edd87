# ruff: noqa: E501
"""Re-planning: a FIPA is added and a unit drops out; the rest of the plan changes as little as it can."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from patrols_cli import activate, run_cli

from safecities.patrols.check import check_plan

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def test_replan_keeps_the_past_and_most_of_the_future(tmp_path: Path, db_env) -> None:
    activate(MINI)
    old = tmp_path / "old.csv"
    base = [
        "plan",
        "make",
        "--protocol",
        str(MINI),
        "--from",
        "2026-04-06",
        "--to",
        "2026-04-08",
        "--seed",
        "4",
    ]
    res = run_cli([*base, "--out", str(old)])
    assert res.exit_code == 0, res.stderr
    changes = tmp_path / "changes.yaml"
    changes.write_text(
        yaml.safe_dump(
            {
                "units_out": ["DEF-002"],
                "add_fipa": [
                    {
                        "id": "fipa-new",
                        "date": "2026-04-08",
                        "start": "18:00",
                        "end": "20:00",
                        "zone": "clemenceau",
                        "soldiers": 2,
                    }
                ],
            }
        )
    )
    new = tmp_path / "new.csv"
    res = run_cli(
        [
            "plan",
            "make",
            "--protocol",
            str(MINI),
            "--from",
            "2026-04-07",
            "--to",
            "2026-04-08",
            "--seed",
            "4",
            "--from-plan",
            str(old),
            "--changes",
            str(changes),
            "--out",
            str(new),
            "--json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    rp = payload["replan"]
    assert rp["kept_rows"] > 0 and rp["old_assignments"] > 0
    assert 0 <= rp["changed_assignments"] < rp["old_assignments"]  # not everything was redrawn
    # the whole new plan (kept past + re-planned rest) passes the checker with the amended protocol
    amended = new.with_name("new.protocol.json")
    assert amended.exists() and check_plan(new, amended).ok
    df_old, df_new = (
        pd.read_csv(old, keep_default_na=False),
        pd.read_csv(new, keep_default_na=False),
    )
    cut = "2026-04-07T00:00:00+02:00"
    assert df_old[df_old["start"] < cut].equals(
        df_new[df_new["start"] < cut].reset_index(drop=True)
    )
    later = df_new[df_new["start"] >= "2026-04-07T06:00:00+02:00"]
    assert "DEF-002" not in set(
        later["soldier_units"]
    )  # dropped out (after finishing a started shift)
    assert "fipa-new" in set(df_new["patrol_id"])
