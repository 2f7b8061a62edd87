"""Reading the audit log (the writing side is safecities.store.audit.record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.api.permissions import Action, check
from safecities.domain import Role
from safecities.store import audit
from safecities.store.models import AuditEvent


def event_dict(ev: AuditEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "at": ev.at.isoformat(),
        "actor": ev.actor,
        "action": ev.action,
        "entity": ev.entity,
        "entity_id": ev.entity_id,
        "before": ev.before,
        "after": ev.after,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }


def browse(
    session: Session,
    *,
    actor_role: Role | str | None,
    limit: int | None = 100,
    offset: int = 0,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Newest first; returns (total matching, page of events); `limit=None`: all (exports);
    `since` inclusive, `until` exclusive. actor_role=None: local CLI."""
    if actor_role is not None:
        check(actor_role, Action.AUDIT_READ)
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    if entity:
        q = q.where(AuditEvent.entity == entity)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).scalars()
    return total, [event_dict(ev) for ev in rows]


def verify(session: Session, *, actor_role: Role | str | None) -> audit.ChainReport:
    if actor_role is not None:
        check(actor_role, Action.AUDIT_READ)
    return audit.verify(session)
