"""`safecities cameras ...` commands (thin: parse, call the library, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from safecities.clitools import console, echo_json, progress
from safecities.errors import InputError
from safecities.manifest import RunManifest

app = typer.Typer(help="National CCTV register and camera budget planner.", no_args_is_help=True)


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="cameras")


#: User-facing help texts, in one place (translations later).
HELP = {
    "budget": "Budget in euros for new cameras and connections.",
    "candidates": "Candidate sites file: site_id,lat,lon,cost[,direction,angle,range_m,existing]"
    " (CSV/GeoJSON/XLSX). Default: from the database.",
    "demand": "Demand points file: demand_id,lat,lon,weight. Default: from the database"
    " (stations first, hotspot cells, zones).",
    "radius": "Coverage radius in metres (a site's range_m overrides it).",
    "alternatives": "Also find up to K distinct near-optimal layouts.",
    "share": "Each alternative keeps at least this share of the optimum.",
    "min_difference": "Each alternative drops at least this many sites of every earlier layout.",
    "curve_steps": "Points on the coverage-against-budget curve (0: none).",
    "time_limit": "Solver time limit per solve, seconds.",
    "out": "Write the chosen sites as CSV.",
    "geojson": "Write the chosen sites as a GeoJSON map layer.",
    "as_json": "Print one JSON object (stable keys, see the README, Cameras).",
}


@app.command("plan")
def plan_cmd(
    budget: float = typer.Option(..., "--budget", help=HELP["budget"]),
    candidates: Path | None = typer.Option(None, "--candidates", help=HELP["candidates"]),
    demand: Path | None = typer.Option(None, "--demand", help=HELP["demand"]),
    radius: float = typer.Option(150.0, "--radius", min=1, help=HELP["radius"]),
    alternatives: int = typer.Option(0, "--alternatives", min=0, help=HELP["alternatives"]),
    share: float = typer.Option(0.95, "--share", min=0.0, max=1.0, help=HELP["share"]),
    min_difference: int = typer.Option(1, "--min-difference", min=1, help=HELP["min_difference"]),
    curve_steps: int = typer.Option(5, "--curve-steps", min=0, help=HELP["curve_steps"]),
    time_limit: float = typer.Option(300.0, "--time-limit", min=0.1, help=HELP["time_limit"]),
    out: Path | None = typer.Option(None, "--out", help=HELP["out"]),
    geojson: Path | None = typer.Option(None, "--geojson", help=HELP["geojson"]),
    as_json: bool = typer.Option(False, "--json", help=HELP["as_json"]),
) -> None:
    """Choose camera sites and connections that maximise covered demand within a budget."""
    from safecities.cameras import planning
    from safecities.cameras.planner import HighsSolver

    if budget < 0:
        raise InputError(f"--budget must be >= 0, got {budget}")
    manifest = RunManifest(
        command="cameras plan",
        parameters={"budget": budget, "radius": radius, "alternatives": alternatives,
                    "share": share, "min_difference": min_difference,
                    "curve_steps": curve_steps, "time_limit": time_limit},
    )  # fmt: skip
    if candidates is not None and demand is not None:
        inputs = planning.PlanInputs(
            planning.read_candidates(candidates), planning.read_demand(demand), radius
        )
        manifest.add_input_file("candidates", candidates)
        manifest.add_input_file("demand", demand)
        source = "files"
    else:
        from safecities.cameras import dbplan

        inputs, source = dbplan.inputs_from_db(radius, candidates=candidates, demand=demand)
        for name, p in (("candidates", candidates), ("demand", demand)):
            if p is not None:
                manifest.add_input_file(name, p)
    solver = HighsSolver(time_limit=time_limit)
    with progress("camera plan: solving", 1 + alternatives + curve_steps) as bar:
        report = planning.plan(
            inputs, budget, alternatives=alternatives, share=share,
            min_difference=min_difference, curve_steps=curve_steps, solver=solver,
            on_step=bar.advance,
        )  # fmt: skip
    report["source"] = source
    manifest.solver = report["solver"]
    if out:
        planning.write_chosen_csv(report, out)
    if geojson:
        planning.write_chosen_geojson(report, geojson)
    if as_json:
        echo_json({"command": "cameras plan", **report, "manifest": manifest.to_dict()})
        return
    _print_plan(report)


def _print_plan(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    s = r["solver"]
    out.print(
        f"Budget EUR {r['budget']:,.0f}: spent EUR {r['spent']:,.0f} on {len(r['chosen'])} sites; "
        f"covered {r['covered_weight']:.1f} of {r['total_weight']:.1f} demand weight "
        f"({100 * r['coverage_share']:.1f}%; existing cameras {r['existing_weight']:.1f})."
    )
    out.print(
        f"Solver HiGHS {s['version']}: {s['status']}, objective {s['objective']:.4f}, "
        f"bound {s['bound']:.4f}, gap {100 * s['gap']:.4f}%, {s['seconds']:.2f} s."
    )
    t = Table(title="Chosen sites")
    for col in ("site", "action", "cost EUR", "marginal weight"):
        t.add_column(col)
    for site in r["chosen"]:
        t.add_row(site["site_id"], site["action"], f"{site['cost']:,.0f}",
                  f"{site['marginal_weight']:.2f}")  # fmt: skip
    out.print(t)
    if r["curve"]:
        c = Table(title="Coverage against budget")
        for col in ("budget EUR", "covered weight", "share", "sites"):
            c.add_column(col)
        for p in r["curve"]:
            c.add_row(f"{p['budget']:,.0f}", f"{p['covered_weight']:.1f}",
                      f"{100 * p['coverage_share']:.1f}%", str(p["n_sites"]))  # fmt: skip
        out.print(c)
    for k, a in enumerate(r["alternatives"], start=1):
        out.print(
            f"Alternative {k}: {100 * a['share_of_optimum']:.1f}% of optimum, "
            f"drops {', '.join(a['dropped_vs_optimum'])}; adds {', '.join(a['added_vs_optimum'])}"
        )
    console.print("")


# -- the register --------------------------------------------------------------------------------

HELP_REG = {
    "as": "User name recorded in the history (default: $USER).",
    "role": "Role of the caller (admin, camera_operator, police_commander, planner, analyst,"
    " ministerial_staff, auditor, ...). Access rules are applied for this role.",
    "as_municipality": "Municipality of a camera_operator (NIS code or Dutch/French name).",
    "json": "Print one JSON object (stable keys, see the README, Cameras).",
    "set": "FIELD=VALUE (repeatable), e.g. --set status=active --set fov_direction=90.",
    "municipality": "Municipality (NIS code or Dutch/French name).",
    "at": "Show the camera as it was at this moment (ISO 8601 with timezone).",
    "status": "Only cameras with this status (planned, active, out_of_service, removed).",
}


def _caller(user: str | None, role: str, municipality: str | None):
    import getpass

    from safecities.cameras.service import Caller

    return Caller.of(user or getpass.getuser() or "cli", role, municipality)


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--set needs FIELD=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _session():
    from safecities.store.db import migrated_engine, session_scope

    return session_scope(migrated_engine())


AsOpt = typer.Option(None, "--as", help=HELP_REG["as"])
RoleOpt = typer.Option("admin", "--role", help=HELP_REG["role"])
MuniOpt = typer.Option(None, "--as-municipality", help=HELP_REG["as_municipality"])
JsonOpt = typer.Option(False, "--json", help=HELP_REG["json"])


def _manifest(command: str, **params) -> dict:
    return RunManifest(command=command, parameters=params).to_dict()


@app.command("add")
def add_cmd(
    municipality: str = typer.Argument(..., help=HELP_REG["municipality"]),
    sets: list[str] = typer.Option([], "--set", help=HELP_REG["set"]),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add one camera to the register (history and audit are written)."""
    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        cam = service.snapshot(service.create_camera(s, caller, municipality, _pairs(sets)))
    if as_json:
        echo_json({"command": "cameras add", "camera": cam,
                   "manifest": _manifest("cameras add", municipality=municipality)})  # fmt: skip
    else:
        typer.echo(f"added camera {cam['id']} ({cam['municipality_id']})")


