"""Hotspots on the incident register: forecast (method picker), detect, emerging, near-repeat,
profile and a bounded backtest. Thin: parse, check the role, call `safecities.hotspots.service`
(the CLI's own functions, so the same JSON keys) through the cache, return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from safecities import exports
from safecities.api import limits, privacy
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.domain import CITIES
from safecities.hotspots import service as svc
from safecities.store import cache as inc

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])
City = Literal[CITIES]  # type: ignore[valid-type]
Method = Literal[svc.METHODS]  # type: ignore[valid-type]
ExportFormat = Literal["json", "csv", "xlsx", "geojson"]
VERBS = {
    "forecast": svc.forecast,
    "detect": svc.detect,
    "emerging": svc.emerging,
    "near-repeat": svc.near_repeat,
    "profile": svc.profile,
    "backtest": svc.backtest,
}


def register(engine: Any, city: str) -> svc.Source:
    """The register's incidents of `city` as the events of a run."""
    return svc.Source(from_db=True, engine=engine, city=city)


def city_area(city: str, cell_size: float, **kw: Any) -> svc.Area:
    """Square cells clipped to the city's boundary (the register's study area)."""
    return svc.Area(cell_size=cell_size, city=city, **kw)


def answer(db: Any, verb: str, req: Any) -> dict[str, Any]:
    """`verb`(req).to_dict() through the API's cache until the next write (the routes and the
    page build the same requests, so the map layer the page asks for is already computed)."""
    key = ("hotspots", verb, str(req.source.engine.url), repr(req))
    return inc.cached(db, key, lambda: VERBS[verb](req).to_dict())


def forecast_request(
    engine: Any, city: str, method: str, horizon: str, at: str | None, cell_size: float, top: float
) -> svc.ForecastRequest:
    """The map's forecast: origin after the last incident unless `at`, top `top` % as cells."""
    return svc.ForecastRequest(
        source=register(engine, city), area=city_area(city, cell_size), method=method, at=at,
        default_at="after_last", horizon=horizon, top=top, cells=True,
    )  # fmt: skip


@router.get("/forecast", responses={400: {}, **exports.openapi()})
def forecast(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    city: City = Query("brussels"),
    method: Method = Query("kde"),
    horizon: Literal["1d", "7d", "14d", "28d"] = Query("7d"),
    at: str | None = Query(None, max_length=25, description="Origin; default after last event."),
    cell_size: float = Query(250.0, ge=100, le=2000),
    top: float = Query(5.0, gt=0, le=100),
    fmt: ExportFormat = Query("json", alias="format", description="csv/xlsx/geojson: `cells`."),
) -> Any:
    """Expected events per grid cell in [at, at + horizon): the keys of `safecities hotspots
    forecast --json`, plus `cells` (the top `top` % as GeoJSON), `cell_size_m`, `top_pct`;
    `format` downloads those cells."""
    engine = request.app.state.engine
    req = forecast_request(engine, city, method, horizon, at, cell_size, top)
    out = privacy.limit("forecast", answer(db, "forecast", req), user, engine, city=city,
                        cell_size=cell_size)  # fmt: skip
    return out if fmt == "json" else exports.features_download(out["cells"], fmt, "forecast")


Day = Annotated[limits.Day | None, Query(description="Local date (events' time zone).")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1)]


def detect_request(
    engine: Any, city: str = "brussels", start: date | None = None, end: date | None = None,
    cell_size: float = 250.0, bandwidth: float | None = None, alpha: float = 0.05,
    permutations: int = 0, seed: int = 0, geojson: bool = False,
) -> svc.DetectRequest:  # fmt: skip
    return svc.DetectRequest(
        source=register(engine, city), area=city_area(city, cell_size), start=start, end=end,
        bandwidth=bandwidth, alpha=alpha, permutations=permutations, seed=seed, geojson=geojson,
    )  # fmt: skip


@router.get("/detect", responses={400: {}, **exports.openapi()})
def detect(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    city: City = Query("brussels"),
    start: Day = None,
    end: Day = None,
    cell_size: float = Query(250.0, ge=200, le=2000),
    bandwidth: float | None = Query(None, ge=10, le=5000, description="Default: CV."),
    alpha: float = Query(0.05, gt=0, le=0.5),
    permutations: int = Query(0, ge=0, le=99),
    seed: Seed = 0,
    geojson: bool = Query(False, description="Add `geojson`: cells with events or a Gi* class."),
    fmt: ExportFormat = Query(
        "json", alias="format", description="csv/xlsx/geojson: the cells of `geojson`."
    ),
) -> Any:
    """Counts, kernel density and Getis-Ord Gi* hot/cold cells (FDR) of the register's
    incidents; the keys of `safecities hotspots detect --json`; `format` downloads the cells
    with events or a Gi* class."""
    req = detect_request(
        request.app.state.engine, city, start, end, cell_size, bandwidth, alpha, permutations,
        seed, geojson or fmt != "json",
    )  # fmt: skip
    out = privacy.limit("detect", answer(db, "detect", req), user, request.app.state.engine,
                        city=city, cell_size=cell_size)  # fmt: skip
    return out if fmt == "json" else exports.features_download(out["geojson"], fmt, "detect")


