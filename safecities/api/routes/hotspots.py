"""Hotspots on the incident register: forecast (method picker), detect, emerging, near-repeat,
profile and a bounded backtest: the same library calls and JSON keys as the CLI."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from safecities.api import hotspots as svc
from safecities.api import incidents as inc
from safecities.api import limits, privacy
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.domain import CITIES

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])
City = Literal[CITIES]  # type: ignore[valid-type]
Method = Literal[svc.METHODS]  # type: ignore[valid-type]


@router.get("/forecast", responses={400: {}})
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
) -> dict[str, Any]:
    """Expected events per grid cell in [at, at + horizon); `cells` = top % as GeoJSON."""
    engine = request.app.state.engine
    key = ("hotspots", str(engine.url), city, method, horizon, at, cell_size, top)
    out = inc.cached(
        db,
        key,
        lambda: svc.forecast(
            engine, city=city, method=method, at=at, horizon=horizon, cell_size=cell_size, top=top
        ),
    )
    return privacy.limit("forecast", out, user, engine, city=city, cell_size=cell_size)


Day = Annotated[limits.Day | None, Query(description="Local date (events' time zone).")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1)]


@router.get("/detect", responses={400: {}})
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
) -> dict[str, Any]:
    """Counts, kernel density and Getis-Ord Gi* hot/cold cells (FDR) of the register's
    incidents; the keys of `safecities hotspots detect --json`."""
    engine = request.app.state.engine
    p = dict(
        city=city,
        start=start,
        end=end,
        cell_size=cell_size,
        bandwidth=bandwidth,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
        geojson=geojson,
    )
    return privacy.limit("detect", svc.cached(db, engine, "detect", **p), user, engine,
                         city=city, cell_size=cell_size)  # fmt: skip


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
    engine = request.app.state.engine
    p = dict(
        city=city,
        start=start,
        end=end,
        slice_=slice,
        cell_size=cell_size,
        alpha=alpha,
        seed=seed,
        geojson=geojson,
    )
    return privacy.limit("emerging", svc.cached(db, engine, "emerging", **p), user, engine,
                         city=city, cell_size=cell_size)  # fmt: skip


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
    engine = request.app.state.engine
    p = dict(
        city=city,
        start=start,
        end=end,
        space_band=space_band,
        space_bands=space_bands,
        time_band=time_band,
        time_bands=time_bands,
        permutations=permutations,
        seed=seed,
    )
    return svc.cached(db, engine, "near-repeat", **p)


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
    engine = request.app.state.engine
    p = dict(city=city, until=until, window_days=window_days, hours=hours)
    return privacy.limit("profile", svc.cached(db, engine, "profile", **p), user, engine,
                         city=city)  # fmt: skip


class BacktestIn(BaseModel):
    start: date = Field(description="First origin (local date).")
    end: date = Field(description="End of the origins (exclusive).")
    methods: list[Method] = Field(min_length=1, max_length=svc.MAX_BACKTEST_METHODS)  # type: ignore[valid-type]
    horizon: Literal["1d", "7d", "14d", "28d"] = "7d"
    coverage: list[float] = Field(
        default=[1.0, 5.0, 10.0, 20.0], min_length=1, max_length=svc.MAX_COVERAGES
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
    engine = request.app.state.engine
    p = body.model_dump()
    p["methods"] = list(dict.fromkeys(p["methods"]))
    return svc.cached(db, engine, "backtest", **p)
