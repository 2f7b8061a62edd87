"""Patrols: protocol governance, plans, checks and briefings."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, Response

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.errors import InputError, NotFound
from safecities.patrols.governance import APPROVED
from safecities.safeio import load_json
from safecities.web import i18n, labels, pagecache, server_text
from safecities.web.labels import N_
from safecities.web.pages.core import _day, language, render

router = APIRouter(include_in_schema=False)
INFEASIBLE = "the request cannot be met inside the protocol"  # then its reasons, one per line


def _patrols_page(
    request,
    db,
    user: Principal,
    message=None,
    css="success",
    status_code=200,
    check=None,
    validation=None,
    zone=None,
    problems=None,
):
    from safecities.patrols.governance import document_sha256
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.service import list_protocols
    from safecities.patrols.service import saved as psvc
    from safecities.patrols.service.plans import soldier_zones

    path = psvc.protocol_path()
    proto = load_protocol(path)  # parsed once per version of the file
    plans = psvc.list_plans()  # newest first, each with its own protocol's posts
    approve_as = _approve_as(user)
    start, end = (b.date() for b in proto.period_bounds())
    # today if inside the protocol's months, else the nearest day inside them (end is exclusive)
    default_day = min(max(start, date.today()), end - timedelta(days=1))
    protocols = list_protocols(db)
    bundled = pagecache.per_files(
        [path], ("protocol-sha256",), lambda: document_sha256(read_document(path)[0])
    )
    # other active protocols (other cities, other versions) a plan can be made under
    plan_under = [p for p in protocols if p["status"] in APPROVED and p["sha256"] != bundled]
    # ?zone=ID (the map's "plan patrols for ..." link): that zone and its command post preselected
    focus = next((z for z in proto.zones if z.id == zone), None)
    from safecities.patrols.service import pending as pending_for

    pending = pending_for(db, user.role.value)
    lang = language(request)
    return render(
        request,
        "patrols.html",
        pending=pending,
        pending_ids={p["id"] for p in pending},
        city_names={c: _city_name(c, lang) for c in {p["city"] for p in protocols}},
        status_code=status_code,
        protocols=protocols,
        plan_under=plan_under,
        bundled_city=proto.city,
        soldier_zones=soldier_zones(proto),
        validation=validation,
        plans=plans,
        can_plan=user.can(Action.PATROLS_PLAN),
        approve_as=approve_as,
        message=message,
        message_css=css,
        problems=problems or [],
        check=check,
        default_day=default_day.isoformat(),
        focus_zone=focus,
        focus_post=next(
            (c for c in proto.command_posts if focus and c.id == focus.command_post), None
        ),
        unknown_zone=zone if zone and focus is None else None,
    )


def patrols_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    zone: str | None = Query(None, max_length=80),
) -> HTMLResponse:
    return _patrols_page(request, db, user, zone=zone)


def patrols_request(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    reason: str = Form(..., max_length=2000),
) -> HTMLResponse:
    from safecities.errors import SafecitiesError
    from safecities.patrols import service
    from safecities.patrols.service import saved as psvc

    try:
        out = service.request(db, psvc.protocol_path(), reason=reason, actor=user.name)
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
    from safecities.errors import SafecitiesError
    from safecities.patrols import service

    data, name = read_upload(file, 1024 * 1024), upload_name(file.filename, "protocol.yaml")
    try:
        if do != "request":
            report = service.validate_upload(data, name).to_dict()
            return _patrols_page(request, db, user, validation=report)
        out = service.request_upload(db, data, name, reason=reason, actor=user.name)
        db.commit()
    except SafecitiesError as exc:
        db.rollback()
        return _patrols_page(request, db, user, str(exc), "error", 400)
    return _patrols_page(request, db, user, f"#{out['id']} {out['city']}: {out['status']}")


def _approve(
    request,
    db,
    user: Principal,
    protocol_id: int,
    refuse_reason: str | None = None,
    confirm: str = "",
) -> HTMLResponse:
    """A decision is taken only once confirmed: an approval after a second click on the
    protocol page (which shows what is approved), a refusal with its reason and a ticked box."""
    from safecities.errors import SafecitiesError
    from safecities.patrols import service

    tr = i18n.translations(language(request)).gettext
    if confirm != "yes":
        if refuse_reason is not None:
            msg = tr(N_("Tick the confirmation to refuse."))
            return protocol_view(request, db, user, protocol_id, msg, "error", 400)
        return protocol_view(request, db, user, protocol_id, confirm=True)
    try:
        out = service.decide(
            db,
            protocol_id,
            actor=user.name,
            role=user.role.value,
            approve=refuse_reason is None,
            reason=refuse_reason,
        )
        db.commit()
    except SafecitiesError as exc:
        db.rollback()
        return protocol_view(request, db, user, protocol_id, str(exc), "error", 400)
    status = server_text.label("protocol_status", out["status"], tr)
    return protocol_view(request, db, user, protocol_id, f"#{protocol_id}: {status}")


def _city_name(city: str, lang: str) -> str:
    from safecities.register import reference

    try:
        c = reference.city(city)
    except Exception:  # noqa: BLE001 - an unknown city shows its id
        return city
    return c.get(f"name_{lang}") or c.get("name_en") or city


def _fmt_date(lang: str):
    from babel.dates import format_date

    def fmt(value) -> str:
        try:
            d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        return format_date(d, "long", locale=lang)

    return fmt


def protocol_view(
    request,
    db,
    user: Principal,
    protocol_id: int,
    message: str | None = None,
    css: str = "success",
    status_code: int = 200,
    confirm: bool = False,
) -> HTMLResponse:
    """One protocol request in full, as the ministries' approvers decide from it."""
    from safecities.patrols import service

    p = service.show(db, protocol_id)
    approve_as = _approve_as(user)
    role = {"interior": "interior_approver", "defence": "defence_approver"}.get(approve_as or "")
    lang = language(request)
    return render(
        request,
        "patrols_protocol.html",
        status_code=status_code,
        p=p,
        city_name=_city_name(p["city"], lang),
        fmt_date=_fmt_date(lang),
        approve_as=approve_as,
        can_decide=role in p["waiting_for"],
        confirm=confirm and role in p["waiting_for"],
        post_names={c["id"]: c["name"] for c in p["command_posts"]},
        period_labels=labels.PERIOD_LABELS,
        force_labels=labels.FORCE_LABELS,
        change_labels=labels.CHANGE_LABELS,
        message=message,
        message_css=css,
    )


