"""`safecities hotspots ...` commands (thin: parse, call the library, print)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from safecities.clitools import console, echo_json
from safecities.errors import InputError
from safecities.manifest import RunManifest

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
    "grid": "Spatial unit: 'square' cells or 'h3' hexagons.",
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


def _load(events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city):
    from safecities.hotspots import service

    df, n_collapsed, inputs = service.load_events(events, mapping, from_db)
    g = service.build_grid(
        df, cell_size, grid, h3_resolution, service.load_boundary(boundary, city)
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
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city
    )
    tz = service.events_tz(df)
    origin = service.local_timestamp(at, tz, "--at") if at else pd.Timestamp.now(tz=tz)
    ev = service.event_array(df, g).before(to_days(origin))
    if len(ev) == 0:
        raise InputError(f"no events before --at {origin.isoformat()}")
    t0 = time.perf_counter()
    est = make_forecaster(method, g).fit(ev)
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
        events, mapping, from_db, cell_size, grid, h3_resolution, boundary, city
    )
    tz = service.events_tz(df)
    s0, s1 = (
        service.local_timestamp(start, tz, "--start"),
        service.local_timestamp(end, tz, "--end"),
    )
    if s1 <= s0:
        raise InputError("--end must be after --start")
    ev = service.event_array(df, g)
    ests = {m: make_forecaster(m, g) for m in names}
    res = run_backtest(
        ests, ev, to_days(s0), to_days(s1), h, coverages=covs, n_jobs=n_jobs,
        scheduler=scheduler, seed=seed,
    )  # fmt: skip
    table = res.table()
    per_method: dict[str, Any] = {}
    for name, r in res.methods.items():
        rows = [row for row in table if row["method"] == name]
        per_method[name] = {
            "seconds": round(r.seconds, 3),
            "n_fits": r.n_fits,
            "n_windows": len(r.origins),
            "n_scored": rows[0]["n_scored"] if rows else 0,
            "coverage": {
                f"{row['coverage_pct']:g}": {
                    k: row[k] for k in ("hit_rate", "hit_rate_ci", "pai", "pai_ci", "pei", "pei_ci")
                }
                for row in rows
            },
        }
    best_cov = 5.0 if 5.0 in covs else covs[0]
    payload = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "horizon_days": h,
        "grid": g.describe(),
        "n_events": len(ev),
        "n_collapsed": n_collapsed,
        "coverages": covs,
        "methods": per_method,
        "table": table,
        "best": {"coverage_pct": best_cov, "metric": "pai", "method": res.best(best_cov)},
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
    for row in table:
        typer.echo(
            f"{row['method']:<12} {row['coverage_pct']:>5g} {row['hit_rate']:>9.3f} "
            f"{row['pai']:>7.2f} {row['pei']:>6.3f} {row['seconds']:>7.1f}"
        )
    typer.echo(f"best at {best_cov:g}% (PAI): {payload['best']['method']}")


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="hotspots")
