"""CCTV register: thin routes over safecities.cameras.service (which scopes camera operators to
their own municipality and writes the history and audit entries)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
CamId = Annotated[str, Path(max_length=80)]


def caller_of(user: Principal):
    from safecities.cameras.service import Caller

    return Caller(user.name, user.role, user.municipality_id)


def camera_geojson(cams: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
         "properties": {k: v for k, v in c.items() if k not in ("lat", "lon")}}
        for c in cams if c.get("lat") is not None and c.get("lon") is not None
    ]}  # fmt: skip


@router.get("")
def list_cameras(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    municipality: str | None = Query(None, max_length=60, description="NIS code or name."),
    status: str | None = Query(None, max_length=32),
) -> list[dict[str, Any]]:
    """Cameras the caller may see (a camera operator: only their municipality)."""
    from safecities.cameras import service

    return service.list_cameras(db, caller_of(user), municipality=municipality, status=status)


@router.get("/geojson", responses={200: {"content": {"application/geo+json": {}}}})
def cameras_geojson(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    municipality: str | None = Query(None, max_length=60),
) -> dict[str, Any]:
    """The same cameras as GeoJSON points (map layer)."""
    from safecities.cameras import service

    return camera_geojson(service.list_cameras(db, caller_of(user), municipality=municipality))


@router.get("/counts")
def counts(
    db: DbSession, user: Annotated[Principal, Depends(require(Action.REFERENCE_READ))]
) -> list[dict[str, Any]]:
    """Cameras per municipality and status (no positions; every role)."""
    from safecities.cameras import service

    return service.counts(db, caller_of(user))


@router.get("/duplicates")
def duplicates(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    status: Literal["candidate", "confirmed", "rejected"] | None = Query("candidate"),
) -> list[dict[str, Any]]:
    """Possible duplicates across sources (operators: pairs touching their municipality)."""
    from safecities.cameras import duplicates as dup

    return dup.list_duplicates(db, caller_of(user), status=status)


@router.post("/duplicates/{dup_id}/confirm", responses={400: {}, 404: {}})
def confirm_duplicate(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = Path(ge=1, le=2**31 - 1),
    keep: str | None = Query(None, max_length=80, description="Camera id to keep."),
) -> dict[str, Any]:
    """Same camera: keep one record, mark the other removed (history and audit written)."""
    from safecities.cameras import duplicates as dup

    out = dup.confirm(db, caller_of(user), dup_id, keep=keep)
    db.commit()
    return out


@router.post("/duplicates/{dup_id}/reject", responses={400: {}, 404: {}})
def reject_duplicate(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = Path(ge=1, le=2**31 - 1),
) -> dict[str, Any]:
    """Two different cameras: never propose this pair again."""
    from safecities.cameras import duplicates as dup

    out = dup.reject(db, caller_of(user), dup_id)
    db.commit()
    return out


@router.get("/{cam_id}", responses={404: {}})
def get_camera(
    cam_id: CamId, db: DbSession, user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))]
) -> dict[str, Any]:
    """One camera (refused for another municipality's camera to a camera operator)."""
    from safecities.cameras import service

    return service.get_camera(db, caller_of(user), cam_id)


@router.get("/{cam_id}/history", responses={404: {}})
def camera_history(
    cam_id: CamId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_HISTORY))],
) -> list[dict[str, Any]]:
    """Every version of a camera: who changed which fields, when."""
    from safecities.cameras import service

    return service.history(db, caller_of(user), cam_id)


@router.patch("/{cam_id}", responses={400: {}, 404: {}})
def edit_camera(
    cam_id: CamId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    changes: dict[str, Any] = Body(..., examples=[{"status": "inactive", "retention_days": 30}]),
) -> dict[str, Any]:
    """Change fields of a camera (validated like an import row; history and audit written)."""
    from safecities.cameras import service

    cam = service.update_camera(db, caller_of(user), cam_id, dict(changes))
    out = service.snapshot(cam)
    db.commit()
    return out


@router.post("", status_code=201, responses={400: {}})
def add_camera(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    municipality: str = Query(..., max_length=60, description="NIS code or name."),
    data: dict[str, Any] = Body(..., examples=[{"lat": 50.84, "lon": 4.33, "purpose": "..."}]),
) -> dict[str, Any]:
    """Declare a camera in a municipality."""
    from safecities.cameras import service

    cam = service.create_camera(db, caller_of(user), municipality, dict(data))
    out = service.snapshot(cam)
    db.commit()
    return out
