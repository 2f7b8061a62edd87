"""Page sections computed from files (saved patrol plans and their protocols), cached per file
version: the key holds each file's path, size and modification time, so rewriting a plan or its
protocol is the invalidation. (Figures computed from the store use safecities.store.cache, keyed on
the newest audit entry, instead.) The plan calendar took about 1 s per load on a one-day demo plan
on a busy machine, recomputed from the CSV every time; from here it is a dictionary lookup."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 64
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_LOCK = threading.Lock()


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


def per_files(files: list[Path], key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` cached until one of `files` changes (least recently used dropped first)."""
    full = (key, *(_stamp(f) for f in files))
    with _LOCK:
        if full in _CACHE:
            _CACHE.move_to_end(full)
            return _CACHE[full]
    value = compute()
    with _LOCK:
        _CACHE[full] = value
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return value
