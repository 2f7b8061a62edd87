"""The hotspots service: one function per verb (forecast, backtest, detect, emerging,
near-repeat, profile) that the CLI, the API routes and the web page all call.

Each verb takes a typed request (a frozen dataclass of the options; cost bounds the API needs
are fields of the same request, `None` = unbounded) and returns a `Result` whose `to_dict()`
is the `--json` document. Errors are `InputError` (one line, naming the option)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safecities.errors import InputError
from safecities.geo import metric_crs_for, to_wgs84
from safecities.hotspots.events import (
    EventArray,
    check_timezone,
    collapse_incidents,
    events_from_db,
    parse_horizon,
    read_events,
    to_days,
    to_event_array,
)
from safecities.hotspots.grid import Grid, H3Grid, PolygonUnits
from safecities.safeio import safe_frame


def load_events(
    events: str | Path | None,
    mapping: str | Path | None = None,
    from_db: bool = False,
    tz: str | None = None,
) -> tuple[pd.DataFrame, int, dict[str, Path]]:
    """(events one per incident, rows collapsed, input files for the manifest)."""
    inputs: dict[str, Path] = {}
    if from_db:
        df = events_from_db()
    elif events is None:
        raise InputError("give --events FILE or --from-db")
    else:
        df = read_events(events, mapping, tz)
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
    if ts.tzinfo is None:  # a wall time of the spring gap moves forward, the autumn one is first
        return ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert(tz)


def calendar_origins(s0: pd.Timestamp, s1: pd.Timestamp, h: float) -> list[pd.Timestamp]:
    """Origins s0, s0 + h, ... before s1, stepping in calendar days when `h` is whole (every
    origin at the same local wall time across DST changes), else in absolute time."""
    out, k = [], 0
    while (o := add_days(s0, h * k)) < s1:
        out.append(o)
        k += 1
    return out


def add_days(ts: pd.Timestamp, days: float) -> pd.Timestamp:
    """`ts` plus `days` calendar days when whole (the same wall time, 23 or 25 h across a DST
    change), else plus that many hours of absolute time."""
    if float(days).is_integer():
        return ts + pd.DateOffset(days=int(days))
    return ts + pd.Timedelta(days=float(days))


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
    before: pd.Timestamp | None = None,
    boundary_name: str | None = None,
) -> Grid | H3Grid | PolygonUnits:
    """The study grid, from the past only: the projection and, without a boundary, the study
    area (every cell whose centre lies within `buffer_m` of an event) come from the events
    before `before` (all of `df` when None), so later events never move a cell, its id or the
    PAI denominator. `grid="units"` uses the given polygons (`units`, a GeoDataFrame with an
    `id`). How the area was built is stated in `describe()["study_area"]`."""
    if cell_size <= 0:
        raise InputError(f"--cell-size {cell_size}: must be positive")
    past = df if before is None else df[df["occurred_at"] < before]
    lon, lat = past["lon"].to_numpy(), past["lat"].to_numpy()
    if len(past):
        crs = metric_crs_for(float(np.median(lon)), float(np.median(lat)))
    elif boundary_wgs84 is not None:
        c = boundary_wgs84.centroid
        crs = metric_crs_for(float(c.x), float(c.y))
    else:
        when = "" if before is None else f" before {before.isoformat()}"
        raise InputError(f"no events{when} to lay a study area over (give --boundary or --city)")
    try:
        if grid == "units":
            if units is None:
                raise InputError("--grid units needs --units FILE (polygons with an 'id')")
            g: Any = PolygonUnits.from_geodataframe(units, crs)
            how = {"built_from": "units", "units": "the given polygons"}
        elif grid == "h3":
            g = H3Grid.from_wgs84(lon, lat, h3_resolution, crs, boundary_wgs84, buffer_m)
        elif grid != "square":
            raise InputError(f"--grid {grid!r}: choose square, h3 or units")
        else:
            g = Grid.from_wgs84(lon, lat, cell_size, crs, boundary_wgs84, buffer_m)
    except ValueError as exc:
        raise InputError(f"grid: {exc}") from exc
    if grid != "units":
        if boundary_wgs84 is not None:
            how = {"built_from": "boundary", "boundary": boundary_name or "given polygon"}
        else:
            how = {
                "built_from": "events",
                "buffer_m": buffer_m,
                "n_events": len(past),
                "events_before": None if before is None else before.isoformat(),
            }
    g.study_area = how
    return g


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
        "background_bandwidth_",
        "fit_span_days_",
    ):
        if hasattr(est, k):
            v = getattr(est, k)
            out[k.rstrip("_")] = v.item() if hasattr(v, "item") else v
    if "omega" in out and out["omega"]:
        # mean of the exponential delay truncated at the kernel's cut-off, as fitted
        om, tc = out["omega"], float(getattr(est, "time_cutoff_days", np.inf))
        out["mean_delay_days"] = 1.0 / om - (tc / np.expm1(om * tc) if np.isfinite(tc) else 0.0)
    if hasattr(est, "history_start_"):
        out["history_days"] = round(float(est.until_ - est.history_start_), 3)
    if hasattr(est, "chosen_name_"):  # auto: what it chose and why
        out["chosen"] = est.chosen_name_
        out["choice_reason"] = est.choice_reason_
        out["chosen_fitted"] = fitted_params(est.chosen_)
        out["validation"] = {
            "days": round(float(est.validation_days_), 3),
            "n_windows": est.n_validation_windows_,
            "horizon_days": float(est.validation_horizon_days),
            "coverage_pct": float(est.coverage),
            "default": est.default,
            "min_z": float(est.min_z),
            "scores": est.scores_,
        }
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


# ============================================================================================
# requests and results

#: Forecasting methods by name (the `--method`/`method` choices).
METHODS = ("naive", "kde", "prospective", "sepp", "learned", "auto")
#: Bounds that keep one API/web call to a few seconds on the register's data (the CLI has none).
API_MAX_BACKTEST_METHODS = 3
API_MAX_BACKTEST_ORIGINS = 60
API_MAX_EMERGING_SLICES = 40
API_MAX_COVERAGES = 4


@dataclass(frozen=True)
class Source:
    """Where the events come from: a file (`events`, `mapping`) or the incident register
    (`from_db`, on `engine` or the configured store, filtered to `city`)."""

    events: str | Path | None = None
    mapping: str | Path | None = None
    from_db: bool = False
    engine: Any = None
    city: str = "brussels"
    tz: str | None = None  # days are cut in it; default: the city's, else the data's


@dataclass(frozen=True)
class Area:
    """The spatial units: square cells, H3 hexagons or given polygons, clipped to `boundary`
    (a file) or to `city`'s boundary (which also gives the learned forecaster its stations)."""

    grid: str = "square"
    cell_size: float = 150.0
    h3_resolution: int = 9
    units: str | Path | None = None
    boundary: str | Path | None = None
    city: str | None = None


