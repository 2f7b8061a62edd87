"""`safecities cameras ...` commands (thin: parse, call the library, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from safecities.clitools import console, echo_json, progress
from safecities.errors import InputError

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
    "min_difference": "Each alternative drops at least this share (below 1, e.g. 0.25) or this"
    " number (1 or more) of the sites of every earlier layout.",
    "municipal_budgets": "Municipal limits: municipality,budget|share[,capacity] (CSV/XLSX):"
    " a budget in euros or a share of --budget per municipality, and the cameras its"
    " control room can watch.",
    "years": "Total cost of ownership over N years: a site costs cost + N x cost_yearly.",
    "city": "Database inputs for this bundled city (brussels, antwerp, ghent) or 'all' for"
    " the national view.",
    "curve_steps": "Points on the coverage-against-budget curve (0: none).",
    "time_limit": "Solver time limit per solve, seconds.",
    "ignore_register": "Leave out the register's connected cameras (by default they cover for"
    " free, also with --candidates).",
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
    min_difference: float = typer.Option(
        0.25, "--min-difference", min=0.001, help=HELP["min_difference"]
    ),
    municipal_budgets: Path | None = typer.Option(
        None, "--municipal-budgets", help=HELP["municipal_budgets"]
    ),
    years: int = typer.Option(0, "--years", min=0, max=50, help=HELP["years"]),
    city: str = typer.Option("brussels", "--city", help=HELP["city"]),
    curve_steps: int = typer.Option(5, "--curve-steps", min=0, help=HELP["curve_steps"]),
    time_limit: float = typer.Option(300.0, "--time-limit", min=0.1, help=HELP["time_limit"]),
    ignore_register: bool = typer.Option(False, "--ignore-register", help=HELP["ignore_register"]),
    out: Path | None = typer.Option(None, "--out", help=HELP["out"]),
    geojson: Path | None = typer.Option(None, "--geojson", help=HELP["geojson"]),
    as_json: bool = typer.Option(False, "--json", help=HELP["as_json"]),
) -> None:
    """Choose camera sites and connections that maximise covered demand within a budget."""
    from contextlib import nullcontext

    from safecities.cameras import planning
    from safecities.cameras.service import verbs

    req = verbs.PlanRequest(budget, radius, alternatives, share, min_difference, curve_steps,
                            time_limit, candidates, demand,
                            ignore_register=ignore_register, municipal_budgets=municipal_budgets,
                            years=years, city=None if city == "all" else city)  # fmt: skip
    files_only = candidates is not None and demand is not None and ignore_register
    engine = None if files_only else _engine()
    db = _session(engine) if engine is not None else nullcontext()
    with progress("camera plan: solving", req.solves) as bar, db as s:
        res = verbs.plan(s, engine, req, on_step=bar.advance)
    doc = res.to_dict()
    if out:
        planning.write_chosen_csv(doc, out)
    if geojson:
        planning.write_chosen_geojson(doc, geojson)
    if as_json:
        echo_json(doc)
        return
    _print_plan(doc)


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


def _engine():
    from safecities.store.db import migrated_engine

    return migrated_engine()


def _session(engine=None):
    """A session on the configured store (`engine=None`: the default engine)."""
    from safecities.store.db import session_scope

    return session_scope(engine if engine is not None else _engine())


AsOpt = typer.Option(None, "--as", help=HELP_REG["as"])
RoleOpt = typer.Option("admin", "--role", help=HELP_REG["role"])
MuniOpt = typer.Option(None, "--as-municipality", help=HELP_REG["as_municipality"])
JsonOpt = typer.Option(False, "--json", help=HELP_REG["json"])


def _emit(doc: dict, as_json: bool, line) -> None:
    """The --json document, or one line of text made from it."""
    if as_json:
        echo_json(doc)
    else:
        typer.echo(line(doc))


def _run(verb, *args, **kwargs) -> dict:
    """Run one service verb in a session of the store (committed on success) -> its --json."""
    with _session() as s:
        return verb(s, *args, **kwargs).to_dict()


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
    from safecities.cameras.service import verbs

    doc = _run(verbs.add, _caller(user, role, as_municipality), municipality, _pairs(sets))
    _emit(doc, as_json, lambda d: f"added camera {d['camera']['id']}"
                                  f" ({d['camera']['municipality_id']})")  # fmt: skip


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
    from safecities.cameras.service import verbs

    doc = _run(verbs.edit, _caller(user, role, as_municipality), camera_id, _pairs(sets))
    _emit(doc, as_json, lambda d: f"camera {d['camera']['id']} now at version"
                                  f" {d['camera']['version']}")  # fmt: skip


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
    from safecities.cameras.service import verbs

    doc = _run(verbs.list_, _caller(user, role, as_municipality), municipality=municipality,
               status=status)  # fmt: skip
    if as_json:
        echo_json(doc)
        return
    for c in doc["cameras"]:
        typer.echo(f"{c['id']}\t{c['municipality_id']}\t{c['status']}\t{c['lat']:.6f}\t"
                   f"{c['lon']:.6f}\tconnected={c['connected']}")  # fmt: skip
    typer.echo(f"{doc['count']} cameras")


@app.command("counts")
def counts_cmd(
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Number of cameras per municipality and status (open to every role; no positions)."""
    from safecities.cameras.service import verbs

    doc = _run(verbs.counts, _caller(user, role, as_municipality))
    if as_json:
        echo_json(doc)
        return
    for r in doc["municipalities"]:
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
    from safecities.cameras.service import verbs

    doc = _run(verbs.show, _caller(user, role, as_municipality), camera_id, at)
    if as_json:
        echo_json(doc)
        return
    if doc["camera"] is None:
        typer.echo(f"camera {camera_id} did not exist at {at}")
        return
    for k, v in doc["camera"].items():
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
    from safecities.cameras.service import verbs

    doc = _run(verbs.history, _caller(user, role, as_municipality), camera_id)
    if as_json:
        echo_json(doc)
        return
    for r in doc["changes"]:
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
    source: str | None = typer.Option(None, "--source", help="Name of the source (id namespace:"
                                      " ids are <NIS>-<source>-<id in the file>). Default: the"
                                      " file name without extension."),
    report: Path | None = typer.Option(None, "--report", help="On errors, write every problem"
                                       " to this CSV file (file,row,field,reason,value)."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Import a municipal camera inventory (all-or-nothing) and find duplicates."""
    from safecities.cameras.service import verbs

    caller = _caller(user, role, as_municipality)
    # The report is written while rows are validated; only the first problems stay in memory.
    req = verbs.ImportRequest(file, municipality, mapping, source=source, report=report)
    try:
        doc = _run(verbs.import_file, caller, req)
    except InputError as exc:
        bad = verbs.import_error(req, exc).to_dict()
        if as_json:
            echo_json(bad)
        else:
            for e in bad["errors"]:
                console.print(f"{e['file']}:{e['row']}: field {e['field']!r}: {e['reason']}"
                              + (f" ({e['value']!r})" if e["value"] is not None else ""),
                              markup=False, highlight=False)  # fmt: skip
            if bad["errors_total"] > len(bad["errors"]):
                more = bad["errors_total"] - len(bad["errors"])
                console.print(f"... and {more} more" + ("" if report else
                              " (use --report FILE for all)"), markup=False)  # fmt: skip
        raise
    if as_json:
        echo_json(doc)
        return
    typer.echo(f"{doc['file']}: {doc['rows_read']} rows, {doc['created']} new, "
               f"{len(doc['updated'])} updated, {doc['unchanged']} unchanged, "
               f"{len(doc['duplicate_candidates'])} duplicate candidates")  # fmt: skip
    for u in doc["updated"]:
        diff = ", ".join(f"{k}: {u['before'][k]!r} -> {u['after'][k]!r}" for k in u["after"])
        typer.echo(f"  updated {u['id']}: {diff}")
    for d in doc["duplicate_candidates"]:
        typer.echo("  possible duplicate: " + verbs.describe_duplicate(d))


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
    from safecities.cameras.service import verbs

    doc = _run(verbs.duplicates_list, _caller(user, role, as_municipality),
               None if status == "all" else status)  # fmt: skip
    if as_json:
        echo_json(doc)
        return
    for d in doc["duplicates"]:
        typer.echo(f"{d['id']}\t{d['status']}\t{verbs.describe_duplicate(d)}")
    typer.echo(f"{len(doc['duplicates'])} duplicate candidates")


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
    from safecities.cameras.service import verbs

    doc = _run(verbs.duplicates_confirm, _caller(user, role, as_municipality), dup_id, keep)
    _emit(doc, as_json, lambda d: f"confirmed: kept {d['duplicate']['kept']}, removed"
                                  f" {d['duplicate']['removed']}")  # fmt: skip


@dup_app.command("reject")
def dup_reject_cmd(
    dup_id: int = typer.Argument(..., help="Duplicate candidate id (from 'duplicates list')."),
    user: str | None = AsOpt,
    role: str = RoleOpt,
    as_municipality: str | None = MuniOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Reject: two different cameras; the pair is not proposed again."""
    from safecities.cameras.service import verbs

    doc = _run(verbs.duplicates_reject, _caller(user, role, as_municipality), dup_id)
    _emit(doc, as_json, lambda d: f"rejected duplicate candidate {dup_id}")


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
    import json

    from safecities.api.permissions import Action, allowed
    from safecities.cameras.service import verbs

    caller = _caller(user, role, as_municipality)
    req = verbs.CoverageRequest(
        risk,
        cell,
        station_radius,
        default_range,
        connected_only,
        hotspot_cells=allowed(caller.role, Action.HOTSPOTS_READ),
    )
    engine = _engine()
    with _session(engine) as s:
        res = verbs.coverage(s, engine, caller, req)
    if geojson:
        geojson.write_text(json.dumps(res.layers, default=str))
    doc = res.to_dict()
    if as_json:
        echo_json(doc)
        return
    from rich.console import Console
    from rich.table import Table

    sm = doc["summary"]
    out = Console()
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    out.print(f"{sm['cameras']} active cameras; hotspot risk covered {pct(sm['hotspot_share'])}"
              f" ({sm['hotspot_source']}); stations covered {sm['stations_covered']}/"
              f"{sm['stations']} ({pct(sm['station_share'])}).")  # fmt: skip
    t = Table(title="Coverage per municipality")
    for col in ("NIS", "municipality", "cameras", "hotspot risk", "stations"):
        t.add_column(col)
    for r in doc["municipalities"]:
        t.add_row(r["municipality"], r["name_nl"], str(r["cameras"]), pct(r["hotspot_share"]),
                  f"{r.get('stations_covered', 0)}/{r.get('stations', 0)}")  # fmt: skip
    out.print(t)
    z = Table(title="Named zones")
    for col in ("zone", "kind", "covered"):
        z.add_column(col)
    for r in doc["zones"]:
        z.add_row(r["name"], r["kind"], pct(r["covered_share"]))
    out.print(z)