def _approve_as(user: Principal) -> str | None:
    if user.can(Action.PATROLS_APPROVE_INTERIOR):
        return "interior"
    if user.can(Action.PATROLS_APPROVE_DEFENCE):
        return "defence"
    return None


def protocol_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
) -> HTMLResponse:
    return protocol_view(request, db, user, protocol_id)


def patrols_approve_interior(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    confirm: str = Form("", max_length=3),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, confirm=confirm)


def patrols_approve_defence(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    confirm: str = Form("", max_length=3),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, confirm=confirm)


def patrols_refuse_interior(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    reason: str = Form(..., min_length=1, max_length=2000),
    confirm: str = Form("", max_length=3),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, refuse_reason=reason, confirm=confirm)


def patrols_refuse_defence(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
    protocol_id: int = PathParam(ge=1, le=2**31 - 1),
    reason: str = Form(..., min_length=1, max_length=2000),
    confirm: str = Form("", max_length=3),
) -> HTMLResponse:
    return _approve(request, db, user, protocol_id, refuse_reason=reason, confirm=confirm)


def patrols_check(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    from safecities.errors import SafecitiesError
    from safecities.patrols.service import saved as psvc

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
    cont: str = Form("", alias="continue", max_length=3),
) -> HTMLResponse:
    from safecities.errors import SafecitiesError
    from safecities.patrols.planner import InfeasiblePlan
    from safecities.patrols.service import saved as psvc

    d1, d2 = _day(first), _day(last)
    if d1 is None or d2 is None:
        return _patrols_page(request, db, user, "from/to: YYYY-MM-DD", "error", 400)
    protocol_id = int(protocol) if protocol.isdigit() and int(protocol) > 0 else None
    try:
        opts = psvc.SavedPlanOptions(
            first=d1,
            last=d2,
            seed=seed,
            time_limit=30,
            protocol_id=protocol_id,
            continue_latest=cont == "1",
        )
        out = psvc.make_saved(request.app.state.engine, opts)
    except InfeasiblePlan as exc:  # each verified reason on its own line, translated
        reasons = [r["message"] for r in exc.reasons] or [str(exc)]
        return _patrols_page(request, db, user, INFEASIBLE, "error", 400, problems=reasons)
    except SafecitiesError as exc:
        return _patrols_page(request, db, user, str(exc), "error", 400)
    msg = f"{out['name']}: {out['rows']} / {out['status']} / gap {out['gap']:.4f}"
    if out["after"]:
        msg += f" / after {out['after']}"
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


