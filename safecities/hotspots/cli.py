"""`safecities hotspots ...` commands (thin: parse options, call `hotspots.service`, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safecities.clitools import console, echo_json
from safecities.errors import InputError
from safecities.hotspots import service as svc

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
    "tz": "Time zone that defines days and reads times without an offset (e.g. "
    "Europe/Brussels); default: the city's with --city or the register, else the data's "
    "(its mapping's, or the zone matching its UTC offsets), else Europe/Brussels.",
}

# options every command shares (declared once)
Events = Annotated[Path | None, typer.Option("--events", help=H["events"])]
FromDb = Annotated[bool, typer.Option("--from-db", help=H["from_db"])]
Mapping = Annotated[Path | None, typer.Option("--mapping", help=H["mapping"])]
Tz = Annotated[str | None, typer.Option("--tz", help=H["tz"])]
GridKind = Annotated[str, typer.Option("--grid", help=H["grid"])]
Units = Annotated[Path | None, typer.Option("--units", help=H["units"])]
Boundary = Annotated[Path | None, typer.Option("--boundary", help=H["boundary"])]
City = Annotated[str | None, typer.Option("--city", help=H["city"])]
Seed = Annotated[int, typer.Option("--seed", help=H["seed"])]
Json = Annotated[bool, typer.Option("--json", help=H["json"])]


def _source(
    events: Path | None, mapping: Path | None, from_db: bool, city: str | None, tz: str | None
) -> svc.Source:
    if not from_db and events is None:
        raise InputError("give --events FILE or --from-db")
    return svc.Source(events, mapping, from_db, city=city or "brussels", tz=tz)


def _emit(res: svc.Result, as_json: bool) -> bool:
    """Print the notes on stderr and, with --json, the document; True when done."""
    for note in res.notes:
        console.print(note)
    if as_json:
        echo_json(res.to_dict())
    return as_json


@app.command()
def forecast(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
    method: str = typer.Option(
        "sepp",
        "--method",
        help="naive, kde, prospective, sepp, learned, auto (chosen by validation).",
    ),
    cell_size: float = typer.Option(150.0, "--cell-size", help=H["cell"]),
    at: str = typer.Option(
        None, "--at", help="Forecast origin (date/time, events' time zone); default: now."
    ),
    horizon: str = typer.Option("1d", "--horizon", help=H["horizon"]),
    out: Path = typer.Option(None, "--out", help="Write the risk surface as GeoJSON cells."),
    top: float = typer.Option(100.0, "--top", help="Only write cells in the top PCT % of area."),
    grid: GridKind = "square",
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Units = None,
    boundary: Boundary = None,
    city: City = None,
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Fit a method on the events before --at and map the expected events in [at, at+horizon)."""
    res = svc.forecast(
        svc.ForecastRequest(
            source=_source(events, mapping, from_db, city, tz),
            area=svc.Area(grid, cell_size, h3_resolution, units, boundary, city),
            method=method,
            at=at,
            horizon=horizon,
            out=out,
            top=top,
            seed=seed,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    d = res.data
    typer.echo(
        f"{method}: {d['n_events_used']} events before {d['at'][:16].replace('T', ' ')}, "
        f"{d['expected_events']:.2f} expected in {d['horizon_days']:g} d over "
        f"{d['grid']['n_cells']} cells"
    )
    for r in d["top_cells"]:
        typer.echo(f"  #{r['rank']:<3} {r['cell_id']:<14} risk {r['risk']:.4f}")
    if out:
        typer.echo(f"wrote {d['n_cells_written']} cells to {out}")


@app.command()
def backtest(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
    start: str = typer.Option(..., "--start", help="First origin (date, events' time zone)."),
    end: str = typer.Option(..., "--end", help="End of the origins (exclusive)."),
    horizon: str = typer.Option("1d", "--horizon", help=H["horizon"]),
    cell_size: float = typer.Option(150.0, "--cell-size", help=H["cell"]),
    methods: str = typer.Option(
        "naive,kde,prospective,sepp,learned", "--methods", help="Comma-separated methods."
    ),
    coverage: str = typer.Option("1,5,10,20", "--coverage", help="Area coverages in %."),
    grid: GridKind = "square",
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Units = None,
    boundary: Boundary = None,
    city: City = None,
    n_jobs: int = typer.Option(1, "--n-jobs", help="Parallel workers (joblib)."),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786) to fan out on."
    ),
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Rolling-origin backtest: hit rate, PAI and PEI per method and coverage, with 95 % CIs."""
    try:
        covs = tuple(float(c) for c in coverage.split(",") if c.strip())
    except ValueError as exc:
        raise InputError(f"--coverage {coverage!r}: expected numbers like 1,5,10,20") from exc
    res = svc.backtest(
        svc.BacktestRequest(
            source=_source(events, mapping, from_db, city, tz),
            area=svc.Area(grid, cell_size, h3_resolution, units, boundary, city),
            start=start,
            end=end,
            horizon=horizon,
            methods=tuple(m.strip() for m in methods.split(",") if m.strip()),
            coverage=covs,
            n_jobs=n_jobs,
            scheduler=scheduler,
            seed=seed,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    typer.echo(f"{'method':<12} {'cov%':>5} {'hit rate':>9} {'PAI':>7} {'PEI':>6} {'sec':>7}")
    for row in res.to_dict()["table"]:
        typer.echo(
            f"{row['method']:<12} {row['coverage_pct']:>5g} {_f(row['hit_rate'], 9, 3)} "
            f"{_f(row['pai'], 7, 2)} {_f(row['pei'], 6, 3)} {row['seconds']:>7.1f}"
        )
    best = res.data["best"]
    typer.echo(f"best at {best['coverage_pct']:g}% (PAI): {best['method']}")


def _f(v: float | None, width: int, nd: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.{nd}f}"


@app.command()
def detect(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
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
    grid: GridKind = "square",
    h3_resolution: int = typer.Option(9, "--h3-resolution", help=H["h3"]),
    units: Units = None,
    boundary: Boundary = None,
    city: City = None,
    out: Path = typer.Option(None, "--out", help="Write cells (counts, density, Gi*) as GeoJSON."),
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Counts, kernel density and Getis-Ord Gi* hot/cold spots (FDR-controlled) per cell."""
    res = svc.detect(
        svc.DetectRequest(
            source=_source(events, mapping, from_db, city, tz),
            area=svc.Area(grid, cell_size, h3_resolution, units, boundary, city),
            start=start,
            end=end,
            bandwidth=bandwidth,
            alpha=alpha,
            permutations=permutations,
            out=out,
            seed=seed,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    d = res.data
    typer.echo(
        f"{d['n_events']} events, {d['grid']['n_cells']} cells; KDE bandwidth "
        f"{d['bandwidth_m']:.0f} m ({d['bandwidth_rule']}); Gi* at FDR {alpha:g}: "
        f"{d['n_hot']} hot, {d['n_cold']} cold cells"
    )
    for r in d["hot_cells"][:10]:
        typer.echo(f"  {r['cell_id']:<14} {r['count']:>4} events  z {r['gi_z']:.2f}")


@app.command()
def emerging(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
    start: str = typer.Option(None, "--start", help="Start of the cube (local date)."),
    end: str = typer.Option(None, "--end", help="End of the cube (exclusive, local date)."),
    slice_: str = typer.Option("30d", "--slice", help="Time-slice length, e.g. 7d, 30d."),
    cell_size: float = typer.Option(300.0, "--cell-size", help=H["cell"]),
    alpha: float = typer.Option(0.05, "--alpha", help="FDR for Gi* and level of the trend test."),
    grid: GridKind = "square",
    h3_resolution: int = typer.Option(8, "--h3-resolution", help=H["h3"]),
    units: Units = None,
    boundary: Boundary = None,
    city: City = None,
    out: Path = typer.Option(None, "--out", help="Write classified cells as GeoJSON."),
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Emerging hotspot analysis: Gi* per time slice + Mann-Kendall trend, ArcGIS classes."""
    res = svc.emerging(
        svc.EmergingRequest(
            source=_source(events, mapping, from_db, city, tz),
            area=svc.Area(grid, cell_size, h3_resolution, units, boundary, city),
            start=start,
            end=end,
            slice_=slice_,
            alpha=alpha,
            out=out,
            seed=seed,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    d = res.data
    n_cells = d["grid"]["n_cells"]
    typer.echo(f"{d['n_slices']} slices of {d['slice_days']:g} d over {n_cells} cells:")
    for k, v in sorted(d["categories"].items(), key=lambda kv: -kv[1]):
        typer.echo(f"  {k:<26} {v}")


@app.command("near-repeat")
def near_repeat(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
    start: str = typer.Option(None, "--start", help="Only events from this date (local)."),
    end: str = typer.Option(None, "--end", help="Only events before this date (local)."),
    space_band: float = typer.Option(100.0, "--space-band", help="Spatial band width, metres."),
    space_bands: int = typer.Option(5, "--space-bands", help="Number of spatial bands."),
    time_band: float = typer.Option(7.0, "--time-band", help="Temporal band width, days."),
    time_bands: int = typer.Option(5, "--time-bands", help="Number of temporal bands."),
    permutations: int = typer.Option(99, "--permutations", help="Monte Carlo shuffles."),
    out: Path = typer.Option(None, "--out", help="Write the table as CSV."),
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Knox near-repeat test: observed/expected pairs per space-time band with p-values."""
    res = svc.near_repeat(
        svc.NearRepeatRequest(
            source=_source(events, mapping, from_db, None, tz),
            start=start,
            end=end,
            space_band=space_band,
            space_bands=space_bands,
            time_band=time_band,
            time_bands=time_bands,
            permutations=permutations,
            out=out,
            seed=seed,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    d = res.to_dict()
    head = "".join(f"{f'{lo:g}-{hi:g}d':>16}" for lo, hi in d["time_bands_days"])
    typer.echo(f"Knox ratios (p) over {d['n_events']} events, {permutations} shuffles")
    typer.echo(f"{'distance':<12}{head}")
    for i, (lo, hi) in enumerate(d["space_bands_m"]):
        cells = "".join(
            f"{_ratio(d['ratio'][i][j], d['p_value'][i][j]):>16}"
            for j in range(len(d["time_bands_days"]))
        )
        typer.echo(f"{f'{lo:g}-{hi:g} m':<12}{cells}")


def _ratio(r: float | None, p: float | None) -> str:
    return "-" if r is None or p is None else f"{r:.2f} ({p:.2f})"


@app.command()
def profile(
    events: Events = None,
    from_db: FromDb = False,
    mapping: Mapping = None,
    tz: Tz = None,
    zones: Path = typer.Option(
        None, "--zones", help="Zones file (GeoJSON with 'id'); default: the city's named zones."
    ),
    city: str = typer.Option("brussels", "--city", help="City whose bundled zones to use."),
    until: str = typer.Option(None, "--until", help="Use events before this date (local)."),
    window_days: float = typer.Option(365.0, "--window-days", help="Trailing window, days."),
    out: Path = typer.Option(None, "--out", help="Write zone_id,weekday,hour,risk CSV."),
    as_json: Json = False,
) -> None:
    """Hourly and weekday risk per zone (expected events per hour of the week), for patrols."""
    res = svc.profile(
        svc.ProfileRequest(
            source=_source(events, mapping, from_db, city, tz),
            zones=zones,
            city=city,
            until=until,
            window_days=window_days,
            out=out,
        )  # fmt: skip
    )
    if _emit(res, as_json):
        return
    d = res.data
    n_zones = len(d["zones"])
    typer.echo(f"{n_zones} zones, {d['n_events_window']} events in window ({d['timezone']})")
    for r in sorted(d["zones"], key=lambda r: -r["risk_per_week"])[:15]:
        typer.echo(
            f"  {r['zone_id']:<24} {r['risk_per_week']:.3f}/week, peak day {r['peak_weekday']} "
            f"{r['peak_hour']:02d}h"
        )
    if out:
        typer.echo(f"wrote {res.extra['n_rows']} rows to {out}")


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="hotspots")
