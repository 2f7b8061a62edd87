"""The CLI contract: `safecities hotspots forecast|backtest ...` (other tools rely on it)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from safecities.cli import build_app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(build_app(), ["hotspots", *args], catch_exceptions=True)


def test_forecast_writes_geojson(events_csv, tmp_path):
    out = tmp_path / "risk.geojson"
    r = run(
        "forecast", "--events", str(events_csv), "--method", "sepp", "--cell-size", "150",
        "--at", "2025-11-01T00:00", "--horizon", "1d", "--out", str(out), "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["method"] == "sepp" and doc["horizon_days"] == 1.0
    assert doc["grid"]["cell_size_m"] == 150.0 and doc["n_events_used"] > 100
    assert doc["manifest"]["command"] == "hotspots forecast" and doc["manifest"]["inputs"]
    assert {"theta", "sigma", "mean_delay_days"} <= doc["fitted"].keys()
    gj = json.loads(out.read_text())
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == doc["grid"]["n_cells"]
    props = gj["features"][0]["properties"]
    assert props["rank"] == 1 and {"cell_id", "risk", "area_pct"} <= props.keys()
    # only training events before --at were used
    early = run("forecast", "--events", str(events_csv), "--method", "naive",
                "--at", "2025-02-01", "--json")  # fmt: skip
    assert json.loads(early.stdout)["n_events_used"] < doc["n_events_used"]


def test_backtest_json_contract(events_csv):
    r = run(
        "backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end", "2025-10-15",
        "--horizon", "1d", "--cell-size", "250", "--methods", "naive,kde,prospective,sepp",
        "--coverage", "1,5,10,20", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc["methods"]) == ["naive", "kde", "prospective", "sepp"]
    for m in doc["methods"].values():
        assert m["n_windows"] == 14 and m["seconds"] >= 0
        assert list(m["coverage"]) == ["1", "5", "10", "20"]
        for c in m["coverage"].values():
            assert {"hit_rate", "pai", "pei", "hit_rate_ci", "pai_ci", "pei_ci"} <= c.keys()
    assert doc["best"]["method"] in doc["methods"]
    diffs = doc["best"]["paired_difference"]
    assert len(diffs) == 3 and all(d["mean"] >= 0 for d in diffs.values())
    assert len(doc["table"]) == 16 and doc["manifest"]["command"] == "hotspots backtest"
    plain = run("backtest", "--events", str(events_csv), "--start", "2025-10-01",
                "--end", "2025-10-03", "--methods", "naive")  # fmt: skip
    assert plain.exit_code == 0 and "naive" in plain.stdout


def test_mapping_file_and_collapse(hs_data):
    r = run(
        "backtest", "--events", str(hs_data / "nypd_sample.csv"), "--mapping", "nypd",
        "--start", "2019-06-01", "--end", "2019-06-03", "--methods", "naive", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_events"] == 38 and doc["n_collapsed"] == 12
    assert doc["start"].endswith("-04:00")  # dates read in the data's time zone (New York)


def test_bad_input_is_one_line_not_a_traceback(events_csv, tmp_path):
    from safecities.errors import InputError

    cases = [
        ("forecast", "--events", str(tmp_path / "nope.csv"), "--at", "2025-01-01"),
        ("forecast", "--events", str(events_csv), "--method", "magic", "--at", "2025-06-01"),
        ("forecast", "--events", str(events_csv), "--horizon", "soon"),
        ("forecast", "--events", str(events_csv), "--at", "2020-01-01"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end", "2025-09-01"),
        ("backtest", "--events", str(events_csv), "--start", "x", "--end", "2025-09-01"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end",
         "2025-10-02", "--coverage", "0,500"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end",
         "2025-10-02", "--methods", "naive,oracle"),
        ("forecast", "--events", str(events_csv), "--cell-size", "-5"),
    ]  # fmt: skip
    for args in cases:
        r = run(*args)
        assert r.exit_code != 0, args
        assert isinstance(r.exception, InputError), (args, repr(r.exception))
        assert "\n" not in str(r.exception)


def test_detect_emerging_near_repeat_commands(events_csv, tmp_path):
    out = tmp_path / "gi.geojson"
    r = run("detect", "--events", str(events_csv), "--cell-size", "250", "--out", str(out),
            "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_hot"] > 0 and doc["fdr"] == "benjamini-hochberg" and doc["bandwidth_m"] > 0
    feats = json.loads(out.read_text())["features"]
    assert {"count", "gi_z", "gi_p", "gi_class", "density_per_km2"} <= feats[0]["properties"].keys()

    r = run("emerging", "--events", str(events_csv), "--slice", "30d", "--start", "2025-01-01",
            "--end", "2025-12-27", "--cell-size", "500", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_slices"] == 12 and sum(doc["categories"].values()) == doc["grid"]["n_cells"]
    assert all(c["category"] != "no_pattern" for c in doc["cells"])

    table = tmp_path / "knox.csv"
    r = run("near-repeat", "--events", str(events_csv), "--permutations", "19",
            "--space-bands", "3", "--time-bands", "2", "--out", str(table), "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert len(doc["ratio"]) == 4 and len(doc["ratio"][0]) == 2
    assert doc["ratio"][1][0] > 1.5  # 1-100 m within a week: near repeats in the simulation
    assert table.read_text().startswith("space_from_m,space_to_m,time_from_days")
    r = run("near-repeat", "--events", str(events_csv), "--permutations", "9")
    assert r.exit_code == 0 and "Knox" in r.stdout


def test_profile_csv_contract(events_csv, tmp_path):
    import geopandas as gpd
    import pandas as pd
    import shapely

    ev = pd.read_csv(events_csv)
    lon0, lat0 = ev["lon"].median(), ev["lat"].median()
    zones = gpd.GeoDataFrame(
        {"id": ["centre", "far"]},
        geometry=[shapely.box(lon0 - 0.01, lat0 - 0.01, lon0 + 0.01, lat0 + 0.01),
                  shapely.box(lon0 + 1, lat0 + 1, lon0 + 1.01, lat0 + 1.01)],
        crs="EPSG:4326",
    )  # fmt: skip
    zpath = tmp_path / "zones.geojson"
    zones.to_file(zpath, driver="GeoJSON")
    out = tmp_path / "risk.csv"
    r = run("profile", "--events", str(events_csv), "--zones", str(zpath), "--out", str(out),
            "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    prof = pd.read_csv(out)
    assert list(prof.columns) == ["zone_id", "weekday", "hour", "risk"]
    assert len(prof) == 2 * 168 and set(prof["weekday"]) == set(range(7))
    doc = json.loads(r.stdout)
    centre = next(z for z in doc["zones"] if z["zone_id"] == "centre")
    far = next(z for z in doc["zones"] if z["zone_id"] == "far")
    assert centre["risk_per_week"] > far["risk_per_week"] > 0
    # the bundled Brussels zones by default
    r = run("profile", "--events", str(events_csv), "--out", str(tmp_path / "bxl.csv"))
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "bxl.csv")["zone_id"].str.contains("clemenceau").any()


def test_brussels_demo_with_city_boundary_and_stations(tmp_path):
    """The synthetic Brussels scenario (labelled synthetic) on the city grid; the learned
    model gets the bundled metro and railway stations as covariates."""
    from datetime import date

    from safecities.register.demo import generate

    df = generate(seed=7, start=date(2024, 1, 1), end=date(2025, 8, 12))
    path = tmp_path / "demo.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "bxl.geojson"
    r = run("forecast", "--events", str(path), "--city", "brussels", "--method", "learned",
            "--at", "2025-08-13", "--out", str(out), "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["grid"]["crs"] == "EPSG:3812" and 150 < doc["grid"]["area_km2"] < 175
    r = run("backtest", "--events", str(path), "--city", "brussels", "--start",
            "2025-07-01", "--end", "2025-08-01", "--horizon", "1w", "--methods", "naive,sepp",
            "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["methods"]["sepp"]["n_windows"] == 5


def test_forecast_and_profile_from_the_register(db_env, tmp_path):
    demo = tmp_path / "demo.csv"
    app = build_app()
    for args in (["db", "upgrade"], ["incidents", "demo-data", "--out", str(demo)],
                 ["incidents", "import", str(demo)]):  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
    r = run("forecast", "--from-db", "--method", "naive", "--city", "brussels",
            "--at", "2025-08-13", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_events_used"] == 57
    out = tmp_path / "risk.csv"
    r = run("profile", "--from-db", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines()[0] == "zone_id,weekday,hour,risk"


def test_h3_grid_option(events_csv):
    for method in ("kde", "sepp"):
        r = run("forecast", "--events", str(events_csv), "--grid", "h3", "--h3-resolution", "8",
                "--method", method, "--at", "2025-11-01", "--json")  # fmt: skip
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["grid"]["kind"] == "h3" and doc["expected_events"] > 0
    r = run("detect", "--events", str(events_csv), "--grid", "h3", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["n_hot"] > 0


def test_polygon_units_option(events_csv, tmp_path):
    """Station buffers (or any polygons) as spatial units instead of grid cells."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    ev = pd.read_csv(events_csv)
    lon0, lat0 = ev["lon"].median(), ev["lat"].median()
    units = gpd.GeoDataFrame(
        {"id": ["station-a", "station-b"]},
        geometry=[shapely.Point(lon0, lat0).buffer(0.004),
                  shapely.Point(lon0 + 0.03, lat0 + 0.03).buffer(0.004)],
        crs="EPSG:4326",
    )  # fmt: skip
    path = tmp_path / "units.geojson"
    units.to_file(path, driver="GeoJSON")
    out = tmp_path / "u.geojson"
    r = run("forecast", "--events", str(events_csv), "--grid", "units", "--units", str(path),
            "--method", "sepp", "--at", "2025-11-01", "--out", str(out), "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["grid"]["kind"] == "polygons" and doc["grid"]["n_cells"] == 2
    ids = {f["properties"]["cell_id"] for f in json.loads(out.read_text())["features"]}
    assert ids == {"station-a", "station-b"}
    r = run("forecast", "--events", str(events_csv), "--grid", "units", "--at", "2025-11-01")
    assert r.exit_code != 0 and "--units" in str(r.exception)
