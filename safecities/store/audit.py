"""The append-only audit log: every write is one AuditEvent, each chained to the previous by hash.

Writers call `record()` inside the transaction of the change itself (an explicit call, not ORM
events), so CLI imports, API edits and approvals are all logged the same way. `verify()` recomputes
the chain and names the first entry that was edited, deleted or inserted out of order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from safecities.store.models import AuditEvent

GENESIS = "0" * 64


def _canonical(payload: Any) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True
    )


def _digest(prev_hash: str, at: datetime, actor: str, action: str, entity: str,
            entity_id: str | None, before: Any, after: Any) -> str:  # fmt: skip
    body = _canonical(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise chain appends so two writers never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    # Round-trip through JSON so the hash is computed over exactly what the database stores.
    before = json.loads(_canonical(before)) if before is not None else None
    after = json.loads(_canonical(after)) if after is not None else None
    at = datetime.now(UTC)
    event = AuditEvent(
        at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
        before=before, after=after, prev_hash=prev,
        hash=_digest(prev, at, actor, action, entity, entity_id, before, after),
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad_id": self.first_bad_id,
                "reason": self.reason}  # fmt: skip


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    n = 0
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        n += 1
        if ev.prev_hash != prev:
            return ChainReport(
                False, n, ev.id, "chain broken: an entry before it was deleted or edited"
            )
        expected = _digest(prev, ev.at, ev.actor, ev.action, ev.entity, ev.entity_id,
                           ev.before, ev.after)  # fmt: skip
        if expected != ev.hash:
            return ChainReport(False, n, ev.id, "content does not match its hash: entry was edited")
        prev = ev.hash
    return ChainReport(True, n)


# --- reading: one function per verb for `audit log|verify`, GET /api/audit[/verify], /audit ---


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


@dataclass(frozen=True)
class AuditQuery:
    """Filters of `audit log` and GET /api/audit (newest first)."""

    limit: int | None = 100  # None: every matching entry (exports)
    offset: int = 0
    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    total: int
    events: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "events": self.events}


def browse(session: Session, query: AuditQuery | None = None) -> AuditPage:
    """Entries matching the filters, newest first, with the number matching in all. The caller
    checks the AUDIT_READ permission (routes and pages through `require`; the CLI is local)."""
    q_ = query or AuditQuery()
    q = select(AuditEvent)
    if q_.actor:
        q = q.where(AuditEvent.actor == q_.actor)
    if q_.action:
        q = q.where(AuditEvent.action == q_.action)
    if q_.entity:
        q = q.where(AuditEvent.entity == q_.entity)
    if q_.since:
        q = q.where(AuditEvent.at >= q_.since)
    if q_.until:
        q = q.where(AuditEvent.at < q_.until)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(
        q.order_by(AuditEvent.id.desc()).limit(q_.limit).offset(q_.offset)
    ).scalars()
    return AuditPage(total, [event_dict(ev) for ev in rows])
