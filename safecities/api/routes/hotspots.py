"""Hotspots: forecast risk surface (method picker) from the incident register."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from safecities.api import hotspots as svc
from safecities.api import incidents as inc
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
    _: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
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
    return inc.cached(
        db,
        key,
        lambda: svc.forecast(
            engine, city=city, method=method, at=at, horizon=horizon, cell_size=cell_size, top=top
        ),
    )
