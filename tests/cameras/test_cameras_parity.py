"""CLI and API parity: every camera verb both offer gives the same JSON for the same inputs
(manifest timestamps and solver wall times aside), because both call safecities.cameras.service.

The CLI runs through typer's CliRunner with `--json` on the same SQLite store as the API app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safecities.api.accounts import create_demo_accounts
from safecities.api.app import create_app
from safecities.cameras import cli
from safecities.domain import Role
from safecities.store.db import make_engine, upgrade

DATA = Path(__file__).resolve().parents[1] / "data"


def _app():
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


class Store:
    """A fresh migrated SQLite store, an API client on it and the CLI pointed at it."""

    def __init__(self, url: str, engine, accounts: dict[Role, dict], client: TestClient):
        self.url, self.engine, self.accounts, self.client = url, engine, accounts, client
        self.headers: dict[Role, dict[str, str]] = {}
        for role, acc in accounts.items():
            r = client.post("/api/auth/login", json={"name": acc["name"],
                                                     "password": acc["password"]})  # fmt: skip
            self.headers[role] = {"Authorization": f"Bearer {r.json()['token']}"}

    def cli(self, *args: str, role: Role = Role.ADMIN) -> dict:
        who = ["--as", self.accounts[role]["name"], "--role", role.value]
        if role is Role.CAMERA_OPERATOR:
            who += ["--as-municipality", "21001"]
        if args[0] in ("plan",):
            who = []
        r = CliRunner().invoke(_app(), ["cameras", *args, *who, "--json"])
        assert r.exit_code == 0, (r.output, r.exception)
        return json.loads(r.stdout)

    def api(self, method: str, path: str, role: Role = Role.ADMIN, **kw):
        r = self.client.request(method, path, headers=self.headers[role], **kw)
        assert r.status_code in (200, 201), r.text
        return r.json()


@pytest.fixture
def store(tmp_path, monkeypatch):
    from safecities.config import get_settings
    from safecities.store import db

    url = f"sqlite:///{tmp_path / 'parity.db'}"
    monkeypatch.setenv("SAFECITIES_DATABASE_URL", url)
    monkeypatch.setenv("SAFECITIES_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with TestClient(create_app(engine)) as client:
        yield Store(url, engine, accounts, client)
    engine.dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()


def _strip(doc, drop=("manifest",)):
    """Without the manifest and wall-clock fields (seconds, timestamps of new records)."""
    if isinstance(doc, dict):
        return {k: _strip(v, ()) for k, v in doc.items()
                if k not in drop and k not in ("seconds", "build_seconds")}  # fmt: skip
    if isinstance(doc, list):
        return [_strip(v, ()) for v in doc]
    return doc


CAM = {"lat": "50.8366", "lon": "4.3093", "status": "planned", "retention_days": "30",
       "purpose": "traffic"}  # fmt: skip


def _sets(fields: dict[str, str]) -> list[str]:
    return [a for k, v in fields.items() for a in ("--set", f"{k}={v}")]


def test_register_verbs_same_json(store):
    by_cli = store.cli("add", "21001", *_sets(CAM | {"id": "21001-P1"}))
    by_api = store.api("POST", "/api/cameras", params={"municipality": "21001"},
                       json=CAM | {"id": "21001-P2"})  # fmt: skip
    same = lambda c: {k: v for k, v in c.items() if k not in ("id", "updated_at")}  # noqa: E731
    assert same(by_cli["camera"]) == same(by_api)
    assert by_cli["command"] == "cameras add"

    e_cli = store.cli("edit", "21001-P1", "--set", "retention_days=14")
    e_api = store.api("PATCH", "/api/cameras/21001-P2", json={"retention_days": "14"})
    assert same(e_cli["camera"]) == same(e_api) and e_api["version"] == 2

    for role in (Role.ADMIN, Role.CAMERA_OPERATOR, Role.PLANNER):
        assert store.cli("list", role=role)["cameras"] == store.api("GET", "/api/cameras", role)
    assert store.cli("counts")["municipalities"] == store.api("GET", "/api/cameras/counts")
    assert store.cli("show", "21001-P1")["camera"] == store.api("GET", "/api/cameras/21001-P1")
    h = store.api("GET", "/api/cameras/21001-P1/history")
    assert store.cli("history", "21001-P1")["changes"] == h
    moment = h[0]["at"]
    at_cli = store.cli("show", "21001-P1", "--at", moment)
    at_api = store.api("GET", "/api/cameras/21001-P1/at", params={"moment": moment})
    assert at_cli["camera"] == at_api["camera"] and at_cli["camera"]["retention_days"] == 30
    assert at_cli["command"] == at_api["command"] == "cameras show"


def test_import_and_duplicates_same_json(store, tmp_path):
    path = DATA / "cameras" / "anderlecht_nl.csv"
    by_cli = store.cli("import", str(path), "--municipality", "21001")
    # the same file uploaded to the API into a second, identical store gives the same answer
    other = tmp_path / "other"
    other.mkdir()
    engine = make_engine(f"sqlite:///{other / 'b.db'}")
    upgrade(engine)
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with TestClient(create_app(engine)) as client:
        b = Store(str(engine.url), engine, accounts, client)
        by_api = b.api("POST", "/api/cameras/import", data={"municipality": "21001"},
                       files={"file": (path.name, path.read_bytes(), "text/csv")})  # fmt: skip
    engine.dispose()
    assert _strip(by_cli) == _strip(by_api)
    assert by_cli["manifest"]["inputs"] == by_api["manifest"]["inputs"]
    assert by_cli["written"] == 2

    store.cli("import", str(DATA / "cameras" / "anderlecht_police_fr.csv"), "--municipality",
              "21001")  # fmt: skip
    listed = store.cli("duplicates", "list")["duplicates"]
    assert listed and listed == store.api("GET", "/api/cameras/duplicates")
    op = Role.CAMERA_OPERATOR
    assert store.cli("duplicates", "list", role=op)["duplicates"] == store.api(
        "GET", "/api/cameras/duplicates", op
    )
    dup_id = listed[0]["id"]
    rej = store.cli("duplicates", "reject", str(dup_id))["duplicate"]
    assert rej["status"] == "rejected"
    assert store.api("GET", "/api/cameras/duplicates", params={"status": "rejected"}) == [rej]


def test_coverage_same_json(store):
    store.cli("add", "21001", *_sets(CAM | {"id": "21001-C1", "status": "active"}))
    for role in (Role.ADMIN, Role.CAMERA_OPERATOR):
        by_cli = store.cli("coverage", role=role)
        by_api = store.api("GET", "/api/cameras/coverage", role)
        assert _strip(by_cli) == _strip(by_api, ("manifest", "layers", "scope"))
        assert by_cli["manifest"]["parameters"] == by_api["manifest"]["parameters"]


def _rows(name: str) -> list[dict]:
    with (DATA / "cameras" / name).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("lat", "lon", "cost", "direction", "angle", "weight", "range_m"):
            if k in r:
                r[k] = float(r[k]) if r[k] else None
        if "existing" in r:
            r["existing"] = r["existing"] or "new"
    return rows


def test_plan_same_json(store):
    cands, dem = DATA / "cameras" / "candidates_small.csv", DATA / "cameras" / "demand_small.csv"
    opts = {"budget": 40000, "radius": 60, "curve_steps": 2, "time_limit": 2, "alternatives": 1}
    by_cli = store.cli("plan", "--candidates", str(cands), "--demand", str(dems := dem),
                       *[a for k, v in opts.items()
                         for a in (f"--{k.replace('_', '-')}", str(v))])  # fmt: skip
    body = opts | {"candidates": _rows(cands.name), "demand": _rows(dems.name)}
    by_api = store.api("POST", "/api/cameras/plan", Role.PLANNER, json=body)
    assert (by_cli["source"], by_api["source"]) == ("files", "request")
    assert _strip(by_cli, ("manifest", "source")) == _strip(by_api, ("manifest", "source"))
    assert by_cli["manifest"]["parameters"] == by_api["manifest"]["parameters"]
