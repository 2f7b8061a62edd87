"""`safecities protocol ...` and `safecities plan ...` commands (thin: parse, call, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from safecities.clitools import echo_json
from safecities.manifest import RunManifest

protocol_app = typer.Typer(
    help="Protocols for joint police-military patrols.", no_args_is_help=True
)
plan_app = typer.Typer(help="Patrol plans (rosters) under a protocol.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print one JSON object (stable keys) on stdout.")


def mount(root: typer.Typer) -> None:
    root.add_typer(protocol_app, name="protocol")
    root.add_typer(plan_app, name="plan")


@protocol_app.command("validate")
def protocol_validate(
    file: Path = typer.Argument(..., help="Protocol document (YAML or JSON)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Check a protocol against its schema and cross-references; list every error and its path."""
    from safecities.patrols.protocol import read_document, validate_document

    doc, _data = read_document(file)
    issues = validate_document(doc)
    if as_json:
        manifest = RunManifest(command="protocol validate", parameters={"file": str(file)})
        manifest.add_input_file("protocol", file)
        echo_json({"file": str(file), "valid": not issues, "errors": [i.to_dict() for i in issues],
                   "manifest": manifest.to_dict()})  # fmt: skip
    else:
        for issue in issues:
            typer.echo(str(issue))
        typer.echo(f"{file}: {'valid' if not issues else f'{len(issues)} errors'}")
    if issues:
        raise typer.Exit(1)


@plan_app.command("check")
def plan_check(
    plan: Path = typer.Argument(
        ..., help="Plan CSV (start,end,zone_id,patrol_id,police,soldiers,...)."
    ),
    protocol: Path = typer.Option(..., "--protocol", "-p", help="Protocol document (YAML/JSON)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Independently check any plan against a protocol; list every violation (exit 1 if any)."""
    from safecities.patrols.check import check_plan, summary_line

    report = check_plan(plan, protocol)
    if as_json:
        manifest = RunManifest(
            command="plan check", parameters={"plan": str(plan), "protocol": str(protocol)}
        )
        manifest.add_input_file("plan", plan)
        manifest.add_input_file("protocol", protocol)
        echo_json({**report.to_dict(), "protocol": str(protocol), "manifest": manifest.to_dict()})
    else:
        for v in report.violations:
            typer.echo(f"{v.rule}: {v.message}")
        typer.echo(summary_line(report))
    if not report.ok:
        raise typer.Exit(1)
