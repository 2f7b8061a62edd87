"""Thin adapter to safecities.hotspots for the API and the map: a forecast risk surface from the
incident register, as GeoJSON cells (cached until the next write)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from safecities.errors import InputError

METHODS = ("naive", "kde", "prospective", "sepp", "learned")


def forecast(
    engine: Engine,
    *,
    city: str = "brussels",
    method: str = "kde",
    at: str | None = None,
    horizon: str = "7d",
    cell_size: float = 250.0,
    top: float = 5.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit `method` on the register's events before `at` (default: after the last event) and
    return the top `top` % of cells by expected events in [at, at + horizon)."""
    from safecities.hotspots import service
    from safecities.hotspots.events import (
        collapse_incidents,
        events_from_db,
        parse_horizon,
        to_days,
    )
    from safecities.hotspots.forecast import make_forecaster

    if method not in METHODS:
        raise InputError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    h = parse_horizon(horizon)
    df, _ = collapse_incidents(events_from_db(engine, city=city))
    if len(df) == 0:
        raise InputError(f"no incidents recorded for {city}: import some first")
    g = service.build_grid(df, cell_size, "square", 9, service.load_boundary(None, city))
    tz = service.events_tz(df)
    if at:
        origin = _day(at, tz, "at")  # years 1970-2100 only (year 1 overflowed: a 500)
    else:
        origin = (
            pd.Timestamp(df["occurred_at"].max()).tz_convert(tz) + pd.Timedelta(days=1)
        ).normalize()  # noqa: E501
    ev = service.event_array(df, g).before(to_days(origin))
    if len(ev) == 0:
        raise InputError(f"no events before {origin.isoformat()}")
    stations = service.station_covariates(city) if method == "learned" else None
    est = make_forecaster(method, g, stations=stations).fit(ev)
    risk = est.predict(origin, h)
    frame = service.risk_frame(g, risk, seed)
    gdf = g.to_geodataframe().join(frame.drop(columns=["cell_id"]))
    gdf = gdf[gdf["area_pct"] <= top + 1e-9].sort_values("rank")
    return {
        "method": method,
        "at": origin.isoformat(),
        "horizon_days": h,
        "n_events_used": len(ev),
        "expected_events": float(risk.sum()),
        "cell_size_m": cell_size,
        "top_pct": top,
        "cells": json.loads(gdf.to_json(drop_id=True, na="null")),
    }


# --- the other CLI commands on the register's incidents (same library calls as cli.py) -------

#: Bounds that keep one API call to a few seconds on the register's data.
MAX_BACKTEST_METHODS = 3
MAX_BACKTEST_ORIGINS = 60
MAX_EMERGING_SLICES = 40
MAX_COVERAGES = 4


def cache_key(engine: Engine, name: str, **params: Any) -> tuple:
    """Key of one result in `safecities.api.incidents.cached` (the API routes and the page use
    the same keys, so the map layer the page asks for is already computed)."""
    return ("hotspots", name, str(engine.url), *sorted(params.items()))


def cached(db: Any, engine: Engine, name: str, **params: Any) -> dict[str, Any]:
    """`name`(engine, **params) through the API's cache (until the next write)."""
    from safecities.api import incidents as inc

    fn = {"detect": detect, "emerging": emerging, "near-repeat": near_repeat,
          "profile": profile, "backtest": backtest}[name]  # fmt: skip
    frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return inc.cached(db, cache_key(engine, name, **frozen), lambda: fn(engine, **params))


def _events(engine: Engine, city: str) -> tuple[pd.DataFrame, int]:
    """One event per incident from the register (rows collapsed like the CLI's --from-db)."""
    from safecities.hotspots.events import collapse_incidents, events_from_db

    df, n_collapsed = collapse_incidents(events_from_db(engine, city=city))
    if len(df) == 0:
        raise InputError(f"no incidents recorded for {city}: import some first")
    return df, n_collapsed


