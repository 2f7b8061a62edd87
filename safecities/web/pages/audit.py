"""Audit trail: browse the hash-chained log (paged, filtered by period, actor, action, entity;
downloadable in full as filtered) and its verification."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.domain import local_midnight
from safecities.web.pages.core import PAGE_SIZE, _day, render, table_nav

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.AUDIT_READ))],
    since: str | None = Query(None, max_length=10),
    until: str | None = Query(None, max_length=10),
    actor: str | None = Query(None, max_length=120),
    action: str | None = Query(None, max_length=64),
    entity: str | None = Query(None, max_length=64),
    offset: int = Query(0, ge=0, le=10**9),
) -> HTMLResponse:
    from safecities.store import audit

    # HTML forms send empty fields as "": no filter (an unreadable date too)
    f = {"since": _day(since), "until": _day(until), "actor": actor or None,
         "action": action or None, "entity": entity or None}  # fmt: skip
    q = audit.AuditQuery(
        limit=PAGE_SIZE, offset=offset, actor=f["actor"], action=f["action"], entity=f["entity"],
        since=local_midnight(f["since"]), until=local_midnight(f["until"]),
    )  # fmt: skip
    page = audit.browse(db, q)
    nav = table_nav(request, "/api/audit", f, page.total, offset, ("csv", "xlsx"))
    return render(
        request, "audit.html", events=page.events, chain=audit.verify(db), f=f, table=nav,
        head=audit.head(db), actions=audit.actions(db),
    )  # fmt: skip