@dataclass(frozen=True)
class ForecastRequest:
    source: Source
    area: Area = Area()
    method: str = "sepp"
    at: Any = None  # origin; None: `default_at`
    default_at: str = "now"  # "now" (CLI) or "after_last" (day after the last event: API)
    horizon: str = "1d"
    out: str | Path | None = None  # GeoJSON of the cells within `top`
    top: float = 100.0
    cells: bool = False  # add `cells` (GeoJSON of the top `top` %), `cell_size_m`, `top_pct`
    seed: int = 0


@dataclass(frozen=True)
class BacktestRequest:
    source: Source
    start: Any
    end: Any
    area: Area = Area()
    horizon: str = "1d"
    methods: tuple[str, ...] = METHODS
    coverage: tuple[float, ...] = (1.0, 5.0, 10.0, 20.0)
    n_jobs: int = 1
    scheduler: str | None = None
    seed: int = 0
    max_methods: int | None = None
    max_origins: int | None = None
    max_coverages: int | None = None


@dataclass(frozen=True)
class DetectRequest:
    source: Source
    area: Area = Area()
    start: Any = None
    end: Any = None
    bandwidth: float | None = None
    alpha: float = 0.05
    permutations: int = 0
    out: str | Path | None = None
    geojson: bool = False  # add `geojson`: cells with an event or a Gi* class
    seed: int = 0


