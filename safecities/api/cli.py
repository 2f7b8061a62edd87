"""`safecities users ...`, `safecities audit ...` and `safecities serve` commands."""

from __future__ import annotations

import typer


def mount(root: typer.Typer) -> None:
    pass
