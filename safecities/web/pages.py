"""Web pages served by the API process: Jinja2 templates, NL/FR/EN, one permission per page."""

import tempfile
from datetime import date
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from safecities.api import incidents as inc_svc
from safecities.api.accounts import Principal
from safecities.api.deps import COOKIE, DbSession, public, require, session_token
from safecities.api.permissions import Action
from safecities.api.routes.auth import do_login, set_session_cookie
from safecities.domain import BRUSSELS_TZ, IncidentKind
from safecities.errors import InputError
from safecities.web import i18n, labels

HERE = Path(__file__).parent
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
router = APIRouter(include_in_schema=False)
LANG_COOKIE = "lang"


def language(request: Request) -> str:
    return i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, *, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = language(request)
    tr = i18n.translations(lang)
    user = ctx.pop("user", None) or getattr(request.state, "user", None)
    html = env.get_template(template).render(
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
    return HTMLResponse(html, status_code=status_code)


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


@router.get("/")
def dashboard(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
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
    if user.can(Action.HOTSPOTS_READ) and has_incidents and _hotspots_available():
        forecast_url = "/api/hotspots/forecast?method=naive&horizon=7d"
    return render(
        request,
        "dashboard.html",
        show_cameras=user.can(Action.CAMERAS_READ) and _cameras_available(),
        forecast_url=forecast_url,
        summary=summary,
        summary_unavailable=unavailable,
        chart=chart,
        city="brussels",
        show_incidents=user.can(Action.INCIDENTS_READ),
        map_labels=map_labels,
    )


# --- incidents ------------------------------------------------------------------------------


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


def _incidents_page(request: Request, db, user: Principal, f: dict, import_result=None):
    from datetime import datetime, time

    def midnight(d):
        return datetime.combine(d, time(0), tzinfo=BRUSSELS_TZ) if d else None

    total, rows = inc_svc.list_incidents(
        db,
        city="brussels",
        since=midnight(f.get("since")),
        until=midnight(f.get("until")),
        municipality=f.get("municipality") or None,
        kind=f.get("kind") or None,
        limit=500,
    )
    for r in rows:
        r["local_time"] = r["occurred_at"].astimezone(BRUSSELS_TZ).strftime("%Y-%m-%d %H:%M")
    munis = _municipalities()
    return render(
        request,
        "incidents.html",
        incidents=rows,
        total=total,
        f=f,
        municipalities=munis,
        muni_names={m["nis"]: m["name"] for m in munis},
        kinds=[k.value for k in IncidentKind],
        kind_labels=labels.KIND_LABELS,
        can_import=user.can(Action.INCIDENTS_IMPORT),
        import_result=import_result,
        status_code=200 if import_result is None or import_result["ok"] else 422,
    )


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/incidents")
def incidents_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_READ))],
    since: str | None = Query(None, max_length=10),
    until: str | None = Query(None, max_length=10),
    municipality: str | None = Query(None, max_length=5),
    kind: str | None = Query(None, max_length=32),
) -> HTMLResponse:
    # HTML forms send empty fields as "": treat them (and unreadable dates) as "no filter"
    f = {
        "since": _day(since),
        "until": _day(until),
        "municipality": municipality or None,
        "kind": kind or None,
    }
    return _incidents_page(request, db, user, f)


@router.post("/incidents/import")
async def incidents_import_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_IMPORT))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    data = await file.read()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            rep = inc_svc.import_file(request.app.state.engine, path, actor=user.name)
            result = {
                "ok": True,
                "inserted": rep.inserted,
                "unchanged": rep.unchanged,
                "errors": [],
            }
        except InputError as exc:
            errs = [
                {
                    "file": Path(str(e.file)).name,
                    "row": e.row,
                    "field": e.field,
                    "reason": e.reason,
                    "value": e.value,
                }
                for e in exc.errors
            ]
            if not errs:
                errs = [{"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}]
            result = {"ok": False, "errors": errs}
    return _incidents_page(request, db, user, {}, import_result=result)


# --- audit ----------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request, db: DbSession, user: Annotated[Principal, Depends(require(Action.AUDIT_READ))]
) -> HTMLResponse:
    from safecities.api import auditlog

    _, events = auditlog.browse(db, actor_role=user.role, limit=200)
    chain = auditlog.verify(db, actor_role=user.role)
    return render(request, "audit.html", events=events, chain=chain)


# --- cameras ---------------------------------------------------------------------------------


def _cameras_available() -> bool:
    try:
        import safecities.cameras.service  # noqa: F401
    except ImportError:
        return False
    return True


def _caller(user: Principal):
    from safecities.cameras.service import Caller

    return Caller(user.name, user.role, user.municipality_id)


def cameras_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
) -> HTMLResponse:
    from safecities.cameras import service

    tr = i18n.translations(language(request))
    cams = service.list_cameras(db, _caller(user))
    munis = {m["nis"]: m["name"] for m in _municipalities()}
    return render(
        request,
        "cameras.html",
        cameras=cams,
        muni_names=munis,
        status_labels=labels.CAMERA_STATUS_LABELS,
        map_labels={k: tr.gettext(v) for k, v in labels.MAP_LABELS.items()},
    )