@dataclass(frozen=True)
class EmergingRequest:
    source: Source
    area: Area = Area(cell_size=300.0, h3_resolution=8)
    start: Any = None
    end: Any = None
    slice_: str = "30d"
    alpha: float = 0.05
    out: str | Path | None = None
    geojson: bool = False  # add `geojson`: the cells with a pattern
    seed: int = 0
    max_slices: int | None = None


@dataclass(frozen=True)
class NearRepeatRequest:
    source: Source
    start: Any = None
    end: Any = None
    space_band: float = 100.0
    space_bands: int = 5
    time_band: float = 7.0
    time_bands: int = 5
    permutations: int = 99
    out: str | Path | None = None
    seed: int = 0


@dataclass(frozen=True)
class ProfileRequest:
    source: Source
    zones: str | Path | None = None  # default: the city's named zones
    city: str = "brussels"
    until: Any = None
    window_days: float = 365.0
    out: str | Path | None = None
    hours: bool = False  # add `hourly` and `weekday` sums over the zones (the page's charts)


@dataclass
class Result:
    """A verb's figures; `to_dict()` is the `--json` document (NaN/inf as null)."""

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # e.g. "collapsed 3 row(s)", for the CLI
    extra: dict[str, Any] = field(default_factory=dict)  # for the text output, not in the JSON

    def to_dict(self) -> dict[str, Any]:
        return _finite(self.data)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


# ============================================================================================
# shared steps


#: Time zone of each city the register knows (all Belgian).
CITY_TZ = "Europe/Brussels"


def _load(source: Source, clip_city: str | None = None) -> tuple[pd.DataFrame, int, dict]:
    """(events, rows collapsed, input files); the register's rows are hashed in `_manifest`.
    `attrs["timezone"]` is the zone days are cut in: `source.tz`, else the city's (the
    register's, or `clip_city`), else the data's (its mapping's or its offsets'), else
    Europe/Brussels."""
    if source.tz is not None:
        check_timezone(source.tz)
    if source.from_db:
        df, n = collapse_incidents(events_from_db(source.engine, city=source.city))
        if len(df) == 0:
            raise InputError(f"no incidents recorded for {source.city}: import some first")
        df.attrs["timezone"] = source.tz or CITY_TZ
        return df, n, {}
    tz = source.tz or (CITY_TZ if clip_city and source.mapping is None else None)
    return load_events(source.events, source.mapping, tz=tz)


def _grid(
    df: pd.DataFrame, area: Area, inputs: dict[str, Path], before: pd.Timestamp | None
) -> Grid | H3Grid | PolygonUnits:
    """The study grid from the events before `before` (or the boundary/city/units)."""
    from safecities.hotspots.profile import load_zones

    polys = None
    if area.grid == "units":
        if area.units is None:
            raise InputError("--grid units needs --units FILE (polygons with an 'id')")
        polys = load_zones(area.units)
        inputs["units"] = Path(area.units)
    boundary = load_boundary(area.boundary, area.city)
    if area.boundary is not None:
        inputs["boundary"] = Path(area.boundary)
    name = str(area.boundary) if area.boundary is not None else (area.city and f"city {area.city}")
    return build_grid(
        df, area.cell_size, area.grid, area.h3_resolution, boundary, units=polys, before=before,
        boundary_name=name,
    )  # fmt: skip


def _day(value: Any, tz: str, what: str) -> pd.Timestamp | None:
    """A date option as a local timestamp (years 1970-2100 only: nothing else is data)."""
    if value is None or value == "":
        return None
    ts = local_timestamp(str(value), tz, what)
    if not 1970 <= ts.year <= 2100:
        raise InputError(f"{what} {value}: outside 1970-2100")
    return ts


