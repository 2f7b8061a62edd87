"""CLI and API parity: every camera verb both offer gives the same JSON for the same inputs
(manifest timestamps and solver wall times aside), because both call safecities.cameras.service.

The CLI runs through typer's CliRunner with `--json` on the same SQLite store as the API app."""

from __future__ import annotations

import csv
from pathlib import Path

from safecities.domain import Role

DATA = Path(__file__).resolve().parents[1] / "data"


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


def test_import_and_duplicates_same_json(store, other_store):
    path = DATA / "cameras" / "anderlecht_nl.csv"
    by_cli = store.cli("import", str(path), "--municipality", "21001")
    # the same file uploaded to the API of a second, identical store gives the same answer
    by_api = other_store.api(
        "POST",
        "/api/cameras/import",
        data={"municipality": "21001"},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )
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
