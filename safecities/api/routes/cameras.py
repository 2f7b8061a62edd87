"""CCTV register: thin routes over safecities.cameras.service (which scopes camera operators to
their own municipality and writes the history and audit entries)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from safecities.api import cameras as adapter
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.domain import BELGIUM_BBOX

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
CamId = Annotated[str, Path(max_length=80)]


caller_of = adapter.caller_of


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


# -- import, coverage, planner (declared before /{cam_id} so their paths are not taken as ids) --


@router.post("/import", responses={400: {}, 403: {}})
def import_cameras(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    file: UploadFile = File(..., description="Inventory: CSV (NL/FR/EN headers, ',' or ';'),"
                            " GeoJSON points or Excel (.xlsx)."),
    municipality: str = Form(..., max_length=60, description="NIS code or Dutch/French name."),
    mapping: UploadFile | None = File(None, description="YAML 'field: column header' lines"
                                      " overriding the built-in header synonyms."),
) -> dict[str, Any]:  # fmt: skip
    """Import a municipal camera inventory all-or-nothing (as `safecities cameras import`);
    every bad row is reported (400, `errors` [{file, row, field, reason, value}]); a camera
    operator may import only into their own municipality (403)."""
    name = upload_name(file.filename)
    data = read_upload(file)
    map_bytes = read_upload(mapping) if mapping is not None else None
    try:
        out = adapter.import_upload(db, user, name, data, municipality, map_bytes)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return out


@router.get("/coverage")
def coverage(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    cell: float = Query(200.0, ge=25, le=2000, description="Cell size (m) of incident counts."),
    station_radius: float = Query(100.0, ge=1, le=1000, description="Station covered within (m)."),
    range_m: float = Query(50.0, ge=1, le=500, alias="range",
                           description="Range (m) of cameras that do not give one."),
    connected_only: bool = Query(False, description="Only cameras connected to the register."),
) -> dict[str, Any]:  # fmt: skip
    """Share of hotspot risk, stations and named zones the active cameras cover today (as
    `safecities cameras coverage --json`), plus `layers`: camera sectors, hotspot cells,
    stations and zones as one GeoJSON FeatureCollection (`layer` property)."""
    return adapter.coverage(db, request.app.state.engine, user, cell=cell,
                            station_radius=station_radius, default_range=range_m,
                            connected_only=connected_only)  # fmt: skip


@router.get("/coverage/geojson", responses={200: {"content": {"application/geo+json": {}}}})
def coverage_geojson(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    range_m: float = Query(50.0, ge=1, le=500, alias="range"),
    connected_only: bool = Query(False),
) -> Response:
    """Only the coverage map layers (GeoJSON FeatureCollection) for the cameras map."""
    import json

    res = adapter.coverage(db, request.app.state.engine, user, default_range=range_m,
                           connected_only=connected_only)  # fmt: skip
    return Response(json.dumps(res["layers"], separators=(",", ":")),
                    media_type="application/geo+json")  # fmt: skip


_LON0, _LAT0, _LON1, _LAT1 = BELGIUM_BBOX


class SiteIn(BaseModel):
    site_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    lat: float = Field(ge=_LAT0, le=_LAT1)
    lon: float = Field(ge=_LON0, le=_LON1)
    cost: float = Field(0.0, ge=0, le=1e8)
    direction: float | None = Field(None, ge=0, le=360)
    angle: float | None = Field(None, ge=1, le=360)
    range_m: float | None = Field(None, ge=1, le=1000)
    existing: Literal["new", "connect", "connected"] = "new"


class DemandIn(BaseModel):
    demand_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    lat: float = Field(ge=_LAT0, le=_LAT1)
    lon: float = Field(ge=_LON0, le=_LON1)
    weight: float = Field(1.0, ge=0, le=1e6)


class PlanIn(BaseModel):
    """Planner options (as `safecities cameras plan`); sizes and solver time are bounded."""

    budget: float = Field(ge=0, le=1e9, description="Budget in euros.")
    radius: float = Field(150.0, ge=1, le=500, description="Coverage radius in metres.")
    alternatives: int = Field(0, ge=0, le=1, description="A near-optimal alternative layout.")
    share: float = Field(0.95, ge=0, le=1, description="Share of the optimum an alternative keeps.")
    min_difference: int = Field(1, ge=1, le=10)
    curve_steps: int = Field(5, ge=0, le=6, description="Points on the coverage-budget curve.")
    time_limit: float = Field(
        5.0, ge=0.1, le=5,
        description=f"Solver time limit per solve (s); cut so all solves take at most "
        f"{adapter.PLAN_TOTAL_SECONDS:g} s of solver time.",
    )  # fmt: skip
    candidates: list[SiteIn] | None = Field(
        None, min_length=1, max_length=2000, description="Candidate sites (default: database)."
    )
    demand: list[DemandIn] | None = Field(
        None, min_length=1, max_length=5000, description="Demand points (default: database)."
    )


@router.post("/plan", responses={202: {}, 400: {}, 429: {}})
def plan(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_PLAN))],
    body: PlanIn,
) -> Any:
    """Budget planner (as `safecities cameras plan --json`): chosen sites, covered demand, the
    coverage-against-budget `curve` and the `manifest` with the solver's status and gap.
    Cached until the next write. A run longer than 5 s answers 202 `{status: "running"}` with
    Retry-After: send the same body again for the result (429 when too many runs are queued)."""
    try:
        return adapter.plan(db, request.app.state.engine, body.model_dump())
    except adapter.PlanRunning as exc:
        return JSONResponse({"status": "running", "detail": str(exc)}, status_code=202,
                            headers={"Retry-After": "3"})  # fmt: skip
    except adapter.PlanBusy as exc:
        return JSONResponse({"status": "busy", "detail": str(exc)}, status_code=429,
                            headers={"Retry-After": "30"})  # fmt: skip


@router.get("/{cam_id}", responses={404: {}})
def get_camera(
    cam_id: CamId, db: DbSession, user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))]
) -> dict[str, Any]:
    """One camera (refused for another municipality's camera to a camera operator)."""
    from safecities.cameras import service

    return service.get_camera(db, caller_of(user), cam_id)


@router.get("/{cam_id}/at", responses={400: {}, 404: {}})
def camera_at(
    cam_id: CamId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_HISTORY))],
    moment: datetime = Query(
        ..., description="ISO 8601 with a time zone, e.g. 2025-03-01T12:00+01:00"
    ),
) -> dict[str, Any]:
    """`cameras show --at`: the camera as it was at a past moment (`camera` null when it did
    not exist yet), from its history."""
    from safecities.cameras import service

    state = service.state_at(db, caller_of(user), cam_id, moment)
    return {
        "command": "cameras show",
        "camera_id": cam_id,
        "at": moment.isoformat(),
        "camera": state,
    }


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
