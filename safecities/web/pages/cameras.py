"""Cameras: register table and map with the coverage layer and figures, import form with the
row-level error report, edit form, history, duplicates to confirm, and the budget planner with
its coverage-against-budget curve. Every figure comes from `safecities.cameras.service` (the same
verbs as the CLI and the API)."""

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.api.routes.cameras import (
    caller_of,
    coverage_cached,
    coverage_request,
    plan_document,
)
from safecities.cameras.service import verbs
from safecities.domain import Role
from safecities.errors import InputError, NotFound, PermissionDenied
from safecities.web import labels
from safecities.web.labels import N_
from safecities.web.pages.core import (
    PAGE_SIZE,
    _municipalities,
    language,
    map_labels,
    render,
    table_nav,
    translate,
)

router = APIRouter(include_in_schema=False)

#: Labels used by /static/cameras.js for its map layers (translated per request).
LAYER_LABELS = {"coverage": N_("Camera coverage"), "chosen": N_("Chosen sites"),
                "chosen_new": N_("new camera site"),
                "chosen_connect": N_("existing camera to connect")}  # fmt: skip


def _caller(user: Principal):
    return caller_of(user)


def _layer_labels(request: Request) -> dict[str, str]:
    return {k: translate(request, v) for k, v in LAYER_LABELS.items()}


def _import_municipalities(user: Principal, lang: str | None = None) -> list[dict]:
    munis = _municipalities(lang)
    if user.role is Role.CAMERA_OPERATOR:
        return [m for m in munis if m["nis"] == user.municipality_id]
    return munis


def _cameras_page(
    request, db, user: Principal, import_result=None, status_code=200, f=None, offset: int = 0
):
    f = f or {"municipality": None, "status": None}
    lang = language(request)
    munis = {m["nis"]: m["name"] for m in _municipalities(lang)}
    if f["municipality"] not in munis or (
        user.role is Role.CAMERA_OPERATOR and f["municipality"] != user.municipality_id
    ):
        f["municipality"] = None  # an operator's list is their municipality anyway
    if f["status"] not in labels.CAMERA_STATUS_LABELS:
        f["status"] = None
    cams = verbs.list_(db, _caller(user), **f).to_dict()["cameras"]
    nav = table_nav(request, "/api/cameras", f, len(cams), offset)
    cov = coverage_cached(db, request.app.state.engine, user, coverage_request(user))
    return render(
        request,
        "cameras.html",
        status_code=status_code,
        cameras=cams[offset : offset + PAGE_SIZE],
        total=len(cams),
        table=nav,
        f=f,
        # an operator sees their own municipality only: no municipality filter to offer
        filter_municipalities=[] if user.role is Role.CAMERA_OPERATOR else _municipalities(lang),
        muni_names=munis,
        status_labels=labels.CAMERA_STATUS_LABELS,
        map_labels=map_labels(request),
        layer_labels=_layer_labels(request),
        coverage=cov,
        can_edit=user.can(Action.CAMERAS_EDIT),
        can_plan=user.can(Action.CAMERAS_PLAN),
        import_municipalities=_import_municipalities(user, lang),
        import_result=import_result,
    )


def cameras_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    municipality: str | None = Query(None, max_length=5),
    status: str | None = Query(None, max_length=32),
    offset: int = Query(0, ge=0, le=10**9),
) -> HTMLResponse:
    f = {"municipality": municipality or None, "status": status or None}
    return _cameras_page(request, db, user, f=f, offset=offset)


def cameras_import_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    file: UploadFile = File(...),
    municipality: str = Form(..., max_length=60),
) -> HTMLResponse:
    name = upload_name(file.filename)
    data = read_upload(file)
    status = 200
    try:
        out = verbs.import_upload(db, _caller(user), name, data, municipality).to_dict()
        db.commit()
        result = {"ok": True, **out}
    except InputError as exc:
        db.rollback()
        result = {"ok": False, "errors": verbs.error_rows(exc, name),
                  "errors_total": exc.errors_total}  # the first 200 listed  # fmt: skip
        status = 422
    except PermissionDenied as exc:
        db.rollback()
        result = {"ok": False, "errors": verbs.error_rows(InputError(str(exc)), name)}
        status = 403
    return _cameras_page(request, db, user, import_result=result, status_code=status)


