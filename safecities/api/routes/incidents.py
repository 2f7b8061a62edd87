"""Incidents: list with filters, map points, trend summary, file import with row-level errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from safecities import exports
from safecities.api import privacy
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import (
    MAX_LISTED_ERRORS,
    Day,
    ReportDownload,
    read_upload,
    upload_name,
)
from safecities.api.permissions import Action
from safecities.api.schemas import ImportOut, IncidentPage
from safecities.domain import CITIES, IncidentKind, local_midnight
from safecities.register import service as svc

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
City = Literal[CITIES]  # type: ignore[valid-type]
MAX_UPLOAD = 50 * 1024 * 1024


@router.get("", response_model=IncidentPage, responses=exports.openapi())
def list_incidents(
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.INCIDENTS_READ))],
    city: City = Query("brussels"),
    since: Day | None = Query(None, description="From this day (Brussels time), inclusive."),
    until: Day | None = Query(None, description="Before this day (Brussels time)."),
    municipality: str | None = Query(None, pattern=r"^\d{5}$", description="NIS code."),
    kind: IncidentKind | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
    fmt: Literal["json", "csv", "xlsx", "geojson"] = Query(
        "json", alias="format", description="csv/xlsx/geojson: every filtered incident, unpaged."
    ),
) -> Any:
    """Incidents, newest first, filtered by period, municipality and kind; `format` downloads
    all of them (limit and offset ignored)."""
    export = fmt != "json"
    q = svc.IncidentQuery(
        city=city,
        since=local_midnight(since),
        until=local_midnight(until),
        municipality=municipality,
        kind=kind.value if kind else None,
        limit=None if export else limit,
        offset=0 if export else offset,
    )
    page = svc.list_incidents(db, q)
    if export:
        return exports.response(
            exports.export(page.incidents, fmt, "incidents", svc.INCIDENT_COLUMNS)
        )
    return IncidentPage(**page.to_dict())


@router.get(
    "/geojson", response_class=Response, responses={200: {"content": {"application/geo+json": {}}}}
)
def incidents_geojson(
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.INCIDENTS_READ))],
    city: City = Query("brussels"),
) -> Response:
    """All incidents of a city as GeoJSON points (property t = epoch ms, for the time slider)."""
    return Response(svc.incidents_geojson_bytes(db, city=city), media_type="application/geo+json")


@router.get("/summary", responses={503: {}})
def summary(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_SUMMARY))],
    city: City = Query("brussels"),
    since: Day | None = Query(None),
    municipality: str | None = Query(None, max_length=60),
) -> dict[str, Any]:
    """Counts, injured and killed by month and municipality; since 1 January / since summer.
    Roles without incident access: only municipalities with >= k incidents (api.privacy)."""
    req = svc.SummaryRequest(city=city, since=since, municipality=municipality)
    out = svc.summary_cached(db, request.app.state.engine, req)
    return privacy.limit("summary", out, user, request.app.state.engine, city=city)


@router.post("/import", response_model=ImportOut, responses={422: {"model": ImportOut}, 503: {}})
def import_incidents(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_IMPORT))],
    file: UploadFile = File(..., description="CSV, GeoJSON or Parquet with the standard columns"),
    report: Literal["json", "csv"] = Query(
        "json", description="csv: a refused file answers every problem as errors.csv"
    ),
) -> Any:
    """Import a file all-or-nothing; every bad row is reported with row, field and reason (the
    first 50 and `errors_total`; `report=csv` downloads them all)."""
    name = upload_name(file.filename)
    data = read_upload(file)
    download = ReportDownload(report == "csv")
    try:  # every problem streamed to the report file; 50 kept in memory (issue 18, item 3)
        res = svc.import_upload(request.app.state.engine, name, data, actor=user.name,
                                keep=MAX_LISTED_ERRORS, report=download.path)  # fmt: skip
        if download.path and not res.ok:
            return download.response()
    finally:
        download.discard()
    out = ImportOut(**res.to_dict())
    return JSONResponse(out.model_dump(), status_code=200 if res.ok else 422)
