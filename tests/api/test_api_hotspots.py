"""Hotspots through the API on the synthetic demo scenario (57 shootings, 1 Jan - 12 Aug 2025):
every route with allowed and refused roles, bounded parameters, the CLI's JSON keys and
plausible values. The CLI parity test runs the same commands on the same events from a file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from safecities.api.permissions import Action, allowed
from safecities.domain import Role

READERS = [
    Role.ADMIN,
    Role.ANALYST,
    Role.PLANNER,
    Role.POLICE_COMMANDER,
    Role.DEFENCE_LIAISON,
    Role.INTERIOR_APPROVER,
    Role.DEFENCE_APPROVER,
    Role.AUDITOR,
]
NOT_READERS = [Role.CAMERA_OPERATOR, Role.MINISTERIAL_STAFF]
RUNNERS = [Role.ADMIN, Role.ANALYST]
BACKTEST = {
    "start": "2025-06-01",
    "end": "2025-08-10",
    "horizon": "7d",
    "methods": ["naive", "kde"],
    "coverage": [1, 5, 20],
}


@pytest.fixture(scope="module", autouse=True)
def demo(api_engine, tmp_path_factory):
    """The demo scenario in the module's store (reference data + 57 synthetic incidents)."""
    from safecities.register.demo import load_demo

    var = tmp_path_factory.mktemp("var")
    load_demo(api_engine, var_dir=var)
    return var / "demo_incidents.csv"


@pytest.fixture(scope="module")
def headers(tokens):
    return {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}


def _get(client, h, path, **params):
    return client.get(f"/api/hotspots/{path}", headers=h, params=params)


@pytest.mark.parametrize("path", ["detect", "emerging", "near-repeat", "profile"])
def test_read_routes_allow_readers_and_refuse_others(client, headers, path):
    first = _get(client, headers[Role.ANALYST], path)
    assert first.status_code == 200, first.text
    for role in READERS:
        r = _get(client, headers[role], path)
        assert r.status_code == 200, (role, r.text)
        body = r.json()
        if allowed(role, Action.INCIDENTS_READ) or path == "near-repeat":  # city-wide pairs
            assert body == first.json()  # cached: the same answer for everyone
        else:  # only cells / zones with >= k incidents (tests/security/test_privacy.py)
            assert body.pop("min_count")["k"] == 3 and body.keys() == first.json().keys()
    for role in NOT_READERS:
        assert _get(client, headers[role], path).status_code == 403
    assert client.get(f"/api/hotspots/{path}").status_code == 401


def test_backtest_only_for_runners(client, headers):
    for role in Role:
        r = client.post("/api/hotspots/backtest", headers=headers[role], json=BACKTEST)
        assert r.status_code == (200 if role in RUNNERS else 403), (role, r.text[:200])


@pytest.mark.parametrize(
    "path, params",
    [
        ("detect", {"cell_size": 50}),
        ("detect", {"permutations": 1000}),
        ("detect", {"alpha": 0.9}),
        ("detect", {"bandwidth": 1}),
        ("detect", {"start": "yesterday"}),
        ("emerging", {"slice": "1d"}),
        ("emerging", {"cell_size": 100}),
        ("near-repeat", {"space_bands": 50}),
        ("near-repeat", {"permutations": 200}),
        ("near-repeat", {"time_band": 0}),
        ("profile", {"window_days": 0}),
        ("profile", {"window_days": 100000}),
        ("profile", {"city": "atlantis"}),
    ],
)
def test_read_routes_bound_their_parameters(client, headers, path, params):
    assert _get(client, headers[Role.ADMIN], path, **params).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {**BACKTEST, "methods": []},
        {**BACKTEST, "methods": ["naive", "kde", "sepp", "learned"]},
        {**BACKTEST, "methods": ["oracle"]},
        {**BACKTEST, "coverage": [0]},
        {**BACKTEST, "coverage": [1, 2, 3, 4, 5]},
        {**BACKTEST, "cell_size": 10},
        {**BACKTEST, "horizon": "1h"},
    ],
)
def test_backtest_body_is_required_and_bounded(client, headers, body):
    r = client.post("/api/hotspots/backtest", headers=headers[Role.ANALYST], json=body)
    assert r.status_code == 422, r.text[:200]


def test_backtest_refuses_too_many_origins_and_bad_periods(client, headers):
    h = headers[Role.ANALYST]
    long = {**BACKTEST, "start": "2025-01-01", "end": "2025-08-10", "horizon": "1d"}
    r = client.post("/api/hotspots/backtest", headers=h, json=long)
    assert r.status_code == 400 and "origins" in r.json()["detail"]
    r = client.post("/api/hotspots/backtest", headers=h, json={**BACKTEST, "end": "2025-05-01"})
    assert r.status_code == 400 and "after" in r.json()["detail"]
    r = client.post("/api/hotspots/backtest", headers=h, json={**BACKTEST, "start": "1900-01-01"})
    assert r.status_code == 400
    r = _get(client, h, "emerging", slice="7d", start="2024-01-01", end="2025-08-10")
    assert r.status_code == 400 and "slices" in r.json()["detail"]
    r = _get(client, h, "detect", start="2025-05-01", end="2025-04-01")
    assert r.status_code == 400


