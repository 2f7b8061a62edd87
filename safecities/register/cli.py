"""`safecities db|reference|incidents ...` and `safecities demo` commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from safecities.clitools import cli_actor, console, echo_json, emit, progress
from safecities.domain import RowError
from safecities.errors import InputError

db_app = typer.Typer(help="The store: create or upgrade the database schema.", no_args_is_help=True)
ref_app = typer.Typer(help="Reference data: municipalities, stations, zones.", no_args_is_help=True)
inc_app = typer.Typer(help="The incident register: import, summarise.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document (see README).")]
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--as", "--actor", help="Who is writing, recorded in the audit log (default: OS user)."
    ),
]


def _engine():
    from safecities.store.db import migrated_engine

    return migrated_engine()


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Create the database or bring it to the newest schema (SQLite under ./var by default)."""
    from safecities.config import get_settings

    _engine()
    url = get_settings().resolved_database_url()
    safe = url.split("@")[-1] if "@" in url else url
    if as_json:
        echo_json({"database": safe, "status": "up to date"})
    else:
        console.print(f"database up to date: {safe}")


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Option("--out", help="Backup file to write (replaced atomically).")],
    as_json: JsonOpt = False,
) -> None:
    """Copy the whole store to FILE while it runs (SQLite online backup; PostgreSQL pg_dump)."""
    from safecities.store.backup import backup

    res = backup(_engine(), out)
    emit(res.to_dict(), as_json, f"backed up {res.database} to {res.file} ({res.bytes} bytes, "
          f"sha256 {res.sha256}); audit head #{res.audit_head['id']}")  # fmt: skip


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A file written by `db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before replacing the store.")
    ] = False,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace the store's content with a backup; checks the copy and its audit chain first,
    then verifies the chain restored and audits the restore (db.restore)."""
    from safecities.store.backup import restore
    from safecities.store.db import get_engine

    if not yes and not typer.confirm(f"Replace everything in the store with {file}?"):
        raise typer.Exit(1)
    # No upgrade first (the store may be gone); restore() brings the copy's schema up to date.
    res = restore(get_engine(), file, actor=cli_actor(actor))
    rows, entries = sum(res.tables.values()), res.audit["entries"]
    emit(res.to_dict(), as_json, f"restored {res.database} from {res.file}: {rows} rows, audit "
          f"log intact ({entries} entries)")  # fmt: skip


@ref_app.command("load")
def reference_load(actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Load the bundled reference data (idempotent)."""
    from safecities.register.service import load_reference
    from safecities.store.db import session_scope

    with session_scope(_engine()) as s:
        counts = load_reference(s, cli_actor(actor))
    if as_json:
        echo_json(counts)
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@ref_app.command("zones-import")
def zones_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON of zone polygons.")],
    city: Annotated[str, typer.Option(help="City id.")] = "brussels",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace or add named zones (properties: id, name, kind, command_post, drawn_how)."""
    from safecities.register.service import import_zones

    counts = import_zones(_engine(), file, city=city, actor=cli_actor(actor))
    emit(counts, as_json, f"{counts['zones']} zone(s) imported")


@inc_app.command("import")
def incidents_import(
    file: Annotated[Path, typer.Argument(help="CSV, GeoJSON or Parquet file.")],
    mapping: Annotated[
        str | None,
        typer.Option(help="YAML column mapping file, or a built-in name (nypd)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Source name; re-imports with the same source are idempotent."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write every problem (file,row,field,reason,value) to CSV.")
    ] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import incidents: all rows or none; every bad row is named by row and field."""
    from safecities.register.service import run_import

    who = cli_actor(actor)
    try:
        with progress(f"importing {file.name}", total=3) as bar:
            res = run_import(_engine(), file, mapping=mapping, source=source, actor=who,
                             report=report, on_step=lambda _s: bar.advance())  # fmt: skip
    except InputError as exc:
        _print_errors(exc.errors, total=exc.errors_total, report=report)
        raise
    rep = res.report
    if as_json:
        echo_json(res.to_dict())
    else:
        console.print(
            f"{file}: {rep.rows_read} rows read, {rep.inserted} inserted, {rep.unchanged} "
            f"unchanged, {rep.updated} updated, {rep.collapsed} victim rows collapsed"
        )


def _print_errors(
    errors: list[RowError], limit: int = 20, total: int | None = None, report: Path | None = None
) -> None:
    if not errors:
        return
    total = len(errors) if total is None else total  # errors may hold only the first ones
    t = Table("row", "field", "reason", "value", title=f"{total} problem(s), nothing imported")
    for e in errors[:limit]:
        t.add_row(str(e.row), e.field, e.reason, e.value or "")
    Console(stderr=True).print(t)
    if total > limit:
        where = f"all in {report}" if report else "use --report FILE for all"
        console.print(f"... and {total - limit} more ({where})")


@inc_app.command("summary")
def incidents_summary(
    since: Annotated[
        str | None, typer.Option(help="Only incidents on or after this date (YYYY-MM-DD).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option(help="Dutch or French name, or NIS code.")
    ] = None,
    city: Annotated[str, typer.Option(help="City id.")] = "brussels",
    plot: Annotated[Path | None, typer.Option(help="Write a monthly trend chart (PNG).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts, injured and killed by month and municipality; since 1 January and since summer."""
    from safecities.register.service import SummaryRequest, summarise_incidents

    since_d = _date(since, "--since") if since else None
    req = SummaryRequest(city=city, since=since_d, municipality=municipality, plot=plot)
    summary = summarise_incidents(_engine(), req).to_dict()
    if as_json:
        echo_json(summary)
    else:
        print_summary(summary)


def print_summary(s: dict) -> None:
    out = Console()
    if s["synthetic"]:
        out.print(f"[bold red]{s['note']}[/]")
    tot = s["totals"]
    out.print(
        f"[bold]{s['city']}[/]: {tot['incidents']} incidents to {s['as_of']} "
        f"({tot['injured']} injured, {tot['killed']} killed, {tot['metro_disruptions']} metro "
        f"disruptions)"
    )
    j = s["since_1_january"]
    out.print(
        f"since {j['from']}: {j['incidents']} incidents, {j['injured']} injured, "
        f"{j['killed']} killed"
    )
    if s["since_summer"]:
        su = s["since_summer"]
        out.print(f"since {su['from']} (summer): {su['incidents']} incidents")
    t = Table("month", "incidents", "injured", "killed", title="By month")
    for m in s["by_month"]:
        t.add_row(m["month"], str(m["incidents"]), str(m["injured"]), str(m["killed"]))
    out.print(t)
    t = Table("municipality", "incidents", "injured", "killed", title="By municipality")
    for m in s["by_municipality"]:
        t.add_row(f"{m['name_fr']} / {m['name_nl']}", str(m["incidents"]), str(m["injured"]),
                  str(m["killed"]))  # fmt: skip
    out.print(t)


def _date(text: str, opt: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{opt}: not a date (YYYY-MM-DD): {text!r}") from None


@inc_app.command("demo-data")
def incidents_demo_data(
    out: Annotated[Path, typer.Option(help="CSV file to write (standard columns).")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2025,
    from_: Annotated[str, typer.Option("--from", help="First day.")] = "2025-01-01",
    to: Annotated[str, typer.Option("--to", help="Last day.")] = "2025-08-12",
) -> None:
    """Write the SYNTHETIC demonstration scenario to a CSV file (nothing is imported)."""
    from safecities.register.demo import generate

    generate(seed=seed, start=_date(from_, "--from"), end=_date(to, "--to")).to_csv(
        out, index=False
    )
    console.print(f"wrote {out} (SYNTHETIC demo data)")


def mount(root: typer.Typer) -> None:
    root.add_typer(db_app, name="db")
    root.add_typer(ref_app, name="reference")
    root.add_typer(inc_app, name="incidents")
