"""CLI of the register: add, edit, list, counts, show --at, history, permission errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import typer
from typer.testing import CliRunner

from safecities.cameras import cli


def _app():
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


def run(*args):
    return CliRunner().invoke(_app(), ["cameras", *args])


def test_register_cli_round_trip(db_env):
    r = run("add", "Anderlecht", "--set", "id=AND-7", "--set", "lat=50.8366", "--set",
            "lon=4.3093", "--set", "status=planned", "--as", "op", "--role", "camera_operator",
            "--as-municipality", "21001", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["camera"]["status"] == "planned"
    t_mid = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    r = run("edit", "21001-AND-7", "--set", "status=actief", "--as", "op", "--role",
            "camera_operator", "--as-municipality", "Anderlecht")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("show", "21001-AND-7", "--at", t_mid, "--role", "auditor", "--json")
    assert json.loads(r.stdout)["camera"]["status"] == "planned"
    r = run("history", "21001-AND-7", "--role", "auditor", "--json")
    changes = json.loads(r.stdout)["changes"]
    assert [c["action"] for c in changes] == ["create", "update"]
    r = run("list", "--role", "police_commander", "--json")
    assert json.loads(r.stdout)["count"] == 1
    r = run("counts", "--role", "defence_liaison", "--json")
    assert json.loads(r.stdout)["municipalities"][0]["total"] == 1


def test_register_cli_denies_other_municipality(db_env):
    assert run("add", "21001", "--set", "id=A1", "--set", "lat=50.8366", "--set",
               "lon=4.3093").exit_code == 0  # fmt: skip
    r = run("show", "21001-A1", "--role", "camera_operator", "--as-municipality", "Ixelles")
    assert r.exit_code != 0
    assert "may not read" in str(r.exception)
    r = run("edit", "21001-A1", "--set", "status=removed", "--role", "camera_operator",
            "--as-municipality", "Ixelles")  # fmt: skip
    assert "may not change" in str(r.exception)
    r = run("list", "--role", "defence_liaison")
    assert "only see camera counts" in str(r.exception)


def test_import_and_duplicates_cli(db_env):
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "cameras"
    r = run("import", str(data / "anderlecht_nl.csv"), "--municipality", "Anderlecht", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["written"] == 2
    r = run("import", str(data / "anderlecht_police_fr.csv"), "--municipality", "21001", "--json")
    found = json.loads(r.stdout)["duplicate_candidates"]
    assert len(found) == 1
    r = run("duplicates", "list", "--json")
    dup = json.loads(r.stdout)["duplicates"][0]
    r = run("duplicates", "reject", str(dup["id"]), "--json")
    assert json.loads(r.stdout)["duplicate"]["status"] == "rejected"
    assert json.loads(run("duplicates", "list", "--json").stdout)["duplicates"] == []
