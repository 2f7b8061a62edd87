"""Planner inputs from the database and the bundled reference data (when no files are given).

Demand (transport nodes weighted first):
* every metro and railway station: weight `STATION_WEIGHT` (10);
* hotspot cells (incident counts from the register in 200 m cells, or a risk surface): the
  cell centre, weight scaled so the riskiest cell weighs `HOTSPOT_MAX_WEIGHT` (5);
* each named zone: points on a 75 m grid inside it, weight `ZONE_POINT_WEIGHT` (0.5) each.

Candidates:
* active register cameras: already connected ones count as covering (`existing=connected`);
  the others can be connected at their `cost_connection` (default `CONNECTION_COST`);
* new sites: four points 40 m around each station, each hotspot cell centre, and a 100 m grid
  inside each zone, at `SITE_COST` euros each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safecities.domain import BELGIAN_LAMBERT_2008
from safecities.geo import to_metres, to_wgs84

STATION_WEIGHT = 10.0
HOTSPOT_MAX_WEIGHT = 5.0
ZONE_POINT_WEIGHT = 0.5
SITE_COST = 25_000.0
CONNECTION_COST = 5_000.0
CELL_M = 200.0
#: Yearly running cost of a new site (maintenance, line, licences) when nothing better is known:
#: an assumption for --years; give `cost_yearly` in a candidates file to replace it.
SITE_COST_YEARLY = 1_500.0


def _grid_in(geom_m, step: float) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    x0, y0, x1, y1 = geom_m.bounds
    xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    xs, ys = xs.ravel(), ys.ravel()
    ok = shapely.contains_xy(geom_m, xs, ys)
    if not ok.any():
        c = geom_m.representative_point()
        return np.array([c.x]), np.array([c.y])
    return xs[ok], ys[ok]


def _hotspot_cells(engine, city: str | None):
    from safecities.cameras.coverage import grid_cells

    try:
        from safecities.register.events import events_from_db

        ev = events_from_db(engine, city)
    except Exception:  # noqa: BLE001 - empty or missing incident register: no hotspot demand
        return None
    if ev is None or not len(ev):
        return None
    return grid_cells(ev["lon"], ev["lat"], np.ones(len(ev)), CELL_M)


def demand_from_reference(engine, city: str | None = "brussels") -> pd.DataFrame:
    from safecities.register import reference

    rows = []
    st = reference.stations(city)
    for _, s in st.iterrows():
        rows.append((f"station:{s['id']}", s.geometry.y, s.geometry.x, STATION_WEIGHT, "station"))
    cells = _hotspot_cells(engine, city)
    if cells is not None and len(cells):
        c = cells.geometry.centroid
        lon, lat = to_wgs84(c.x.to_numpy(), c.y.to_numpy())
        w = cells["risk"].to_numpy(float)
        w = HOTSPOT_MAX_WEIGHT * w / w.max()
        for k in range(len(cells)):
            rows.append((f"cell:{cells['cell'].iloc[k]}", lat[k], lon[k], w[k], "hotspot_cell"))
    zn = reference.zones(city, engine=engine).to_crs(BELGIAN_LAMBERT_2008)
    for _, z in zn.iterrows():
        xs, ys = _grid_in(z.geometry, 75.0)
        lon, lat = to_wgs84(xs, ys)
        for k in range(len(xs)):
            rows.append((f"zone:{z['id']}:{k}", lat[k], lon[k], ZONE_POINT_WEIGHT, "zone"))
    return pd.DataFrame(rows, columns=["demand_id", "lat", "lon", "weight", "kind"])


#: The planner's candidate-site columns (a candidates CSV has the same).
SITE_COLUMNS = ("site_id", "lat", "lon", "cost", "direction", "angle", "range_m", "existing",
                "cost_yearly")  # fmt: skip
COLUMNS = [*SITE_COLUMNS, "station", "zone"]


def _register_rows(session, *, connected_only: bool) -> list[tuple]:
    """Active register cameras as candidate rows: connected ones cover for free
    (`existing=connected`), the others can be connected at their `cost_connection`."""
    from safecities.cameras import service

    caller = service.Caller.of("planner", "planner")
    rows = []
    for c in service.list_cameras(session, caller, status="active"):
        if connected_only and not c["connected"]:
            continue
        existing = "connected" if c["connected"] else "connect"
        cost = c["cost_connection"] if c["cost_connection"] is not None else CONNECTION_COST
        rows.append((c["id"], c["lat"], c["lon"], 0.0 if c["connected"] else cost,
                     c["fov_direction"], c["fov_angle"], c["fov_range_m"], existing,
                     c["cost_yearly"] or 0.0, None, None))  # fmt: skip
    return rows


def _frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("direction", "angle", "range_m"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    # A direction without an opening angle means all round.
    df.loc[df["angle"].isna(), "direction"] = np.nan
    return df


def with_register(session, candidates: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """(given candidates plus the register's connected cameras, number of those cameras): they
    cover for free whatever the inputs (issue 17); a site id the file lists keeps its row."""
    reg = _frame(_register_rows(session, connected_only=True))
    n = int(len(reg))
    reg = reg[~reg["site_id"].isin(candidates["site_id"])]
    if reg.empty:
        return candidates, n
    return pd.concat([candidates, reg], ignore_index=True), n


def candidates_from_db(session, engine, city: str | None = "brussels") -> pd.DataFrame:
    from safecities.register import reference

    rows = _register_rows(session, connected_only=False)
    st = reference.stations(city)
    sx, sy = to_metres(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
    new = (SITE_COST, np.nan, np.nan, np.nan, "new", SITE_COST_YEARLY)
    for k, (sid, sname) in enumerate(zip(st["id"], st["name"], strict=True)):
        for name, dx, dy in (("n", 0, 40), ("e", 40, 0), ("s", 0, -40), ("w", -40, 0)):
            lon, lat = to_wgs84(sx[k] + dx, sy[k] + dy)
            rows.append((f"new:{sid}:{name}", float(lat), float(lon), *new, sname, None))
    cells = _hotspot_cells(engine, city)
    if cells is not None and len(cells):
        c = cells.geometry.centroid
        lon, lat = to_wgs84(c.x.to_numpy(), c.y.to_numpy())
        for k in range(len(cells)):
            rows.append((f"new:cell:{cells['cell'].iloc[k]}", lat[k], lon[k], *new, None, None))
    zn = reference.zones(city, engine=engine).to_crs(BELGIAN_LAMBERT_2008)
    for _, z in zn.iterrows():
        xs, ys = _grid_in(z.geometry, 100.0)
        lon, lat = to_wgs84(xs, ys)
        for k in range(len(xs)):
            rows.append((f"new:zone:{z['id']}:{k}", lat[k], lon[k], *new, None, z["name"]))
    return _frame(rows).drop_duplicates("site_id").reset_index(drop=True)