def _grid(df: pd.DataFrame, cell_size: float, city: str):
    from safecities.hotspots import service

    return service.build_grid(df, cell_size, "square", 9, service.load_boundary(None, city))


def _day(value: Any, tz: str, what: str) -> pd.Timestamp | None:
    """A date parameter as a local timestamp (years 1970-2100 only: nothing else is data)."""
    from safecities.hotspots import service

    if value is None or value == "":
        return None
    ts = service.local_timestamp(str(value), tz, what)
    if not 1970 <= ts.year <= 2100:
        raise InputError(f"{what} {value}: outside 1970-2100")
    return ts


def _window(df: pd.DataFrame, start: Any, end: Any, tz: str):
    """[start, end) as local timestamps and days (defaults: first event's day, day after the
    last), as the CLI's `_window`."""
    from safecities.hotspots.events import to_days

    ts = df["occurred_at"]
    s0 = _day(start, tz, "start") or ts.min().tz_convert(tz).floor("D")
    s1 = _day(end, tz, "end") or ts.max().tz_convert(tz).floor("D") + pd.Timedelta(days=1)
    if s1 <= s0:
        raise InputError("end must be after start")
    return s0, s1, to_days(s0), to_days(s1)


def _manifest(command: str, params: dict[str, Any], df: pd.DataFrame, seed: int | None = None):
    """The run manifest, with the SHA-256 of the incidents used (as the CLI hashes its file)."""
    from safecities.manifest import RunManifest

    m = RunManifest(command=command, parameters=params, seed=seed)
    cols = [c for c in ("occurred_at", "lat", "lon") if c in df.columns]
    m.add_input_bytes("incidents", df[cols].to_csv(index=False).encode())
    return m.to_dict()


def _cells(grid: Any, frame: pd.DataFrame, keep: Any) -> dict[str, Any]:
    """Cells of `frame` selected by the boolean `keep`, as a GeoJSON FeatureCollection."""
    gdf = grid.to_geodataframe().join(frame.drop(columns=["cell_id"]))
    return json.loads(gdf[np.asarray(keep)].to_json(drop_id=True, na="null"))


def detect(
    engine: Engine,
    *,
    city: str = "brussels",
    start: Any = None,
    end: Any = None,
    cell_size: float = 250.0,
    bandwidth: float | None = None,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int = 0,
    geojson: bool = False,
) -> dict[str, Any]:
    """`safecities hotspots detect --from-db --city CITY --json` (plus `geojson`: every cell
    with an event or a significant Gi*, when asked)."""
    from safecities.hotspots import service
    from safecities.hotspots.detect import detect as run_detect

    df, n_collapsed = _events(engine, city)
    g = _grid(df, cell_size, city)
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    ev = service.event_array(df, g).between(t0, t1)
    frame, info = run_detect(ev, g, bandwidth, alpha, permutations, seed)
    hot = frame[frame["gi_class"] == "hot"].sort_values("gi_z", ascending=False)
    out = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_collapsed": n_collapsed,
        **info,
        "hot_cells": hot.head(20)[["cell_id", "count", "gi_z", "gi_p"]].to_dict("records"),
        "out": None,
        "manifest": _manifest(
            "hotspots detect",
            {
                "city": city,
                "start": _iso(start),
                "end": _iso(end),
                "cell_size": cell_size,
                "bandwidth": bandwidth,
                "alpha": alpha,
                "permutations": permutations,
            },
            df,
            seed,
        ),
    }
    if geojson:
        keep = (frame["count"] > 0) | (frame["gi_class"] != "not_significant")
        out["geojson"] = _cells(g, frame, keep)
    return _finite(out)


