"""Hotspots: method picker and forecast layer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.web import labels
from safecities.web.pages.core import map_labels, render

router = APIRouter(include_in_schema=False)


def hotspots_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    method: str = Query("kde", max_length=20),
    horizon: str = Query("7d", max_length=4),
) -> HTMLResponse:
    from urllib.parse import urlencode

    from safecities.api import hotspots as hsvc
    from safecities.api import incidents as inc
    from safecities.errors import SafecitiesError

    method = method if method in hsvc.METHODS else "kde"
    horizon = horizon if horizon in ("1d", "7d", "14d", "28d") else "7d"
    engine = request.app.state.engine
    forecast, error = None, None
    try:
        key = ("hotspots", str(engine.url), "brussels", method, horizon, None, 250.0, 5.0)
        forecast = inc.cached(
            db, key, lambda: hsvc.forecast(engine, method=method, horizon=horizon)
        )
    except SafecitiesError as exc:
        error = str(exc)
    url = "/api/hotspots/forecast?" + urlencode({"method": method, "horizon": horizon})
    return render(
        request,
        "hotspots.html",
        methods=hsvc.METHODS,
        method=method,
        method_labels=labels.METHOD_LABELS,
        horizon=horizon,
        horizons=["1d", "7d", "14d", "28d"],
        forecast=forecast,
        error=error,
        forecast_url=url if forecast else None,
        show_incidents=user.can(Action.INCIDENTS_READ),
        map_labels=map_labels(request),
    )


router.get("/hotspots", response_class=HTMLResponse)(hotspots_page)
