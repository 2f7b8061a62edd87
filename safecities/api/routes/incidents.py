"""Incidents: list with filters, map points, trend summary, file import with row-level errors."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from safecities.api import incidents as svc
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import Day, capped, read_upload, upload_name
from safecities.api.permissions import Action
from safecities.api.schemas import ImportOut, IncidentPage
from safecities.domain import BRUSSELS_TZ, CITIES, IncidentKind
from safecities.errors import InputError

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
City = Literal[CITIES]  # type: ignore[valid-type]
MAX_UPLOAD = 50 * 1024 * 1024


def _local_midnight(d: date | None) -> datetime | None:
    return datetime.combine(d, time(0), tzinfo=BRUSSELS_TZ) if d else None


@router.get("", response_model=IncidentPage)
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
) -> IncidentPage:
    """Incidents, newest first, filtered by period, municipality and kind."""
    total, rows = svc.list_incidents(
        db,
        city=city,
        since=_local_midnight(since),
        until=_local_midnight(until),
        municipality=municipality,
        kind=kind.value if kind else None,
        limit=limit,
        offset=offset,
    )
    return IncidentPage(total=total, incidents=rows)


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
    _: Annotated[Principal, Depends(require(Action.INCIDENTS_SUMMARY))],
    city: City = Query("brussels"),
    since: Day | None = Query(None),
    municipality: str | None = Query(None, max_length=60),
) -> dict[str, Any]:
    """Counts, injured and killed by month and municipality; since 1 January / since summer."""
    engine = request.app.state.engine
    key = ("summary", str(engine.url), city, since, municipality)
    return svc.cached(
        db, key, lambda: svc.summary(engine, city=city, since=since, municipality=municipality)
    )


@router.post("/import", response_model=ImportOut, responses={422: {"model": ImportOut}, 503: {}})
def import_incidents(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_IMPORT))],
    file: UploadFile = File(..., description="CSV, GeoJSON or Parquet with the standard columns"),
) -> Any:
    """Import a file all-or-nothing; every bad row is reported with row, field and reason."""
    name = upload_name(file.filename)
    data = read_upload(file)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            report = svc.import_file(request.app.state.engine, path, actor=user.name)
        except InputError as exc:
            errors = [_err(e) for e in exc.errors] or [
                {"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}
            ]
            body = ImportOut(
                ok=False, file=name, rows_read=0, inserted=0, unchanged=0, **capped(errors)
            )
            return JSONResponse(body.model_dump(), status_code=422)
    out = ImportOut(
        ok=report.ok,
        file=name,
        rows_read=report.rows_read,
        inserted=report.inserted,
        unchanged=report.unchanged,
        **capped([_err(e) for e in report.errors]),
    )
    return JSONResponse(out.model_dump(), status_code=200 if report.ok else 422)


def _err(e) -> dict[str, Any]:
    return {
        "file": Path(str(e.file)).name,
        "row": e.row,
        "field": e.field,
        "reason": e.reason,
        "value": e.value,
    }
