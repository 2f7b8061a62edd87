"""Incidents: table with filters, import form with the row-level error report."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.domain import IncidentKind, local_midnight
from safecities.register import service as svc
from safecities.web import labels
from safecities.web.pages.core import (
    PAGE_SIZE,
    _day,
    _municipalities,
    language,
    render,
    table_nav,
)

router = APIRouter(include_in_schema=False)


def _incidents_page(
    request: Request, db, user: Principal, f: dict, import_result=None, offset: int = 0
):
    q = svc.IncidentQuery(
        city="brussels",
        since=local_midnight(f.get("since")),
        until=local_midnight(f.get("until")),
        municipality=f.get("municipality") or None,
        kind=f.get("kind") or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    page = svc.list_incidents(db, q)
    total, rows = page.total, page.incidents
    munis = _municipalities(language(request))
    return render(
        request,
        "incidents.html",
        incidents=rows,
        total=total,
        table=table_nav(request, "/api/incidents", f, total, offset),
        f=f,
        municipalities=munis,
        muni_names={m["nis"]: m["name"] for m in munis},
        kinds=[k.value for k in IncidentKind],
        kind_labels=labels.KIND_LABELS,
        can_import=user.can(Action.INCIDENTS_IMPORT),
        import_result=import_result,
        status_code=200 if import_result is None or import_result["ok"] else 422,
    )


@router.get("/incidents")
def incidents_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_READ))],
    since: str | None = Query(None, max_length=10),
    until: str | None = Query(None, max_length=10),
    municipality: str | None = Query(None, max_length=5),
    kind: str | None = Query(None, max_length=32),
    offset: int = Query(0, ge=0, le=10**9),
) -> HTMLResponse:
    # HTML forms send empty fields as "": treat them (and unreadable dates) as "no filter"
    f = {
        "since": _day(since),
        "until": _day(until),
        "municipality": municipality or None,
        "kind": kind or None,
    }
    return _incidents_page(request, db, user, f, offset=offset)


@router.post("/incidents/import")
def incidents_import_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_IMPORT))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    data = read_upload(file)
    res = svc.import_upload(request.app.state.engine, upload_name(file.filename), data,
                            actor=user.name)  # fmt: skip
    return _incidents_page(request, db, user, {}, import_result=res.to_dict())
