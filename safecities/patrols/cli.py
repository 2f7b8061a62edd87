# ruff: noqa: E501  (option help texts are kept on one line)
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


def _engine():
    from safecities.store.db import migrated_engine

    return migrated_engine()


def _emit(payload: dict, command: str, params: dict, as_json: bool, text: str) -> None:
    if as_json:
        echo_json(
            {**payload, "manifest": RunManifest(command=command, parameters=params).to_dict()}
        )
    else:
        typer.echo(text)


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
        echo_json(
            {
                "file": str(file),
                "valid": not issues,
                "errors": [i.to_dict() for i in issues],
                "manifest": manifest.to_dict(),
            }
        )
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


@plan_app.command("make")
def plan_make(
    protocol: Path = typer.Option(..., "--protocol", "-p", help="Protocol document (YAML/JSON)."),
    from_: str = typer.Option(..., "--from", help="First day to plan (YYYY-MM-DD, local time)."),
    to: str = typer.Option(..., "--to", help="Last day to plan, inclusive (YYYY-MM-DD)."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Plan CSV to write (only if it passes the checker)."
    ),
    risk: Path | None = typer.Option(
        None, "--risk", help="Risk CSV zone_id,weekday,hour,risk (default: built-in profile)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the random draw of visits and unit assignment."
    ),
    time_limit: float = typer.Option(
        120.0, "--time-limit", help="Solver seconds for the whole horizon."
    ),
    workers: int = typer.Option(2, "--workers", help="CP-SAT worker threads."),
    solver: str = typer.Option(
        "cpsat", "--solver", help="cpsat (OR-Tools CP-SAT) or highs (same model, HiGHS MIP)."
    ),
    from_plan: Path | None = typer.Option(
        None,
        "--from-plan",
        help="Old plan CSV: kept before --from; re-planned from --from changing as little as possible.",
    ),
    changes: Path | None = typer.Option(
        None, "--changes", help="Changes for re-planning (YAML/JSON: units_out, add_fipa, risk)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Build a roster at 15-minute resolution that maximises risk-weighted presence under the protocol."""
    from safecities.clitools import progress
    from safecities.patrols.governance import require_active
    from safecities.patrols.planner import chunks_of
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.service import make_plan, parse_day
    from safecities.store.db import session_scope

    proto = load_protocol(protocol)
    with session_scope(_engine()) as session:
        active = require_active(session, read_document(protocol)[0])
    first, last = parse_day(from_, "--from"), parse_day(to, "--to")
    check_protocol, prepare, kept, old, planner_kwargs = (
        protocol,
        None,
        None,
        None,
        {"backend": solver},
    )
    if changes is not None and from_plan is None:
        from safecities.errors import InputError

        raise InputError("--changes needs --from-plan (the plan being changed)")
    if from_plan is not None:
        import json as _json

        from safecities.patrols.planner import Grid
        from safecities.patrols.protocol import load_protocol_document
        from safecities.patrols.replan import amend_document, load_old_plan, read_changes

        ch = read_changes(changes) if changes else {}
        if ch.get("add_fipa"):
            amended = amend_document(read_document(protocol)[0], ch)
            check_protocol = out.with_name(out.stem + ".protocol.json")
            check_protocol.write_text(
                _json.dumps(amended, indent=1, ensure_ascii=False), encoding="utf-8"
            )
            proto = load_protocol_document(amended, source=str(check_protocol))
        if ch.get("risk") and risk is None:
            risk = Path(ch["risk"])
        old = load_old_plan(from_plan, Grid(proto, first, last))
        kept = old["kept"]
        planner_kwargs.update(history=old["history"], unavailable=set(ch.get("units_out") or []))

        def prepare(planner) -> None:
            planner.old_shifts = old["old_shifts"]
            planner.reuse = old["reuse"]

    n_chunks = len(chunks_of(first, last)) if first <= last else 0
    from safecities.patrols.planner import InfeasiblePlan
    from safecities.patrols.replan import changed_assignments

    try:
        with progress("planning weeks", n_chunks, enabled=not as_json) as bar:
            result, check = make_plan(
                proto,
                protocol,
                first,
                last,
                out,
                risk_path=risk,
                seed=seed,
                time_limit=time_limit,
                workers=workers,
                progress=bar,
                planner_kwargs=planner_kwargs,
                extra_rows=kept,
                prepare=prepare,
                check_path=check_protocol,
            )
    except InfeasiblePlan as exc:
        if not as_json:
            raise
        manifest = RunManifest(
            command="plan make",
            parameters={"protocol": str(protocol), "from": first, "to": last},
            seed=seed,
            solver={"name": "OR-Tools CP-SAT", "status": "INFEASIBLE"},
        )
        manifest.add_input_file("protocol", protocol)
        echo_json(
            {
                "status": "INFEASIBLE",
                "out": None,
                "reasons": exc.reasons,
                "manifest": manifest.to_dict(),
            }
        )
        raise typer.Exit(1) from exc
    manifest = RunManifest(
        command="plan make",
        parameters={
            "protocol": str(protocol),
            "from": first,
            "to": last,
            "risk": str(risk) if risk else None,
            "out": str(out),
            "time_limit": time_limit,
            "workers": workers,
            "solver": solver,
        },
        seed=seed,
        solver=result.solver_dict(time_limit),
    )
    manifest.add_input_file("protocol", protocol)
    if risk:
        manifest.add_input_file("risk", risk)
    payload = {
        "out": str(out),
        "city": proto.city,
        "protocol_version": proto.version,
        "from": first,
        "to": last,
        "rows": len(result.rows),
        "protocol_id": active["id"],
        "status": result.status,
        "objective": round(result.objective, 4),
        "bound": round(result.bound, 4),
        "gap": round(result.gap, 6),
        "solve_seconds": round(result.solve_seconds, 3),
        "chunks": result.chunks,
        "check": {"ok": check["ok"], "violation_count": check["violation_count"]},
        "replan": None
        if old is None
        else {
            "from_plan": str(from_plan),
            "changes": str(changes) if changes else None,
            "kept_rows": len(kept),
            **changed_assignments(old["after"], result.rows),
        },
        "notes": result.notes,
        "manifest": manifest.to_dict(),
    }
    if as_json:
        echo_json(payload)
    else:
        typer.echo(
            f"{out}: {len(result.rows)} visits, {result.status}, objective {result.objective:.2f}, "
            f"bound {result.bound:.2f}, gap {100 * result.gap:.2f} %, solver {result.solve_seconds:.1f} s; "
            "checked: no violation"
        )
        for note in result.notes:
            typer.echo(f"note: {note}")


ROLE_OPT = typer.Option(..., "--role", help="interior_approver or defence_approver.")
USER_OPT = typer.Option(..., "--as", help="User name of the person deciding (audited).")


@protocol_app.command("request")
def protocol_request(
    file: Path = typer.Argument(
        ..., help="Proposed protocol document of the city (zones, period, units...)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why the city asks for joint patrols."),
    user: str = typer.Option(..., "--as", help="User name of the requester (audited)."),
    as_json: bool = JSON_OPT,
) -> None:
    """A city requests joint patrols: registers the protocol version, pending both approvals."""
    from safecities.patrols.governance import request_protocol
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = request_protocol(session, file, reason=reason, actor=user)
    _emit(
        out,
        "protocol request",
        {"file": str(file), "as": user},
        as_json,
        f"request {out['id']}: {out['city']} {out['version']} {out['period']['start']} - {out['period']['end']}, "
        f"{len(out['zones'])} zones: requested (needs Interior and Defence approval)",
    )


@protocol_app.command("approve")
def protocol_approve(
    protocol_id: int = typer.Argument(..., help="Id of the protocol request."),
    user: str = USER_OPT,
    role: str = ROLE_OPT,
    comment: str | None = typer.Option(None, "--comment", help="Optional comment (audited)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Approve a protocol request; it becomes active once Interior and a different Defence user approved."""
    from safecities.patrols.governance import approve
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = approve(session, protocol_id, actor=user, role=role, comment=comment)
    _emit(
        out,
        "protocol approve",
        {"id": protocol_id, "as": user, "role": role},
        as_json,
        f"protocol {protocol_id} ({out['city']} {out['version']}): approved by {user} as {role}; status {out['status']}",
    )


@protocol_app.command("refuse")
def protocol_refuse(
    protocol_id: int = typer.Argument(..., help="Id of the protocol request."),
    user: str = USER_OPT,
    role: str = ROLE_OPT,
    reason: str = typer.Option(..., "--reason", help="Reason of the refusal (audited)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Refuse a protocol request (closes it; audited)."""
    from safecities.patrols.governance import refuse
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = refuse(session, protocol_id, actor=user, role=role, reason=reason)
    _emit(
        out,
        "protocol refuse",
        {"id": protocol_id, "as": user, "role": role},
        as_json,
        f"protocol {protocol_id} ({out['city']} {out['version']}): refused by {user} as {role}",
    )


@protocol_app.command("list")
def protocol_list(
    city: str | None = typer.Option(None, "--city", help="Only this city."),
    as_json: bool = JSON_OPT,
) -> None:
    """List protocol requests with their status and decisions."""
    from safecities.patrols.governance import list_protocols
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        items = list_protocols(session, city)
    lines = [
        f"{p['id']:>4} {p['city']:<10} {p['version']:<12} {p['status']:<9} {p['period']['start']} - "
        f"{p['period']['end']} {len(p['zones'])} zones"
        for p in items
    ]
    _emit(
        {"protocols": items},
        "protocol list",
        {"city": city},
        as_json,
        "\n".join(lines) or "no protocol requests",
    )


@plan_app.command("export")
def plan_export(
    plan: Path = typer.Argument(..., help="Plan CSV."),
    protocol: Path = typer.Option(..., "--protocol", "-p", help="Protocol document (YAML/JSON)."),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Folder for <post>.ics and briefing-<post>-<day>.html."
    ),
    day: list[str] = typer.Option(
        None, "--day", help="Day(s) for the briefings (YYYY-MM-DD; default: every planned day)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """iCalendar per command post and a printable daily briefing (HTML) per command post."""
    from safecities.patrols.export import export_plan
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.service import parse_day

    proto = load_protocol(protocol)
    days = [parse_day(d, "--day") for d in day] if day else None
    out = export_plan(plan, proto, out_dir, days=days)
    manifest = RunManifest(
        command="plan export",
        parameters={"plan": str(plan), "out": str(out_dir), "days": out["days"]},
    )
    manifest.add_input_file("plan", plan)
    manifest.add_input_file("protocol", protocol)
    if as_json:
        echo_json({**out, "manifest": manifest.to_dict()})
    else:
        typer.echo(
            f"{out_dir}: {len(out['files']['ics'])} calendars, {len(out['files']['html'])} briefings"
        )