def _window(df: pd.DataFrame, start: Any, end: Any, tz: str):
    """[start, end) as local timestamps and days; defaults: the first event's local day, the
    day after the last event's."""
    ts = df["occurred_at"]
    s0 = _day(start, tz, "--start") or ts.min().tz_convert(tz).normalize()
    s1 = _day(end, tz, "--end") or ts.max().tz_convert(tz).normalize() + pd.DateOffset(days=1)
    if s1 <= s0:
        raise InputError("--end must be after --start")
    return s0, s1, to_days(s0), to_days(s1)


def _manifest(
    command: str,
    params: dict[str, Any],
    source: Source,
    df: pd.DataFrame,
    inputs: dict[str, Path],
    seed: int | None = None,
) -> dict[str, Any]:
    """The run manifest: the SHA-256 of each input file, or of the register's incidents used."""
    from safecities.manifest import RunManifest

    m = RunManifest(command=command, parameters=_plain(params), seed=seed)
    if source.from_db:
        cols = [c for c in ("occurred_at", "lat", "lon") if c in df.columns]
        m.add_input_bytes("incidents", df[cols].to_csv(index=False).encode())
    for name, path in inputs.items():
        m.add_input_file(name, path)
    return m.to_dict()


def _params(source: Source, area: Area | None = None, **kw: Any) -> dict[str, Any]:
    """Manifest parameters: the options that shape the figures (the same from every door)."""
    out: dict[str, Any] = {"from_db": source.from_db}
    if source.from_db:
        out["city"] = source.city
    if area is not None:
        out.update(grid=area.grid, cell_size=area.cell_size, clip_city=area.city)
        if area.grid == "h3":
            out["h3_resolution"] = area.h3_resolution
    out.update(kw)
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj.isoformat() if hasattr(obj, "isoformat") else obj


def _cells(grid: Any, frame: pd.DataFrame, keep: Any) -> dict[str, Any]:
    """Cells of `frame` selected by the boolean `keep`, as a GeoJSON FeatureCollection."""
    gdf = grid.to_geodataframe().join(frame.drop(columns=["cell_id"]))
    gdf = gdf[np.asarray(keep)]
    if "rank" in gdf.columns:
        gdf = gdf.sort_values("rank")
    return json.loads(gdf.to_json(drop_id=True, na="null"))


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


def _collapsed_note(n: int) -> list[str]:
    return [f"collapsed {n} row(s) to one event per incident"] if n else []


# ============================================================================================
# verbs


