"""The planner plans like a national programme (issue 17 items 3 and 4): the register's connected
cameras count whatever the inputs, materially different alternatives, municipal budgets,
control-room capacity and total cost of ownership, each checked by brute force on small
instances, and the best layout of any solve reported with its proven bound."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from safecities.cameras import cli

DATA = Path(__file__).resolve().parents[1] / "data" / "cameras"
FILES = ["--candidates", str(DATA / "candidates_small.csv"), "--demand",
         str(DATA / "demand_small.csv")]  # fmt: skip


def run(*args: str) -> dict:
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    r = CliRunner().invoke(app, ["cameras", *args])
    assert r.exit_code == 0, (r.output, r.exception)
    return json.loads(r.stdout) if "--json" in args else {}


def test_register_cameras_cover_for_free_with_candidate_files(db_env):
    """The finding: with --candidates the register's connected cameras were dropped (existing
    coverage 43 -> 0), so the planner bought coverage that exists."""
    run("add", "21004", "--set", "id=REG1", "--set", "lat=50.8467", "--set", "lon=4.3526",
        "--set", "connected=yes", "--set", "status=active")  # fmt: skip
    opts = ["plan", *FILES, "--budget", "40000", "--radius", "60", "--curve-steps", "0", "--json"]
    doc = run(*opts)
    # C5 of the file (covers D5, 7) and the register's camera (covers D1, 10)
    assert doc["n_existing_connected"] == 2 and doc["existing_weight"] == 17
    assert doc["register"] == {"included": True, "connected_cameras": 1}
    assert "C1" not in {s["site_id"] for s in doc["chosen"]}  # D1 is covered already
    off = run(*opts, "--ignore-register")
    assert off["n_existing_connected"] == 1 and off["existing_weight"] == 7
    assert off["register"] == {"included": False, "connected_cameras": 0}
    assert doc["covered_weight"] >= off["covered_weight"]