def _calendar_view(
    request: Request,
    db,
    user: Principal,
    name: str,
    post: str | None = None,
    start: str | None = None,
    *,
    message: str | None = None,
    css: str = "success",
    status_code: int = 200,
    form: dict | None = None,
    problems: list[str] | None = None,
) -> HTMLResponse:
    """The plan page: a week of one post's calendar, downloads, and the re-plan form."""
    from safecities.errors import NotFound, SafecitiesError
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.service import saved as psvc

    try:
        proto = load_protocol(psvc.plan_protocol_path(name))  # the plan's own protocol
        posts = [{"id": p.id, "name": p.name} for p in proto.command_posts]
        files = [psvc.plan_file(name), psvc.plan_protocol_path(name)]  # 404 for unknown plans
        key = ("calendar", name, post)
        cal = pagecache.per_files(files, key, lambda: psvc.calendar(name, post or None))
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
        status_code=status_code,
        cal=cal,
        posts=posts,
        days=week,
        prev_from=days[max(i - 7, 0)]["day"] if i > 0 else None,
        next_from=days[i + 7]["day"] if i + 7 < len(days) else None,
        can_plan=user.can(Action.PATROLS_PLAN),
        # the zones of the post shown (a post closes its own zones; another post: switch post)
        zones=[{"id": z.id, "name": z.name} for z in proto.zones if z.id in set(cal["zones"])],
        units=sorted((u.code for u in proto.units), key=lambda c: (c[:3], c)),
        message=message,
        message_css=css,
        problems=problems or [],
        form=form or {"from": days[min(1, len(days) - 1)]["day"] if days else ""},
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
    return _calendar_view(request, db, user, name, post, start)


def plan_replan_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    name: str = PathParam(max_length=100),
    first: str = Form(..., alias="from", max_length=10),
    post: str = Form("", max_length=80),
    zone: str = Form("", max_length=80),
    zone_from: str = Form("", max_length=16),
    zone_to: str = Form("", max_length=16),
    unit: str = Form("", max_length=80),
    unit_from: str = Form("", max_length=16),
    unit_to: str = Form("", max_length=16),
    cap: str = Form("", max_length=6),
    cap_from: str = Form("", max_length=16),
) -> HTMLResponse:
    """Re-plan the plan from a day with the form's changes (`replan_saved`, as the API): on
    success the new plan's page; on error this plan's page with every problem and the form kept."""
    from safecities.errors import SafecitiesError
    from safecities.patrols.replan import ChangesInvalid
    from safecities.patrols.service import saved as psvc

    form = {"from": first, "zone": zone, "zone_from": zone_from, "zone_to": zone_to,
            "unit": unit, "unit_from": unit_from, "unit_to": unit_to, "cap": cap,
            "cap_from": cap_from}  # fmt: skip
    changes: dict = {}
    if zone or zone_from or zone_to:
        changes["close_zone"] = [{"zone": zone, "from": zone_from, "to": zone_to}]
    if unit or unit_from or unit_to:
        changes["unit_unavailable"] = [{"unit": unit, "from": unit_from, "to": unit_to}]
    if cap or cap_from:
        changes["cap"] = {"value": int(cap) if cap.isdigit() else cap, "from": cap_from}
    d1 = _day(first)
    try:
        if d1 is None:
            raise InputError("from: YYYY-MM-DD")
        if not changes:
            raise InputError("changes: give a zone closed, a unit unavailable or a lower cap")
        opts = psvc.SavedReplanOptions(name=name, first=d1, changes=changes, time_limit=30)
        plan = psvc.replan_saved(request.app.state.engine, opts)
    except NotFound:
        raise HTTPException(404) from None
    except SafecitiesError as exc:
        message, problems = str(exc), []
        if isinstance(exc, ChangesInvalid):  # every problem on its own line, each translated
            message, problems = f"{exc.source}: {len(exc.problems)} problem(s)", exc.problems
        return _calendar_view(
            request, db, user, name, post or None, None, message=message, css="error",
            status_code=400, form=form, problems=problems,
        )  # fmt: skip
    psvc.audit_replan(request.app.state.engine, plan, actor=user.name, seed=0)
    rp = plan["replan"]
    msg = (
        f"{plan['name']}: re-planned from {plan['from'].isoformat()}; {rp['changed_shifts']} of "
        f"{rp['old_shifts']} shifts and {rp['changed_assignments']} of {rp['old_assignments']} "
        f"visits changed; gap {plan['gap']:.4f}"
    )
    if rp["fallback"]:
        msg += "; keeping the old plan failed: planned afresh from that day"
    day = plan["from"].isoformat()
    return _calendar_view(request, db, user, plan["name"], post or None, day, message=msg)