@app.command("edit")
def edit_cmd(
    camera_id: str = typer.Argument(..., help="Camera id."),
    sets: list[str] = typer.Option([], "--set", help=HELP_REG["set"]),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Change fields of one camera (use --set municipality=NAME to move it)."""
    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        cam = service.snapshot(service.update_camera(s, caller, camera_id, _pairs(sets)))
    if as_json:
        echo_json({"command": "cameras edit", "camera": cam,
                   "manifest": _manifest("cameras edit", camera_id=camera_id)})  # fmt: skip
    else:
        typer.echo(f"camera {cam['id']} now at version {cam['version']}")


@app.command("list")
def list_cmd(
    municipality: str | None = typer.Option(None, "--municipality", help=HELP_REG["municipality"]),
    status: str | None = typer.Option(None, "--status", help=HELP_REG["status"]),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List the cameras the caller may see."""
    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        cams = service.list_cameras(s, caller, municipality=municipality, status=status)
    if as_json:
        echo_json({"command": "cameras list", "count": len(cams), "cameras": cams,
                   "manifest": _manifest("cameras list", municipality=municipality,
                                         status=status)})  # fmt: skip
        return
    for c in cams:
        typer.echo(f"{c['id']}\t{c['municipality_id']}\t{c['status']}\t{c['lat']:.6f}\t"
                   f"{c['lon']:.6f}\tconnected={c['connected']}")  # fmt: skip
    typer.echo(f"{len(cams)} cameras")


@app.command("counts")
def counts_cmd(
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Number of cameras per municipality and status (open to every role; no positions)."""
    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        rows = service.counts(s, caller)
    if as_json:
        echo_json({"command": "cameras counts", "municipalities": rows,
                   "manifest": _manifest("cameras counts")})  # fmt: skip
        return
    for r in rows:
        typer.echo(f"{r['municipality']}\t{r['name_nl']}\t{r['total']} cameras "
                   f"({r['active']} active, {r['planned']} planned)")  # fmt: skip


@app.command("show")
def show_cmd(
    camera_id: str = typer.Argument(..., help="Camera id."),
    at: str | None = typer.Option(None, "--at", help=HELP_REG["at"]),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Show one camera, now or as it was at a past moment (--at)."""
    from datetime import datetime

    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        if at:
            try:
                when = datetime.fromisoformat(at)
            except ValueError as exc:
                raise InputError(f"--at: not an ISO 8601 date-time: {at!r}") from exc
            cam = service.state_at(s, caller, camera_id, when)
        else:
            cam = service.get_camera(s, caller, camera_id)
    if as_json:
        echo_json({"command": "cameras show", "at": at, "camera": cam,
                   "manifest": _manifest("cameras show", camera_id=camera_id, at=at)})  # fmt: skip
        return
    if cam is None:
        typer.echo(f"camera {camera_id} did not exist at {at}")
        return
    for k, v in cam.items():
        typer.echo(f"{k:18} {v}")


@app.command("history")
def history_cmd(
    camera_id: str = typer.Argument(..., help="Camera id."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every change of one camera: who, when, what changed (before and after)."""
    from safecities.cameras import service

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        rows = service.history(s, caller, camera_id)
    if as_json:
        echo_json({"command": "cameras history", "camera_id": camera_id, "changes": rows,
                   "manifest": _manifest("cameras history", camera_id=camera_id)})  # fmt: skip
        return
    for r in rows:
        diff = ", ".join(
            f"{k}: {(r['before'] or {}).get(k)!r} -> {(r['after'] or {}).get(k)!r}"
            for k in r["changed"] if k != "version"
        )  # fmt: skip
        typer.echo(f"v{r['version']} {r['at']} {r['actor']} ({r['role']}) {r['action']}: {diff}")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="Inventory file: CSV (NL/FR/EN headers, ',' or ';'),"
                                " GeoJSON points or Excel (.xlsx)."),
    municipality: str = typer.Option(..., "--municipality", help=HELP_REG["municipality"]),
    mapping: Path | None = typer.Option(None, "--mapping", help="YAML file 'field: column header'"
                                        " overriding the built-in header synonyms."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Import a municipal camera inventory (all-or-nothing) and find duplicates."""
    from safecities.cameras import importers

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        report, found = importers.import_cameras(s, caller, file, municipality, mapping)
    params = {"municipality": municipality, "file": str(file)}
    manifest = RunManifest(command="cameras import", parameters=params)
    manifest.add_input_file("file", file)
    if mapping:
        manifest.add_input_file("mapping", mapping)
    if as_json:
        echo_json({"command": "cameras import", "file": report.file,
                   "rows_read": report.rows_read, "written": report.inserted,
                   "unchanged": report.unchanged, "duplicate_candidates": found,
                   "manifest": manifest.to_dict()})  # fmt: skip
        return
    typer.echo(f"{report.file}: {report.rows_read} rows, {report.inserted} written, "
               f"{report.unchanged} unchanged, {len(found)} duplicate candidates")  # fmt: skip
    for d in found:
        typer.echo(f"  possible duplicate: {d['camera_a']} ~ {d['camera_b']} "
                   f"({', '.join(d['reasons'])})")  # fmt: skip


dup_app = typer.Typer(help="Duplicate candidates (same camera reported twice).",
                      no_args_is_help=True)  # fmt: skip
app.add_typer(dup_app, name="duplicates")


@dup_app.command("list")
def dup_list_cmd(
    status: str = typer.Option("candidate", "--status",
                               help="candidate, confirmed, rejected or all."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """List duplicate candidates the caller may see."""
    from safecities.cameras import duplicates

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        rows = duplicates.list_duplicates(s, caller, None if status == "all" else status)
    if as_json:
        echo_json({"command": "cameras duplicates list", "duplicates": rows,
                   "manifest": _manifest("cameras duplicates list", status=status)})  # fmt: skip
        return
    for d in rows:
        typer.echo(f"{d['id']}\t{d['camera_a']} ~ {d['camera_b']}\t{d['distance_m']} m\t"
                   f"score {d['score']}\t{d['status']}\t{', '.join(d['reasons'])}")  # fmt: skip
    typer.echo(f"{len(rows)} duplicate candidates")


@dup_app.command("confirm")
def dup_confirm_cmd(
    dup_id: int = typer.Argument(..., help="Duplicate candidate id (from 'duplicates list')."),
    keep: str | None = typer.Option(None, "--keep", help="Camera id to keep (default: the first)."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Confirm: same camera; keep one record and mark the other removed."""
    from safecities.cameras import duplicates

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        d = duplicates.confirm(s, caller, dup_id, keep)
    if as_json:
        echo_json({"command": "cameras duplicates confirm", "duplicate": d,
                   "manifest": _manifest("cameras duplicates confirm", id=dup_id)})  # fmt: skip
    else:
        typer.echo(f"confirmed: kept {d['kept']}, removed {d['removed']}")


@dup_app.command("reject")
def dup_reject_cmd(
    dup_id: int = typer.Argument(..., help="Duplicate candidate id (from 'duplicates list')."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Reject: two different cameras; the pair is not proposed again."""
    from safecities.cameras import duplicates

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        d = duplicates.reject(s, caller, dup_id)
    if as_json:
        echo_json({"command": "cameras duplicates reject", "duplicate": d,
                   "manifest": _manifest("cameras duplicates reject", id=dup_id)})  # fmt: skip
    else:
        typer.echo(f"rejected duplicate candidate {dup_id}")


@app.command("coverage")
def coverage_cmd(
    risk: Path | None = typer.Option(None, "--risk", help="Risk surface: GeoJSON polygons with a"
                                     " risk/weight/value property, or points lat,lon,weight"
                                     " (CSV/GeoJSON). Default: incident counts from the register."),
    cell: float = typer.Option(200.0, "--cell", min=10, help="Cell size in metres for point"
                               " risk and incident counts."),
    station_radius: float = typer.Option(100.0, "--station-radius", min=1, help="A station is"
                                         " covered when a camera sees within this many metres."),
    default_range: float = typer.Option(50.0, "--range", min=1, help="Useful range in metres of"
                                        " cameras that do not give one."),
    connected_only: bool = typer.Option(False, "--connected-only", help="Count only cameras"
                                        " connected to the national register."),
    geojson: Path | None = typer.Option(None, "--geojson", help="Write the map layers (camera"
                                        " sectors, hotspot cells, stations, zones) as GeoJSON."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Share of hotspot risk, stations and named zones that active cameras cover today."""
    from safecities.cameras import coverage
    from safecities.store.db import get_engine

    caller = _caller(user, role, as_municipality)
    with _session() as s:
        inp = coverage.inputs_from_register(s, get_engine(), caller, risk=risk, cell_m=cell,
                                            connected_only=connected_only)  # fmt: skip
    res = coverage.compute(inp, station_radius=station_radius, default_range=default_range)
    manifest = RunManifest(command="cameras coverage", parameters={
        "cell": cell, "station_radius": station_radius, "range": default_range,
        "connected_only": connected_only, "role": role})  # fmt: skip
    if risk:
        manifest.add_input_file("risk", risk)
    if geojson:
        coverage.write_layers(res, geojson)
    if as_json:
        tables = {k: v for k, v in res.items() if k != "_layers"}
        echo_json({"command": "cameras coverage", **tables, "manifest": manifest.to_dict()})
        return
    from rich.console import Console
    from rich.table import Table

    sm = res["summary"]
    out = Console()
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    out.print(f"{sm['cameras']} active cameras; hotspot risk covered {pct(sm['hotspot_share'])}"
              f" ({sm['hotspot_source']}); stations covered {sm['stations_covered']}/"
              f"{sm['stations']} ({pct(sm['station_share'])}).")  # fmt: skip
    t = Table(title="Coverage per municipality")
    for col in ("NIS", "municipality", "cameras", "hotspot risk", "stations"):
        t.add_column(col)
    for r in res["municipalities"]:
        t.add_row(r["municipality"], r["name_nl"], str(r["cameras"]), pct(r["hotspot_share"]),
                  f"{r.get('stations_covered', 0)}/{r.get('stations', 0)}")  # fmt: skip
    out.print(t)
    z = Table(title="Named zones")
    for col in ("zone", "kind", "covered"):
        z.add_column(col)
    for r in res["zones"]:
        z.add_row(r["name"], r["kind"], pct(r["covered_share"]))
    out.print(z)
