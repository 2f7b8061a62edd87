"""Small helpers shared by the capability CLIs (presentation layer only)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)
T = TypeVar("T")


def _default(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=_default, ensure_ascii=False, indent=2, sort_keys=False)


def echo_json(payload: Any) -> None:
    """Print a JSON document on stdout (the stable machine-readable output of a command)."""
    sys.stdout.write(dumps(payload) + "\n")


@contextmanager
def progress(description: str, total: int | None, *, enabled: bool = True) -> Iterator[Any]:
    """A Rich progress bar on stderr (so --json output on stdout stays clean)."""
    if not enabled or not console.is_terminal:

        class _Null:
            def advance(self, _n: int = 1) -> None: ...

        yield _Null()
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as prog:
        task = prog.add_task(description, total=total)

        class _Bar:
            def advance(self, n: int = 1) -> None:
                prog.advance(task, n)

        yield _Bar()


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    with progress(description, total) as bar:
        for item in items:
            yield item
            bar.advance()


def cli_actor(given: str | None = None) -> str:
    """Who a CLI write is attributed to in the audit log: `--as NAME`, else the operating-system
    user running the command (never a shared placeholder such as "cli")."""
    import getpass

    name = (given or "").strip()
    if name:
        return name[:120]
    try:
        return getpass.getuser()[:120] or "unknown"
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        import os

        return f"uid:{os.getuid()}"


def emit(payload: Any, as_json: bool, line: str, echo: Callable[[str], Any] | None = None) -> None:
    """A command's result: the JSON document with --json, else one human line (`echo`, default
    the stderr console)."""
    if as_json:
        echo_json(payload)
    else:
        (echo or console.print)(line)