router.get("/patrols/plans/{name}", response_class=HTMLResponse)(plan_calendar_page)
router.post("/patrols/plans/{name}/replan", response_class=HTMLResponse)(plan_replan_page)
router.get("/patrols/protocols/{protocol_id}", response_class=HTMLResponse)(protocol_page)


# --- the request builder (issue 14) -------------------------------------------------------------


def _builder_form(form) -> tuple:
    """The form's fields as a `RequestDraft` (and what to show again in the form)."""
    from safecities.patrols.builder import FipaDraft, RequestDraft

    def num(name: str, default: int) -> int:
        try:
            return int(form.get(name) or default)
        except ValueError:
            return default

    fipa = []
    rows = zip(
        form.getlist("fipa_date"), form.getlist("fipa_start"), form.getlist("fipa_end"),
        form.getlist("fipa_zone"), form.getlist("fipa_soldiers"), strict=False,
    )  # fmt: skip
    for d, st, en, zone, soldiers in rows:
        if d or st or en or zone or soldiers:
            fipa.append(FipaDraft(d, st, en, zone, int(soldiers) if soldiers.isdigit() else 0))
    draft = RequestDraft(
        city=str(form.get("city") or "antwerp"),
        version=str(form.get("version") or "")[:40],
        start=str(form.get("start") or "")[:10],
        months=max(1, min(24, num("months", 6))),
        soldier_cap=num("soldier_cap", 20),
        stations=list(form.getlist("station")) if "city" in form else None,
        police_units=max(1, min(2000, num("police_units", 30))),
        defence_units=max(1, min(2000, num("defence_units", 10))),
        drawn_zones_admit_soldiers=form.get("zones_admit_soldiers") == "yes",
        fipa=fipa,
    )
    return draft, str(form.get("reason") or "")[:2000]


def _drawn_zones(form, draft, errors: list) -> None:
    upload = form.get("zones")
    if upload is None or not getattr(upload, "filename", ""):
        return
    data = upload.file.read(5 * 1024 * 1024 + 1)
    if len(data) > 5 * 1024 * 1024:
        errors.append({"path": "$.drawn_zones", "message": "the file is larger than 5 MB"})
        return
    try:
        draft.drawn_zones = load_json(data.decode("utf-8-sig"))  # safeio: no NaN, no bomb
    except (UnicodeDecodeError, ValueError):
        errors.append(
            {"path": "$.drawn_zones", "message": "a GeoJSON FeatureCollection is expected"}
        )


def _builder_result(request, form):
    from safecities.errors import InputError
    from safecities.patrols import service

    draft, reason = _builder_form(form)
    errors: list[dict] = []
    _drawn_zones(form, draft, errors)
    try:
        result = service.draft(draft)
    except InputError as exc:
        return draft, reason, None, [{"path": "$.city", "message": str(exc)}]
    tr = i18n.translations(language(request)).gettext
    errors += result.errors
    shown = [
        {"path": e["path"], "message": server_text.translate(e["message"], tr)} for e in errors
    ]
    return draft, reason, result, shown


