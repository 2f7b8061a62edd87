"""`safecities protocol ...` and `safecities plan ...` commands."""

from __future__ import annotations

import typer

protocol_app = typer.Typer(help="Protocols for joint police-military patrols.", no_args_is_help=True)
plan_app = typer.Typer(help="Patrol plans (rosters) under a protocol.", no_args_is_help=True)


def mount(root: typer.Typer) -> None:
    root.add_typer(protocol_app, name="protocol")
    root.add_typer(plan_app, name="plan")
