# ruff: noqa: E501  (option help texts are kept on one line)
"""`safecities protocol ...` and `safecities plan ...` commands (thin: parse, call, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from safecities.clitools import echo_json
from safecities.manifest import RunManifest
from safecities.safeio import load_json

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
    from safecities.patrols import service

    res = service.validate(file)
    if as_json:
        echo_json({**res.to_dict(), "manifest": res.manifest.to_dict()})
    else:
        for issue in res.errors:
            typer.echo(f"{issue['path']}: {issue['message']}")
        typer.echo(f"{file}: {'valid' if res.valid else f'{len(res.errors)} errors'}")
    if not res.valid:
        raise typer.Exit(1)


@plan_app.command("check")
def plan_check(
    plan: Path = typer.Argument(
        ..., help="Plan CSV (start,end,zone_id,patrol_id,police,soldiers,...)."
    ),
    protocol: Path = typer.Option(..., "--protocol", "-p", help="Protocol document (YAML/JSON)."),
    after: Path | None = typer.Option(
        None, "--after", help="The plan this one continues: both are judged together (the seam)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Independently check any plan against a protocol; list every violation (exit 1 if any)."""
    from safecities.patrols import service
    from safecities.patrols.check import summary_line

    res = service.check(plan, protocol, after=after)
    if as_json:
        echo_json({**res.to_dict(), "manifest": res.manifest.to_dict()})
    else:
        for v in res.report.violations:
            typer.echo(f"{v.rule}: {v.message}")
        typer.echo(summary_line(res.report))
    if not res.ok:
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
        None,
        "--changes",
        help="Changes for re-planning (YAML/JSON: close_zone, unit_unavailable, units_out, cap, fipa, risk; docs/patrols.md).",
    ),
    after: Path | None = typer.Option(
        None,
        "--after",
        help="Previous plan CSV this one continues (--from = its last day + 1): working time, rest and its last night carry over. With --from-plan: the plan the re-planned one continued.",
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Build a roster at 15-minute resolution that maximises risk-weighted presence under the protocol."""
    from safecities.clitools import progress
    from safecities.patrols import service
    from safecities.patrols.planner import InfeasiblePlan

    first, last = service.parse_day(from_, "--from"), service.parse_day(to, "--to")
    opts = service.MakeOptions(
        protocol=protocol,
        first=first,
        last=last,
        out=out,
        risk=risk,
        seed=seed,
        time_limit=time_limit,
        workers=workers,
        solver=solver,
        from_plan=from_plan,
        changes=changes,
        after=after,
    )
    try:
        n_chunks = service.planned_chunks(first, last)
        with progress("planning weeks", n_chunks, enabled=not as_json) as bar:
            res = service.make(_engine(), opts, progress=bar)
    except InfeasiblePlan as exc:
        if not as_json:
            raise
        echo_json(service.infeasible_dict(exc, opts))
        raise typer.Exit(1) from exc
    if as_json:
        echo_json({**res.to_dict(), "manifest": res.manifest.to_dict()})
    else:
        typer.echo(res.summary())
        for note in res.result.notes:
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
    from safecities.patrols import service
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = service.request(session, file, reason=reason, actor=user)
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
    from safecities.patrols import service
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = service.decide(
            session, protocol_id, actor=user, role=role, approve=True, reason=comment
        )
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
    from safecities.patrols import service
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = service.decide(
            session, protocol_id, actor=user, role=role, approve=False, reason=reason
        )
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
    from safecities.patrols import service
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        items = service.list_protocols(session, city)
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


@protocol_app.command("show")
def protocol_show(
    protocol_id: int = typer.Argument(..., help="Id of the protocol request."),
    as_json: bool = JSON_OPT,
) -> None:
    """Everything an approver decides from: period, cap, zones (and why soldiers are admitted),
    posts and liaisons, units, FIPA, working time, requester, SHA-256, decisions, diff."""
    from safecities.patrols import service
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        out = service.show(session, protocol_id)
    _emit(out, "protocol show", {"id": protocol_id}, as_json, _show_text(out))


def _show_text(d: dict) -> str:
    per = d["period"]
    lines = [
        f"protocol {d['id']}: {d['city']} {d['version']} ({d['status']})",
        f"period {per['start']} - {per['end_inclusive']} ({per['days']} days, {per['state']})",
        f"soldier cap {d['soldier_cap']}; requested by {d['requested_by']} at {d['requested_at']}",
        f"reason: {d['reason']}",
        f"document SHA-256 {d['sha256']}",
        "zones:",
        *(
            f"  {z['id']:<28} {z['command_post']:<24} "
            f"{'soldiers: ' + z['soldiers_why'] if z['soldiers_allowed'] else 'police only'}"
            for z in d["zones"]
        ),
        "command posts: "
        + ", ".join(f"{c['id']} ({len(c['liaisons'])} liaisons)" for c in d["command_posts"]),
        "units: "
        + ", ".join(
            f"{f}: {u['units']} units, {u['people']} people" for f, u in d["units"].items()
        ),
        f"FIPA: {len(d['fipa'])}",
        *(
            f"decision: {x['role']} {x['decision']} by {x['actor']} at {x['at']}"
            + (f" ({x['comment']})" if x["comment"] else "")
            for x in d.get("decisions", [])
        ),
    ]
    if d["waiting_for"]:
        lines.append("waiting for: " + ", ".join(d["waiting_for"]))
    if d["replaces"]:
        lines.append(
            f"replaces protocol {d['replaces']['id']} ({d['replaces']['version']}); changes:"
        )
        lines += [
            f"  {c['change']:<8} {c['path']}: {c['before']!r} -> {c['after']!r}" for c in d["diff"]
        ]
    return "\n".join(lines)


@protocol_app.command("draft")
def protocol_draft(
    city: str = typer.Argument(
        ..., help="antwerp, ghent, liege, charleroi, mons (or brussels: a renewal)."
    ),
    start: str = typer.Option(
        "",
        "--start",
        help="First day (YYYY-MM-DD); default today (Brussels: the day the bundled protocol ends).",
    ),
    months: int = typer.Option(
        6, "--months", min=1, max=24, help="Length of the period in months."
    ),
    cap: int = typer.Option(20, "--cap", help="Soldiers deployed at any moment."),
    station: list[str] = typer.Option(
        None,
        "--station",
        help="Station id to make a zone of (repeatable); default: every proposed station.",
    ),
    zones: Path | None = typer.Option(
        None,
        "--zones",
        help="GeoJSON of zones the city draws (police-only unless --zones-admit-soldiers).",
    ),
    zones_admit_soldiers: bool = typer.Option(
        False, "--zones-admit-soldiers", help="Drawn zones admit soldiers."
    ),
    police_units: int = typer.Option(30, "--police-units", min=1, max=2000),
    defence_units: int = typer.Option(10, "--defence-units", min=1, max=2000),
    version: str = typer.Option("", "--version", help="Version label (default: <year>.1-request)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the YAML here (only when valid)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Compose a protocol request from the template (the web request builder's form)."""

    from safecities.errors import InputError
    from safecities.patrols import service
    from safecities.patrols.builder import RequestDraft

    drawn = None
    if zones is not None:
        try:
            drawn = load_json(zones.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{zones}: not a readable GeoJSON file ({exc})") from exc
    draft = RequestDraft(
        city=city, version=version, start=start, months=months, soldier_cap=cap,
        stations=list(station or []) or None, drawn_zones=drawn,
        drawn_zones_admit_soldiers=zones_admit_soldiers,
        police_units=police_units, defence_units=defence_units,
    )  # fmt: skip
    result = service.draft(draft)
    if out is not None and result.valid:
        out.write_text(result.yaml(), encoding="utf-8")
    text = "\n".join(f"{e['path']}: {e['message']}" for e in result.errors) or (
        f"{city}: valid request, {len(result.document['zones'])} zones"
        + (f", written to {out}" if out else "")
    )
    _emit(
        result.to_dict(),
        "protocol draft",
        {"city": city, "out": str(out) if out else None},
        as_json,
        text,
    )
    if not result.valid:
        raise typer.Exit(1)


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
    lang: str = typer.Option(
        "en", "--lang", help="Language of the briefings and calendars: nl, fr or en."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """iCalendar per command post and a printable daily briefing (HTML) per command post."""
    from safecities.patrols import service

    days = [service.parse_day(d, "--day") for d in day] if day else None
    res = service.export(service.ExportOptions(plan, protocol, out_dir, days, lang))
    if as_json:
        echo_json({**res.to_dict(), "manifest": res.manifest.to_dict()})
    else:
        typer.echo(res.summary())
