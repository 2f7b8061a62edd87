"""Thin adapter to safecities.hotspots for the API and the map: a forecast risk surface from the
incident register, as GeoJSON cells (cached until the next write)."""

from __future__ import annotations

import json
from typing import Any

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
        origin = service.local_timestamp(at, tz, "at")
    else:
        origin = (
            pd.Timestamp(df["occurred_at"].max()).tz_convert(tz) + pd.Timedelta(days=1)
        ).normalize()  # noqa: E501
    ev = service.event_array(df, g).before(to_days(origin))
    if len(ev) == 0:
        raise InputError(f"no events before {origin.isoformat()}")
    stations = None
    if method == "learned":
        from safecities.register.reference import stations as st

        stations = st(city=city)[["lat", "lon", "kind"]]
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
