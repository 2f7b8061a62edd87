"""CLI and API parity for the register, accounts and audit: for every verb both offer, the same
inputs give the same JSON (run manifests aside; each door keeps its own extra keys).

Two fresh SQLite stores receive the same writes, one through `safecities ... --json`, the other
through the API; reads of the audit log compare the CLI and the API on one and the same store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safecities.api.accounts import create_demo_accounts
from safecities.api.app import create_app
from safecities.cli import build_app
from safecities.domain import Role
from safecities.store.db import make_engine, upgrade

DATA = Path(__file__).parents[1] / "data"
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "id": "parity-zone",
                "name": "Parity",
                "kind": "hotspot",
                "drawn_how": "by hand around Clemenceau",
                "command_post": None,
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [4.3290, 50.8340],
                        [4.3330, 50.8340],
                        [4.3330, 50.8365],
                        [4.3290, 50.8365],
                        [4.3290, 50.8340],
                    ]
                ],
            },
        }  # fmt: skip
    ],
}


def cli(*args: str, input: str | None = None) -> dict:
    r = CliRunner().invoke(build_app(), [*args, "--json"], input=input, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    out.pop("manifest", None)
    return out


@pytest.fixture
def doors(db_env, tmp_path):
    """(API client signed in as admin on store B, analyst headers); the CLI writes to store A."""
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    upgrade(engine)
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with TestClient(create_app(engine)) as client:
        heads = {}
        for role in (Role.ADMIN, Role.ANALYST, Role.AUDITOR):
            login = {"name": accounts[role]["name"], "password": accounts[role]["password"]}
            r = client.post("/api/auth/login", json=login)
            heads[role] = {"Authorization": f"Bearer {r.json()['token']}"}
        yield client, heads
    engine.dispose()


def _shared(a: dict, b: dict, *, skip: tuple[str, ...] = ()) -> tuple[dict, dict]:
    keys = (a.keys() & b.keys()) - set(skip)
    assert keys, "no shared keys to compare"
    return {k: a[k] for k in keys}, {k: b[k] for k in keys}


def test_reference_load_same_counts(doors):
    client, h = doors
    api = client.post("/api/reference/load", headers=h[Role.ADMIN])
    assert api.status_code == 200, api.text
    assert cli("reference", "load") == api.json()


def test_zones_import_same_counts(doors, tmp_path):
    client, h = doors
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(ZONES))
    api = client.post(
        "/api/reference/zones",
        headers=h[Role.ADMIN],
        files={"file": ("zones.geojson", path.read_bytes(), "application/geo+json")},
    )
    assert api.status_code == 200, api.text
    out = cli("reference", "zones-import", str(path))
    assert out == {"zones": 1}
    assert _shared(out, api.json())[0] == _shared(out, api.json())[1]


def test_import_then_summary_same_json(doors, tmp_path):
    client, h = doors
    src = DATA / "api" / "incidents_ok.csv"
    api = client.post(
        "/api/incidents/import",
        headers=h[Role.ANALYST],
        files={"file": (src.name, src.read_bytes(), "text/csv")},
    )
    assert api.status_code == 200, api.text
    out = cli("incidents", "import", str(src))
    a, b = _shared(out, api.json(), skip=("file",))  # the CLI names the path it was given
    assert a == b and a["inserted"] == 3 and a["errors"] == []
    assert Path(out["file"]).name == api.json()["file"] == src.name

    for params in ({}, {"since": "2025-07-01"}, {"since": "2030-01-01"}):
        args = [x for k, v in params.items() for x in (f"--{k}", v)]
        api = client.get("/api/incidents/summary", headers=h[Role.ANALYST], params=params)
        assert api.status_code == 200, api.text
        assert cli("incidents", "summary", *args) == api.json()


def test_import_errors_same_rows_and_fields(doors):
    client, h = doors
    bad = DATA / "api" / "incidents_bad_row.csv"
    api = client.post(
        "/api/incidents/import",
        headers=h[Role.ANALYST],
        files={"file": (bad.name, bad.read_bytes(), "text/csv")},
    )
    assert api.status_code == 422
    r = CliRunner().invoke(build_app(), ["incidents", "import", str(bad), "--json"])
    assert r.exit_code != 0
    # The CLI fails with one line and the table of problems on stderr; the same rows and fields.
    cli_rows = {(e.row, e.field) for e in r.exception.errors}
    assert cli_rows == {(e["row"], e["field"]) for e in api.json()["errors"]}


def test_users_add_same_account(doors):
    client, h = doors
    body = {"name": "chief", "role": "police_commander", "password": "a long enough password"}
    api = client.post("/api/users", headers=h[Role.ADMIN], json=body)
    assert api.status_code == 201, api.text
    out = cli("users", "add", "chief", "--role", "police_commander", "--password-stdin",
              input="a long enough password\n")  # fmt: skip
    a, b = _shared(out, api.json(), skip=("id",))  # ids differ between the two stores
    assert a == b == {"name": "chief", "role": "police_commander", "municipality_id": None,
                      "active": True}  # fmt: skip


def test_audit_log_and_verify_same_json_on_one_store(db_env):
    """The CLI and the API read the same store: same entries, same chain report."""
    from safecities.store.db import get_engine

    cli("users", "add", "chief", "--role", "planner", "--password-stdin",
        input="a long enough password\n")  # fmt: skip
    engine = get_engine()
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with TestClient(create_app(engine)) as client:
        acc = accounts[Role.AUDITOR]
        r = client.post("/api/auth/login", json={"name": acc["name"], "password": acc["password"]})
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        api_log = client.get("/api/audit", headers=h, params={"limit": 50}).json()
        api_verify = client.get("/api/audit/verify", headers=h).json()
    out = cli("audit", "log", "--limit", "50")
    # The API's pydantic model renders `at` with its own offset style: compare as instants.
    for ev in api_log["events"] + out["events"]:
        ev["at"] = ev["at"].replace("Z", "+00:00")
    assert out == api_log and out["total"] >= 10
    assert cli("audit", "verify") == api_verify and api_verify["ok"] is True
