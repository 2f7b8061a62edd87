"""What every page shares: templates, language, rendering, sign-in, the dashboard.

Each capability's pages live in their own module of this package (incidents, hotspots, patrols,
cameras, review, audit) with their own router; `safecities.web.pages.mount` includes them all.
"""

import importlib
from datetime import date
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from safecities.api import csrf
from safecities.api import incidents as inc_svc
from safecities.api.accounts import Principal
from safecities.api.deps import COOKIE, DbSession, public, require, session_token
from safecities.api.permissions import Action
from safecities.api.routes.auth import do_login, set_session_cookie
from safecities.web import i18n, labels

HERE = Path(__file__).parents[1]
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: The library module whose presence makes a capability's pages available.
_LIBRARIES = {
    "hotspots": ("safecities.hotspots.forecast", "safecities.hotspots.service"),
    "cameras": ("safecities.cameras.service",),
    "patrols": ("safecities.patrols.governance", "safecities.patrols.service"),
    "review": ("safecities.review.its",),
}


@lru_cache
def available(capability: str) -> bool:
    try:
        for name in _LIBRARIES[capability]:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def translate(request: Request, text: str) -> str:
    return i18n.translations(language(request)).gettext(text)


def map_labels(request: Request) -> dict[str, str]:
    tr = i18n.translations(language(request))
    return {k: tr.gettext(v) for k, v in labels.MAP_LABELS.items()}


router = APIRouter(include_in_schema=False)
LANG_COOKIE = "lang"


def language(request: Request) -> str:
    return i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, *, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = language(request)
    tr = i18n.translations(lang)
    user = ctx.pop("user", None) or getattr(request.state, "user", None)
    token, new_cookie = csrf.for_page(request)
    html = env.get_template(template).render(
        csrf_token=token,
        request=request,
        _=tr.gettext,
        lang=lang,
        languages=i18n.LANGUAGES,
        user=user,
        nav=labels.NAV,
        role_labels=labels.ROLE_LABELS,
        active=request.url.path,
        **ctx,
    )
    response = HTMLResponse(html, status_code=status_code)
    if new_cookie:  # the sign-in form's pre-session token is bound to this cookie
        csrf.set_cookie(response, request, new_cookie)
    return response


def _safe_next(path: str | None) -> str:
    return path if path and path.startswith("/") and not path.startswith("//") else "/"


# --- sign in / out, language ---------------------------------------------------------------


@router.get("/login")
@public
def login_page(request: Request, next: str = Query("/", max_length=200)) -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), error=None, user=None)


@router.post("/login")
@public
def login_submit(
    request: Request,
    db: DbSession,
    _csrf: Annotated[None, Depends(csrf.protect_login)],
    name: str = Form(..., max_length=120),
    password: str = Form(..., max_length=1000),
    next: str = Form("/", max_length=200),
) -> Response:
    client = request.client.host if request.client else "unknown"
    try:
        token, _, _ = do_login(db, name, password, client)
    except HTTPException as exc:
        msg = (
            "Too many failed sign-ins; try again later."
            if exc.status_code == 429
            else "Wrong user name or password."
        )
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            next=_safe_next(next),
            error=msg,
            user=None,
        )
    resp = RedirectResponse(_safe_next(next), status_code=303)
    from safecities.api.accounts import SESSION_TTL

    set_session_cookie(resp, request, token, int(SESSION_TTL.total_seconds()))
    return resp


@router.post("/logout")
def logout_submit(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.SESSION))],
    token: Annotated[str | None, Depends(session_token)],
) -> Response:
    from safecities.api import accounts

    if token:
        accounts.logout(db, token, actor=user.name)
        db.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/lang")
@public
def set_language(
    code: str = Query("en", max_length=5), next: str = Query("/", max_length=200)
) -> Response:
    resp = RedirectResponse(_safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        resp.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="strict", path="/")
    return resp


# --- dashboard ------------------------------------------------------------------------------


