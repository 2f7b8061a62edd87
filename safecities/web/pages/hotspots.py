"""Hotspots: method picker and forecast layer, Gi* hot/cold layer, hourly and weekday risk
profile, and a bounded backtest (hit rate, PAI, PEI with 95 % intervals) for analysts.

Every figure comes from `safecities.api.hotspots` (the API's adapter, the CLI's library calls)
through the same cache as the API routes, so the map layer the page asks for is ready."""

from datetime import date, timedelta
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.web import labels
from safecities.web.pages.core import map_labels, render, translate

router = APIRouter(include_in_schema=False)


def N_(s: str) -> str:  # noqa: N802 - gettext convention: marks a string for translation
    return s


HORIZONS = ["1d", "7d", "14d", "28d"]
WEEKDAYS = [
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
]
#: Labels of the map layers and legends this page adds (hotspots.js reads them).
LAYER_LABELS = {
    "detect": N_("Gi* hot and cold spots"),
    "hot": N_("hot spot"),
    "cold": N_("cold spot"),
    "not_significant": N_("not significant"),
    "incidents": N_("incident(s)"),
    "emerging": N_("Emerging hot and cold spots"),
    "new": N_("new"),
    "consecutive": N_("consecutive"),
    "intensifying": N_("intensifying"),
    "persistent": N_("persistent"),
    "diminishing": N_("diminishing"),
    "sporadic": N_("sporadic"),
    "oscillating": N_("oscillating"),
    "historical": N_("historical"),
}
CHART_TITLES = {
    "weekday": N_("Expected incidents per week in the named zones, by weekday"),
    "hour": N_("Expected incidents per week in the named zones, by hour of the day"),
}
#: The detect and profile parameters the page shows: the API's defaults, so the cache is shared.
DETECT = {
    "city": "brussels",
    "start": None,
    "end": None,
    "cell_size": 250.0,
    "bandwidth": None,
    "alpha": 0.05,
    "permutations": 0,
    "seed": 0,
    "geojson": True,
}
PROFILE = {"city": "brussels", "until": None, "window_days": 365.0, "hours": True}
NEAR_REPEAT = {
    "city": "brussels",
    "start": None,
    "end": None,
    "space_band": 100.0,
    "space_bands": 5,
    "time_band": 7.0,
    "time_bands": 5,
    "permutations": 99,
    "seed": 0,
}
DETECT_URL = "/api/hotspots/detect?geojson=true"
EMERGING_URL = "/api/hotspots/emerging?geojson=true"


def bars_svg(values: list[float], names: list[str], title: str, chart_id: str) -> str:
    """A bar chart as inline SVG with a <title> per bar (no JavaScript; screen readers read it)."""
    if not values:
        return ""
    w, h, pad = 640, 200, 28
    top = max(values) or 1.0
    bw = (w - 2 * pad) / len(values)
    bars = []
    for k, (v, name) in enumerate(zip(values, names, strict=True)):
        bh = (h - 2 * pad) * v / top
        x, y = pad + k * bw + 2, h - pad - bh
        bars.append(
            f"<g><title>{escape(name)}: {v:.3f}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bw - 4, 1):.1f}" height="{bh:.1f}" '
            f'fill="#1f4e79"/>'
            f'<text x="{x + (bw - 4) / 2:.1f}" y="{h - pad + 14:.1f}" text-anchor="middle" '
            f'font-size="11">{escape(name[:3] if len(values) <= 7 else name)}</text></g>'
        )
    return (
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {w} {h}" width="100%"><title id="{chart_id}-title">{escape(title)}</title>'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>'
        + "".join(bars)
        + "</svg>"
    )


def _zone_names(city: str) -> dict[str, str]:
    try:
        from safecities.register.reference import zones

        z = zones(city=city)
        return dict(zip(z["id"].astype(str), z["name"].astype(str), strict=True))
    except Exception:  # noqa: BLE001 - names are a nicety: ids are shown instead
        return {}


def _profile_view(request: Request, prof: dict) -> dict:
    tr = lambda s: translate(request, s)  # noqa: E731
    days = [tr(d) for d in WEEKDAYS]
    by_day = [r["risk"] for r in prof.get("weekday", [])]
    by_hour = [0.0] * 24
    for r in prof.get("hourly", []):
        by_hour[r["hour"]] += r["risk"]
    names = _zone_names("brussels")
    zones = sorted(prof["zones"], key=lambda z: -z["risk_per_week"])
    return {
        "weekday_svg": bars_svg(by_day, days, tr(CHART_TITLES["weekday"]), "profile-weekday"),
        "hour_svg": bars_svg(
            by_hour, [f"{h:02d}" for h in range(24)], tr(CHART_TITLES["hour"]), "profile-hour"
        ),
        "zones": [
            {**z, "name": names.get(z["zone_id"], z["zone_id"]), "day": days[z["peak_weekday"]]}
            for z in zones
        ],
    }


def _knox_view(k: dict) -> dict:
    """Rows of the Knox table: one per distance band, a (ratio, p, significant) per time band."""
    rows = []
    for i, (lo, hi) in enumerate(k["space_bands_m"]):
        cells = [
            {
                "ratio": k["ratio"][i][j],
                "p": k["p_value"][i][j],
                "observed": k["observed"][i][j],
                "significant": (k["p_value"][i][j] or 1.0) <= 0.05 and (k["ratio"][i][j] or 0) > 1,
            }
            for j in range(len(k["time_bands_days"]))
        ]
        rows.append({"lo": lo, "hi": hi, "cells": cells})
    return {**k, "rows": rows}