def forecast(req: ForecastRequest) -> Result:
    """Fit `method` on the events before the origin; expected events per cell in
    [at, at + horizon)."""
    from safecities.hotspots.forecast import make_forecaster

    if req.method not in METHODS:
        raise InputError(f"--method {req.method!r}: choose one of {', '.join(METHODS)}")
    h = parse_horizon(req.horizon)
    df, n_collapsed, inputs = _load(req.source, req.area.city)
    tz = events_tz(df)
    if req.at:
        origin = _day(req.at, tz, "--at")  # 1970-2100: year 1 or 9999 overflowed (a 500)
    elif req.default_at == "after_last":
        origin = df["occurred_at"].max().tz_convert(tz).normalize() + pd.DateOffset(days=1)
    else:
        origin = pd.Timestamp.now(tz=tz)
    if not (df["occurred_at"] < origin).any():
        raise InputError(f"no events before --at {origin.isoformat()}")
    end = add_days(origin, h)
    g = _grid(df, req.area, inputs, before=origin)  # the past only: area, ids, projection
    ev = event_array(df, g).before(to_days(origin))
    stations = station_covariates(req.area.city) if req.method == "learned" else None
    t0 = time.perf_counter()
    est = make_forecaster(req.method, g, stations=stations).fit(ev, until=to_days(origin))
    risk = est.predict(origin, to_days(end) - to_days(origin))
    secs = time.perf_counter() - t0
    frame = risk_frame(g, risk, req.seed)
    written = write_geojson(g, frame, req.out, req.top) if req.out else 0
    top10 = frame.sort_values("rank").head(10)
    data: dict[str, Any] = {
        "method": req.method,
        "at": origin.isoformat(),
        "end": end.isoformat(),
        "timezone": tz,
        "horizon_days": h,
        "grid": g.describe(),
        "n_events_used": len(ev),
        "n_collapsed": n_collapsed,
        "expected_events": float(risk.sum()),
        "fitted": fitted_params(est),
        "seconds": round(secs, 3),
        "top_cells": top10[["cell_id", "risk", "rank", "lat", "lon"]].to_dict("records"),
        "out": str(req.out) if req.out else None,
        "n_cells_written": written,
    }
    if req.cells:
        data["cell_size_m"] = req.area.cell_size
        data["top_pct"] = req.top
        data["cells"] = _cells(g, frame, frame["area_pct"].to_numpy() <= req.top + 1e-9)
    data["manifest"] = _manifest(
        "hotspots forecast",
        _params(req.source, req.area, method=req.method, at=origin.isoformat(),
                horizon=req.horizon, top=req.top),
        req.source, df, inputs, req.seed,
    )  # fmt: skip
    return Result(data, _collapsed_note(n_collapsed))


def backtest(req: BacktestRequest) -> Result:
    """Rolling-origin backtest: hit rate, PAI and PEI per method and coverage, with 95 % CIs."""
    from safecities.hotspots.backtest import backtest as run_backtest
    from safecities.hotspots.forecast import make_forecaster

    h = parse_horizon(req.horizon)
    names = list(dict.fromkeys(req.methods))
    if not names:
        raise InputError("--methods: choose at least one")
    if req.max_methods is not None and len(names) > req.max_methods:
        raise InputError(f"--methods: at most {req.max_methods} per run")
    for m in names:
        if m not in METHODS:
            raise InputError(f"--methods: unknown method {m!r}; choose from {', '.join(METHODS)}")
    covs = sorted({float(c) for c in req.coverage})
    if not covs or any(not 0 < c <= 100 for c in covs):
        raise InputError(f"--coverage {req.coverage}: each value must be in (0, 100]")
    if req.max_coverages is not None and len(covs) > req.max_coverages:
        raise InputError(f"--coverage: 1 to {req.max_coverages} values, each in (0, 100]")
    df, n_collapsed, inputs = _load(req.source, req.area.city)
    tz = events_tz(df)
    s0, s1 = _day(req.start, tz, "--start"), _day(req.end, tz, "--end")
    if s0 is None or s1 is None:
        raise InputError("--start and --end are required")
    if s1 <= s0:
        raise InputError("--end must be after --start")
    origins = calendar_origins(s0, s1, h)
    n_origins = len(origins)
    if req.max_origins is not None and n_origins > req.max_origins:
        raise InputError(
            f"{n_origins} origins: at most {req.max_origins} per run "
            "(shorten the period or lengthen the horizon)"
        )
    # one study area for every origin, from the events before the first one: past-only at
    # each origin, and the PAI of every window is relative to the same area
    g = _grid(df, req.area, inputs, before=s0)
    ev = event_array(df, g)
    stations = station_covariates(req.area.city) if "learned" in names else None
    ests = {m: make_forecaster(m, g, stations=stations) for m in names}
    res = run_backtest(
        ests, ev, to_days(s0), to_days(s1), h, coverages=covs, n_jobs=req.n_jobs,
        scheduler=req.scheduler, seed=req.seed,
        origins=[to_days(o) for o in origins], ends=[to_days(add_days(o, h)) for o in origins],
    )  # fmt: skip
    summary = res.summary()
    for m in summary["methods"].values():  # auto's refits, in local time
        for c in m.get("choices", []):
            c["from"] = pd.Timestamp(c["from"]).tz_convert(tz).isoformat()
    data = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "timezone": tz,
        "horizon_days": h,
        "grid": g.describe(),
        "n_events": len(ev),
        "n_collapsed": n_collapsed,
        "coverages": covs,
        **summary,
        "wall_seconds": round(res.wall_seconds, 3),
        "manifest": _manifest(
            "hotspots backtest",
            _params(
                req.source,
                req.area,
                start=req.start,
                end=req.end,
                horizon=req.horizon,
                methods=names,
                coverage=covs,
                n_jobs=req.n_jobs,
            ),
            req.source,
            df,
            inputs,
            req.seed,
        ),  # fmt: skip
    }
    return Result(data, _collapsed_note(n_collapsed))


