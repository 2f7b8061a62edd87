"""Hourly and weekday risk per zone: the input of the patrol planner.

risk(zone, weekday, hour) = expected events in that zone during that one hour of a week
  = zone rate per week * share of the week's events falling in that (weekday, hour) slot.

- zone rate per week: (events in the zone over the trailing window + 0.5) / weeks in window
  (the 0.5 is a Jeffreys pseudo-count, so a quiet zone keeps a small, honest, non-zero risk);
- weekly shape: the zone's own (weekday, hour) histogram shrunk towards the city-wide one,
  weight n / (n + `prior_strength`), both smoothed circularly over the 168 hours of the week
  with weights (1/4, 1/2, 1/4) applied `smoothing` times; the city-wide histogram gets one
  pseudo-event per hour (Laplace), so every hour keeps a small positive risk.
Times are local (the events' time zone); weekday 0 = Monday. Output columns (a contract the
patrol planner relies on): zone_id, weekday, hour, risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PROFILE_COLUMNS = ["zone_id", "weekday", "hour", "risk"]


def _smooth(week: np.ndarray, times: int) -> np.ndarray:
    for _ in range(times):
        week = 0.25 * np.roll(week, 1) + 0.5 * week + 0.25 * np.roll(week, -1)
    return week


def zone_profiles(
    events: pd.DataFrame,
    zones: Any,
    tz: str = "Europe/Brussels",
    until: Any = None,
    window_days: float = 365.0,
    prior_strength: float = 20.0,
    smoothing: int = 2,
    id_column: str = "id",
) -> pd.DataFrame:
    """Risk per zone, weekday and hour from events before `until` (default: all)."""
    import geopandas as gpd

    ts = pd.to_datetime(events["occurred_at"], utc=True)
    end = pd.Timestamp(until) if until is not None else ts.max() + pd.Timedelta("1s")
    if end.tzinfo is None:
        end = end.tz_localize(tz)
    begin = end - pd.Timedelta(days=window_days)
    sel = (ts >= begin) & (ts < end)
    ev = events.loc[sel.to_numpy()]
    local = pd.to_datetime(ev["occurred_at"], utc=True).dt.tz_convert(tz)
    slot = (local.dt.day_of_week * 24 + local.dt.hour).to_numpy()
    weeks = window_days / 7.0
    # city-wide shape with one pseudo-event per hour of the week (Laplace), so no hour is
    # ever certain to be quiet
    city = _smooth(np.bincount(slot, minlength=168).astype(float) + 1.0, smoothing)
    city = city / city.sum()
    zones = zones.to_crs("EPSG:4326") if zones.crs is not None else zones
    pts = gpd.GeoDataFrame(
        {"slot": slot}, geometry=gpd.points_from_xy(ev["lon"], ev["lat"]), crs="EPSG:4326"
    )
    zz = gpd.GeoDataFrame({"zone_id": zones[id_column].astype(str)}, geometry=zones.geometry)
    joined = gpd.sjoin(pts, zz, predicate="within", how="inner")
    rows = []
    hours = np.arange(168)
    for zid in zz["zone_id"]:
        zslots = joined.loc[joined["zone_id"] == zid, "slot"].to_numpy()
        n = len(zslots)
        own = _smooth(np.bincount(zslots, minlength=168).astype(float), smoothing)
        own = own / own.sum() if own.sum() > 0 else city
        wgt = n / (n + prior_strength)
        shape = wgt * own + (1 - wgt) * city
        rate = (n + 0.5) / weeks
        rows.append(
            pd.DataFrame(
                {"zone_id": zid, "weekday": hours // 24, "hour": hours % 24, "risk": rate * shape}
            )
        )
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=PROFILE_COLUMNS)
    out.attrs["n_events_window"] = int(len(ev))
    out.attrs["window"] = (begin.isoformat(), end.isoformat())
    return out[PROFILE_COLUMNS]


def zone_summary(prof: pd.DataFrame) -> list[dict[str, Any]]:
    """Per zone of a profile: expected events per week and the peak weekday and hour (the
    `zones` of `hotspots profile --json`, for the CLI and the API alike)."""
    per_zone = prof.groupby("zone_id", sort=False)["risk"].agg(["sum", "max", "idxmax"])
    return [
        {
            "zone_id": zid,
            "risk_per_week": float(row["sum"]),
            "peak_weekday": int(prof.loc[row["idxmax"], "weekday"]),
            "peak_hour": int(prof.loc[row["idxmax"], "hour"]),
            "peak_risk": float(row["max"]),
        }
        for zid, row in per_zone.iterrows()
    ]


def load_zones(path: Any = None, city: str | None = "brussels", engine: Any = None) -> Any:
    """Zones from a GeoJSON/shape file (needs an `id` column, else row numbers are used), or
    the named zones of `city` from the reference data (the store's, as zone imports changed
    them, when `engine` is given)."""
    import geopandas as gpd

    from safecities.errors import InputError

    if path is not None:
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"{path}: cannot read zones ({exc})") from exc
        if "id" not in gdf.columns:
            gdf["id"] = [str(i) for i in range(1, len(gdf) + 1)]
        if len(gdf) == 0:
            raise InputError(f"{path}: no zones")
        return gdf
    from safecities.register.reference import zones

    return zones(city=city, engine=engine)
