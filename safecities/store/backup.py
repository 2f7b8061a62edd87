"""Nothing lost: `safecities db backup --out FILE` and `db restore FILE` (issue 18 item 8).

SQLite: the online backup API (`sqlite3.Connection.backup`), a consistent copy while the server
keeps reading and writing (WAL included), written to a temporary file and renamed into place.
PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --single-transaction`, the tools
PostgreSQL documents for logical backups (credentials through the environment, never argv).

A restore checks the copy first (SQLite: integrity and the sealed audit chain, before anything is
replaced), brings the schema up to date, verifies the chain of what it restored and appends one
audit entry `db.restore` naming who restored which file.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select, table

from safecities.errors import InputError, SafecitiesError
from safecities.manifest import sha256_file


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table (alembic's bookkeeping aside): what a restore must bring back."""
    names = sorted(n for n in inspect(engine).get_table_names() if n != "alembic_version")
    with engine.connect() as conn:
        return {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one()
                for n in names}  # fmt: skip


def _head(engine: Engine) -> dict[str, Any]:
    from safecities.store import audit
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        return audit.head(s)


@dataclass
class BackupResult:
    database: str
    file: str
    format: str
    bytes: int
    sha256: str
    audit_head: dict[str, Any]
    tables: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.database, "file": self.file, "format": self.format,
                "bytes": self.bytes, "sha256": self.sha256, "audit_head": self.audit_head,
                "tables": self.tables}  # fmt: skip


@dataclass
class RestoreResult:
    database: str
    file: str
    sha256: str
    audit: dict[str, Any]
    audit_head: dict[str, Any]
    tables: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database, "file": self.file, "sha256": self.sha256,
            "audit": self.audit, "audit_head": self.audit_head, "tables": self.tables,
        }  # fmt: skip


def _sqlite_path(engine: Engine) -> Path:
    db = engine.url.database
    if not db or db == ":memory:":
        raise InputError("db backup: an in-memory database cannot be backed up")
    return Path(db)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise SafecitiesError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _pg_env(engine: Engine) -> dict[str, str]:
    u = engine.url
    env = dict(os.environ)
    for var, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):  # fmt: skip
        if value is not None:
            env[var] = str(value)
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        raise SafecitiesError(f"{what} failed: {last}")


def backup(engine: Engine, out: str | Path) -> BackupResult:
    """Copy the whole store to `out` (never half-written: a temporary file renamed at the end)."""
    out = Path(out)
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    head, tables = _head(engine), row_counts(engine)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if engine.dialect.name == "sqlite":
            src = sqlite3.connect(f"file:{_sqlite_path(engine)}?mode=ro", uri=True)
            dst = sqlite3.connect(tmp)
            try:
                with dst:
                    src.backup(dst, pages=1024)  # steps, so writers are not held up for long
            finally:
                dst.close()
                src.close()
            fmt = "sqlite"
        elif engine.dialect.name == "postgresql":
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}"],
                 _pg_env(engine), "pg_dump")  # fmt: skip
            fmt = "pg_dump-custom"
        else:
            raise InputError(f"db backup: no backup method for {engine.dialect.name}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(safe_url(engine), str(out), fmt, out.stat().st_size, sha256_file(out),
                        head, tables)  # fmt: skip


def _check_sqlite_copy(path: Path) -> None:
    """Refuse a file that is not a sound safecities SQLite copy, or whose chain is broken."""
    from safecities.store import audit
    from safecities.store.db import make_engine, session_scope

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.db"
        shutil.copyfile(path, probe)
        try:
            con = sqlite3.connect(probe)
            ok = con.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            con.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path}: not an SQLite database ({exc})") from None
        if ok != "ok":
            raise InputError(f"{path}: damaged SQLite file ({ok})")
        if "audit_event" not in tables:
            raise InputError(f"{path}: not a safecities backup (no audit_event table)")
        eng = make_engine(f"sqlite:///{probe}")
        try:
            from safecities.store.db import upgrade

            upgrade(eng)
            with session_scope(eng) as s:
                rep = audit.verify(s)
        finally:
            eng.dispose()
    if not rep.ok:
        raise InputError(f"{path}: its audit log is broken at entry {rep.first_bad_id} "
                         f"({rep.reason}); nothing restored")  # fmt: skip


def restore(engine: Engine, path: str | Path, *, actor: str) -> RestoreResult:
    """Replace the store's content with the backup `path`, then verify and audit the restore."""
    from safecities.store import audit
    from safecities.store.db import session_scope, upgrade

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such backup file")
    digest = sha256_file(path)
    if engine.dialect.name == "sqlite":
        _check_sqlite_copy(path)
        target = _sqlite_path(engine)
        target.parent.mkdir(parents=True, exist_ok=True)
        engine.dispose()  # our own pooled connections must not keep the old pages
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)  # page by page under the destination's write lock: all or nothing
        finally:
            dst.close()
            src.close()
    elif engine.dialect.name == "postgresql":
        engine.dispose()
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", f"--dbname={engine.url.database}", str(path)],
             _pg_env(engine), "pg_restore")  # fmt: skip
    else:
        raise InputError(f"db restore: no restore method for {engine.dialect.name}")
    upgrade(engine)
    with session_scope(engine) as s:
        rep = audit.verify(s)
        if rep.ok:
            audit.record(s, actor=actor, action="db.restore", entity="database",
                         after={"file": path.name, "sha256": digest})  # fmt: skip
    if not rep.ok:
        raise SafecitiesError(f"restored from {path}, but its audit log is broken at entry "
                              f"{rep.first_bad_id}: {rep.reason}")  # fmt: skip
    with session_scope(engine) as s:
        rep = audit.verify(s)
        head = audit.head(s)
    return RestoreResult(safe_url(engine), str(path), digest, rep.to_dict(), head,
                         row_counts(engine))  # fmt: skip
