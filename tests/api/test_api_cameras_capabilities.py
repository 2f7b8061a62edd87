"""Camera CLI capabilities through the API: import (uploads, row errors, municipality scope),
coverage today and the budget planner (tiny inputs, short solver limits)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from safecities.domain import Role

DATA = Path(__file__).parents[1] / "data"
OK = DATA / "api" / "cameras_ok.csv"
BAD = DATA / "api" / "cameras_bad_row.csv"


def _upload(client, headers, path: Path, municipality: str):
    return client.post(
        "/api/cameras/import",
        headers=headers,
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        data={"municipality": municipality},
    )


def test_import_scoped_all_or_nothing_with_row_errors(client, tokens, auth):
    op, admin = auth(tokens[Role.CAMERA_OPERATOR]), auth(tokens[Role.ADMIN])  # op: 21001
    before = len(client.get("/api/cameras", headers=admin).json())
    r = _upload(client, op, BAD, "21001")
    assert r.status_code == 400, r.text
    errs = r.json()["errors"]
    assert {(e["row"], e["field"]) for e in errs} == {(2, "lat"), (3, "retention_days")}
    assert errs[0] == {
        "file": "cameras_bad_row.csv",
        "row": 2,
        "field": "lat",
        "reason": "not a number",
        "value": "noord",
    }
    assert len(client.get("/api/cameras", headers=admin).json()) == before  # nothing written
    # another municipality: refused by the service layer, nothing written
    r = _upload(client, op, OK, "Ixelles")
    assert r.status_code == 403 and "21001" in r.json()["detail"]
    assert _upload(client, auth(tokens[Role.ANALYST]), OK, "21001").status_code == 403
    assert _upload(client, op, OK, "Atlantis").status_code == 400
    r = _upload(client, op, OK, "Anderlecht")
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) == {
        "command",
        "file",
        "rows_read",
        "source",
        "written",
        "created",
        "unchanged",
        "updated",
        "errors",
        "duplicate_candidates",
        "manifest",
    }
    assert (out["rows_read"], out["written"], out["unchanged"]) == (2, 2, 0)
    assert out["manifest"]["inputs"]["file"] and out["command"] == "cameras import"
    again = _upload(client, op, OK, "21001").json()
    assert (again["written"], again["unchanged"]) == (0, 2)
    ids = {c["id"] for c in client.get("/api/cameras", headers=op).json()}
    assert {"21001-cameras_ok-W-1", "21001-cameras_ok-W-2"} <= ids
    # an admin imports the same file into Ixelles: the cameras stand in Anderlecht (issue 17)
    r = _upload(client, admin, OK, "21009")
    assert r.status_code == 400
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(1, "lat"), (2, "lat")}
    assert "not inside municipality 21009" in r.json()["errors"][0]["reason"]


def test_coverage_keys_scope_and_roles(client, tokens, auth):
    admin, op = auth(tokens[Role.ADMIN]), auth(tokens[Role.CAMERA_OPERATOR])
    r = client.get("/api/cameras/coverage", headers=admin)
    assert r.status_code == 200, r.text
    cov = r.json()
    assert {"command", "summary", "municipalities", "zones", "stations", "layers", "scope",
            "manifest"} <= set(cov)  # fmt: skip
    assert {"cameras", "hotspot_share", "stations", "stations_covered", "station_share"} <= set(
        cov["summary"]
    )
    assert cov["layers"]["type"] == "FeatureCollection"
    kinds = {f["properties"]["layer"] for f in cov["layers"]["features"]}
    assert {"camera_fov", "stations", "zones"} <= kinds
    assert len(cov["municipalities"]) == 19
    mine = client.get("/api/cameras/coverage", headers=op).json()
    assert [m["municipality"] for m in mine["municipalities"]] == ["21001"]
    assert mine["scope"] == {"municipality": "21001", "hotspot_cells": False}
    fov = [f for f in mine["layers"]["features"] if f["properties"]["layer"] == "camera_fov"]
    assert fov and all(f["properties"]["municipality_id"] == "21001" for f in fov)
    assert all(f["properties"]["layer"] != "hotspot_cells" for f in mine["layers"]["features"])
    r = client.get("/api/cameras/coverage/geojson", headers=op)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert (
        client.get("/api/cameras/coverage", headers=auth(tokens[Role.DEFENCE_LIAISON])).status_code
        == 403
    )  # noqa: E501
    assert client.get("/api/cameras/coverage?range=0", headers=admin).status_code == 422


def _rows(name: str) -> list[dict]:
    with (DATA / "cameras" / name).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("lat", "lon", "cost", "direction", "angle", "weight"):
            if k in r:
                r[k] = float(r[k]) if r[k] else None
        if "existing" in r:
            r["existing"] = r["existing"] or "new"
    return rows


def test_plan_within_budget_curve_monotone_and_cached(client, tokens, auth):
    planner = auth(tokens[Role.PLANNER])
    body = {
        "budget": 40000,
        "radius": 60,
        "curve_steps": 4,
        "time_limit": 2,
        "candidates": _rows("candidates_small.csv"),
        "demand": _rows("demand_small.csv"),
    }
    r = client.post("/api/cameras/plan", headers=planner, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["command"] == "cameras plan" and out["source"] == "request"
    assert out["spent"] <= 40000 and out["chosen"]
    assert sum(s["cost"] for s in out["chosen"]) <= 40000
    assert out["manifest"]["solver"]["status"] == out["solver"]["status"]
    assert out["solver"]["gap"] is not None and out["solver"]["time_limit"] <= 2
    assert set(out["manifest"]["inputs"]) == {"candidates", "demand"}
    curve = out["curve"]
    assert [p["budget"] for p in curve] == [10000, 20000, 30000, 40000]
    cw = [p["covered_weight"] for p in curve]
    assert cw == sorted(cw) and cw[-1] == out["covered_weight"]
    # cached until the next write: the same answer object comes back
    again = client.post("/api/cameras/plan", headers=planner, json=body).json()
    assert again["manifest"]["created_at"] == out["manifest"]["created_at"]
    # refused roles, and bad input answered 422 / 400 (never 500)
    assert (
        client.post("/api/cameras/plan", headers=auth(tokens[Role.ANALYST]), json=body).status_code
        == 403
    )  # noqa: E501
    assert client.post("/api/cameras/plan", headers=planner, json={}).status_code == 422
    bad = body | {"budget": -1}
    assert client.post("/api/cameras/plan", headers=planner, json=bad).status_code == 422
    dup = body | {"candidates": body["candidates"][:1] * 2}
    r = client.post("/api/cameras/plan", headers=planner, json=dup)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "site_id"


def test_plan_from_the_database(client, tokens, auth, monkeypatch):
    from safecities.api.routes import cameras as routes

    monkeypatch.setattr(routes, "API_WAIT_SECONDS", 0.0)  # answer 202 at once, then poll
    body = {"budget": 100000, "curve_steps": 2, "time_limit": 2}
    first = client.post("/api/cameras/plan", headers=auth(tokens[Role.ADMIN]), json=body)
    assert first.status_code == 202 and first.json()["status"] == "running"
    for _ in range(60):  # a run longer than 5 s answers 202: the same request again gets it
        r = client.post("/api/cameras/plan", headers=auth(tokens[Role.ADMIN]), json=body)
        if r.status_code != 202:
            break
        assert r.json()["status"] == "running" and r.headers["retry-after"]
        time.sleep(1)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["source"] == "database" and out["spent"] <= 100000
    assert out["n_candidates"] > 100 and len(out["curve"]) == 2


def test_plan_programme_options_through_the_api(client, tokens, auth):
    """Issue 17: municipal limits, TCO years and the register switch in the JSON body; a bad
    municipality is a 400 naming the row, never a 500."""
    planner = auth(tokens[Role.PLANNER])
    cands = [r | {"cost_yearly": 1000.0} for r in _rows("candidates_small.csv")]
    body = {
        "budget": 60000,
        "radius": 60,
        "curve_steps": 1,
        "time_limit": 2,
        "years": 3,
        "ignore_register": True,
        "candidates": cands,
        "demand": _rows("demand_small.csv"),
        "municipal_budgets": [{"municipality": "Brussel", "budget": 30000, "capacity": 3}],
    }
    r = client.post("/api/cameras/plan", headers=planner, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["years"] == 3 and out["register"] == {"included": False, "connected_cameras": 0}
    (bxl,) = out["municipalities"]
    assert bxl["municipality"] == "21004" and bxl["spent"] <= 30000
    assert bxl["cameras_watched"] <= 3
    assert all(s["tco"] == s["cost"] + 3 * 1000.0 for s in out["chosen"])
    bad = body | {"municipal_budgets": [{"municipality": "Atlantis", "budget": 1}]}
    r = client.post("/api/cameras/plan", headers=planner, json=bad)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "municipality"
