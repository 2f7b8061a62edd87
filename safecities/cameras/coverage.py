"""Coverage today: what share of hotspot risk, stations and named zones the cameras see.

A camera covers its field-of-view sector: a disc sector of radius `fov_range_m` (default
`DEFAULT_RANGE_M`) around `fov_direction` with opening `fov_angle`; a camera without a direction
covers the full disc (a dome). Geometry is computed in metres (EPSG:3812 in Belgium).

* hotspot cells: a risk surface (GeoJSON polygons with a risk/weight/value property, or CSV
  points lat,lon,weight summed into square cells) when given, otherwise incident counts from the
  register in square cells; share = sum(risk x covered area fraction) / sum(risk);
* stations: a metro or railway station is covered when some camera sector reaches within
  `station_radius` metres of it;
* zones: the covered share of each named zone's area.

Each is reported per municipality, and all of it as GeoJSON map layers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, box, mapping

from safecities.cameras.tabular import find_column, read_table
from safecities.domain import BELGIAN_LAMBERT_2008, WGS84
from safecities.errors import InputError

DEFAULT_RANGE_M = 50.0
RISK_PROPS = ("risk", "weight", "value", "intensity", "score", "count", "expected")


def sector(x: float, y: float, direction: float | None, angle: float | None, rng: float,
           steps: int = 24) -> Polygon:  # fmt: skip
    """Field-of-view polygon in metres (bearing clockwise from north)."""
    if direction is None or angle is None or not np.isfinite(direction) or angle >= 360:
        return shapely.Point(x, y).buffer(rng, quad_segs=16)
    a0 = np.radians(direction - angle / 2.0)
    a1 = np.radians(direction + angle / 2.0)
    t = np.linspace(a0, a1, max(3, int(steps * angle / 90.0) + 1))
    ring = [(x, y)] + [(x + rng * np.sin(v), y + rng * np.cos(v)) for v in t] + [(x, y)]
    return Polygon(ring)


def camera_sectors(cameras: list[dict[str, Any]], default_range: float = DEFAULT_RANGE_M):
    """GeoDataFrame (EPSG:3812) of camera sectors, one row per camera."""
    if not cameras:
        return gpd.GeoDataFrame({"id": []}, geometry=[], crs=BELGIAN_LAMBERT_2008)
    df = pd.DataFrame(cameras)
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs=WGS84).to_crs(
        BELGIAN_LAMBERT_2008
    )
    geoms = []
    for p, (_, c) in zip(pts, df.iterrows(), strict=True):
        rng = c.get("fov_range_m")
        rng = float(rng) if rng is not None and pd.notna(rng) else default_range
        d = c.get("fov_direction")
        a = c.get("fov_angle")
        geoms.append(sector(p.x, p.y, None if pd.isna(d) else float(d),
                            None if pd.isna(a) else float(a), rng))  # fmt: skip
    keep = [k for k in ("id", "municipality_id", "status", "connected") if k in df]
    return gpd.GeoDataFrame(df[keep].copy(), geometry=geoms, crs=BELGIAN_LAMBERT_2008)


def grid_cells(lon, lat, weight, cell_m: float) -> gpd.GeoDataFrame:
    """Sum point weights into square cells of `cell_m` metres (EPSG:3812)."""
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(BELGIAN_LAMBERT_2008)
    ix = np.floor(pts.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(pts.y.to_numpy() / cell_m).astype(np.int64)
    df = pd.DataFrame({"ix": ix, "iy": iy, "w": np.asarray(weight, float)})
    g = df.groupby(["ix", "iy"], as_index=False)["w"].sum()
    geoms = [box(i * cell_m, j * cell_m, (i + 1) * cell_m, (j + 1) * cell_m)
             for i, j in zip(g["ix"], g["iy"], strict=True)]  # fmt: skip
    return gpd.GeoDataFrame({"cell": [f"{i}_{j}" for i, j in zip(g["ix"], g["iy"], strict=True)],
                             "risk": g["w"].to_numpy()}, geometry=geoms,
                            crs=BELGIAN_LAMBERT_2008)  # fmt: skip


def read_risk_surface(path: str | Path, cell_m: float) -> gpd.GeoDataFrame:
    """Risk cells from GeoJSON polygons (risk property) or CSV/GeoJSON points (lat,lon,weight)."""
    p = Path(path)
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            g = gpd.read_file(p)
        except Exception as exc:  # noqa: BLE001 - pyogrio raises many types
            raise InputError(f"{p.name}: not a readable GeoJSON ({type(exc).__name__})") from exc
        if g.empty:
            raise InputError(f"{p.name}: the risk surface is empty")
        prop = next((c for c in g.columns if c.lower() in RISK_PROPS), None)
        if prop is None:
            raise InputError(f"{p.name}: no risk property (one of {', '.join(RISK_PROPS)})")
        if g.crs is None:
            g = g.set_crs(WGS84)
        risk = pd.to_numeric(g[prop], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(risk.to_numpy(float)) | (risk.to_numpy(float) < 0))
        if len(bad):
            raise InputError(f"{p.name}:{bad[0] + 1}: field {prop!r}: not a non-negative number")
        if (g.geom_type == "Point").all():
            return grid_cells(g.geometry.x, g.geometry.y, risk, cell_m)
        g = g.to_crs(BELGIAN_LAMBERT_2008)
        return gpd.GeoDataFrame({"cell": [str(i) for i in range(len(g))], "risk": risk},
                                geometry=g.geometry.values, crs=BELGIAN_LAMBERT_2008)  # fmt: skip
    df = read_table(p)
    from safecities.cameras.planning import LAT, LON, WEIGHT, _number, _raise

    errors: list = []
    lat = _number(df, find_column(df, LAT), "lat", p.name, errors, lo=-90, hi=90)
    lon = _number(df, find_column(df, LON), "lon", p.name, errors, lo=-180, hi=180)
    wcol = find_column(df, WEIGHT + RISK_PROPS)
    w = _number(df, wcol, "weight", p.name, errors, required=wcol is not None, lo=0, default=1.0)
    _raise(errors)
    return grid_cells(lon, lat, w, cell_m)


@dataclass
class CoverageInputs:
    cameras: list[dict[str, Any]]
    municipalities: gpd.GeoDataFrame  # nis, name_nl, name_fr, geometry (WGS84)
    stations: gpd.GeoDataFrame  # id, kind, name, geometry (WGS84)
    zones: gpd.GeoDataFrame  # id, name, kind, geometry (WGS84)
    cells: gpd.GeoDataFrame | None  # cell, risk, geometry (EPSG:3812)
    cells_source: str = "none"


def compute(inp: CoverageInputs, *, station_radius: float = 100.0,
            default_range: float = DEFAULT_RANGE_M) -> dict[str, Any]:  # fmt: skip
    """Coverage tables (JSON-ready) and the GeoJSON layers."""
    sec = camera_sectors(inp.cameras, default_range)
    union = shapely.union_all(sec.geometry.values) if len(sec) else shapely.Polygon()
    munis = inp.municipalities.to_crs(BELGIAN_LAMBERT_2008)
    names = dict(zip(munis["nis"], munis["name_nl"], strict=True))
    fr = dict(zip(munis["nis"], munis["name_fr"], strict=True))

    def muni_of(geoms) -> list[str | None]:
        pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=BELGIAN_LAMBERT_2008).centroid)
        hit = gpd.sjoin(pts, munis[["nis", "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated()]
        return [v if isinstance(v, str) else None for v in hit["nis"]]

    # (a) hotspot cells
    cells_out = []
    if inp.cells is not None and len(inp.cells):
        cells = inp.cells.copy()
        area = cells.geometry.area.to_numpy()
        inter = shapely.area(shapely.intersection(cells.geometry.values, union))
        cells["covered_share"] = np.where(area > 0, inter / np.maximum(area, 1e-9), 0.0)
        cells["municipality"] = muni_of(cells.geometry.values)
        cells_out = cells
    # (b) stations
    st = inp.stations.to_crs(BELGIAN_LAMBERT_2008).copy()
    if len(st):
        buf = st.geometry.buffer(station_radius).values
        st["covered"] = shapely.intersects(buf, union) if not union.is_empty else False
        st["municipality"] = muni_of(st.geometry.values)
    # (c) zones
    zn = inp.zones.to_crs(BELGIAN_LAMBERT_2008).copy()
    if len(zn):
        za = zn.geometry.area.to_numpy()
        zn["covered_share"] = shapely.area(shapely.intersection(zn.geometry.values, union)) / za
        zn["municipality"] = muni_of(zn.geometry.values)

    by_muni = []
    cam_muni = pd.Series([c.get("municipality_id") for c in inp.cameras], dtype=object)
    for nis in munis["nis"]:
        rec: dict[str, Any] = {"municipality": nis, "name_nl": names[nis], "name_fr": fr[nis],
                               "cameras": int((cam_muni == nis).sum())}  # fmt: skip
        if len(cells_out):
            c = cells_out[cells_out["municipality"] == nis]
            tot = float(c["risk"].sum())
            rec["hotspot_risk"] = tot
            rec["hotspot_cells"] = int(len(c))
            rec["hotspot_share"] = (
                float((c["risk"] * c["covered_share"]).sum() / tot) if tot else None
            )
        else:
            rec["hotspot_risk"], rec["hotspot_share"], rec["hotspot_cells"] = 0.0, None, 0
        if len(st):
            s = st[st["municipality"] == nis]
            rec["stations"] = int(len(s))
            rec["stations_covered"] = int(s["covered"].sum())
            rec["station_share"] = float(s["covered"].mean()) if len(s) else None
            for kind in ("metro", "railway"):
                k = s[s["kind"] == kind]
                rec[f"{kind}_stations"] = int(len(k))
                rec[f"{kind}_covered"] = int(k["covered"].sum())
        if len(zn):
            z = zn[zn["municipality"] == nis]
            rec["zones"] = {r["name"]: round(float(r["covered_share"]), 4) for _, r in z.iterrows()}
        by_muni.append(rec)

    total_risk = float(cells_out["risk"].sum()) if len(cells_out) else 0.0
    summary = {
        "cameras": len(inp.cameras),
        "hotspot_cells": int(len(cells_out)),
        "hotspot_source": inp.cells_source,
        "hotspot_share": float((cells_out["risk"] * cells_out["covered_share"]).sum() / total_risk)
        if total_risk else None,
        "stations": int(len(st)),
        "stations_covered": int(st["covered"].sum()) if len(st) else 0,
        "station_share": float(st["covered"].mean()) if len(st) else None,
        "station_radius_m": station_radius,
        "default_range_m": default_range,
    }  # fmt: skip
    zones_tab = [
        {"id": r["id"], "name": r["name"], "kind": r["kind"], "municipality": r["municipality"],
         "area_m2": round(float(r.geometry.area), 1),
         "covered_share": round(float(r["covered_share"]), 4)}
        for _, r in zn.iterrows()
    ] if len(zn) else []  # fmt: skip
    layers = _layers(sec, cells_out, st, zn)
    return {"summary": summary, "municipalities": by_muni, "zones": zones_tab,
            "stations": [{"id": r["id"], "name": r["name"], "kind": r["kind"],
                          "municipality": r["municipality"], "covered": bool(r["covered"])}
                         for _, r in st.iterrows()] if len(st) else [],
            "_layers": layers}  # fmt: skip


def _layers(sec, cells, st, zn) -> dict[str, Any]:
    feats = []

    def add(gdf, layer, props):
        if gdf is None or not len(gdf):
            return
        g = gdf.to_crs(WGS84)
        for (_, r), geom in zip(g.iterrows(), g.geometry, strict=True):
            p = {"layer": layer}
            for k in props:
                v = r.get(k)
                p[k] = v.item() if hasattr(v, "item") else v
            feats.append({"type": "Feature", "geometry": mapping(geom), "properties": p})

    add(sec, "camera_fov", ["id", "municipality_id", "status", "connected"])
    add(cells if len(cells) else None, "hotspot_cells", ["cell", "risk", "covered_share",
                                                         "municipality"])  # fmt: skip
    add(st, "stations", ["id", "name", "kind", "covered", "municipality"])
    add(zn, "zones", ["id", "name", "kind", "covered_share"])
    return {"type": "FeatureCollection", "features": feats}


def write_layers(result: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(result["_layers"], default=str))


def inputs_from_register(
    session, engine, caller, *, risk: str | Path | None = None, cell_m: float = 200.0,
    connected_only: bool = False, city: str = "brussels",
) -> CoverageInputs:  # fmt: skip
    """Active cameras the caller may see, the bundled reference data and hotspot cells."""
    from safecities.cameras import service
    from safecities.register import reference

    cams = [c for c in service.list_cameras(session, caller, status="active")
            if c["connected"] or not connected_only]  # fmt: skip
    cells, source = None, "none"
    if risk is not None:
        cells, source = read_risk_surface(risk, cell_m), f"risk surface {Path(risk).name}"
    else:
        try:
            from safecities.register.events import events_from_db

            ev = events_from_db(engine, city)
        except Exception:  # noqa: BLE001 - no incidents table content yet: no hotspot cells
            ev = None
        if ev is not None and len(ev):
            cells = grid_cells(ev["lon"], ev["lat"], np.ones(len(ev)), cell_m)
            source = f"incident counts in {cell_m:g} m cells ({len(ev)} incidents)"
    return CoverageInputs(
        cameras=cams,
        municipalities=reference.municipalities(city),
        stations=reference.stations(city),
        zones=reference.zones(city, engine=engine),
        cells=cells,
        cells_source=source,
    )
