"""`safecities users ...`, `safecities audit ...` and `safecities serve` commands."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer

from safecities.clitools import cli_actor, echo_json, emit
from safecities.domain import Role
from safecities.errors import InputError
from safecities.manifest import RunManifest

users_app = typer.Typer(help="Accounts: create users with a role.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

_ROLES = ", ".join(r.value for r in Role)


def _engine():
    from safecities.store.db import migrated_engine

    return migrated_engine()


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Login name (no spaces); a pseudonymous code is fine."),
    role: str = typer.Option(..., "--role", help=f"One of: {_ROLES}."),
    municipality: str | None = typer.Option(
        None, "--municipality", help="NIS code of the municipality (camera_operator only)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the new account as JSON."),
    actor: str | None = typer.Option(
        None, "--as", help="Who creates it, recorded in the audit log (default: OS user)."
    ),
) -> None:
    """Create an account (password hashed with Argon2; asked twice unless --password-stdin)."""
    from safecities.api import accounts
    from safecities.store.db import session_scope

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise InputError("passwords differ")
    engine = _engine()
    with session_scope(engine) as session:
        user = accounts.create_user(
            session,
            actor=cli_actor(actor),
            actor_role=None,
            name=name,
            role=role,
            password=password,
            municipality=municipality,
        )
        out = accounts.user_public(user)
    if json_out:
        echo_json(out)
    else:
        where = f" for municipality {out['municipality_id']}" if out["municipality_id"] else ""
        typer.echo(f"created user {out['name']} with role {out['role']}{where}")


def _set_active(name: str, active: bool, json_out: bool, actor: str | None) -> None:
    from safecities.api import accounts
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        user = accounts.set_active(session, actor=cli_actor(actor), actor_role=None, name=name,
                                   active=active)  # fmt: skip
        out = accounts.user_public(user)
    verb = "reactivated" if active else "deactivated"
    emit(out, json_out, f"user {out['name']} {verb}", typer.echo)


NAME_ARG = typer.Argument(..., help="Login name.")
ACCOUNT_JSON = typer.Option(False, "--json", help="Print the account as JSON.")
AS_OPT = typer.Option(
    None, "--as", help="Who does it, recorded in the audit log (default: OS user)."
)


@users_app.command("deactivate")
def users_deactivate(
    name: str = NAME_ARG, json_out: bool = ACCOUNT_JSON, actor: str | None = AS_OPT
) -> None:
    """Deactivate an account and end its sessions (never the last active admin)."""
    _set_active(name, False, json_out, actor)


@users_app.command("reactivate")
def users_reactivate(
    name: str = NAME_ARG, json_out: bool = ACCOUNT_JSON, actor: str | None = AS_OPT
) -> None:
    """Reactivate a deactivated account (its old password works again)."""
    _set_active(name, True, json_out, actor)


@audit_app.command("verify")
def audit_verify(
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    head: list[str] = typer.Option(
        [], "--head", help="A head hash recorded earlier (`audit head`); repeatable."
    ),
    checkpoints: Path | None = typer.Option(
        None, "--checkpoints", help="File of heads written by `audit checkpoint --out`."
    ),
) -> None:
    """Recompute the sealed hash chain and the incident and camera-history digests; every
    recorded head must still be in the log. Exit 1 naming the first bad entry."""
    from safecities.store import audit
    from safecities.store.db import session_scope

    heads: list = list(head)
    if checkpoints is not None:
        heads += audit.read_checkpoints(checkpoints)
    with session_scope(_engine()) as session:
        report = audit.verify(session, heads=heads)
    if json_out:
        echo_json({**report.to_dict(), "manifest": RunManifest("audit verify").to_dict()})
    elif report.ok:
        typer.echo(f"audit log intact: {report.entries} entries")
    if not report.ok:
        if not json_out:
            typer.echo(
                f"audit log BROKEN at entry {report.first_bad_id}: {report.reason}", err=True
            )
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(
    json_out: bool = typer.Option(False, "--json", help="Print {id, hash, at} as JSON."),
) -> None:
    """The newest entry's id, hash and time: record it elsewhere to detect a cut log later."""
    from safecities.store import audit
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        h = audit.head(session)
    emit(h, json_out, f"#{h['id']} {h['hash']} {h['at'] or ''}".rstrip(), typer.echo)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Path = typer.Option(..., "--out", help="File to append the head to (keep it elsewhere)."),
    json_out: bool = typer.Option(False, "--json", help="Print the head written as JSON."),
) -> None:
    """Append the head to FILE as one JSON line; `audit verify --checkpoints FILE` checks them."""
    from safecities.store import audit
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        h = audit.write_checkpoint(session, out)
    emit(h, json_out, f"appended #{h['id']} {h['hash']} to {out}", typer.echo)


@audit_app.command("log")
def audit_log(
    limit: int = typer.Option(50, "--limit", min=1, max=10000, help="Newest N entries."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor."),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. user.create."),
    json_out: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Show the newest audit entries (who, when, what)."""
    from safecities.store import audit
    from safecities.store.db import session_scope

    with session_scope(_engine()) as session:
        page = audit.browse(session, audit.AuditQuery(limit=limit, actor=actor, action=action))
    total, events = page.total, page.events
    if json_out:
        params = {"limit": limit, "actor": actor, "action": action}
        echo_json(
            {
                "total": total,
                "events": events,
                "manifest": RunManifest("audit log", parameters=params).to_dict(),
            }
        )
        return
    for ev in events:
        typer.echo(
            f"{ev['id']:>6}  {ev['at'][:19]}  {ev['actor']:<24} {ev['action']:<24} "
            f"{ev['entity']}:{ev['entity_id'] or ''}"
        )
    typer.echo(f"{len(events)} of {total} entries shown")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, max=8, help="Worker processes."),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Comma-separated addresses of trusted reverse proxies whose X-Forwarded-For / "
        "-Proto headers are believed (default: none; the client address is the socket's). "
        "Also SAFECITIES_FORWARDED_ALLOW_IPS.",
    ),
) -> None:
    """Serve the web dashboard and the API (OpenAPI at /docs)."""
    import uvicorn

    _engine()
    typer.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", err=True)
    uvicorn.run(
        "safecities.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        **proxy_options(forwarded_allow_ips),
    )


def proxy_options(forwarded_allow_ips: str | None) -> dict:
    """uvicorn's proxy settings: off unless trusted proxies are named (uvicorn's own default
    trusts X-Forwarded-For from 127.0.0.1, which let a local caller spoof its address)."""
    from safecities.config import get_settings

    ips = (forwarded_allow_ips or get_settings().forwarded_allow_ips or "").strip()
    if not ips:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ips}


def serve_demo(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Create one demo account per role, print the passwords once, then serve the dashboard."""
    from rich.console import Console
    from rich.table import Table

    from safecities.api.accounts import create_demo_accounts

    accounts = create_demo_accounts(_engine())
    table = Table(title="Demo accounts (passwords shown once; rerun the demo for new ones)")
    for col in ("name", "role", "municipality", "password"):
        table.add_column(col)
    for a in accounts:
        table.add_row(a["name"], a["role"], a["municipality"] or "", a["password"])
    Console().print(table)
    serve(host=host, port=port, workers=1, forwarded_allow_ips=None)


def mount(root: typer.Typer) -> None:
    root.add_typer(users_app, name="users")
    root.add_typer(audit_app, name="audit")
    root.command("serve")(serve)