def _page(
    request: Request,
    db,
    user: Principal,
    method: str = "kde",
    horizon: str = "7d",
    backtest: dict | None = None,
    backtest_error: str | None = None,
    form: dict | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from urllib.parse import urlencode

    from safecities.api import hotspots as hsvc
    from safecities.api import incidents as inc
    from safecities.api import privacy
    from safecities.errors import SafecitiesError

    method = method if method in hsvc.METHODS else "kde"
    horizon = horizon if horizon in HORIZONS else "7d"
    engine = request.app.state.engine
    errors: list[str] = []

    def attempt(compute):
        """One section's figures, or None with its one-line error (the others still show)."""
        try:
            return compute()
        except SafecitiesError as exc:
            errors.append(str(exc))
            return None

    key = ("hotspots", str(engine.url), "brussels", method, horizon, None, 250.0, 5.0)
    forecast = attempt(
        lambda: inc.cached(db, key, lambda: hsvc.forecast(engine, method=method, horizon=horizon))
    )
    detect = attempt(lambda: hsvc.cached(db, engine, "detect", **DETECT))
    prof = attempt(lambda: hsvc.cached(db, engine, "profile", **PROFILE))
    # roles without incident access: only cells / zones with >= k incidents (api.privacy)
    forecast = forecast and privacy.limit("forecast", forecast, user, engine, cell_size=250.0)
    detect = detect and privacy.limit("detect", detect, user, engine,
                                      cell_size=DETECT["cell_size"])  # fmt: skip
    prof = prof and privacy.limit("profile", prof, user, engine)
    profile = _profile_view(request, prof) if prof else None
    knox = attempt(lambda: hsvc.cached(db, engine, "near-repeat", **NEAR_REPEAT))
    error = errors[0] if errors else None
    if form is None:
        end = date.fromisoformat(detect["end"][:10]) if detect else date.today()
        form = {
            "start": (end - timedelta(days=70)).isoformat(),
            "end": end.isoformat(),
            "horizon": "7d",
            "methods": ["naive", "kde"],
        }
    url = "/api/hotspots/forecast?" + urlencode({"method": method, "horizon": horizon})
    tr = lambda s: translate(request, s)  # noqa: E731
    return render(
        request,
        "hotspots.html",
        status_code=status_code,
        methods=hsvc.METHODS,
        method=method,
        method_labels=labels.METHOD_LABELS,
        horizon=horizon,
        horizons=HORIZONS,
        forecast=forecast,
        error=error,
        forecast_url=url if forecast else None,
        detect=detect,
        detect_url=DETECT_URL if detect else None,
        emerging_url=EMERGING_URL if detect else None,
        profile=profile,
        knox=_knox_view(knox) if knox else None,
        can_run=user.can(Action.HOTSPOTS_RUN),
        max_methods=hsvc.MAX_BACKTEST_METHODS,
        max_origins=hsvc.MAX_BACKTEST_ORIGINS,
        form=form,
        backtest=backtest,
        backtest_error=backtest_error,
        show_incidents=user.can(Action.INCIDENTS_READ),
        map_labels=map_labels(request),
        layer_labels={k: tr(v) for k, v in LAYER_LABELS.items()},
    )


def hotspots_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
    method: str = Query("kde", max_length=20),
    horizon: str = Query("7d", max_length=4),
) -> HTMLResponse:
    return _page(request, db, user, method, horizon)


def backtest_run(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.HOTSPOTS_RUN))],
    start: date = Form(...),
    end: date = Form(...),
    bt_horizon: str = Form("7d", max_length=4),
    methods: list[str] = Form([], max_length=10),
    method: str = Form("kde", max_length=20),
    horizon: str = Form("7d", max_length=4),
) -> HTMLResponse:
    """Run a bounded backtest (at most 3 methods, 60 origins) and show its table."""
    from safecities.api import hotspots as hsvc
    from safecities.errors import SafecitiesError

    bt_horizon = bt_horizon if bt_horizon in HORIZONS else "7d"
    form = {"start": start.isoformat(), "end": end.isoformat(), "horizon": bt_horizon,
            "methods": [m for m in methods if m in hsvc.METHODS]}  # fmt: skip
    result, err = None, None
    try:
        result = hsvc.cached(
            db, request.app.state.engine, "backtest", city="brussels", start=start, end=end,
            horizon=bt_horizon, methods=form["methods"], coverage=[1.0, 5.0, 10.0, 20.0],
            cell_size=250.0, seed=0,
        )  # fmt: skip
    except SafecitiesError as exc:
        err = str(exc)
    return _page(
        request, db, user, method, horizon, backtest=result, backtest_error=err, form=form,
        status_code=400 if err else 200,
    )  # fmt: skip


def backtest_get(
    _: Annotated[Principal, Depends(require(Action.HOTSPOTS_READ))],
) -> RedirectResponse:
    """The result page's own address (e.g. after switching language): back to the page."""
    return RedirectResponse("/hotspots#backtest", status_code=303)


router.get("/hotspots", response_class=HTMLResponse)(hotspots_page)
router.get("/hotspots/backtest")(backtest_get)
router.post("/hotspots/backtest", response_class=HTMLResponse)(backtest_run)
