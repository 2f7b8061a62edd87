"""Incidents: table with filters, import form with the row-level error report."""

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from safecities.api import incidents as inc_svc
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.domain import BRUSSELS_TZ, IncidentKind
from safecities.errors import InputError
from safecities.web import labels
from safecities.web.pages.core import _day, _municipalities, render

router = APIRouter(include_in_schema=False)


def _incidents_page(request: Request, db, user: Principal, f: dict, import_result=None):
    from datetime import datetime, time

    def midnight(d):
        return datetime.combine(d, time(0), tzinfo=BRUSSELS_TZ) if d else None

    total, rows = inc_svc.list_incidents(
        db,
        city="brussels",
        since=midnight(f.get("since")),
        until=midnight(f.get("until")),
        municipality=f.get("municipality") or None,
        kind=f.get("kind") or None,
        limit=500,
    )
    for r in rows:
        r["local_time"] = r["occurred_at"].astimezone(BRUSSELS_TZ).strftime("%Y-%m-%d %H:%M")
    munis = _municipalities()
    return render(
        request,
        "incidents.html",
        incidents=rows,
        total=total,
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
) -> HTMLResponse:
    # HTML forms send empty fields as "": treat them (and unreadable dates) as "no filter"
    f = {
        "since": _day(since),
        "until": _day(until),
        "municipality": municipality or None,
        "kind": kind or None,
    }
    return _incidents_page(request, db, user, f)


@router.post("/incidents/import")
def incidents_import_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.INCIDENTS_IMPORT))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    name = upload_name(file.filename)
    data = read_upload(file)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            rep = inc_svc.import_file(request.app.state.engine, path, actor=user.name)
            result = {
                "ok": True,
                "inserted": rep.inserted,
                "unchanged": rep.unchanged,
                "errors": [],
            }
        except InputError as exc:
            errs = [
                {
                    "file": Path(str(e.file)).name,
                    "row": e.row,
                    "field": e.field,
                    "reason": e.reason,
                    "value": e.value,
                }
                for e in exc.errors
            ]
            if not errs:
                errs = [{"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}]
            result = {"ok": False, "errors": errs}
    return _incidents_page(request, db, user, {}, import_result=result)