def test_backtest_keys_and_values(client, headers):
    r = client.post("/api/hotspots/backtest", headers=headers[Role.ANALYST], json=BACKTEST)
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) == {
        "start", "end", "timezone", "horizon_days", "grid", "n_events", "n_collapsed",
        "coverages", "methods", "table", "best", "wall_seconds", "manifest",
    }  # fmt: skip
    assert out["n_events"] == 57 and out["horizon_days"] == 7.0
    assert out["coverages"] == [1.0, 5.0, 20.0]
    assert len(out["table"]) == 2 * 3
    for row in out["table"]:
        assert 0 <= row["hit_rate"] <= 1 and row["pai"] >= 0 and 0 <= row["pei"] <= 1
        lo, hi = row["pai_ci"]
        assert lo <= row["pai"] <= hi
        assert row["n_windows"] == 10 and 0 < row["n_scored"] <= 10
    kde5 = out["methods"]["kde"]["coverage"]["5"]
    assert kde5["pai"] > 2  # clustered demo shootings: far better than chance (PAI 1)
    assert out["best"]["coverage_pct"] == 5.0 and out["best"]["method"] in ("naive", "kde")
    assert out["manifest"]["command"] == "hotspots backtest"
    assert out["manifest"]["inputs"]["incidents"]  # SHA-256 of the incidents used


def test_detect_keys_values_and_geojson_cells(client, headers):
    out = _get(client, headers[Role.PLANNER], "detect", geojson=True).json()
    assert {
        "start", "end", "grid", "n_collapsed", "n_events", "n_in_grid", "bandwidth_m",
        "bandwidth_rule", "alpha", "fdr", "permutations", "n_hot", "n_cold", "hot_cells", "out",
        "manifest", "geojson",
    } == set(out)  # fmt: skip
    assert out["n_events"] == 57 and out["n_in_grid"] == 57
    assert out["n_hot"] > 0 and out["hot_cells"][0]["gi_z"] > 1.96
    feats = out["geojson"]["features"]
    assert out["geojson"]["type"] == "FeatureCollection"
    assert sum(f["properties"]["gi_class"] == "hot" for f in feats) == out["n_hot"]
    assert sum(f["properties"]["count"] for f in feats) == 57
    assert feats[0]["geometry"]["type"] == "Polygon"
    plain = _get(client, headers[Role.PLANNER], "detect").json()
    assert "geojson" not in plain and plain["n_hot"] == out["n_hot"]


def test_emerging_keys_values_and_geojson_cells(client, headers):
    out = _get(client, headers[Role.AUDITOR], "emerging", geojson=True).json()
    assert {
        "start", "end", "grid", "n_events", "n_collapsed", "n_slices", "slice_days", "alpha",
        "categories", "cells", "out", "manifest", "geojson",
    } == set(out)  # fmt: skip
    # whole 30-day slices only: the last partial month is left out, as in the CLI
    assert 40 < out["n_events"] <= 57 and out["n_slices"] >= 5 and out["slice_days"] == 30
    assert sum(out["categories"].values()) == out["grid"]["n_cells"]
    assert len(out["cells"]) == out["grid"]["n_cells"] - out["categories"].get("no_pattern", 0)
    assert len(out["geojson"]["features"]) == len(out["cells"]) > 0
    assert all(c["category"].endswith(("_hotspot", "_coldspot")) for c in out["cells"])


def test_near_repeat_and_profile_keys_and_values(client, headers):
    nr = _get(client, headers[Role.ANALYST], "near-repeat", permutations=19).json()
    assert {
        "start", "end", "n_collapsed", "space_bands_m", "time_bands_days", "observed",
        "expected", "ratio", "p_value", "n_events", "n_pairs", "permutations", "seed", "out",
        "manifest",
    } == set(nr)  # fmt: skip
    assert len(nr["observed"]) == 6 and len(nr["observed"][0]) == 5  # + the same-place band
    assert sum(map(sum, nr["observed"])) <= nr["n_pairs"] and nr["n_events"] == 57
    assert all(0 < p <= 1 for row in nr["p_value"] for p in row)
    pr = _get(client, headers[Role.ANALYST], "profile", hours=True).json()
    assert {
        "timezone", "window", "n_events_window", "n_collapsed", "zones", "out", "columns",
        "manifest", "hourly", "weekday",
    } == set(pr)  # fmt: skip
    assert pr["columns"] == ["zone_id", "weekday", "hour", "risk"]
    assert pr["timezone"] == "Europe/Brussels" and pr["n_events_window"] == 57
    zones = {z["zone_id"]: z for z in pr["zones"]}
    assert "clemenceau" in zones
    assert all(0 <= z["peak_hour"] < 24 and 0 <= z["peak_weekday"] < 7 for z in pr["zones"])
    assert len(pr["hourly"]) == 168 and len(pr["weekday"]) == 7
    total = sum(z["risk_per_week"] for z in pr["zones"])
    assert sum(h["risk"] for h in pr["hourly"]) == pytest.approx(total)


def test_same_figures_as_the_cli_on_the_same_events(client, headers, demo):
    """The API calls the CLI's library functions: same keys and figures on the same events."""
    from safecities.cli import build_app

    cli, runner = build_app(), CliRunner()
    h = headers[Role.ANALYST]
    cases = [
        (
            ["near-repeat", "--permutations", "19"],
            _get(client, h, "near-repeat", permutations=19).json(),
            ("observed", "expected", "p_value", "n_events", "n_pairs"),
        ),
        (
            ["detect", "--cell-size", "250", "--city", "brussels"],
            _get(client, h, "detect").json(),
            ("n_events", "n_hot", "n_cold", "bandwidth_m"),
        ),
        (
            ["profile", "--city", "brussels"],
            _get(client, h, "profile").json(),
            ("n_events_window", "window", "timezone"),
        ),
    ]
    for args, api, same in cases:
        res = runner.invoke(cli, ["hotspots", *args, "--events", str(demo), "--json"])
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout[res.stdout.index("{") :])
        assert set(out) == set(api), args
        for k in same:
            assert json.dumps(out[k]) == json.dumps(api[k]), k
        for key in ("hot_cells", "zones"):
            mine = [sorted(r.items()) for r in out.get(key, [])]
            assert mine == [sorted(r.items()) for r in api.get(key, [])], key