def _camera_page(
    request, db, user: Principal, cam_id: str, *, saved=False, error=None, status_code=200
) -> HTMLResponse:
    from safecities.cameras import service
    from safecities.errors import NotFound, PermissionDenied

    caller = _caller(user)
    try:
        cam = service.get_camera(db, caller, cam_id)
    except PermissionDenied:
        raise HTTPException(403) from None
    except NotFound:
        raise HTTPException(404) from None
    history = None
    if user.can(Action.CAMERAS_HISTORY):
        try:
            history = service.history(db, caller, cam_id)
        except (PermissionDenied, NotFound):
            history = None
    return render(
        request,
        "camera.html",
        status_code=status_code,
        cam=cam,
        history=history,
        can_edit=user.can(Action.CAMERAS_EDIT),
        saved=saved,
        error=error,
        statuses=list(labels.CAMERA_STATUS_LABELS),
        status_labels=labels.CAMERA_STATUS_LABELS,
    )


def camera_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    cam_id: str = PathParam(max_length=80),
) -> HTMLResponse:
    return _camera_page(request, db, user, cam_id, saved=request.query_params.get("saved") == "1")


def camera_save(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    cam_id: str = PathParam(max_length=80),
    status: str = Form("", max_length=32),
    purpose: str = Form("", max_length=500),
    retention_days: str = Form("", max_length=10),
    fov_direction: str = Form("", max_length=10),
) -> Response:
    from safecities.cameras import service
    from safecities.errors import NotFound, PermissionDenied

    changes = {
        "status": status,
        "purpose": purpose,
        "retention_days": retention_days,
        "fov_direction": fov_direction,
    }
    changes = {k: v for k, v in changes.items() if v != ""}
    try:
        service.update_camera(db, _caller(user), cam_id, changes)
        db.commit()
    except PermissionDenied:
        db.rollback()
        raise HTTPException(403) from None
    except NotFound:
        raise HTTPException(404) from None
    except InputError as exc:
        db.rollback()
        return _camera_page(request, db, user, cam_id, error=str(exc), status_code=400)
    return RedirectResponse(f"/cameras/{cam_id}?saved=1", status_code=303)


if _cameras_available():
    router.get("/cameras", response_class=HTMLResponse)(cameras_page)
    router.get("/cameras/{cam_id}", response_class=HTMLResponse)(camera_page)
    router.post("/cameras/{cam_id}")(camera_save)


# --- patrols --------------------------------------------------------------------------------


def _patrols_available() -> bool:
    try:
        import safecities.patrols.governance  # noqa: F401
        import safecities.patrols.service  # noqa: F401
    except ImportError:
        return False
    return True


def _patrols_page(
    request, db, user: Principal, message=None, css="success", status_code=200, check=None
):
    import re as _re

    from safecities.api import patrols as psvc
    from safecities.patrols.governance import list_protocols
    from safecities.patrols.protocol import load_protocol

    proto = load_protocol(psvc.protocol_path())
    plans = psvc.list_plans()
    for p in plans:
        m = _re.search(r"(\d{4}-\d{2}-\d{2})-\d{4}-\d{2}-\d{2}", p["name"])
        p["first_day"] = m.group(1) if m else ""
    approve_as = None
    if user.can(Action.PATROLS_APPROVE_INTERIOR):
        approve_as = "interior"
    elif user.can(Action.PATROLS_APPROVE_DEFENCE):
        approve_as = "defence"
    start = proto.period_bounds()[0].date()
    return render(
        request,
        "patrols.html",
        status_code=status_code,
        protocols=list_protocols(db),
        plans=plans,
        posts=[p.id for p in proto.command_posts],
        can_plan=user.can(Action.PATROLS_PLAN),
        approve_as=approve_as,
        message=message,
        message_css=css,
        check=check,
        default_day=max(start, date.today()).isoformat(),
    )