def trend_svg(summary: dict, title: str) -> str:
    """A monthly bar chart as inline SVG (no JavaScript; readable by screen readers)."""
    months = summary.get("by_month") or []
    if not months:
        return ""
    w, h, pad = 640, 220, 30
    top = max(m["incidents"] for m in months) or 1
    bw = (w - 2 * pad) / len(months)
    bars = []
    for k, m in enumerate(months):
        bh = (h - 2 * pad) * m["incidents"] / top
        x, y = pad + k * bw + 4, h - pad - bh
        bars.append(
            f"<g><title>{escape(m['month'])}: {m['incidents']}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 8:.1f}" height="{bh:.1f}" fill="#1f4e79"/>'
            f'<text x="{x + (bw - 8) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'font-size="12">{m["incidents"]}</text>'
            f'<text x="{x + (bw - 8) / 2:.1f}" y="{h - pad + 16:.1f}" text-anchor="middle" '
            f'font-size="12">{escape(m["month"])}</text></g>'
        )
    return (
        f'<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {w} {h}" '
        f'width="100%"><title id="chart-title">{escape(title)}</title>'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>'
        + "".join(bars)
        + "</svg>"
    )


def _patrol_layer(user: Principal, plan: str | None, at: str | None) -> dict[str, Any] | None:
    """The dashboard's patrol plan picker: saved plans, the chosen one and moment, the layer URL."""
    from datetime import datetime
    from urllib.parse import quote, urlencode

    if not (user.can(Action.PATROLS_READ) and available("patrols")):
        return None
    from safecities.api import patrols as psvc

    plans = [p["name"] for p in psvc.list_plans()]
    if not plans:
        return None
    plan = plan if plan in plans else plans[0]
    try:
        moment = datetime.fromisoformat(at) if at else None
    except ValueError:
        moment = None
    if moment is None:  # default: 15:00 on the plan's first day
        first = _day(plan.split("-s")[0][-21:-11]) or date.today()
        moment = datetime.combine(first, datetime.min.time()).replace(hour=15)
    at_text = moment.strftime("%Y-%m-%dT%H:%M")
    url = f"/api/patrols/plans/{quote(plan)}/presence?" + urlencode({"at": at_text})
    return {"plans": plans, "plan": plan, "at": at_text, "url": url}


@router.get("/")
def dashboard(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    plan: str | None = Query(None, max_length=100),
    at: str | None = Query(None, max_length=25),
) -> HTMLResponse:
    tr = i18n.translations(language(request))
    summary, unavailable, chart = None, False, ""
    if user.can(Action.INCIDENTS_SUMMARY):
        try:
            engine = request.app.state.engine
            key = ("summary", str(engine.url), "brussels", None, None)
            summary = inc_svc.cached(db, key, lambda: inc_svc.summary(engine, city="brussels"))
            chart = trend_svg(summary, tr.gettext("Monthly incidents"))
        except inc_svc.CapabilityUnavailable:
            unavailable = True
    map_labels = {k: tr.gettext(v) for k, v in labels.MAP_LABELS.items()}
    forecast_url = None
    has_incidents = bool(summary and summary.get("totals", {}).get("incidents"))
    if user.can(Action.HOTSPOTS_READ) and has_incidents and available("hotspots"):
        forecast_url = "/api/hotspots/forecast?method=naive&horizon=7d"
    return render(
        request,
        "dashboard.html",
        show_cameras=user.can(Action.CAMERAS_READ) and available("cameras"),
        forecast_url=forecast_url,
        summary=summary,
        summary_unavailable=unavailable,
        chart=chart,
        city="brussels",
        show_incidents=user.can(Action.INCIDENTS_READ),
        map_labels=map_labels,
        patrols=_patrol_layer(user, plan, at),
    )


def _municipalities() -> list[dict]:
    import json

    from safecities.api.layers import layer_bytes

    feats = json.loads(layer_bytes("municipalities", "brussels"))["features"]
    out = [
        {
            "nis": f["properties"]["nis"],
            "name": f"{f['properties']['name_fr']} / {f['properties']['name_nl']}",
        }
        for f in feats
    ]
    return sorted(out, key=lambda m: m["name"])


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
