# ruff: noqa: E501
"""When a request cannot be met, the model's core says which rules clash, with the numbers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from patrols_cli import activate, run_cli

from safecities.patrols.planner import InfeasiblePlan, Planner
from safecities.patrols.protocol import load_protocol
from safecities.patrols.risk import default_profile


def _doc() -> dict:
    rail = "cp-rail"
    return {
        "schema": "safecities.patrol-protocol/1",
        "city": "brussels",
        "version": "test.infeasible",
        "timezone": "Europe/Brussels",
        "period": {"start": "2026-03-20", "end": "2026-09-20"},
        "soldier_cap": 45,
        "patrol": {"police_min_per_mixed_patrol": 2, "soldiers_max_per_patrol": 2},
        "defence_liaison": {"required": True},
        "command_posts": [
            {"id": rail, "name": "SPC", "liaisons": ["DL-1", "DL-2", "DL-3", "DL-4"]},
            {
                "id": "cp-matonge",
                "name": "ZP Ixelles",
                "liaisons": ["DL-5", "DL-6", "DL-7", "DL-8"],
            },
        ],
        "zones": [
            {"id": z, "command_post": rail, "min_mixed_patrols": 4}
            for z in ("railway-north", "railway-central", "railway-south")
        ]
        + [{"id": "matonge", "command_post": "cp-matonge"}],
        "fipa": [
            {
                "id": "fipa-matonge",
                "date": "2026-05-02",
                "start": "20:00",
                "end": "23:00",
                "zone": "matonge",
                "soldiers": 30,
            }
        ],
        "working_time": {
            f: {
                "shift_min_hours": 6,
                "shift_max_hours": 10,
                "min_rest_hours": 11,
                "max_hours_per_week": 48,
            }
            for f in ("police", "defence")
        },
        "unit_series": [
            {"prefix": "POL", "force": "police", "count": 60, "size": 2},
            {"prefix": "DEF", "force": "defence", "count": 60, "size": 2},
        ],
    }


def test_fipa_against_cap_and_railway_minimum_is_explained(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(_doc()))
    p = load_protocol(f)
    planner = Planner(
        p, date(2026, 5, 1), date(2026, 5, 2), default_profile(p), seed=0, time_limit=30
    )
    with pytest.raises(InfeasiblePlan) as info:
        planner.run()
    msg = str(info.value)
    assert msg.startswith("FIPA fipa-matonge on 2026-05-02 20:00-23:00 needs 30 soldiers")
    assert "railway zones" in msg and "24 soldiers" in msg and "the 45-soldier cap leaves 21" in msg
    reason = info.value.reasons[0]
    assert reason["rule"] == "soldier_cap" and reason["numbers"]["left"] == 21


def test_cli_infeasible_json(tmp_path: Path, db_env) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(_doc()))
    activate(f)
    out = tmp_path / "x.csv"
    res = run_cli(
        [
            "plan",
            "make",
            "--protocol",
            str(f),
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-02",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert res.exit_code == 1 and not out.exists()
    payload = json.loads(res.stdout)
    assert payload["status"] == "INFEASIBLE"
    assert "45-soldier cap leaves 21" in payload["reasons"][0]["message"]