def patrols_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
) -> HTMLResponse:
    return _patrols_page(request, db, user)


def patrols_request(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    reason: str = Form(..., max_length=2000),
) -> HTMLResponse:
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError
    from safecities.patrols.governance import request_protocol

    try:
        out = request_protocol(db, psvc.protocol_path(), reason=reason, actor=user.name)
        db.commit()
    except SafecitiesError as exc:
        db.rollback()
        return _patrols_page(request, db, user, str(exc), "error", 400)
    return _patrols_page(request, db, user, f"#{out['id']}: {out['status']}")


def _approve(request, db, user: Principal, protocol_id: int) -> HTMLResponse:
    from safecities.errors import SafecitiesError
    from safecities.patrols.governance import approve

    try:
        out = approve(db, protocol_id, actor=user.name, role=user.role.value)
        db.commit()
    except SafecitiesError as exc:
        db.rollback()
        return _patrols_page(request, db, user, str(exc), "error", 400)
    return _patrols_page(request, db, user, f"#{protocol_id}: {out['status']}")


def patrols_approve_interior(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id)


def patrols_approve_defence(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id)


async def patrols_check(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError

    try:
        report = psvc.check_upload(await file.read(10 * 1024 * 1024), file.filename or "plan.csv")
    except SafecitiesError as exc:
        return _patrols_page(request, db, user, str(exc), "error", 400)
    return _patrols_page(request, db, user, check=report)


def patrols_plan(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    first: str = Form(..., alias="from", max_length=10),
    last: str = Form(..., alias="to", max_length=10),
    seed: int = Form(0, ge=0, le=2**31 - 1),
) -> HTMLResponse:
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError

    d1, d2 = _day(first), _day(last)
    if d1 is None or d2 is None:
        return _patrols_page(request, db, user, "from/to: YYYY-MM-DD", "error", 400)
    try:
        out = psvc.make(request.app.state.engine, first=d1, last=d2, seed=seed, time_limit=30)
    except SafecitiesError as exc:
        return _patrols_page(request, db, user, str(exc), "error", 400)
    msg = f"{out['name']}: {out['rows']} / {out['status']} / gap {out['gap']:.4f}"
    return _patrols_page(request, db, user, msg)


# --- hotspots -------------------------------------------------------------------------------


def _hotspots_available() -> bool:
    try:
        import safecities.hotspots.forecast  # noqa: F401
        import safecities.hotspots.service  # noqa: F401
    except ImportError:
        return False
    return True


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
    tr = i18n.translations(language(request))
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
        map_labels={k: tr.gettext(v) for k, v in labels.MAP_LABELS.items()},
    )


# --- review ---------------------------------------------------------------------------------


def _review_available() -> bool:
    try:
        import safecities.review.its  # noqa: F401
    except ImportError:
        return False
    return True


def its_svg(its: dict, title: str) -> str:
    """Observed counts (bars) and the counterfactual (line) as accessible inline SVG."""
    obs = its.get("observed") or {}
    cf = its.get("counterfactual") or {}
    keys = sorted(obs)
    if not keys:
        return ""
    w, h, pad = 720, 220, 30
    top = max([obs[k] for k in keys] + [cf.get(k, 0) for k in keys]) or 1
    bw = (w - 2 * pad) / len(keys)
    parts = []
    for i, k in enumerate(keys):
        bh = (h - 2 * pad) * obs[k] / top
        parts.append(
            f'<rect x="{pad + i * bw:.1f}" y="{h - pad - bh:.1f}" width="{bw * 0.8:.1f}" '
            f'height="{bh:.1f}" fill="#1f4e79"><title>{escape(k)}: {obs[k]:.0f}</title>'
            "</rect>"
        )
    pts = " ".join(
        f"{pad + i * bw + bw * 0.4:.1f},{h - pad - (h - 2 * pad) * cf[k] / top:.1f}"
        for i, k in enumerate(keys)
        if k in cf
    )
    if pts:
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#d95f02" stroke-width="2"/>')
    try:
        iv = keys.index(min(k for k in keys if k >= its["intervention"]))
        x = pad + iv * bw
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{h - pad}" stroke="#a4001d" '
            'stroke-dasharray="4"/>'
        )
    except ValueError:
        pass
    return (
        f'<svg class="chart" role="img" aria-labelledby="its-title" viewBox="0 0 {w} {h}" '
        f'width="100%"><title id="its-title">{escape(title)}</title>' + "".join(parts) + "</svg>"
    )


