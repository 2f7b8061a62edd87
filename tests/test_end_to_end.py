"""End to end through every layer, as an analyst and a planner would: the demo store, the hotspot
risk profile, a patrol plan under the approved Brussels protocol, and its independent check."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
from typer.testing import CliRunner

from safecities.cli import build_app

runner = CliRunner()
PROTOCOL = str(resources.files("safecities.patrols") / "protocols" / "brussels-2026.yaml")


def run(*args: str) -> dict:
    res = runner.invoke(build_app(), [*args, "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_demo_to_risk_profile_to_checked_plan(db_env, tmp_path):
    demo = run("demo")
    # approved by both; shown as expired once its period (to 20 September 2026) is over
    assert demo["protocol"]["status"] in ("active", "expired")
    assert demo["plan"]["made"] and demo["plan"]["check_ok"] and demo["plan"]["rows"] > 100
    assert demo["plan"]["risk"] == "register"  # weighed by the synthetic incidents' profile
    risk = tmp_path / "risk.csv"
    run("hotspots", "profile", "--from-db", "--out", str(risk))
    table = pd.read_csv(risk)
    assert list(table.columns) == ["zone_id", "weekday", "hour", "risk"]
    # The synthetic shootings cluster at Clemenceau: its risk exceeds a quiet metro zone's.
    by_zone = table.groupby("zone_id")["risk"].sum()
    assert by_zone["clemenceau"] > by_zone.median()
    plan_csv = tmp_path / "plan.csv"
    plan = run(
        "plan",
        "make",
        "-p",
        PROTOCOL,
        "--from",
        "2026-04-06",
        "--to",
        "2026-04-06",
        "--risk",
        str(risk),
        "--out",
        str(plan_csv),
        "--time-limit",
        "20",
        "--seed",
        "3",
    )
    assert plan["status"] in ("OPTIMAL", "FEASIBLE") and plan["check"]["ok"]
    rows = pd.read_csv(plan_csv)
    assert list(rows.columns[:8]) == [
        "start",
        "end",
        "zone_id",
        "patrol_id",
        "police",
        "soldiers",
        "command_post",
        "kind",
    ]
    assert set(rows["zone_id"]) <= set(pd.read_csv(risk)["zone_id"])
    check = run("plan", "check", str(plan_csv), "-p", PROTOCOL)
    assert check["ok"] and check["violation_count"] == 0
