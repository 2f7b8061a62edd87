"""`safecities cameras ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="cameras commands.", no_args_is_help=True)


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="cameras")
