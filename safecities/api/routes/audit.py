"""Browse and verify the hash-chained audit log (auditors and admins)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from safecities import exports
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.api.schemas import AuditHeadOut, AuditPage, ChainOut
from safecities.domain import local_midnight
from safecities.store import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])


#: Export columns: the JSON keys (before/after as compact JSON in one cell each).
COLUMNS = ["id", "at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash",
           "hash"]  # fmt: skip


@router.get("", response_model=AuditPage, responses=exports.openapi("csv", "xlsx"))
def browse(
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.AUDIT_READ))],
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
    actor: str | None = Query(None, max_length=120),
    action: str | None = Query(None, max_length=64),
    entity: str | None = Query(None, max_length=64),
    since: date | None = Query(None, description="From this day (Brussels time), inclusive."),
    until: date | None = Query(None, description="Before this day (Brussels time)."),
    fmt: Literal["json", "csv", "xlsx"] = Query(
        "json", alias="format", description="csv/xlsx: every filtered entry, unpaged."
    ),
) -> Any:
    """Audit entries, newest first, optionally filtered by actor, action, entity and period;
    `format` downloads all of them (limit and offset ignored)."""
    export = fmt != "json"
    q = audit.AuditQuery(
        limit=None if export else limit, offset=0 if export else offset, actor=actor,
        action=action, entity=entity, since=local_midnight(since), until=local_midnight(until),
    )  # fmt: skip
    page = audit.browse(db, q)
    if export:
        return exports.response(exports.export(page.events, fmt, "audit", COLUMNS))
    return AuditPage(**page.to_dict())


@router.get("/verify", response_model=ChainOut)
def verify(db: DbSession, _: Annotated[Principal, Depends(require(Action.AUDIT_READ))]) -> ChainOut:
    """Recompute the hash chain: ok=false names the first edited or deleted entry."""
    return ChainOut(**audit.verify(db).to_dict())


@router.get("/head", response_model=AuditHeadOut)
def head(
    db: DbSession, _: Annotated[Principal, Depends(require(Action.AUDIT_READ))]
) -> AuditHeadOut:
    """The newest entry's id, hash and time (`audit head`): keep it elsewhere, and a later
    `audit verify --head HASH` shows whether the log was cut or rewritten since."""
    return AuditHeadOut(**audit.head(db))
