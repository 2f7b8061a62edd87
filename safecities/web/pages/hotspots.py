"""Hotspots: method picker and forecast layer, Gi* hot/cold layer, hourly and weekday risk
profile, and a bounded backtest (hit rate, PAI, PEI with 95 % intervals) for analysts.

Every figure comes from `safecities.hotspots.service` (the CLI's and the API's functions)
through the same requests and cache as the API routes, so the map layer the page asks for is
ready."""

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
    "detect_units": N_("Getis-Ord Gi* class of each cell (false discovery rate 5 %)"),
    "emerging_units": N_("Trend class of each cell over the space-time cube"),
}
#: The method picker's labels: the shared ones plus `auto` (this page's default).
METHOD_LABELS = {"auto": N_("auto (chosen by validation)"), **labels.METHOD_LABELS}
STUDY_AREA = {
    "events": N_("cells within %(buffer)s m of the %(n)s incidents before %(date)s"),
    "boundary": N_("cells meeting the boundary of %(name)s"),
    "units": N_("the given units"),
}
CHART_TITLES = {
    "weekday": N_("Expected incidents per week in the named zones, by weekday"),
    "hour": N_("Expected incidents per week in the named zones, by hour of the day"),
}
#: The detect, profile and near-repeat parameters the page shows: the API's defaults, so the
#: cache is shared (the routes build the same requests).
DETECT = {"geojson": True}
PROFILE = {"hours": True}
NEAR_REPEAT: dict = {}
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


def _study_area_text(request: Request, grid: dict) -> str:
    """How the forecast's study area was built, in the page's language."""
    sa = grid.get("study_area") or {}
    text = translate(request, STUDY_AREA.get(sa.get("built_from"), STUDY_AREA["units"]))
    when = (sa.get("events_before") or "")[:10]
    name = str(sa.get("boundary") or "").removeprefix("city ")
    return text % {"buffer": f"{sa.get('buffer_m', 0):g}", "n": sa.get("n_events", 0),
                   "date": when, "name": name}  # fmt: skip


def _auto_view(forecast: dict | None) -> dict | None:
    """What `auto` chose and every candidate's validation scores (best first)."""
    fitted = (forecast or {}).get("fitted") or {}
    if "chosen" not in fitted:
        return None
    v = fitted["validation"]
    scores = sorted(v["scores"].items(), key=lambda kv: -(kv[1]["hit_rate"] or -1.0))
    return {**v, "chosen": fitted["chosen"], "scores": scores}


def _page(
    request: Request,
    db,
    user: Principal,
    method: str = "auto",
    horizon: str = "7d",
    backtest: dict | None = None,
    backtest_error: str | None = None,
    form: dict | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from urllib.parse import urlencode

    from safecities.api import privacy
    from safecities.api.routes import hotspots as api
    from safecities.errors import SafecitiesError
    from safecities.hotspots import service as hsvc

    method = method if method in hsvc.METHODS else "auto"
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

    fc = api.forecast_request(engine, "brussels", method, horizon, None, 250.0, 5.0)
    forecast = attempt(lambda: api.answer(db, "forecast", fc))
    detect = attempt(lambda: api.answer(db, "detect", api.detect_request(engine, **DETECT)))
    prof = attempt(lambda: api.answer(db, "profile", api.profile_request(engine, **PROFILE)))
    # roles without incident access: only cells / zones with >= k incidents (api.privacy)
    forecast = forecast and privacy.limit("forecast", forecast, user, engine, cell_size=250.0)
    detect = detect and privacy.limit("detect", detect, user, engine,
                                      cell_size=250.0)  # fmt: skip
    prof = prof and privacy.limit("profile", prof, user, engine)
    profile = _profile_view(request, prof) if prof else None
    nr = api.near_repeat_request(engine, **NEAR_REPEAT)
    knox = attempt(lambda: api.answer(db, "near-repeat", nr))
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
        method_labels=METHOD_LABELS,
        study_area_text=_study_area_text(request, forecast["grid"]) if forecast else "",
        backtest_area_text=_study_area_text(request, backtest["grid"]) if backtest else "",
        auto=_auto_view(forecast),
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
        max_methods=hsvc.API_MAX_BACKTEST_METHODS,
        max_origins=hsvc.API_MAX_BACKTEST_ORIGINS,
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
    method: str = Query("auto", max_length=20),
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
    method: str = Form("auto", max_length=20),
    horizon: str = Form("7d", max_length=4),
) -> HTMLResponse:
    """Run a bounded backtest (at most 3 methods, 60 origins) and show its table."""
    from safecities.api.routes import hotspots as api
    from safecities.errors import SafecitiesError
    from safecities.hotspots import service as hsvc

    bt_horizon = bt_horizon if bt_horizon in HORIZONS else "7d"
    form = {"start": start.isoformat(), "end": end.isoformat(), "horizon": bt_horizon,
            "methods": [m for m in methods if m in hsvc.METHODS]}  # fmt: skip
    result, err = None, None
    try:
        req = api.backtest_request(
            request.app.state.engine, start, end, form["methods"], horizon=bt_horizon
        )
        result = api.answer(db, "backtest", req)
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
