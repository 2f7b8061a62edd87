"""`safecities hotspots ...` commands (thin: parse, call the library, print)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from safecities.clitools import console, echo_json
from safecities.errors import InputError
from safecities.manifest import RunManifest
from safecities.safeio import safe_frame

app = typer.Typer(
    help="Hotspots: detection, near-repeat analysis, forecasting and backtesting.",
    no_args_is_help=True,
)

# user-facing help texts in one place (translations later)
H = {
    "events": "Events file (CSV/GeoJSON/Parquet) with columns occurred_at,lat,lon "
    "(others ignored), or any layout with --mapping.",
    "mapping": "YAML column-mapping file for --events (foundation import mappings).",
    "from_db": "Read the events from the incident register instead of a file.",
    "cell": "Grid cell size in metres (square cells).",
    "grid": "Spatial unit: 'square' cells, 'h3' hexagons or 'units' (polygons of --units).",
    "units": "Polygons (GeoJSON with 'id', e.g. station buffers or zones) for --grid units.",
    "h3": "H3 resolution when --grid h3 (9 is about 175 m across).",
    "boundary": "Study-area polygon file (GeoJSON/shapefile); default: cells within "
    "500 m of some event.",
    "city": "Clip the grid to this city's boundary from the bundled reference data.",
    "json": "Print one JSON object on stdout (stable keys, with a run manifest).",
    "horizon": "Forecast window length, e.g. 1d, 12h, 1w.",
    "seed": "Random seed (tie-breaking, Monte Carlo).",
}


def _methods() -> dict[str, Any]:
    from safecities.hotspots.forecast import METHODS

    return METHODS


def _load(events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city, units=None):
    from safecities.hotspots import service
    from safecities.hotspots.profile import load_zones

    df, n_collapsed, inputs = service.load_events(events, mapping, from_db)
    polys = None
    if grid == "units":
        if units is None:
            raise InputError("--grid units needs --units FILE (polygons with an 'id')")
        polys = load_zones(units)
        inputs["units"] = Path(units)
    g = service.build_grid(
        df, cell_size, grid, h3_resolution, service.load_boundary(boundary, city), units=polys
    )
    if n_collapsed:
        console.print(f"collapsed {n_collapsed} row(s) to one event per incident")
    return df, n_collapsed, inputs, g


def _manifest(command: str, params: dict[str, Any], inputs: dict[str, Path], seed=None):
    m = RunManifest(command=command, parameters=params, seed=seed)
    for name, path in inputs.items():
        m.add_input_file(name, path)
    return m


@app.command()
def forecast(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    method: str = typer.Option("sepp", "--method", help="naive, kde, prospective, sepp, learned."),
    cell_size: float = typer.Option(150.0, "--cell-size", help=H["cell"]),
    at: str = typer.Option(
        None, "--at", help="Forecast origin (date/time, events' time zone); default: now."
    ),
    horizon: str = typer.Option("1d", "--horizon", help=H["horizon"]),
    out: Path = typer.Option(None, "--out", help="Write the risk surface as GeoJSON cells."),
    top: float = typer.Option(100.0, "--top", help="Only write cells in the top PCT % of area."),
    grid: str = typer.Option("square", "--grid", help=H["grid"]),
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Path = typer.Option(None, "--units", help=H["units"]),
    boundary: Path = typer.Option(None, "--boundary", help=H["boundary"]),
    city: str = typer.Option(None, "--city", help=H["city"]),
    seed: int = typer.Option(0, "--seed", help=H["seed"]),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Fit a method on the events before --at and map the expected events in [at, at+horizon)."""
    import pandas as pd

    from safecities.hotspots import service
    from safecities.hotspots.events import parse_horizon, to_days
    from safecities.hotspots.forecast import make_forecaster

    h = parse_horizon(horizon)
    df, n_collapsed, inputs, g = _load(
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city, units
    )
    tz = service.events_tz(df)
    origin = service.local_timestamp(at, tz, "--at") if at else pd.Timestamp.now(tz=tz)
    ev = service.event_array(df, g).before(to_days(origin))
    if len(ev) == 0:
        raise InputError(f"no events before --at {origin.isoformat()}")
    t0 = time.perf_counter()
    est = make_forecaster(method, g, stations=service.station_covariates(city)).fit(ev)
    risk = est.predict(origin, h)
    secs = time.perf_counter() - t0
    frame = service.risk_frame(g, risk, seed)
    written = service.write_geojson(g, frame, out, top) if out else 0
    top10 = frame.sort_values("rank").head(10)
    payload = {
        "method": method,
        "at": origin.isoformat(),
        "horizon_days": h,
        "grid": g.describe(),
        "n_events_used": len(ev),
        "n_collapsed": n_collapsed,
        "expected_events": float(risk.sum()),
        "fitted": service.fitted_params(est),
        "seconds": round(secs, 3),
        "top_cells": top10[["cell_id", "risk", "rank", "lat", "lon"]].to_dict("records"),
        "out": str(out) if out else None,
        "n_cells_written": written,
        "manifest": _manifest(
            "hotspots forecast",
            {
                "method": method,
                "cell_size": cell_size,
                "at": origin.isoformat(),
                "horizon": horizon,
                "grid": grid,
                "top": top,
            },  # fmt: skip
            inputs,
            seed,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
    else:
        typer.echo(
            f"{method}: {len(ev)} events before {origin:%Y-%m-%d %H:%M}, "
            f"{payload['expected_events']:.2f} expected in {h:g} d over {g.n_cells} cells"
        )
        for r in payload["top_cells"]:
            typer.echo(f"  #{r['rank']:<3} {r['cell_id']:<14} risk {r['risk']:.4f}")
        if out:
            typer.echo(f"wrote {written} cells to {out}")


@app.command()
def backtest(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    start: str = typer.Option(..., "--start", help="First origin (date, events' time zone)."),
    end: str = typer.Option(..., "--end", help="End of the origins (exclusive)."),
    horizon: str = typer.Option("1d", "--horizon", help=H["horizon"]),
    cell_size: float = typer.Option(150.0, "--cell-size", help=H["cell"]),
    methods: str = typer.Option(
        "naive,kde,prospective,sepp,learned", "--methods", help="Comma-separated methods."
    ),
    coverage: str = typer.Option("1,5,10,20", "--coverage", help="Area coverages in %."),
    grid: str = typer.Option("square", "--grid", help=H["grid"]),
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Path = typer.Option(None, "--units", help=H["units"]),
    boundary: Path = typer.Option(None, "--boundary", help=H["boundary"]),
    city: str = typer.Option(None, "--city", help=H["city"]),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Parallel workers (joblib)."),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786) to fan out on."
    ),
    seed: int = typer.Option(0, "--seed", help=H["seed"]),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Rolling-origin backtest: hit rate, PAI and PEI per method and coverage, with 95 % CIs."""
    from safecities.hotspots import service
    from safecities.hotspots.backtest import backtest as run_backtest
    from safecities.hotspots.events import parse_horizon, to_days
    from safecities.hotspots.forecast import make_forecaster

    h = parse_horizon(horizon)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    for m in names:
        if m not in _methods():
            raise InputError(
                f"--methods: unknown method {m!r}; choose from {', '.join(_methods())}"
            )
    try:
        covs = [float(c) for c in coverage.split(",") if c.strip()]
    except ValueError as exc:
        raise InputError(f"--coverage {coverage!r}: expected numbers like 1,5,10,20") from exc
    if not covs or any(not 0 < c <= 100 for c in covs):
        raise InputError(f"--coverage {coverage!r}: each value must be in (0, 100]")
    df, n_collapsed, inputs, g = _load(
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city, units
    )
    tz = service.events_tz(df)
    s0, s1 = (
        service.local_timestamp(start, tz, "--start"),
        service.local_timestamp(end, tz, "--end"),
    )
    if s1 <= s0:
        raise InputError("--end must be after --start")
    ev = service.event_array(df, g)
    st = service.station_covariates(city)
    ests = {m: make_forecaster(m, g, stations=st) for m in names}
    res = run_backtest(
        ests, ev, to_days(s0), to_days(s1), h, coverages=covs, n_jobs=n_jobs,
        scheduler=scheduler, seed=seed,
    )  # fmt: skip
    payload = {
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
                "start": start,
                "end": end,
                "horizon": horizon,
                "cell_size": cell_size,
                "methods": names,
                "coverage": covs,
                "grid": grid,
                "n_jobs": n_jobs,
            },  # fmt: skip
            inputs,
            seed,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
        return
    typer.echo(f"{'method':<12} {'cov%':>5} {'hit rate':>9} {'PAI':>7} {'PEI':>6} {'sec':>7}")
    for row in payload["table"]:
        typer.echo(
            f"{row['method']:<12} {row['coverage_pct']:>5g} {row['hit_rate']:>9.3f} "
            f"{row['pai']:>7.2f} {row['pei']:>6.3f} {row['seconds']:>7.1f}"
        )
    best = payload["best"]
    typer.echo(f"best at {best['coverage_pct']:g}% (PAI): {best['method']}")


def _window(df, start, end, tz):
    """Events in [start, end) (local dates), as an EventArray on the grid, and the bounds."""
    import pandas as pd

    from safecities.hotspots import service
    from safecities.hotspots.events import to_days

    ts = df["occurred_at"]
    s0 = service.local_timestamp(start, tz, "--start") if start else ts.min().floor("D")
    s1 = (
        service.local_timestamp(end, tz, "--end")
        if end
        else ts.max().tz_convert(tz).floor("D") + pd.Timedelta(days=1)
    )
    if s1 <= s0:
        raise InputError("--end must be after --start")
    return s0, s1, to_days(s0), to_days(s1)


@app.command()
def detect(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    start: str = typer.Option(None, "--start", help="Only events from this date (local)."),
    end: str = typer.Option(None, "--end", help="Only events before this date (local)."),
    cell_size: float = typer.Option(150.0, "--cell-size", help=H["cell"]),
    bandwidth: float = typer.Option(
        None, "--bandwidth", help="KDE bandwidth in metres; default: likelihood cross-validation."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="False discovery rate for Gi*."),
    permutations: int = typer.Option(
        0, "--permutations", help="Gi* permutations (0: normal approximation)."
    ),
    grid: str = typer.Option("square", "--grid", help=H["grid"]),
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Path = typer.Option(None, "--units", help=H["units"]),
    boundary: Path = typer.Option(None, "--boundary", help=H["boundary"]),
    city: str = typer.Option(None, "--city", help=H["city"]),
    out: Path = typer.Option(None, "--out", help="Write cells (counts, density, Gi*) as GeoJSON."),
    seed: int = typer.Option(0, "--seed", help=H["seed"]),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Counts, kernel density and Getis-Ord Gi* hot/cold spots (FDR-controlled) per cell."""
    from safecities.hotspots import service
    from safecities.hotspots.detect import detect as run_detect

    df, n_collapsed, inputs, g = _load(
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city, units
    )
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    ev = service.event_array(df, g).between(t0, t1)
    frame, info = run_detect(ev, g, bandwidth, alpha, permutations, seed)
    if out:
        frame["area_pct"] = 0.0  # every cell is written
        service.write_geojson(g, frame, out)
        frame = frame.drop(columns="area_pct")
    hot = frame[frame["gi_class"] == "hot"].sort_values("gi_z", ascending=False)
    payload = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_collapsed": n_collapsed,
        **info,
        "hot_cells": hot.head(20)[["cell_id", "count", "gi_z", "gi_p"]].to_dict("records"),
        "out": str(out) if out else None,
        "manifest": _manifest(
            "hotspots detect",
            {
                "start": start,
                "end": end,
                "cell_size": cell_size,
                "bandwidth": bandwidth,
                "alpha": alpha,
                "permutations": permutations,
                "grid": grid,
            },  # fmt: skip
            inputs,
            seed,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
        return
    typer.echo(
        f"{info['n_events']} events, {g.n_cells} cells; KDE bandwidth {info['bandwidth_m']:.0f} m "
        f"({info['bandwidth_rule']}); Gi* at FDR {alpha:g}: {info['n_hot']} hot, "
        f"{info['n_cold']} cold cells"
    )
    for r in payload["hot_cells"][:10]:
        typer.echo(f"  {r['cell_id']:<14} {r['count']:>4} events  z {r['gi_z']:.2f}")


@app.command()
def emerging(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    start: str = typer.Option(None, "--start", help="Start of the cube (local date)."),
    end: str = typer.Option(None, "--end", help="End of the cube (exclusive, local date)."),
    slice_: str = typer.Option("30d", "--slice", help="Time-slice length, e.g. 7d, 30d."),
    cell_size: float = typer.Option(300.0, "--cell-size", help=H["cell"]),
    alpha: float = typer.Option(0.05, "--alpha", help="FDR for Gi* and level of the trend test."),
    grid: str = typer.Option("square", "--grid", help=H["grid"]),
    h3_resolution: int = typer.Option(8, "--h3-resolution", help=H["h3"]),
    units: Path = typer.Option(None, "--units", help=H["units"]),
    boundary: Path = typer.Option(None, "--boundary", help=H["boundary"]),
    city: str = typer.Option(None, "--city", help=H["city"]),
    out: Path = typer.Option(None, "--out", help="Write classified cells as GeoJSON."),
    seed: int = typer.Option(0, "--seed", help=H["seed"]),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Emerging hotspot analysis: Gi* per time slice + Mann-Kendall trend, ArcGIS classes."""
    from safecities.hotspots import service
    from safecities.hotspots.emerging import emerging_hotspots
    from safecities.hotspots.events import parse_horizon

    sl = parse_horizon(slice_)
    df, n_collapsed, inputs, g = _load(
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city, units
    )
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    ev = service.event_array(df, g)
    frame, info = emerging_hotspots(ev, g, t0, t1, sl, alpha, 0, seed)
    if out:
        frame["area_pct"] = 0.0
        service.write_geojson(g, frame, out)
        frame = frame.drop(columns="area_pct")
    flagged = frame[frame["category"] != "no_pattern"]
    payload = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_events": int(frame["count"].sum()),
        "n_collapsed": n_collapsed,
        **info,
        "cells": flagged[
            ["cell_id", "category", "n_hot_slices", "n_cold_slices", "trend_tau", "trend_p"]
        ].to_dict("records"),
        "out": str(out) if out else None,
        "manifest": _manifest(
            "hotspots emerging",
            {
                "start": start,
                "end": end,
                "slice": slice_,
                "cell_size": cell_size,
                "alpha": alpha,
                "grid": grid,
            },  # fmt: skip
            inputs,
            seed,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
        return
    typer.echo(f"{info['n_slices']} slices of {sl:g} d over {g.n_cells} cells:")
    for k, v in sorted(info["categories"].items(), key=lambda kv: -kv[1]):
        typer.echo(f"  {k:<26} {v}")


@app.command("near-repeat")
def near_repeat(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    start: str = typer.Option(None, "--start", help="Only events from this date (local)."),
    end: str = typer.Option(None, "--end", help="Only events before this date (local)."),
    space_band: float = typer.Option(100.0, "--space-band", help="Spatial band width, metres."),
    space_bands: int = typer.Option(5, "--space-bands", help="Number of spatial bands."),
    time_band: float = typer.Option(7.0, "--time-band", help="Temporal band width, days."),
    time_bands: int = typer.Option(5, "--time-bands", help="Number of temporal bands."),
    permutations: int = typer.Option(99, "--permutations", help="Monte Carlo shuffles."),
    out: Path = typer.Option(None, "--out", help="Write the table as CSV."),
    seed: int = typer.Option(0, "--seed", help=H["seed"]),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Knox near-repeat test: observed/expected pairs per space-time band with p-values."""
    import pandas as pd

    from safecities.hotspots import service
    from safecities.hotspots.events import to_event_array
    from safecities.hotspots.nearrepeat import knox

    if min(space_band, time_band) <= 0 or min(space_bands, time_bands) < 1 or permutations < 0:
        raise InputError("bands must be positive and permutations >= 0")
    df, n_collapsed, inputs = service.load_events(events, mapping, from_db)
    s0, s1, t0, t1 = _window(df, start, end, service.events_tz(df))
    ev = to_event_array(df).between(t0, t1)
    res = knox(ev, space_band, space_bands, time_band, time_bands, permutations, seed)
    if out:
        safe_frame(pd.DataFrame(res.rows())).to_csv(out, index=False)
    payload = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "n_collapsed": n_collapsed,
        **res.to_dict(),
        "out": str(out) if out else None,
        "manifest": _manifest(
            "hotspots near-repeat",
            {
                "start": start,
                "end": end,
                "space_band": space_band,
                "space_bands": space_bands,
                "time_band": time_band,
                "time_bands": time_bands,
                "permutations": permutations,
            },  # fmt: skip
            inputs,
            seed,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
        return
    head = "".join(f"{f'{lo:g}-{hi:g}d':>16}" for lo, hi in res.time_bands)
    typer.echo(f"Knox ratios (p) over {res.n_events} events, {permutations} shuffles")
    typer.echo(f"{'distance':<12}{head}")
    for i, (lo, hi) in enumerate(res.space_bands):
        cells = "".join(
            f"{f'{res.ratio[i, j]:.2f} ({res.p_value[i, j]:.2f})':>16}"
            for j in range(len(res.time_bands))
        )
        typer.echo(f"{f'{lo:g}-{hi:g} m':<12}{cells}")


@app.command()
def profile(
    events: Path = typer.Option(None, "--events", help=H["events"]),
    from_db: bool = typer.Option(False, "--from-db", help=H["from_db"]),
    mapping: Path = typer.Option(None, "--mapping", help=H["mapping"]),
    zones: Path = typer.Option(
        None, "--zones", help="Zones file (GeoJSON with 'id'); default: the city's named zones."
    ),
    city: str = typer.Option("brussels", "--city", help="City whose bundled zones to use."),
    until: str = typer.Option(None, "--until", help="Use events before this date (local)."),
    window_days: float = typer.Option(365.0, "--window-days", help="Trailing window, days."),
    out: Path = typer.Option(None, "--out", help="Write zone_id,weekday,hour,risk CSV."),
    as_json: bool = typer.Option(False, "--json", help=H["json"]),
) -> None:
    """Hourly and weekday risk per zone (expected events per hour of the week), for patrols."""
    from safecities.hotspots import service
    from safecities.hotspots.profile import load_zones, zone_profiles, zone_summary

    if window_days <= 0:
        raise InputError("--window-days must be positive")
    df, n_collapsed, inputs = service.load_events(events, mapping, from_db)
    tz = service.events_tz(df)
    db_engine = None
    if from_db and zones is None:  # analyses of the database use the store's zones
        from safecities.store.db import get_engine

        db_engine = get_engine()
    z = load_zones(zones, city, engine=db_engine)
    if zones is not None:
        inputs["zones"] = Path(zones)
    u = service.local_timestamp(until, tz, "--until") if until else None
    prof = zone_profiles(df, z, tz=tz, until=u, window_days=window_days)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        safe_frame(prof).to_csv(out, index=False, float_format="%.6g")
    summary = zone_summary(prof)
    payload = {
        "timezone": tz,
        "window": list(prof.attrs.get("window", ())),
        "n_events_window": prof.attrs.get("n_events_window", 0),
        "n_collapsed": n_collapsed,
        "zones": summary,
        "out": str(out) if out else None,
        "columns": list(prof.columns),
        "manifest": _manifest(
            "hotspots profile",
            {"until": until, "window_days": window_days, "city": city},
            inputs,
        ).to_dict(),
    }
    if as_json:
        echo_json(payload)
        return
    typer.echo(f"{len(summary)} zones, {payload['n_events_window']} events in window ({tz})")
    for r in sorted(summary, key=lambda r: -r["risk_per_week"])[:15]:
        typer.echo(
            f"  {r['zone_id']:<24} {r['risk_per_week']:.3f}/week, peak day {r['peak_weekday']} "
            f"{r['peak_hour']:02d}h"
        )
    if out:
        typer.echo(f"wrote {len(prof)} rows to {out}")


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="hotspots")