def _builder_view(
    request, user, draft, reason, errors, valid=False, message=None, css="success", status_code=200,
    document=None,
):  # fmt: skip
    """The builder form; `document`: the draft's protocol when the caller has built it already."""
    from babel.numbers import format_decimal

    from safecities.domain import CITIES
    from safecities.patrols import service
    from safecities.patrols.builder import BOUNDARY_NOTE

    lang = language(request)
    stations = service.stations(draft.city) if draft.city != "brussels" else []
    chosen = set(draft.stations) if draft.stations is not None else {s["id"] for s in stations}
    zone_choices = []
    if stations:  # FIPA may be placed in any zone the draft has
        doc = document or service.draft(draft).document
        zone_choices = [{"id": z["id"], "name": z["name"]} for z in doc["zones"]]
    form = {
        "version": draft.version, "start": draft.start or date.today().isoformat(),
        "months": draft.months, "soldier_cap": draft.soldier_cap,
        "police_units": draft.police_units, "defence_units": draft.defence_units,
        "stations": chosen, "zones_admit_soldiers": draft.drawn_zones_admit_soldiers,
        "fipa": [f.__dict__ for f in draft.fipa], "reason": reason,
    }  # fmt: skip
    return render(
        request,
        "patrols_builder.html",
        status_code=status_code,
        city=draft.city,
        city_name=_city_name(draft.city, lang),
        cities=[{"id": c, "name": _city_name(c, lang)} for c in CITIES],
        note=BOUNDARY_NOTE.get(draft.city),
        stations=stations,
        zone_choices=zone_choices,
        form=form,
        errors=errors,
        valid=valid,
        can_plan=user.can(Action.PATROLS_PLAN),
        fmt_km=lambda m: format_decimal(round(m / 1000, 1), locale=lang),
        message=message,
        message_css=css,
    )


def builder_page(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    city: str = Query("antwerp", max_length=20),
) -> HTMLResponse:
    from safecities.domain import CITIES
    from safecities.patrols.builder import RequestDraft

    draft = RequestDraft(city=city if city in CITIES else "antwerp")
    return _builder_view(request, user, draft, "", [])


async def _form(request: Request):
    return await request.form(max_files=2, max_fields=200)


def builder_post(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    form=Depends(_form),
) -> Response:
    """Check the composed request, download its YAML, or send it (nothing is stored unless it
    validates)."""
    from fastapi.responses import RedirectResponse

    from safecities.errors import SafecitiesError
    from safecities.patrols.governance import request_document

    draft, reason, result, errors = _builder_result(request, form)
    do = form.get("do") or "check"
    tr = i18n.translations(language(request)).gettext
    doc = None if result is None else result.document
    if result is None or errors:
        return _builder_view(request, user, draft, reason, errors, status_code=400, document=doc)
    if do == "yaml":
        name = f"protocol-{draft.city}-{result.document['version']}.yaml"
        return Response(
            result.yaml(),
            media_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if do == "request":
        if not user.can(Action.PATROLS_PLAN):
            raise HTTPException(403)
        if not reason.strip():
            errors = [{"path": "reason", "message": tr(N_("Give the reason for the request."))}]
            return _builder_view(
                request, user, draft, reason, errors, status_code=400, document=doc
            )
        try:
            out = request_document(
                db, result.document, reason=reason, actor=user.name, source=draft.city
            )
            db.commit()
        except SafecitiesError as exc:
            db.rollback()
            return _builder_view(
                request, user, draft, reason, [], message=str(exc), css="error", status_code=400,
                document=doc,
            )  # fmt: skip
        return RedirectResponse(f"/patrols/protocols/{out['id']}", status_code=303)
    return _builder_view(request, user, draft, reason, [], valid=True, document=doc)


def builder_check(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    form=Depends(_form),
) -> JSONResponse:
    """Live validation of the builder form: `{valid, errors: [{path, message}]}` translated."""
    _, _, result, errors = _builder_result(request, form)
    return JSONResponse({"valid": result is not None and not errors, "errors": errors})


router.get("/patrols/request/new", response_class=HTMLResponse)(builder_page)
router.post("/patrols/request/new")(builder_post)
router.post("/patrols/request/check")(builder_check)
