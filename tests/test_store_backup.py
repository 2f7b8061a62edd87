"""Nothing lost (issue 18 item 8): back up, destroy, restore; every row back, chain intact."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.store import audit
from safecities.store.db import make_engine, session_scope

DATA = Path(__file__).parent / "data"


def run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def _content(engine) -> dict[str, list]:
    """Every row of every table, in key order (the audit log's own restore entry aside)."""
    out = {}
    with engine.connect() as c:
        for name in sorted(inspect(engine).get_table_names()):
            rows = c.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all()
            out[name] = [tuple(r) for r in rows]
    out["audit_event"] = [r for r in out["audit_event"] if r[3] != "db.restore"]
    return out


def test_backup_destroy_restore_every_row_back_chain_intact(db_env, tmp_path):
    r = run("demo", "--json")  # incidents, reference data, protocol approvals, cameras
    assert r.exit_code == 0, r.output
    cps = tmp_path / "elsewhere.jsonl"
    assert run("audit", "checkpoint", "--out", str(cps)).exit_code == 0
    engine = make_engine(db_env)
    before = _content(engine)
    assert len(before["incident"]) == 57 and len(before["camera_history"]) > 50
    engine.dispose()

    out = tmp_path / "backups" / "safecities.db"
    r = run("db", "backup", "--out", str(out), "--json")
    assert r.exit_code == 0, r.output
    b = json.loads(r.stdout)
    assert b["format"] == "sqlite" and b["bytes"] == out.stat().st_size
    assert b["tables"]["incident"] == 57 and b["audit_head"] == json.loads(cps.read_text())

    db = Path(db_env.removeprefix("sqlite:///"))
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):  # destroy
        p.unlink(missing_ok=True)

    r = run("db", "restore", str(out), "--yes", "--as", "ops-on-call", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["audit"]["ok"] is True and res["sha256"] == b["sha256"]
    engine = make_engine(db_env)
    assert _content(engine) == before  # every row back
    with session_scope(engine) as s:
        assert audit.verify(s, heads=audit.read_checkpoints(cps)).ok
        last = audit.browse(s, audit.AuditQuery(limit=1)).events[0]
    assert last["action"] == "db.restore" and last["actor"] == "ops-on-call"
    engine.dispose()
    assert run("audit", "verify", "--checkpoints", str(cps)).exit_code == 0


def test_restore_refuses_a_tampered_or_foreign_file_and_keeps_the_store(db_env, tmp_path):
    assert run("reference", "load").exit_code == 0
    out = tmp_path / "b.db"
    assert run("db", "backup", "--out", str(out)).exit_code == 0
    con = sqlite3.connect(out)
    con.execute("DROP TRIGGER audit_event_no_update")
    con.execute("UPDATE audit_event SET actor = 'mallory'")
    con.commit()
    con.close()
    r = run("db", "restore", str(out), "--yes")
    assert r.exit_code != 0 and "audit log is broken" in str(r.exception)
    junk = tmp_path / "junk.db"
    junk.write_text("id,name\n1,x\n")
    r = run("db", "restore", str(junk), "--yes")
    assert r.exit_code != 0 and "not an SQLite database" in str(r.exception)
    r = run("db", "restore", str(tmp_path / "missing.db"), "--yes")
    assert r.exit_code != 0 and "no such backup file" in str(r.exception)
    engine = make_engine(db_env)
    with session_scope(engine) as s:
        assert audit.verify(s).ok
        assert audit.head(s)["id"] == 1  # untouched: still only the reference load
    engine.dispose()


def test_backup_out_must_be_a_file(db_env, tmp_path):
    r = run("db", "backup", "--out", str(tmp_path))
    assert r.exit_code != 0 and "is a folder" in str(r.exception)


@pytest.mark.postgres
def test_postgres_backup_drop_restore(engine, tmp_path):
    """pg_dump / pg_restore on the PostgreSQL store of the test run."""
    from safecities.register.service import import_incidents
    from safecities.store.backup import backup, restore

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    import_incidents(engine, DATA / "api" / "incidents_ok.csv", actor="ana")
    before = _content(engine)
    res = backup(engine, tmp_path / "pg.dump")
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    restore(engine, res.file, actor="ops")
    assert _content(engine) == before
    with session_scope(engine) as s:
        assert audit.verify(s).ok
