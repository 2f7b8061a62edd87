"""Coverage today: sectors, hotspot cells, stations and zones per municipality; CLI layers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
import typer
from typer.testing import CliRunner

from safecities.cameras import cli, coverage
from safecities.register import reference


def test_sector_geometry():
    s = coverage.sector(0, 0, 90, 90, 100)  # looks east
    assert s.contains(shapely.Point(50, 0))
    assert not s.contains(shapely.Point(-50, 0))
    assert not s.contains(shapely.Point(0, 50))
    assert s.area == pytest.approx(np.pi * 100**2 / 4, rel=0.02)
    assert coverage.sector(0, 0, None, None, 10).area == pytest.approx(np.pi * 100, rel=0.01)


def test_compute_station_zone_and_cells():
    st = reference.stations("brussels")
    zn = reference.zones("brussels")
    target = st.iloc[0]
    zone = zn.iloc[0]
    zc = zone.geometry.centroid
    cams = [
        {"id": "c1", "municipality_id": "21001", "lat": target.geometry.y,
         "lon": target.geometry.x, "fov_direction": None, "fov_angle": None,
         "fov_range_m": 30.0, "status": "active", "connected": True},
        {"id": "c2", "municipality_id": "21001", "lat": zc.y, "lon": zc.x,
         "fov_direction": 0.0, "fov_angle": 90.0, "fov_range_m": 80.0, "status": "active",
         "connected": False},
    ]  # fmt: skip
    cells = coverage.grid_cells([zc.x, zc.x, 4.30], [zc.y, zc.y, 50.80], [1, 1, 2], 200)
    inp = coverage.CoverageInputs(cams, reference.municipalities(), st, zn, cells, "test")
    res = coverage.compute(inp, station_radius=50)
    sm = res["summary"]
    assert sm["stations_covered"] >= 1 and sm["stations"] == len(st)
    covered = {s["id"] for s in res["stations"] if s["covered"]}
    assert target["id"] in covered
    z = {r["id"]: r["covered_share"] for r in res["zones"]}
    assert 0 < z[zone["id"]] <= 1
    assert 0 < sm["hotspot_share"] < 0.5
    assert len(res["municipalities"]) == 19
    layers = {f["properties"]["layer"] for f in res["_layers"]["features"]}
    assert layers == {"camera_fov", "hotspot_cells", "stations", "zones"}


def test_risk_surface_polygons(tmp_path):
    boxes = [shapely.box(4.35, 50.84, 4.355, 50.845), shapely.box(4.30, 50.80, 4.305, 50.805)]
    g = gpd.GeoDataFrame({"risk": [3.0, 1.0]}, geometry=boxes, crs="EPSG:4326")
    f = tmp_path / "risk.geojson"
    f.write_text(g.to_json())
    cells = coverage.read_risk_surface(f, 200)
    assert cells["risk"].tolist() == [3.0, 1.0]
    bad = tmp_path / "bad.geojson"
    bad.write_text(g.rename(columns={"risk": "foo"}).to_json())
    with pytest.raises(Exception, match="no risk property"):
        coverage.read_risk_surface(bad, 200)


def test_coverage_cli(db_env, tmp_path):
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    st = reference.stations("brussels").iloc[0]
    r = CliRunner().invoke(
        app,
        [
            "cameras",
            "add",
            st["municipality"],
            "--set",
            f"lat={st.geometry.y}",
            "--set",
            f"lon={st.geometry.x}",
        ],
    )
    assert r.exit_code == 0, r.output
    gj = tmp_path / "layers.geojson"
    r = CliRunner().invoke(app, ["cameras", "coverage", "--json", "--geojson", str(gj)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["summary"]["cameras"] == 1 and doc["summary"]["stations_covered"] >= 1
    assert {"summary", "municipalities", "zones", "stations", "manifest"} <= set(doc)
    assert json.loads(gj.read_text())["type"] == "FeatureCollection"
    r = CliRunner().invoke(app, ["cameras", "coverage", "--role", "defence_approver"])
    assert r.exit_code != 0