def detect(req: DetectRequest) -> Result:
    """Counts, kernel density and Getis-Ord Gi* hot/cold spots (FDR-controlled) per cell."""
    from safecities.hotspots.detect import detect as run_detect

    df, n_collapsed, inputs = _load(req.source, req.area.city)
    s0, s1, t0, t1 = _window(df, req.start, req.end, events_tz(df))
    g = _grid(df, req.area, inputs, before=s1)
    ev = event_array(df, g).between(t0, t1)
    frame, info = run_detect(ev, g, req.bandwidth, req.alpha, req.permutations, req.seed)
    if req.out:
        write_geojson(g, frame.assign(area_pct=0.0), req.out)  # every cell is written
    hot = frame[frame["gi_class"] == "hot"].sort_values("gi_z", ascending=False)
    data = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_collapsed": n_collapsed,
        **info,
        "hot_cells": hot.head(20)[["cell_id", "count", "gi_z", "gi_p"]].to_dict("records"),
        "out": str(req.out) if req.out else None,
        "manifest": _manifest(
            "hotspots detect",
            _params(
                req.source,
                req.area,
                start=req.start,
                end=req.end,
                bandwidth=req.bandwidth,
                alpha=req.alpha,
                permutations=req.permutations,
            ),
            req.source,
            df,
            inputs,
            req.seed,
        ),  # fmt: skip
    }
    if req.geojson:
        keep = (frame["count"] > 0) | (frame["gi_class"] != "not_significant")
        data["geojson"] = _cells(g, frame, keep)
    return Result(data, _collapsed_note(n_collapsed))


def emerging(req: EmergingRequest) -> Result:
    """Emerging hotspot analysis: Gi* per time slice + Mann-Kendall trend, ArcGIS classes."""
    from safecities.hotspots.emerging import emerging_hotspots

    sl = parse_horizon(req.slice_)
    df, n_collapsed, inputs = _load(req.source, req.area.city)
    s0, s1, t0, t1 = _window(df, req.start, req.end, events_tz(df))
    if req.max_slices is not None and (t1 - t0) / sl > req.max_slices:
        raise InputError(
            f"{(t1 - t0) / sl:.0f} time slices: at most {req.max_slices} "
            "(shorten the period or lengthen the slice)"
        )
    g = _grid(df, req.area, inputs, before=s1)
    ev = event_array(df, g)
    frame, info = emerging_hotspots(ev, g, t0, t1, sl, req.alpha, 0, req.seed)
    if req.out:
        write_geojson(g, frame.assign(area_pct=0.0), req.out)
    flagged = frame["category"] != "no_pattern"
    cols = ["cell_id", "category", "n_hot_slices", "n_cold_slices", "trend_tau", "trend_p"]
    data = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "grid": g.describe(),
        "n_events": int(frame["count"].sum()),
        "n_collapsed": n_collapsed,
        **info,
        "cells": frame[flagged][cols].to_dict("records"),
        "out": str(req.out) if req.out else None,
        "manifest": _manifest(
            "hotspots emerging",
            _params(
                req.source,
                req.area,
                start=req.start,
                end=req.end,
                slice=req.slice_,
                alpha=req.alpha,
            ),
            req.source,
            df,
            inputs,
            req.seed,
        ),  # fmt: skip
    }
    if req.geojson:
        data["geojson"] = _cells(g, frame, flagged)
    return Result(data, _collapsed_note(n_collapsed))


