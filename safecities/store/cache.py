"""Results cached until the next write: every write appends an audit entry, so the newest audit id
is a version number of the whole store (one cache for the API routes and the pages).

Sign-ins and sign-outs (`session.*` entries) change no figure, so they do not count as writes:
otherwise every visitor's sign-in would make every cached figure stale. A key is computed by one
caller at a time ("single flight"): a second request for the same key waits for the first instead
of computing it again (the page warm-up and a visitor right behind a write used to both compute)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecities.store.models import AuditEvent

T = TypeVar("T")

_CACHE: dict[tuple, tuple[Any, Any]] = {}
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple, threading.Lock] = {}


def data_version(session: Session) -> int:
    """The newest audit entry id that is not a sign-in or sign-out: it changes whenever data does.
    (Read newest-first with a limit, so the primary key answers it without a scan.)"""
    q = (
        select(AuditEvent.id)
        .where(AuditEvent.action.not_like("session.%"))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return session.execute(q).scalar() or 0


def cached(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` cached until the next write (keyed on the audit log's newest data entry)."""
    version = (str(session.get_bind().url), data_version(session))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    if hit is not None and hit[0] == version:
        return hit[1]
    with lock:  # one computation of a key at a time; the others wait and take its result
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute()
        with _CACHE_LOCK:
            if len(_CACHE) > 256:
                _CACHE.clear()
                _KEY_LOCKS.clear()
            _CACHE[key] = (version, value)
    return value
