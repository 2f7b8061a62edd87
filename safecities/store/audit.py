"""The append-only audit log: every write is one AuditEvent, each chained to the previous by hash.

Writers call `record()` inside the transaction of the change itself (an explicit call, not ORM
events), so CLI imports, API edits and approvals are all logged the same way. `verify()` recomputes
the chain and names the first entry that was edited, deleted or inserted out of order.

Sealed with the deployment's secret (HMAC-SHA256 over the chained content, the key outside the
database: `Settings.audit_key`), so whoever can write the database cannot recompute the chain after
an edit. Entries of writes to incidents and camera history carry a digest of those tables
(`content`), so editing the rows themselves shows in `verify` too. Cutting the newest entries
leaves a valid shorter chain: a head recorded elsewhere (`audit checkpoint`) catches that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.errors import InputError
from safecities.store.models import AuditEvent

GENESIS = "0" * 64
HMAC = "hmac-sha256"
#: Tables whose content an entry vouches for, by action prefix: "table" = a digest of every row
#: (incidents change in place, only by imports); "append" = a running digest over rows in id order
#: extended by the rows added since the previous entry (camera history is append-only and written
#: one row per entry, so rehashing the whole table each time would be quadratic in an import).
COVERED: dict[str, tuple[str, str]] = {
    "incident.": ("incident", "table"),
    "camera.": ("camera_history", "append"),
}


def _canonical(payload: Any) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True
    )


def _key() -> bytes:
    from safecities.config import get_settings

    return get_settings().audit_key()


def key_id(key: bytes) -> str:
    """A short public name of the key (tells "another key" from "edited" in `verify`)."""
    return hashlib.sha256(b"safecities-audit-key-id:" + key).hexdigest()[:12]


def _digest(prev_hash: str, at: datetime, actor: str, action: str, entity: str,
            entity_id: str | None, before: Any, after: Any, *, alg: str | None = None,
            content: Any = None, key: bytes | None = None) -> str:  # fmt: skip
    doc = {
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }
    if alg is None:  # entries written before the seal: unkeyed SHA-256, as they were
        return hashlib.sha256(_canonical(doc).encode()).hexdigest()
    body = _canonical({**doc, "alg": alg, "content": content})
    return hmac.new(key or _key(), body.encode(), hashlib.sha256).hexdigest()


#: Where the model of a covered table lives (not every capability is installed everywhere).
_MODELS = {"incident": "safecities.store.models", "camera_history": "safecities.cameras.models"}


def _rows(session: Session, table: str, after_id: int | None = None):
    import importlib

    from safecities.store.models import Base

    if table not in Base.metadata.tables:
        try:
            importlib.import_module(_MODELS[table])
        except ImportError:
            return None
    t = Base.metadata.tables.get(table)
    if t is None:
        return None
    q = select(*t.columns).order_by(*t.primary_key.columns)
    if after_id is not None:
        q = q.where(t.c.id > after_id)
    return session.execute(q)


def _row_text(row) -> bytes:
    return (_canonical(list(row)) + "\n").encode()


def _table_digest(session: Session, table: str) -> dict[str, Any] | None:
    rows = _rows(session, table)
    if rows is None:
        return None
    h, n = hashlib.sha256(), 0
    for row in rows:
        h.update(_row_text(row))
        n += 1
    return {"rows": n, "sha256": h.hexdigest()}


def _append_digest(session: Session, table: str, prev: dict | None) -> dict[str, Any] | None:
    upto, digest, n = (prev["upto"], prev["sha256"], prev["rows"]) if prev else (0, GENESIS, 0)
    rows = _rows(session, table, upto)
    if rows is None:
        return None
    for row in rows:
        digest = hashlib.sha256(digest.encode() + _row_text(row)).hexdigest()
        upto, n = row.id, n + 1
    return {"upto": upto, "rows": n, "sha256": digest}


def _last_content(session: Session, prefix: str, table: str) -> dict | None:
    q = (
        select(AuditEvent.content)
        .where(AuditEvent.action.like(f"{prefix}%"), AuditEvent.content.is_not(None))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    content = session.execute(q).scalar_one_or_none()
    return (content or {}).get(table)


def _content_for(session: Session, action: str) -> dict[str, Any] | None:
    for prefix, (table, kind) in COVERED.items():
        if action.startswith(prefix):
            if kind == "table":
                d = _table_digest(session, table)
            else:
                d = _append_digest(session, table, _last_content(session, prefix, table))
            return None if d is None else {table: d}
    return None


def lock_chain(session: Session) -> None:
    """Serialise appends: no two writers may chain to the same predecessor (H1)."""
    from safecities.store.db import write_lock

    write_lock(session, "audit")


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
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    Call it after the change's own writes: entries of `incident.*` and `camera.*` actions seal
    the tables' content as it is at that moment."""
    key = _key()
    session.flush()
    lock_chain(session)
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    # Round-trip through JSON so the hash is computed over exactly what the database stores.
    before = json.loads(_canonical(before)) if before is not None else None
    after = json.loads(_canonical(after)) if after is not None else None
    content = _content_for(session, action)
    alg = f"{HMAC}:{key_id(key)}"
    at = datetime.now(UTC)
    event = AuditEvent(
        at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
        before=before, after=after, prev_hash=prev, alg=alg, content=content,
        hash=_digest(prev, at, actor, action, entity, entity_id, before, after, alg=alg,
                     content=content, key=key),
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def append(engine, **entry: Any) -> dict[str, Any]:
    """`record()` in a transaction of its own, for writes that live outside the database (a
    patrol plan file): call it once the file is in place; returns the entry's head."""
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        ev = record(s, **entry)
        return _head(ev)


def append_file(
    engine,
    path: str | Path,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    after: dict | None = None,
) -> dict[str, Any]:
    """Audit a file the application wrote outside the database (e.g. a patrol plan): its name,
    size and SHA-256 next to `after`, in a transaction of its own; returns the entry's head."""
    from safecities.manifest import sha256_file

    p = Path(path)
    doc = {"file": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p), **(after or {})}
    return append(engine, actor=actor, action=action, entity=entity,
                  entity_id=entity_id or p.name, after=doc)  # fmt: skip


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad_id": self.first_bad_id,
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class Checkpoint:
    """A head recorded elsewhere: the newest entry's id and hash at some moment."""

    id: int
    hash: str
    at: str | None = None