# -- duplicates ----------------------------------------------------------------------------------


def _duplicates_page(request, db, user: Principal, *, done=None, error=None, status_code=200):
    from safecities.cameras import service

    caller = _caller(user)
    pairs = verbs.duplicates_list(db, caller, "candidate").to_dict()["duplicates"]
    cams = {}
    for d in pairs:
        for cid in (d["camera_a"], d["camera_b"]):
            if cid is None:  # the other municipality's side of a neutral pair: nothing shown
                continue
            try:
                cams[cid] = service.get_camera(db, caller, cid)
            except (PermissionDenied, NotFound):
                cams[cid] = None  # another municipality's camera: id only
    return render(
        request,
        "cameras_duplicates.html",
        status_code=status_code,
        pairs=pairs,
        cams=cams,
        muni_names={m["nis"]: m["name"] for m in _municipalities(language(request))},
        status_labels=labels.CAMERA_STATUS_LABELS,
        done=done,
        error=error,
    )


def duplicates_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
) -> HTMLResponse:
    done = request.query_params.get("done")
    return _duplicates_page(
        request, db, user, done=done if done in ("confirmed", "rejected") else None
    )


def _decide(request, db, user, dup_id: int, decide) -> Response | None:
    try:
        decide()
        db.commit()
    except NotFound:
        db.rollback()
        raise HTTPException(404) from None
    except PermissionDenied as exc:
        db.rollback()
        return _duplicates_page(request, db, user, error=str(exc), status_code=403)
    except InputError as exc:
        db.rollback()
        return _duplicates_page(request, db, user, error=str(exc), status_code=400)
    return None


def duplicate_confirm(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = PathParam(ge=1, le=2**31 - 1),
    keep: str = Form(..., max_length=80),
) -> Response:
    failed = _decide(
        request, db, user, dup_id, lambda: verbs.duplicates_confirm(db, _caller(user), dup_id, keep)
    )
    return failed or RedirectResponse("/cameras/duplicates?done=confirmed", status_code=303)


def duplicate_reject(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = PathParam(ge=1, le=2**31 - 1),
) -> Response:
    failed = _decide(
        request, db, user, dup_id, lambda: verbs.duplicates_reject(db, _caller(user), dup_id)
    )
    return failed or RedirectResponse("/cameras/duplicates?done=rejected", status_code=303)


# -- budget planner ------------------------------------------------------------------------------

CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 260, 56, 48, 16, 40


def curve_chart(report: dict) -> dict:
    """Chart coordinates of the coverage-against-budget curve (origin: the existing cameras).

    The vertical axis runs to the next tenth above the best share (so small shares stay legible)."""
    total = report.get("total_weight") or 0
    pts = [{"budget": 0.0, "share": (report["existing_weight"] / total) if total else 0.0,
            "n_sites": 0}]  # fmt: skip
    pts += [{"budget": p["budget"], "share": p["coverage_share"], "n_sites": p["n_sites"]}
            for p in report.get("curve") or []]  # fmt: skip
    top_b = max(p["budget"] for p in pts) or 1.0
    top_s = min(1.0, max(0.1, math.ceil(max(p["share"] for p in pts) * 10 - 1e-9) / 10))
    w, h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    for p in pts:
        p["x"] = round(PAD_L + w * p["budget"] / top_b, 1)
        p["y"] = round(PAD_T + h * (1 - p["share"] / top_s), 1)
    ticks = [{"label": round(100 * top_s * t), "y": round(PAD_T + h * (1 - t), 1)}
             for t in (0, 0.5, 1)]  # fmt: skip
    return {"points": pts, "ticks": ticks, "w": CHART_W, "h": CHART_H, "l": PAD_L,
            "r": CHART_W - PAD_R, "t": PAD_T, "b": CHART_H - PAD_B}  # fmt: skip


