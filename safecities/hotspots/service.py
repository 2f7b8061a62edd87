"""Glue between the CLI (or API) and the hotspot methods: load, grid, run, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safecities.errors import InputError
from safecities.geo import metric_crs_for, to_wgs84
from safecities.hotspots.events import (
    EventArray,
    collapse_incidents,
    events_from_db,
    read_events,
    to_event_array,
)
from safecities.hotspots.grid import Grid, H3Grid, PolygonUnits


def load_events(
    events: str | Path | None, mapping: str | Path | None = None, from_db: bool = False
) -> tuple[pd.DataFrame, int, dict[str, Path]]:
    """(events one per incident, rows collapsed, input files for the manifest)."""
    inputs: dict[str, Path] = {}
    if from_db:
        df = events_from_db()
    elif events is None:
        raise InputError("give --events FILE or --from-db")
    else:
        df = read_events(events, mapping)
        inputs["events"] = Path(events)
    if mapping is not None and Path(mapping).is_file():
        inputs["mapping"] = Path(mapping)
    df, n_collapsed = collapse_incidents(df)
    return df, n_collapsed, inputs


def events_tz(df: pd.DataFrame) -> str:
    """Local time zone of the events (dates on the command line are read in it)."""
    return str(df.attrs.get("timezone") or "Europe/Brussels")


def local_timestamp(text: Any, tz: str, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{what} {text!r}: not a date/time (e.g. 2025-08-12 or 2025-08-12T22:00)"
        ) from exc
    if ts is pd.NaT:
        raise InputError(f"{what} {text!r}: not a date/time")
    return ts.tz_localize(tz) if ts.tzinfo is None else ts


def load_boundary(boundary: str | Path | None = None, city: str | None = None) -> Any:
    """Study-area polygon (WGS84): a GeoJSON/shape file, or the foundation's city boundary."""
    if boundary is not None:
        import geopandas as gpd

        try:
            gdf = gpd.read_file(boundary)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"{boundary}: cannot read boundary ({exc})") from exc
        if gdf.crs is not None:
            gdf = gdf.to_crs("EPSG:4326")
        return gdf.geometry.union_all()
    if city is not None:
        try:
            from safecities.register.reference import city_boundary
        except ImportError as exc:
            raise InputError(f"--city {city}: reference data not available yet") from exc
        return city_boundary(city=city)
    return None


def build_grid(
    df: pd.DataFrame,
    cell_size: float,
    grid: str = "square",
    h3_resolution: int = 9,
    boundary_wgs84: Any = None,
    buffer_m: float = 500.0,
    units: Any = None,
) -> Grid | H3Grid | PolygonUnits:
    """The study grid. Without a boundary the study area is every cell whose centre lies
    within `buffer_m` of a recorded event (stated in every output's `grid`). `grid="units"`
    uses the given polygons (`units`, a GeoDataFrame with an `id`) as the spatial units."""
    if cell_size <= 0:
        raise InputError(f"--cell-size {cell_size}: must be positive")
    lon, lat = df["lon"].to_numpy(), df["lat"].to_numpy()
    crs = metric_crs_for(float(np.median(lon)), float(np.median(lat)))
    try:
        if grid == "units":
            if units is None:
                raise InputError("--grid units needs --units FILE (polygons with an 'id')")
            return PolygonUnits.from_geodataframe(units, crs)
        if grid == "h3":
            return H3Grid.from_wgs84(lon, lat, h3_resolution, crs, boundary_wgs84, buffer_m)
        if grid != "square":
            raise InputError(f"--grid {grid!r}: choose square, h3 or units")
        return Grid.from_wgs84(lon, lat, cell_size, crs, boundary_wgs84, buffer_m)
    except ValueError as exc:
        raise InputError(f"grid: {exc}") from exc


def fitted_params(est: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in (
        "bandwidth_",
        "theta_",
        "omega_",
        "sigma_",
        "n_iter_",
        "n_pairs_",
        "loglik_",
        "converged_",
        "n_events_",
        "n_fit_events_",
    ):
        if hasattr(est, k):
            v = getattr(est, k)
            out[k.rstrip("_")] = v.item() if hasattr(v, "item") else v
    if "omega" in out and out["omega"]:
        out["mean_delay_days"] = 1.0 / out["omega"]
    return out


def risk_frame(grid: Any, risk: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Cells with risk, rank (1 = highest) and the cumulative share of area up to that rank."""
    from safecities.hotspots.backtest import rank_cells

    order = rank_cells(risk, seed)
    rank = np.empty(len(risk), dtype=np.int64)
    rank[order] = np.arange(1, len(risk) + 1)
    cx, cy = grid.centroids()
    lon, lat = to_wgs84(cx, cy, grid.crs)
    return pd.DataFrame(
        {
            "cell_id": grid.cell_ids,
            "risk": risk,
            "rank": rank,
            "area_pct": rank / len(risk) * 100.0,
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    )


def write_geojson(grid: Any, frame: pd.DataFrame, path: str | Path, top_pct: float = 100.0) -> int:
    """Cell polygons with the frame's columns as properties; only cells within `top_pct`."""
    gdf = grid.to_geodataframe()
    keep = frame["area_pct"].to_numpy() <= top_pct + 1e-9 if "area_pct" in frame else slice(None)
    gdf = gdf.join(frame.drop(columns=["cell_id"]))[keep]
    if "rank" in gdf.columns:
        gdf = gdf.sort_values("rank")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(gdf.to_json(drop_id=True, na="null"), encoding="utf-8")
    return len(gdf)


def event_array(df: pd.DataFrame, grid: Any) -> EventArray:
    return to_event_array(df, grid.crs)


def station_covariates(city: str | None) -> pd.DataFrame | None:
    """Metro and railway stations of `city` [lat, lon, kind]: the covariates of the learned
    forecaster (None without a city)."""
    if city is None:
        return None
    from safecities.register.reference import stations

    return stations(city=city)[["lat", "lon", "kind"]]