def near_repeat(req: NearRepeatRequest) -> Result:
    """Knox near-repeat test: observed/expected pairs per space-time band with p-values."""
    from safecities.hotspots.nearrepeat import knox

    if (
        min(req.space_band, req.time_band) <= 0
        or min(req.space_bands, req.time_bands) < 1
        or req.permutations < 0
    ):
        raise InputError("bands must be positive and permutations >= 0")
    df, n_collapsed, inputs = _load(req.source)
    s0, s1, t0, t1 = _window(df, req.start, req.end, events_tz(df))
    ev = to_event_array(df[df["occurred_at"] < s1]).between(t0, t1)
    res = knox(
        ev, req.space_band, req.space_bands, req.time_band, req.time_bands, req.permutations,
        req.seed,
    )  # fmt: skip
    if req.out:
        Path(req.out).parent.mkdir(parents=True, exist_ok=True)
        safe_frame(pd.DataFrame(res.rows())).to_csv(req.out, index=False)
    data = {
        "start": s0.isoformat(),
        "end": s1.isoformat(),
        "n_collapsed": n_collapsed,
        **res.to_dict(),
        "out": str(req.out) if req.out else None,
        "manifest": _manifest(
            "hotspots near-repeat",
            _params(
                req.source,
                start=req.start,
                end=req.end,
                space_band=req.space_band,
                space_bands=req.space_bands,
                time_band=req.time_band,
                time_bands=req.time_bands,
                permutations=req.permutations,
            ),
            req.source,
            df,
            inputs,
            req.seed,
        ),  # fmt: skip
    }
    return Result(data, _collapsed_note(n_collapsed))


def profile(req: ProfileRequest) -> Result:
    """Hourly and weekday risk per zone (expected events per hour of the week), for patrols."""
    from safecities.hotspots.profile import load_zones, zone_profiles, zone_summary

    if req.window_days <= 0:
        raise InputError("--window-days must be positive")
    df, n_collapsed, inputs = _load(req.source)
    tz = events_tz(df)
    engine = None
    if req.source.from_db and req.zones is None:  # analyses of the register use its zones
        from safecities.store.db import get_engine

        engine = req.source.engine or get_engine()
    z = load_zones(req.zones, req.city, engine=engine)
    if req.zones is not None:
        inputs["zones"] = Path(req.zones)
    u = _day(req.until, tz, "--until")
    prof = zone_profiles(df, z, tz=tz, until=u, window_days=req.window_days)
    if req.out:
        Path(req.out).parent.mkdir(parents=True, exist_ok=True)
        safe_frame(prof).to_csv(req.out, index=False, float_format="%.6g")
    data = {
        "timezone": tz,
        "window": list(prof.attrs.get("window", ())),
        "n_events_window": prof.attrs.get("n_events_window", 0),
        "n_collapsed": n_collapsed,
        "zones": zone_summary(prof),
        "out": str(req.out) if req.out else None,
        "columns": list(prof.columns),
        "manifest": _manifest(
            "hotspots profile",
            _params(req.source, until=req.until, window_days=req.window_days, zones_city=req.city),
            req.source,
            df,
            inputs,
        ),  # fmt: skip
    }
    if req.hours:
        by = prof.groupby(["weekday", "hour"], sort=True)["risk"].sum().reset_index()
        data["hourly"] = [
            {"weekday": int(r.weekday), "hour": int(r.hour), "risk": float(r.risk)}
            for r in by.itertuples()
        ]
        wd = prof.groupby("weekday", sort=True)["risk"].sum()
        data["weekday"] = [{"weekday": int(k), "risk": float(v)} for k, v in wd.items()]
    return Result(data, _collapsed_note(n_collapsed), {"n_rows": len(prof)})