def _plan_page(
    request, user: Principal, form: dict, report=None, error=None, running=False, status_code=200
):
    return render(
        request,
        "cameras_plan.html",
        status_code=status_code,
        form=form,
        report=report,
        chart=curve_chart(report) if report else None,
        chosen_geojson=verbs.chosen_geojson(report) if report else None,
        error=error,
        running=running,
        map_labels=map_labels(request),
        layer_labels=_layer_labels(request),
        cities={k: translate(request, v) for k, v in CITIES.items()},
    )


#: How long the planner page waits for a run (the API answers 202 after 5 s instead).
PAGE_WAIT_SECONDS = 90.0
#: A national programme's order of magnitude (issue 17: EUR 500k planned a few streets).
DEFAULT_FORM = {"budget": 20_000_000, "radius": 150, "curve_steps": 5, "city": "brussels"}
#: Database inputs the page offers: a bundled city or every city (the national view).
CITIES = {"brussels": N_("Brussels"), "antwerp": N_("Antwerp"), "ghent": N_("Ghent"),
          "all": N_("All cities (national view)")}  # fmt: skip


def _plan_request(form: dict) -> verbs.PlanRequest:
    city = None if form["city"] == "all" else form["city"]
    return verbs.PlanRequest(form["budget"], form["radius"], curve_steps=form["curve_steps"],
                             time_limit=5.0, city=city)  # fmt: skip


def plan_page(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_PLAN))],
) -> HTMLResponse:
    return _plan_page(request, user, dict(DEFAULT_FORM))


def plan_run(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_PLAN))],
    budget: float = Form(..., ge=0, le=1e9),
    radius: float = Form(150.0, ge=1, le=500),
    curve_steps: int = Form(5, ge=0, le=6),
    city: str = Form("brussels", pattern=r"^(brussels|antwerp|ghent|all)$"),
    fmt: Literal["csv", "xlsx", "geojson"] | None = Form(None, alias="format"),
) -> Response:
    """Run the planner; with `format` (a download button under the result) the chosen sites of
    the same run, from the cache, as CSV, XLSX or GeoJSON."""
    form = {"budget": budget, "radius": radius, "curve_steps": curve_steps, "city": city}
    try:
        report = plan_document(db, request.app.state.engine, _plan_request(form),
                               wait=PAGE_WAIT_SECONDS)  # fmt: skip
    except InputError as exc:
        return _plan_page(request, user, form, error=str(exc), status_code=400)
    except (verbs.PlanRunning, verbs.PlanBusy):
        return _plan_page(request, user, form, running=True, status_code=202)
    if fmt:  # a download button under the result: the same run, from the cache
        from safecities import exports
        from safecities.cameras.planning import chosen_export

        return exports.response(chosen_export(report, fmt))
    return _plan_page(request, user, form, report=report)


# Fixed paths first: /cameras/{cam_id} would otherwise take them as camera ids.
router.get("/cameras", response_class=HTMLResponse)(cameras_page)
router.post("/cameras/import", response_class=HTMLResponse)(cameras_import_page)
router.get("/cameras/duplicates", response_class=HTMLResponse)(duplicates_page)
router.post("/cameras/duplicates/{dup_id}/confirm")(duplicate_confirm)
router.post("/cameras/duplicates/{dup_id}/reject")(duplicate_reject)
router.get("/cameras/plan", response_class=HTMLResponse)(plan_page)
router.post("/cameras/plan", response_class=HTMLResponse)(plan_run)


# -- one camera ----------------------------------------------------------------------------------


def _camera_page(
    request, db, user: Principal, cam_id: str, *, saved=False, error=None, status_code=200
) -> HTMLResponse:
    from safecities.cameras import service

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


router.get("/cameras/{cam_id}", response_class=HTMLResponse)(camera_page)
router.post("/cameras/{cam_id}")(camera_save)