def emerging(
    engine: Engine,
    *,
    city: str = "brussels",
    start: Any = None,
    end: Any = None,
    slice_: str = "30d",
    cell_size: float = 300.0,
    alpha: float = 0.05,
    seed: int = 0,
    geojson: bool = False,
) -> dict[str, Any]:
    """`safecities hotspots emerging --from-db --city CITY --json` (plus `geojson`: the cells
    with a pattern, when asked)."""
    from safecities.hotspots import service
    from safecities.hotspots.emerging import emerging_hotspots
    from safecities.hotspots.events import parse_horizon

    sl = parse_horizon(slice_)
    df, n_collapsed = _events(engine, city)
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    if (t1 - t0) / sl > MAX_EMERGING_SLICES:
        raise InputError(
            f"{(t1 - t0) / sl:.0f} time slices: at most {MAX_EMERGING_SLICES} "
            "(shorten the period or lengthen the slice)"
        )
    g = _grid(df, cell_size, city)
    ev = service.event_array(df, g)
    frame, info = emerging_hotspots(ev, g, t0, t1, sl, alpha, 0, seed)
    flagged = frame["category"] != "no_pattern"
    cols = ["cell_id", "category", "n_hot_slices", "n_cold_slices", "trend_tau", "trend_p"]
    out = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_events": int(frame["count"].sum()),
        "n_collapsed": n_collapsed,
        **info,
        "cells": frame[flagged][cols].to_dict("records"),
        "out": None,
        "manifest": _manifest(
            "hotspots emerging",
            {
                "city": city,
                "start": _iso(start),
                "end": _iso(end),
                "slice": slice_,
                "cell_size": cell_size,
                "alpha": alpha,
            },
            df,
            seed,
        ),
    }
    if geojson:
        out["geojson"] = _cells(g, frame, flagged)
    return _finite(out)


