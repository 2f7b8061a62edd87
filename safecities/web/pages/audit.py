"""Audit trail: browse the hash-chained log and its verification."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.web.pages.core import render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request, db: DbSession, user: Annotated[Principal, Depends(require(Action.AUDIT_READ))]
) -> HTMLResponse:
    from safecities.store import audit

    events = audit.browse(db, audit.AuditQuery(limit=200)).events
    return render(request, "audit.html", events=events, chain=audit.verify(db), head=audit.head(db))