@router.get("/emerging", responses={400: {}})
def emerging(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    city: City = Query("brussels"),
    start: Day = None,
    end: Day = None,
    slice: Literal["7d", "14d", "30d", "60d", "90d"] = Query("30d"),  # noqa: A002
    cell_size: float = Query(300.0, ge=250, le=2000),
    alpha: float = Query(0.05, gt=0, le=0.5),
    seed: Seed = 0,
    geojson: bool = Query(False, description="Add `geojson`: the cells with a pattern."),
) -> dict[str, Any]:
    """Emerging hotspot classes (Gi* per time slice + Mann-Kendall trend); the keys of
    `safecities hotspots emerging --json`. At most 40 slices."""
    req = svc.EmergingRequest(
        source=register(request.app.state.engine, city), area=city_area(city, cell_size),
        start=start, end=end, slice_=slice, alpha=alpha, seed=seed, geojson=geojson,
        max_slices=svc.API_MAX_EMERGING_SLICES,
    )  # fmt: skip
    return privacy.limit("emerging", answer(db, "emerging", req), user,
                         request.app.state.engine, city=city, cell_size=cell_size)  # fmt: skip


def near_repeat_request(
    engine: Any, city: str = "brussels", start: date | None = None, end: date | None = None,
    space_band: float = 100.0, space_bands: int = 5, time_band: float = 7.0,
    time_bands: int = 5, permutations: int = 99, seed: int = 0,
) -> svc.NearRepeatRequest:  # fmt: skip
    return svc.NearRepeatRequest(
        source=register(engine, city), start=start, end=end, space_band=space_band,
        space_bands=space_bands, time_band=time_band, time_bands=time_bands,
        permutations=permutations, seed=seed,
    )  # fmt: skip


@router.get("/near-repeat", responses={400: {}})
def near_repeat(
    request: Request,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    city: City = Query("brussels"),
    start: Day = None,
    end: Day = None,
    space_band: float = Query(100.0, ge=10, le=1000, description="Metres."),
    space_bands: int = Query(5, ge=1, le=10),
    time_band: float = Query(7.0, ge=1, le=60, description="Days."),
    time_bands: int = Query(5, ge=1, le=10),
    permutations: int = Query(99, ge=0, le=199),
    seed: Seed = 0,
) -> dict[str, Any]:
    """Knox near-repeat test of the register's incidents; the keys of
    `safecities hotspots near-repeat --json`."""
    req = near_repeat_request(
        request.app.state.engine, city, start, end, space_band, space_bands, time_band,
        time_bands, permutations, seed,
    )  # fmt: skip
    return answer(db, "near-repeat", req)


def profile_request(
    engine: Any, city: str = "brussels", until: date | None = None, window_days: float = 365.0,
    hours: bool = False,
) -> svc.ProfileRequest:  # fmt: skip
    return svc.ProfileRequest(
        source=register(engine, city), city=city, until=until, window_days=window_days,
        hours=hours,
    )  # fmt: skip


@router.get("/profile", responses={400: {}})
def profile(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    city: City = Query("brussels"),
    until: Day = None,
    window_days: float = Query(365.0, ge=7, le=3650),
    hours: bool = Query(False, description="Add `hourly` and `weekday` sums over the zones."),
) -> dict[str, Any]:
    """Risk per named zone, weekday and hour; the keys of `safecities hotspots profile --json`."""
    req = profile_request(request.app.state.engine, city, until, window_days, hours)
    return privacy.limit("profile", answer(db, "profile", req), user,
                         request.app.state.engine, city=city)  # fmt: skip


class BacktestIn(BaseModel):
    start: date = Field(description="First origin (local date).")
    end: date = Field(description="End of the origins (exclusive).")
    methods: list[Method] = Field(min_length=1, max_length=svc.API_MAX_BACKTEST_METHODS)  # type: ignore[valid-type]
    horizon: Literal["1d", "7d", "14d", "28d"] = "7d"
    coverage: list[float] = Field(
        default=[1.0, 5.0, 10.0, 20.0], min_length=1, max_length=svc.API_MAX_COVERAGES
    )
    cell_size: float = Field(250.0, ge=150, le=2000)
    city: City = "brussels"  # type: ignore[valid-type]
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("coverage")
    @classmethod
    def _coverage(cls, v: list[float]) -> list[float]:
        if any(not 0 < c <= 100 for c in v):
            raise ValueError("each coverage must be in (0, 100]")
        return v

    def to_request(self, engine: Any) -> svc.BacktestRequest:
        return backtest_request(engine, **self.model_dump())


def backtest_request(
    engine: Any, start: date, end: date, methods: Sequence[str], horizon: str = "7d",
    coverage: Sequence[float] = (1.0, 5.0, 10.0, 20.0), cell_size: float = 250.0,
    city: str = "brussels", seed: int = 0,
) -> svc.BacktestRequest:  # fmt: skip
    """Bounded for the web: at most 3 methods, 4 coverages and 60 origins, one worker."""
    return svc.BacktestRequest(
        source=register(engine, city), area=city_area(city, cell_size), start=start, end=end,
        horizon=horizon, methods=tuple(methods), coverage=tuple(coverage), n_jobs=1, seed=seed,
        max_methods=svc.API_MAX_BACKTEST_METHODS, max_origins=svc.API_MAX_BACKTEST_ORIGINS,
        max_coverages=svc.API_MAX_COVERAGES,
    )  # fmt: skip


@router.post("/backtest", responses={400: {}})
def backtest(
    body: BacktestIn,
    request: Request,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.HOTSPOTS_RUN))],
) -> dict[str, Any]:
    """Rolling-origin backtest on the register's incidents: hit rate, PAI and PEI per method
    and coverage with 95 % intervals; the keys of `safecities hotspots backtest --json`.
    Bounded: at most 3 methods and 60 origins, one worker; cached until the next write."""
    return answer(db, "backtest", body.to_request(request.app.state.engine))