def near_repeat(
    engine: Engine,
    *,
    city: str = "brussels",
    start: Any = None,
    end: Any = None,
    space_band: float = 100.0,
    space_bands: int = 5,
    time_band: float = 7.0,
    time_bands: int = 5,
    permutations: int = 99,
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities hotspots near-repeat --from-db --json` on the register's incidents."""
    from safecities.hotspots import service
    from safecities.hotspots.events import to_event_array
    from safecities.hotspots.nearrepeat import knox

    if min(space_band, time_band) <= 0 or min(space_bands, time_bands) < 1 or permutations < 0:
        raise InputError("bands must be positive and permutations >= 0")
    df, n_collapsed = _events(engine, city)
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    ev = to_event_array(df).between(t0, t1)
    res = knox(ev, space_band, space_bands, time_band, time_bands, permutations, seed)
    return _finite(
        {
            "start": s0.isoformat(),
            "end": s1.isoformat(),
            "n_collapsed": n_collapsed,
            **res.to_dict(),
            "out": None,
            "manifest": _manifest(
                "hotspots near-repeat",
                {
                    "city": city,
                    "start": _iso(start),
                    "end": _iso(end),
                    "space_band": space_band,
                    "space_bands": space_bands,
                    "time_band": time_band,
                    "time_bands": time_bands,
                    "permutations": permutations,
                },
                df,
                seed,
            ),
        }
    )


def profile(
    engine: Engine,
    *,
    city: str = "brussels",
    until: Any = None,
    window_days: float = 365.0,
    hours: bool = False,
) -> dict[str, Any]:
    """`safecities hotspots profile --from-db --city CITY --json` (the city's named zones).
    `hours=True` adds `hourly` [{weekday, hour, risk}] summed over the zones and `weekday`
    [{weekday, risk}] (for the page's chart)."""
    from safecities.hotspots import service
    from safecities.hotspots.profile import load_zones, zone_profiles, zone_summary

    if window_days <= 0:
        raise InputError("window_days must be positive")
    df, n_collapsed = _events(engine, city)
    tz = service.events_tz(df)
    z = load_zones(None, city, engine=engine)
    u = _day(until, tz, "until")
    prof = zone_profiles(df, z, tz=tz, until=u, window_days=window_days)
    summary = zone_summary(prof)
    out = {
        "timezone": tz,
        "window": list(prof.attrs.get("window", ())),
        "n_events_window": prof.attrs.get("n_events_window", 0),
        "n_collapsed": n_collapsed,
        "zones": summary,
        "out": None,
        "columns": list(prof.columns),
        "manifest": _manifest(
            "hotspots profile",
            {"until": _iso(until), "window_days": window_days, "city": city},
            df,
        ),
    }
    if hours:
        by = prof.groupby(["weekday", "hour"], sort=True)["risk"].sum().reset_index()
        out["hourly"] = [
            {"weekday": int(r.weekday), "hour": int(r.hour), "risk": float(r.risk)}
            for r in by.itertuples()
        ]
        wd = prof.groupby("weekday", sort=True)["risk"].sum()
        out["weekday"] = [{"weekday": int(k), "risk": float(v)} for k, v in wd.items()]
    return _finite(out)


def backtest(
    engine: Engine,
    *,
    city: str = "brussels",
    start: Any,
    end: Any,
    horizon: str = "7d",
    cell_size: float = 250.0,
    methods: list[str] | tuple[str, ...] = ("naive", "kde"),
    coverage: list[float] | tuple[float, ...] = (1.0, 5.0, 10.0, 20.0),
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities hotspots backtest --from-db --city CITY --json`, bounded for the web: at
    most MAX_BACKTEST_METHODS methods, MAX_BACKTEST_ORIGINS origins, one worker."""
    from safecities.hotspots import service
    from safecities.hotspots.backtest import backtest as run_backtest
    from safecities.hotspots.events import parse_horizon, to_days
    from safecities.hotspots.forecast import make_forecaster

    h = parse_horizon(horizon)
    names = list(dict.fromkeys(methods))
    if not names:
        raise InputError("methods: choose at least one")
    if len(names) > MAX_BACKTEST_METHODS:
        raise InputError(f"methods: at most {MAX_BACKTEST_METHODS} per run")
    for m in names:
        if m not in METHODS:
            raise InputError(f"methods: unknown method {m!r}; choose from {', '.join(METHODS)}")
    covs = sorted({float(c) for c in coverage})
    if not covs or len(covs) > MAX_COVERAGES or any(not 0 < c <= 100 for c in covs):
        raise InputError(f"coverage: 1 to {MAX_COVERAGES} values, each in (0, 100]")
    df, n_collapsed = _events(engine, city)
    tz = service.events_tz(df)
    s0, s1 = _day(start, tz, "start"), _day(end, tz, "end")
    if s0 is None or s1 is None:
        raise InputError("start and end are required")
    if s1 <= s0:
        raise InputError("end must be after start")
    n_origins = int(np.ceil((to_days(s1) - to_days(s0)) / h - 1e-9))
    if n_origins > MAX_BACKTEST_ORIGINS:
        raise InputError(
            f"{n_origins} origins: at most {MAX_BACKTEST_ORIGINS} per run "
            "(shorten the period or lengthen the horizon)"
        )
    g = _grid(df, cell_size, city)
    ev = service.event_array(df, g)
    stations = service.station_covariates(city) if "learned" in names else None
    ests = {m: make_forecaster(m, g, stations=stations) for m in names}
    res = run_backtest(ests, ev, to_days(s0), to_days(s1), h, coverages=covs, n_jobs=1, seed=seed)
    return _finite(
        {
            "start": s0.isoformat(),
            "end": s1.isoformat(),
            "horizon_days": h,
            "grid": g.describe(),
            "n_events": len(ev),
            "n_collapsed": n_collapsed,
            "coverages": covs,
            **res.summary(),
            "wall_seconds": round(res.wall_seconds, 3),
            "manifest": _manifest(
                "hotspots backtest",
                {
                    "city": city,
                    "start": _iso(start),
                    "end": _iso(end),
                    "horizon": horizon,
                    "cell_size": cell_size,
                    "methods": names,
                    "coverage": covs,
                    "n_jobs": 1,
                },
                df,
                seed,
            ),
        }
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _finite(obj: Any) -> Any:
    """NaN/inf -> None, so the JSON is valid (windows without events give no interval)."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
