"""Patrols: protocol governance, plans, checks and briefings."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.web.pages.core import _day, render

router = APIRouter(include_in_schema=False)


def _patrols_page(
    request,
    db,
    user: Principal,
    message=None,
    css="success",
    status_code=200,
    check=None,
    validation=None,
):
    import re as _re

    from safecities.api import patrols as psvc
    from safecities.patrols.governance import document_sha256, list_protocols
    from safecities.patrols.protocol import load_protocol, read_document

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
    start, end = (b.date() for b in proto.period_bounds())
    # today if inside the protocol's months, else the nearest day inside them (end is exclusive)
    default_day = min(max(start, date.today()), end - timedelta(days=1))
    protocols = list_protocols(db)
    bundled = document_sha256(read_document(psvc.protocol_path())[0])
    # other active protocols (other cities, other versions) a plan can be made under
    plan_under = [p for p in protocols if p["status"] == "active" and p["sha256"] != bundled]
    return render(
        request,
        "patrols.html",
        status_code=status_code,
        protocols=protocols,
        plan_under=plan_under,
        bundled_city=proto.city,
        validation=validation,
        plans=plans,
        posts=[p.id for p in proto.command_posts],
        can_plan=user.can(Action.PATROLS_PLAN),
        approve_as=approve_as,
        message=message,
        message_css=css,
        check=check,
        default_day=default_day.isoformat(),
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


def patrols_request_upload(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    file: UploadFile = File(...),
    reason: str = Form("", max_length=2000),
    do: str = Form("validate", max_length=10),
) -> HTMLResponse:
    """Another city's protocol document: check it (`do=validate`) or request with it."""
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError

    data, name = read_upload(file, 1024 * 1024), upload_name(file.filename, "protocol.yaml")
    try:
        if do != "request":
            report = psvc.validate_upload(data, name)
            return _patrols_page(request, db, user, validation=report)
        out = psvc.request_upload(db, data, name, reason=reason, actor=user.name)
        db.commit()
    except SafecitiesError as exc:
        db.rollback()
        return _patrols_page(request, db, user, str(exc), "error", 400)
    return _patrols_page(request, db, user, f"#{out['id']} {out['city']}: {out['status']}")


def _approve(
    request, db, user: Principal, protocol_id: int, refuse_reason: str | None = None
) -> HTMLResponse:
    from safecities.errors import SafecitiesError
    from safecities.patrols.governance import approve, refuse

    try:
        if refuse_reason is None:
            out = approve(db, protocol_id, actor=user.name, role=user.role.value)
        else:
            out = refuse(
                db, protocol_id, actor=user.name, role=user.role.value, reason=refuse_reason
            )
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


def patrols_refuse_interior(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    reason: str = Form(..., min_length=1, max_length=2000),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, refuse_reason=reason)


def patrols_refuse_defence(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    reason: str = Form(..., min_length=1, max_length=2000),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, refuse_reason=reason)


def patrols_check(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError

    try:
        report = psvc.check_upload(
            read_upload(file, 10 * 1024 * 1024), upload_name(file.filename, "plan.csv")
        )
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
    protocol: str = Form("", max_length=12),
) -> HTMLResponse:
    from safecities.api import patrols as psvc
    from safecities.errors import SafecitiesError

    d1, d2 = _day(first), _day(last)
    if d1 is None or d2 is None:
        return _patrols_page(request, db, user, "from/to: YYYY-MM-DD", "error", 400)
    protocol_id = int(protocol) if protocol.isdigit() and int(protocol) > 0 else None
    try:
        out = psvc.make(
            request.app.state.engine,
            first=d1,
            last=d2,
            seed=seed,
            time_limit=30,
            protocol_id=protocol_id,
        )
    except SafecitiesError as exc:
        return _patrols_page(request, db, user, str(exc), "error", 400)
    msg = f"{out['name']}: {out['rows']} / {out['status']} / gap {out['gap']:.4f}"
    return _patrols_page(request, db, user, msg)


router.get("/patrols", response_class=HTMLResponse)(patrols_page)
router.post("/patrols/request", response_class=HTMLResponse)(patrols_request)
router.post("/patrols/plan", response_class=HTMLResponse)(patrols_plan)
router.post("/patrols/check", response_class=HTMLResponse)(patrols_check)
router.post("/patrols/request-upload", response_class=HTMLResponse)(patrols_request_upload)
router.post("/patrols/refuse-interior/{protocol_id}", response_class=HTMLResponse)(
    patrols_refuse_interior
)
router.post("/patrols/refuse-defence/{protocol_id}", response_class=HTMLResponse)(
    patrols_refuse_defence
)
router.post("/patrols/approve-interior/{protocol_id}", response_class=HTMLResponse)(
    patrols_approve_interior
)
router.post("/patrols/approve-defence/{protocol_id}", response_class=HTMLResponse)(
    patrols_approve_defence
)


def plan_calendar_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: str = PathParam(max_length=100),
    post: str | None = Query(None, max_length=80),
    start: str | None = Query(None, max_length=10),
) -> HTMLResponse:
    """A plan per command post: hours down, a week of days across, violations marked."""
    from safecities.api import patrols as psvc
    from safecities.errors import NotFound, SafecitiesError
    from safecities.patrols.protocol import load_protocol

    proto = load_protocol(psvc.protocol_path())
    posts = [{"id": p.id, "name": p.name} for p in proto.command_posts]
    try:
        cal = psvc.calendar(name, post or None)
    except NotFound:
        raise HTTPException(404) from None
    except SafecitiesError as exc:
        return _patrols_page(request, db, user, str(exc), "error", 400)
    days = cal["days"]
    first = _day(start)
    i = next((k for k, d in enumerate(days) if first and d["day"] >= first.isoformat()), 0)
    week = days[i : i + 7]
    return render(
        request,
        "patrols_calendar.html",
        cal=cal,
        posts=posts,
        days=week,
        prev_from=days[max(i - 7, 0)]["day"] if i > 0 else None,
        next_from=days[i + 7]["day"] if i + 7 < len(days) else None,
    )


router.get("/patrols/plans/{name}", response_class=HTMLResponse)(plan_calendar_page)