def _head(ev: AuditEvent | None) -> dict[str, Any]:
    if ev is None:
        return {"id": 0, "hash": GENESIS, "at": None}
    return {"id": ev.id, "hash": ev.hash, "at": ev.at.isoformat()}


def head(session: Session) -> dict[str, Any]:
    """`audit head`: {id, hash, at} of the newest entry (id 0 and the genesis hash if empty)."""
    ev = session.execute(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return _head(ev)


def read_checkpoints(path: str | Path) -> list[Checkpoint]:
    """The JSON lines `audit checkpoint --out FILE` appended; every bad line named at once."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the checkpoints ({exc})") from None
    out, bad = [], []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Checkpoint(int(d["id"]), str(d["hash"]), d.get("at")))
        except (ValueError, KeyError, TypeError):
            bad.append(n)
    if bad:
        raise InputError(f"{path}: line(s) {', '.join(map(str, bad))} are not checkpoints "
                         f"(JSON objects with id and hash)")  # fmt: skip
    return out


def write_checkpoint(session: Session, path: str | Path) -> dict[str, Any]:
    """`audit checkpoint --out FILE`: append the head as one JSON line (keep FILE elsewhere)."""
    h = head(session)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(h, separators=(",", ":")) + "\n")
    return h


def verify(
    session: Session, *, heads: Iterable[str | Checkpoint] = (), key: bytes | None = None
) -> ChainReport:
    """Recompute the chain (keyed entries with the deployment's key), check each recorded head
    (a hash, or a checkpoint id+hash) is still in it, and the covered tables against the newest
    digests the chain holds."""
    key = key if key is not None else _key()
    kid = key_id(key)
    prev, n, keyed = GENESIS, 0, False
    hashes: dict[str, int] = {}
    by_id: dict[int, str] = {}
    contents: dict[str, list[tuple[int, dict]]] = {}
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        n += 1
        if ev.prev_hash != prev:
            return ChainReport(
                False, n, ev.id, "chain broken: an entry before it was deleted or edited"
            )
        if ev.alg is None and keyed:
            return ChainReport(False, n, ev.id, "unsealed entry after sealed ones: forged")
        if ev.alg is not None:
            keyed = True
            alg, _, ev_kid = ev.alg.partition(":")
            if alg != HMAC:
                return ChainReport(False, n, ev.id, f"unknown seal {ev.alg!r}: forged")
            if ev_kid != kid:
                return ChainReport(
                    False, n, ev.id,
                    f"sealed with another key ({ev_kid}; this deployment's is {kid}): run verify "
                    f"with the secret key the log was written with",
                )  # fmt: skip
        expected = _digest(prev, ev.at, ev.actor, ev.action, ev.entity, ev.entity_id, ev.before,
                           ev.after, alg=ev.alg, content=ev.content, key=key)  # fmt: skip
        if not hmac.compare_digest(expected, ev.hash):
            return ChainReport(False, n, ev.id, "content does not match its hash: entry was edited")
        for table, d in (ev.content or {}).items():
            contents.setdefault(table, []).append((ev.id, d))
        hashes[ev.hash] = ev.id
        by_id[ev.id] = ev.hash
        prev = ev.hash
    last_id = max(by_id, default=0)
    for h in heads:
        cp = h if isinstance(h, Checkpoint) else Checkpoint(0, h)
        if cp.id > last_id:
            return ChainReport(False, n, None, f"recorded head #{cp.id} is beyond the end of the "
                               f"log (last #{last_id}): entries were deleted")  # fmt: skip
        if cp.id and by_id.get(cp.id) != cp.hash:
            return ChainReport(False, n, cp.id, f"recorded head #{cp.id} {cp.hash[:16]}... is not "
                               f"in the log: the log was cut or rewritten")  # fmt: skip
        if not cp.id and cp.hash != GENESIS and cp.hash not in hashes:
            return ChainReport(False, n, None, f"recorded head {cp.hash[:16]}... is not in the "
                               f"log: the log was cut or rewritten")  # fmt: skip
    for table, kind in COVERED.values():
        bad = _check_content(session, table, kind, contents.get(table, []))
        if bad is not None:
            return ChainReport(False, n, bad[0], bad[1])
    return ChainReport(True, n)


def _check_content(session: Session, table: str, kind: str, seals: list[tuple[int, dict]]):
    """(entry id, reason) of the first seal the table's rows no longer match, else None."""
    if kind == "table":
        if not seals:
            return None
        ev_id, want = seals[-1]
        got = _table_digest(session, table)
        if got is not None and (got["rows"], got["sha256"]) != (want["rows"], want["sha256"]):
            return ev_id, (f"{table} rows differ from the digest sealed in this entry "
                           f"({got['rows']} rows now, {want['rows']} sealed): edited outside "
                           f"the application")  # fmt: skip
        return None
    rows = _rows(session, table)
    if rows is None:
        return None
    pending = {d["upto"]: (ev_id, d) for ev_id, d in seals}
    last_seal = seals[-1] if seals else None
    digest, n, last_row = GENESIS, 0, 0
    for row in rows:
        digest = hashlib.sha256(digest.encode() + _row_text(row)).hexdigest()
        n, last_row = n + 1, row.id
        hit = pending.pop(row.id, None)
        if hit and (hit[1]["sha256"], hit[1]["rows"]) != (digest, n):
            return hit[0], f"{table} rows up to #{row.id} were edited or deleted after this entry"
    if pending:
        ev_id = min(v[0] for v in pending.values())
        return ev_id, f"{table} rows sealed by this entry were deleted"
    if last_seal and last_row > last_seal[1]["upto"]:
        upto = last_seal[1]["upto"]
        return last_seal[0], f"{table} has rows after #{upto} without an audit entry"
    return None


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


def actions(session: Session) -> list[str]:
    """Every action recorded so far, sorted (the audit page offers them in its action filter)."""
    return list(session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
                .scalars())  # fmt: skip


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
