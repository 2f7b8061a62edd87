"""Browse and verify the hash-chained audit log (auditors and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.api.schemas import AuditHeadOut, AuditPage, ChainOut
from safecities.store import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def browse(
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.AUDIT_READ))],
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
    actor: str | None = Query(None, max_length=120),
    action: str | None = Query(None, max_length=64),
    entity: str | None = Query(None, max_length=64),
) -> AuditPage:
    """Audit entries, newest first, optionally filtered by actor, action or entity."""
    q = audit.AuditQuery(limit=limit, offset=offset, actor=actor, action=action, entity=entity)
    return AuditPage(**audit.browse(db, q).to_dict())


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
