"""What every page shares: templates, language, rendering, sign-in, the dashboard.

Each capability's pages live in their own module of this package (incidents, hotspots, patrols,
cameras, review, audit) with their own router; `safecities.web.pages.mount` includes them all.
"""

import importlib
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from safecities.api import csrf
from safecities.api.accounts import Principal
from safecities.api.deps import COOKIE, DbSession, public, require, session_token
from safecities.api.permissions import Action
from safecities.api.routes.auth import do_login, set_session_cookie
from safecities.errors import CapabilityUnavailable
from safecities.web import formats, i18n, labels, server_text

HERE = Path(__file__).parents[1]
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals["Action"] = Action  # templates ask `user.can(Action.X)` (e.g. the map's plan link)
env.filters.update(formats.FILTERS)  # number, percent, date, datetime in the page's language


@pass_context
def _msg(ctx, text: object) -> str:
    """`{{ error | msg }}`: a message composed by the server, in the page's language."""
    return server_text.translate(text, ctx["_"])


@pass_context
def _label(ctx, value: object, kind: str) -> str:
    """`{{ p.status | label("protocol_status") }}`: a status or decision word, translated."""
    return server_text.label(kind, value, ctx["_"])


env.filters.update(msg=_msg, label=_label)
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


#: Babel locale of each interface language (Belgian conventions; British English).
BABEL_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}


def format_day(day: date | str | None, lang: str) -> str:
    """A day in full in the page's language: "12 August 2025", "12 augustus 2025"."""
    from babel.dates import format_date

    day = _day(day) if isinstance(day, str) else day
    return format_date(day, "long", locale=BABEL_LOCALES.get(lang, "en_GB")) if day else ""


def format_period(start: date | str | None, end: date | str | None, lang: str) -> str:
    """The period as "1 January – 12 August 2025" (the year once when both share it), localised."""
    from babel.dates import format_date

    first = _day(start) if isinstance(start, str) else start
    last = _day(end) if isinstance(end, str) else end
    if not (first and last):
        return format_day(first or last, lang)
    if first.year != last.year:
        return f"{format_day(first, lang)} – {format_day(last, lang)}"
    head = format_date(first, "d MMMM", locale=BABEL_LOCALES.get(lang, "en_GB"))
    return f"{head} – {format_day(last, lang)}"


def translate(request: Request, text: str) -> str:
    return i18n.translations(language(request)).gettext(text)


def map_labels(request: Request) -> dict[str, str]:
    tr = i18n.translations(language(request))
    return {k: tr.gettext(v) for k, v in labels.map_label_ids().items()}


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
    from safecities.patrols.service import saved as psvc

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
            from safecities.register import service as rsvc

            req = rsvc.SummaryRequest(city="brussels")
            summary = rsvc.summary_cached(db, request.app.state.engine, req)
            chart = trend_svg(summary, tr.gettext("Monthly incidents"))
        except CapabilityUnavailable:
            unavailable = True
    forecast_url = None
    has_incidents = bool(summary and summary.get("totals", {}).get("incidents"))
    if user.can(Action.HOTSPOTS_READ) and has_incidents and available("hotspots"):
        forecast_url = "/api/hotspots/forecast?method=naive&horizon=7d"
    lang = language(request)
    period = None
    if summary and summary.get("since_1_january"):
        summer = (summary.get("since_summer") or {}).get("from")
        period = {
            "jan": format_day(summary["since_1_january"]["from"], lang),
            "range": format_period(summary["since_1_january"]["from"], summary["as_of"], lang),
            "summer": format_day(summer, lang) if summer else None,
            "as_of": format_day(summary["as_of"], lang),
        }
    return render(
        request,
        "dashboard.html",
        period=period,
        show_cameras=user.can(Action.CAMERAS_READ) and available("cameras"),
        forecast_url=forecast_url,
        summary=summary,
        summary_unavailable=unavailable,
        chart=chart,
        city="brussels",
        show_incidents=user.can(Action.INCIDENTS_READ),
        map_labels=map_labels(request),
        patrols=_patrol_layer(user, plan, at),
        pending_requests=_pending_requests(db, user),
    )


def _pending_requests(db, user: Principal) -> list[dict]:
    """Protocol requests waiting for this approver's decision (empty for other roles)."""
    if not available("patrols") or not user.can(Action.PATROLS_READ):
        return []
    from safecities.patrols.service import pending

    return pending(db, user.role.value)


def _municipalities(lang: str | None = None) -> list[dict]:
    """The city's municipalities by name in `lang` (NL or FR name; "FR / NL" otherwise)."""
    import json

    from safecities.register.reference import layer_bytes

    feats = json.loads(layer_bytes("municipalities", "brussels"))["features"]
    out = [
        {"nis": f["properties"]["nis"], "name": formats.place_name(f["properties"], lang)}
        for f in feats
    ]
    return sorted(out, key=lambda m: m["name"])


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --- tables: paging and downloads (the incidents, cameras and audit pages) ---------------------

#: Rows per page of the register tables.
PAGE_SIZE = 100
EXPORT_FORMATS = ("csv", "xlsx", "geojson")


def table_nav(
    request: Request, api: str, filters: dict[str, Any], total: int, offset: int,
    formats: Sequence[str] = EXPORT_FORMATS,
) -> dict[str, Any]:  # fmt: skip
    """Paging links of a table page (same filters, another offset) and its download links: the
    API route `api` with the same filters and `format=`, so a download holds every filtered row
    (not only the page shown)."""
    from urllib.parse import urlencode

    params = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    offset = max(0, min(offset, max(total - 1, 0)))

    def page_url(at: int) -> str:
        return f"{request.url.path}?{urlencode(params | {'offset': at})}"

    return {
        "total": total,
        "first": offset + 1 if total else 0,
        "last": min(offset + PAGE_SIZE, total),
        "prev": page_url(max(0, offset - PAGE_SIZE)) if offset > 0 else None,
        "next": page_url(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
        "downloads": download_links(f"{api}?{urlencode(params)}", formats),
    }


def download_links(url: str, formats: Sequence[str] = EXPORT_FORMATS) -> list[tuple[str, str]]:
    """(format, URL) of each download of the API route `url` (query kept, `format=` added)."""
    from urllib.parse import urlencode

    sep = "&" if "?" in url and not url.endswith("?") else ("" if url.endswith("?") else "?")
    return [(f, f"{url}{sep}{urlencode({'format': f})}") for f in formats]


env.globals["download_links"] = download_links