def review_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.REVIEW_READ))],
    intervention: str = Query("2025-06-21", max_length=10),
    freq: str = Query("week", max_length=5),
) -> HTMLResponse:
    from safecities.api import incidents as inc
    from safecities.api import review as rsvc
    from safecities.errors import SafecitiesError

    day = _day(intervention) or date(2025, 6, 21)
    freq = freq if freq in ("week", "month") else "week"
    engine = request.app.state.engine
    tr = i18n.translations(language(request))
    its, error, chart = None, None, ""
    try:
        key = ("review-its", str(engine.url), "brussels", day, freq)
        its = inc.cached(db, key, lambda: rsvc.its(engine, intervention=day, freq=freq))
        chart = its_svg(its, tr.gettext("Observed incidents and the counterfactual"))
    except SafecitiesError as exc:
        error = str(exc)
    return render(
        request,
        "review.html",
        its=its,
        error=error,
        chart=chart,
        intervention=day.isoformat(),
        freq=freq,
    )


# --- capabilities not landed yet ------------------------------------------------------------


def _pending_page(slug: str, action: Action):
    def page(request: Request, _: Annotated[Principal, Depends(require(action))]) -> HTMLResponse:
        return render(
            request,
            "message.html",
            heading=labels.CAPABILITY_PAGES[slug][0],
            message="This part of the application is not available yet in this installation.",
            css="notice",
            detail=None,
        )

    page.__name__ = f"{slug}_page"
    return page


PENDING_PAGES = [] if _hotspots_available() else ["hotspots"]
if _review_available():
    router.get("/review", response_class=HTMLResponse)(review_page)
else:
    PENDING_PAGES.append("review")
if _hotspots_available():
    router.get("/hotspots", response_class=HTMLResponse)(hotspots_page)
PENDING_PAGES += [] if _cameras_available() else ["cameras"]
if _patrols_available():
    router.get("/patrols", response_class=HTMLResponse)(patrols_page)
    router.post("/patrols/request", response_class=HTMLResponse)(patrols_request)
    router.post("/patrols/plan", response_class=HTMLResponse)(patrols_plan)
    router.post("/patrols/check", response_class=HTMLResponse)(patrols_check)
    router.post("/patrols/approve-interior/{protocol_id}", response_class=HTMLResponse)(
        patrols_approve_interior
    )
    router.post("/patrols/approve-defence/{protocol_id}", response_class=HTMLResponse)(
        patrols_approve_defence
    )
else:
    PENDING_PAGES.append("patrols")
for _slug in PENDING_PAGES:
    router.get(f"/{_slug}", response_class=HTMLResponse)(
        _pending_page(_slug, labels.CAPABILITY_PAGES[_slug][1])
    )


# --- mounting -------------------------------------------------------------------------------


def mount(app: FastAPI) -> None:
    i18n.compile_catalogues()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    default = app.exception_handlers.get(StarletteHTTPException)

    async def http_errors(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith(("/api", "/docs", "/openapi", "/static")):
            from fastapi.exception_handlers import http_exception_handler

            return await (default or http_exception_handler)(request, exc)
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={path}", status_code=303)
        if exc.status_code == 403:
            return render(
                request,
                "message.html",
                status_code=403,
                heading="Not allowed",
                message="Your role does not allow this page.",
                css="error",
                detail=None,
            )
        if exc.status_code == 404:
            return render(
                request,
                "message.html",
                status_code=404,
                heading="Page not found",
                message="There is no such page.",
                css="error",
                detail=None,
            )
        from fastapi.exception_handlers import http_exception_handler

        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_errors)

    from fastapi.exception_handlers import request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError

    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(("/api", "/docs", "/openapi")):
            return await request_validation_exception_handler(request, exc)
        detail = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return render(
            request,
            "message.html",
            status_code=400,
            heading="Invalid request",
            message="The form was not filled in correctly.",
            css="error",
            detail=detail,
        )

    app.add_exception_handler(RequestValidationError, invalid_request)
