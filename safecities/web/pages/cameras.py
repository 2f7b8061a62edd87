"""Cameras: register table and map, edit form, history."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.errors import InputError
from safecities.web import labels
from safecities.web.pages.core import _municipalities, map_labels, render

router = APIRouter(include_in_schema=False)


def _caller(user: Principal):
    from safecities.cameras.service import Caller

    return Caller(user.name, user.role, user.municipality_id)


def cameras_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
) -> HTMLResponse:
    from safecities.cameras import service

    cams = service.list_cameras(db, _caller(user))
    munis = {m["nis"]: m["name"] for m in _municipalities()}
    return render(
        request,
        "cameras.html",
        cameras=cams,
        muni_names=munis,
        status_labels=labels.CAMERA_STATUS_LABELS,
        map_labels=map_labels(request),
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


router.get("/cameras", response_class=HTMLResponse)(cameras_page)
router.get("/cameras/{cam_id}", response_class=HTMLResponse)(camera_page)
router.post("/cameras/{cam_id}")(camera_save)
