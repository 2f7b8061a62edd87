"""Review: outcome evaluation of the register's incidents around an intervention."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from safecities.api import incidents as inc
from safecities.api import review as svc
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.domain import CITIES

router = APIRouter(prefix="/api/review", tags=["review"])
City = Literal[CITIES]  # type: ignore[valid-type]


@router.get("/its", responses={400: {}})
def its(
    request: Request,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.REVIEW_READ))],
    intervention: date = Query(..., description="Intervention day, e.g. start of joint patrols."),
    freq: Literal["week", "month"] = Query("week"),
    city: City = Query("brussels"),
) -> dict[str, Any]:
    """Interrupted time series: rate ratio after/before with 95 % interval, events averted."""
    engine = request.app.state.engine
    key = ("review-its", str(engine.url), city, intervention, freq)
    return inc.cached(
        db, key, lambda: svc.its(engine, intervention=intervention, freq=freq, city=city)
    )
