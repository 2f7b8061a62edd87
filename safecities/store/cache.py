"""Results cached until the next write: every write appends an audit entry, so the newest audit id
is a version number of the whole store (one cache for the API routes and the pages)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.store.models import AuditEvent

T = TypeVar("T")

_CACHE: dict[tuple, tuple[Any, Any]] = {}
_CACHE_LOCK = threading.Lock()


def data_version(session: Session) -> int:
    """The newest audit entry id: every write appends one, so it changes whenever data does."""
    return session.execute(select(func.max(AuditEvent.id))).scalar_one() or 0


def cached(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` cached until the next write (keyed on the audit log's newest entry)."""
    version = (str(session.get_bind().url), data_version(session))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = compute()
    with _CACHE_LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = (version, value)
    return value
