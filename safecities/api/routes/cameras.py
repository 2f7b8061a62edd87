"""CCTV register: thin routes over safecities.cameras.service (which scopes camera operators to
their own municipality and writes the history and audit entries)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from safecities import exports
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import MAX_LISTED_ERRORS, ReportDownload, read_upload, upload_name
from safecities.api.permissions import Action
from safecities.cameras import service
from safecities.cameras.service import verbs
from safecities.domain import BELGIUM_BBOX, Role
from safecities.errors import InputError
from safecities.store.cache import cached, data_version

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
CamId = Annotated[str, Path(max_length=80)]

#: Upper bound on the solver time of one planner request: the per-solve time limit is cut so
#: that (1 + alternatives + curve points) solves stay within it (the run is in the background
#: worker: a request never waits more than API_WAIT_SECONDS).
PLAN_TOTAL_SECONDS = 20.0
#: How long an API request waits for a planner run before answering 202 (running).
API_WAIT_SECONDS = 5.0


def caller_of(user: Principal) -> service.Caller:
    return service.Caller(user.name, user.role, user.municipality_id)


def coverage_cached(db, engine, user: Principal, req: verbs.CoverageRequest) -> dict[str, Any]:
    """`verbs.coverage(...).to_dict(layers=True)` cached until the next write (per scope)."""
    scope = user.municipality_id if user.role is Role.CAMERA_OPERATOR else None
    key = ("cameras_coverage", scope, str(user.role), repr(req))
    return cached(
        db, key, lambda: verbs.coverage(db, engine, caller_of(user), req).to_dict(layers=True)
    )


def coverage_request(user: Principal, **options: Any) -> verbs.CoverageRequest:
    """Coverage options; roles without `hotspots.read` get no hotspot-cell features."""
    return verbs.CoverageRequest(hotspot_cells=user.can(Action.HOTSPOTS_READ), **options)


def plan_document(db, engine, req: verbs.PlanRequest, *, wait: float) -> dict[str, Any]:
    """The planner run in the background worker (PlanRunning after `wait` seconds)."""
    req.total_seconds = PLAN_TOTAL_SECONDS
    return verbs.plan_in_background(engine, req, data_version(db), wait=wait)


@router.get("", responses=exports.openapi())
def list_cameras(
    response: Response,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    municipality: str | None = Query(None, max_length=60, description="NIS code or name."),
    status: str | None = Query(None, max_length=32),
    limit: int | None = Query(None, ge=1, le=1000, description="Page size (default: all)."),
    offset: int = Query(0, ge=0, le=10**9),
    fmt: Literal["json", "csv", "xlsx", "geojson"] = Query(
        "json", alias="format", description="csv/xlsx/geojson: every filtered camera, unpaged."
    ),
) -> Any:
    """Cameras the caller may see (a camera operator: only their municipality), by id; the
    number matching the filters is in the `X-Total-Count` header."""
    cams = verbs.list_(db, caller_of(user), municipality=municipality, status=status).to_dict()[
        "cameras"
    ]
    if fmt != "json":
        return exports.response(exports.export(cams, fmt, "cameras", service.COLUMNS))
    response.headers["X-Total-Count"] = str(len(cams))
    return cams[offset : offset + limit] if limit else cams[offset:]


@router.get("/geojson", responses={200: {"content": {"application/geo+json": {}}}})
def cameras_geojson(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    municipality: str | None = Query(None, max_length=60),
) -> dict[str, Any]:
    """The same cameras as GeoJSON points (map layer)."""
    doc = verbs.list_(db, caller_of(user), municipality=municipality).to_dict()
    return verbs.camera_geojson(doc["cameras"])


@router.get("/counts")
def counts(
    db: DbSession, user: Annotated[Principal, Depends(require(Action.REFERENCE_READ))]
) -> list[dict[str, Any]]:
    """Cameras per municipality and status (no positions; every role)."""
    return verbs.counts(db, caller_of(user)).to_dict()["municipalities"]


@router.get("/duplicates")
def duplicates(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))],
    status: Literal["candidate", "confirmed", "rejected"] | None = Query("candidate"),
) -> list[dict[str, Any]]:
    """Possible duplicates across sources (operators: pairs touching their municipality)."""
    return verbs.duplicates_list(db, caller_of(user), status).to_dict()["duplicates"]


@router.post("/duplicates/{dup_id}/confirm", responses={400: {}, 404: {}})
def confirm_duplicate(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = Path(ge=1, le=2**31 - 1),
    keep: str | None = Query(None, max_length=80, description="Camera id to keep."),
) -> dict[str, Any]:
    """Same camera: keep one record, mark the other removed (history and audit written)."""
    out = verbs.duplicates_confirm(db, caller_of(user), dup_id, keep).to_dict()["duplicate"]
    db.commit()
    return out


@router.post("/duplicates/{dup_id}/reject", responses={400: {}, 404: {}})
def reject_duplicate(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    dup_id: int = Path(ge=1, le=2**31 - 1),
) -> dict[str, Any]:
    """Two different cameras: never propose this pair again."""
    out = verbs.duplicates_reject(db, caller_of(user), dup_id).to_dict()["duplicate"]
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
    source: str | None = Form(None, max_length=40, description="Source name: the id namespace"
                              " (<NIS>-<source>-<id in the file>); default: the file name."),
    report: Literal["json", "csv"] = Query("json", description="csv: a refused file answers"
                                           " every problem as errors.csv"),
) -> Any:  # fmt: skip
    """Import a municipal camera inventory all-or-nothing (as `safecities cameras import`);
    bad rows are reported (400: the first 50 in `errors` [{file, row, field, reason, value}],
    `errors_total`, `error_counts` per field and reason; `report=csv`: every problem as
    errors.csv); a camera operator may import only into their own municipality (403)."""
    name = upload_name(file.filename)
    data = read_upload(file)
    map_bytes = read_upload(mapping) if mapping is not None else None
    download = ReportDownload(report == "csv")
    try:  # every problem streamed to the report file; 50 kept in memory (issue 18, item 3)
        out = verbs.import_upload(db, caller_of(user), name, data, municipality, map_bytes,
                                  source=source, report=download.path,
                                  keep=MAX_LISTED_ERRORS).to_dict()  # fmt: skip
        db.commit()
    except InputError:
        db.rollback()
        if download.path:
            return download.response(400)
        raise
    except Exception:
        db.rollback()
        raise
    finally:
        download.discard()
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
    req = coverage_request(user, cell=cell, station_radius=station_radius,
                           default_range=range_m, connected_only=connected_only)  # fmt: skip
    return coverage_cached(db, request.app.state.engine, user, req)


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

    req = coverage_request(user, default_range=range_m, connected_only=connected_only)
    res = coverage_cached(db, request.app.state.engine, user, req)
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
    cost_yearly: float | None = Field(None, ge=0, le=1e7, description="Euros a year (TCO).")


class DemandIn(BaseModel):
    demand_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    lat: float = Field(ge=_LAT0, le=_LAT1)
    lon: float = Field(ge=_LON0, le=_LON1)
    weight: float = Field(1.0, ge=0, le=1e6)


class MunicipalIn(BaseModel):
    municipality: str = Field(min_length=1, max_length=60, description="NIS code or name.")
    budget: float | None = Field(None, ge=0, le=1e9)
    share: float | None = Field(None, ge=0, le=1)
    capacity: int | None = Field(None, ge=0, le=100_000)


class PlanIn(BaseModel):
    """Planner options (as `safecities cameras plan`); sizes and solver time are bounded."""

    budget: float = Field(ge=0, le=1e9, description="Budget in euros.")
    radius: float = Field(150.0, ge=1, le=500, description="Coverage radius in metres.")
    alternatives: int = Field(0, ge=0, le=1, description="A near-optimal alternative layout.")
    share: float = Field(0.95, ge=0, le=1, description="Share of the optimum an alternative keeps.")
    min_difference: float = Field(
        0.25,
        gt=0,
        le=1000,
        description="Sites each alternative"
        " drops: a share of the optimum's sites (< 1) or a count.",
    )
    years: int = Field(0, ge=0, le=50, description="Total cost of ownership over N years.")
    city: str = Field(
        "brussels",
        pattern=r"^(brussels|antwerp|ghent|all)$",
        description="Database inputs: a bundled city or 'all' (national view).",
    )
    municipal_budgets: list[MunicipalIn] | None = Field(
        None,
        min_length=1,
        max_length=600,
        description="Municipal budget caps, shares and control-room capacities.",
    )
    curve_steps: int = Field(5, ge=0, le=6, description="Points on the coverage-budget curve.")
    time_limit: float = Field(
        5.0, ge=0.1, le=5,
        description=f"Solver time limit per solve (s); cut so all solves take at most "
        f"{PLAN_TOTAL_SECONDS:g} s of solver time.",
    )  # fmt: skip
    ignore_register: bool = Field(
        False,
        description="Leave out the register's connected cameras (by default they cover for free).",
    )
    candidates: list[SiteIn] | None = Field(
        None, min_length=1, max_length=2000, description="Candidate sites (default: database)."
    )
    demand: list[DemandIn] | None = Field(
        None, min_length=1, max_length=5000, description="Demand points (default: database)."
    )


@router.post(
    "/plan",
    responses={202: {}, 400: {}, 429: {}, **exports.openapi()},
)
def plan(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_PLAN))],
    body: PlanIn,
    fmt: Literal["json", "csv", "xlsx", "geojson"] = Query(
        "json", alias="format", description="csv/xlsx/geojson: the chosen sites only."
    ),
) -> Any:
    """Budget planner (as `safecities cameras plan --json`): chosen sites, covered demand, the
    coverage-against-budget `curve` and the `manifest` with the solver's status and gap.
    Cached until the next write. A run longer than 5 s answers 202 `{status: "running"}` with
    Retry-After: send the same body again for the result (429 when too many runs are queued).
    `format` downloads the chosen sites."""
    p = body.model_dump()
    req = verbs.PlanRequest(**{k: p[k] for k in ("budget", "radius", "alternatives", "share",
                                                 "min_difference", "curve_steps", "time_limit",
                                                 "candidates", "demand",
                                                 "ignore_register", "municipal_budgets",
                                                 "years")},
                            city=None if p["city"] == "all" else p["city"])  # fmt: skip
    try:
        report = plan_document(db, request.app.state.engine, req, wait=API_WAIT_SECONDS)
        if fmt == "json":
            return report
        from safecities.cameras.planning import chosen_export

        return exports.response(chosen_export(report, fmt))
    except verbs.PlanRunning as exc:
        return JSONResponse({"status": "running", "detail": str(exc)}, status_code=202,
                            headers={"Retry-After": "3"})  # fmt: skip
    except verbs.PlanBusy as exc:
        return JSONResponse({"status": "busy", "detail": str(exc)}, status_code=429,
                            headers={"Retry-After": "30"})  # fmt: skip


@router.get("/{cam_id}", responses={404: {}})
def get_camera(
    cam_id: CamId, db: DbSession, user: Annotated[Principal, Depends(require(Action.CAMERAS_READ))]
) -> dict[str, Any]:
    """One camera (refused for another municipality's camera to a camera operator)."""
    return verbs.show(db, caller_of(user), cam_id).to_dict()["camera"]


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
    doc = verbs.show(db, caller_of(user), cam_id, moment).to_dict()
    return {"command": doc["command"], "camera_id": cam_id, "at": doc["at"],
            "camera": doc["camera"]}  # fmt: skip


@router.get("/{cam_id}/history", responses={404: {}})
def camera_history(
    cam_id: CamId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_HISTORY))],
) -> list[dict[str, Any]]:
    """Every version of a camera: who changed which fields, when."""
    return verbs.history(db, caller_of(user), cam_id).to_dict()["changes"]


@router.patch("/{cam_id}", responses={400: {}, 404: {}})
def edit_camera(
    cam_id: CamId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.CAMERAS_EDIT))],
    changes: dict[str, Any] = Body(..., examples=[{"status": "inactive", "retention_days": 30}]),
) -> dict[str, Any]:
    """Change fields of a camera (validated like an import row; history and audit written)."""
    out = verbs.edit(db, caller_of(user), cam_id, dict(changes)).to_dict()["camera"]
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
    out = verbs.add(db, caller_of(user), municipality, dict(data)).to_dict()["camera"]
    db.commit()
    return out
