"""Writers that never collide (issue 18 item 2, finding M5): concurrent imports on an empty store
all land, a busy store answers 503 + Retry-After (never 500), CLI imports wait or fail in one line.
Bounded: at most 8 writers, loopback only."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

import safecities
from safecities.domain import Role
from safecities.register import reference
from safecities.store import audit
from safecities.store.db import make_engine, session_scope, upgrade
from safecities.store.models import AuditEvent, Incident, Municipality

DATA = Path(__file__).parent / "data"
REPO = Path(safecities.__file__).parents[1]  # the code under test, for subprocesses


def _csv(tmp_path: Path, k: int) -> Path:
    """Incidents file k: three rows of its own (own source ids), as a different police zone
    would send them."""
    src = (DATA / "api" / "incidents_ok.csv").read_text().splitlines()
    out = [src[0]] + [line.replace("t-", f"z{k}-", 1) for line in src[1:]]
    p = tmp_path / f"zone{k}.csv"
    p.write_text("\n".join(out) + "\n")
    return p


def _all_at_once(target, args: list[tuple]) -> None:
    """Start one thread per argument tuple, then wait for all (bounded)."""
    threads = [threading.Thread(target=target, args=a) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)


def test_concurrent_imports_on_an_empty_store_all_land(engine, tmp_path):
    """8 imports at once into a store without reference data: the reference data is loaded once
    (it raced before: 7 of 8 failed on PostgreSQL) and every row of every file lands."""
    from safecities.register.service import import_incidents

    files = [_csv(tmp_path, k) for k in range(8)]
    errors: list[str] = []

    def one(p: Path) -> None:
        try:
            import_incidents(engine, p, actor="zone-clerk")
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(f"{p.name}: {exc!r}")

    _all_at_once(one, [(p,) for p in files])
    assert not errors, errors
    with session_scope(engine) as s:
        assert s.execute(select(func.count(Incident.id))).scalar_one() == 8 * 3
        bundled = len(reference.municipalities(None))
        assert s.execute(select(func.count(Municipality.id))).scalar_one() == bundled
        loads = select(func.count()).where(AuditEvent.action == "reference.load")
        assert s.execute(loads).scalar_one() == 1  # loaded once, by the first writer
        assert audit.verify(s).ok


def test_same_file_imported_concurrently_lands_once(sqlite_engine, tmp_path):
    """Two imports of one source at once: one inserts, the other finds the rows unchanged (it
    read the source's rows before the first committed, and failed on the unique key, before)."""
    from safecities.register.service import import_incidents

    p = _csv(tmp_path, 0)
    reports, errors = [], []

    def one() -> None:
        try:
            reports.append(import_incidents(sqlite_engine, p, source="zone-0", actor="clerk"))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    _all_at_once(one, [()] * 4)
    assert not errors, errors
    assert sorted(r.inserted for r in reports) == [0, 0, 0, 3]
    assert sorted(r.unchanged for r in reports) == [0, 3, 3, 3]


def test_concurrent_first_use_of_a_fresh_store_migrates_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engines = [make_engine(url) for _ in range(4)]
    errors: list[str] = []

    def one(e) -> None:
        try:
            upgrade(e)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    _all_at_once(one, [(e,) for e in engines])
    assert not errors, errors
    for e in engines:
        e.dispose()


def _hold_write_lock(db: Path, seconds: float, ready: threading.Event) -> None:
    """Another process's long import, as SQLite sees it: the write lock held for `seconds`."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    ready.set()
    time.sleep(seconds)
    con.execute("ROLLBACK")
    con.close()


def test_busy_store_answers_503_with_retry_after(tmp_path, demo_accounts, monkeypatch):
    """M5: while an import holds the write lock, API writes answered 500 after 10 s; now they
    wait briefly, then 503 + Retry-After; reads are not blocked at all (WAL)."""
    from safecities.api.accounts import create_demo_accounts
    from safecities.api.app import create_app
    from safecities.store import db as store_db

    monkeypatch.setattr(store_db, "API_WRITE_WAIT", 1.0)
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    acc = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with TestClient(create_app(engine)) as client:
        tok = {}
        for role in (Role.ADMIN, Role.ANALYST):
            login = {"name": acc[role]["name"], "password": acc[role]["password"]}
            r = client.post("/api/auth/login", json=login)
            tok[role] = {"Authorization": f"Bearer {r.json()['token']}"}
        ready = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 14.0, ready))
        holder.start()
        ready.wait(10)
        try:
            t0 = time.monotonic()
            r = client.get("/api/incidents", headers=tok[Role.ANALYST])
            assert r.status_code == 200 and time.monotonic() - t0 < 10  # readers go on (lock: 14 s)
            src = (DATA / "api" / "incidents_ok.csv").read_bytes()
            r = client.post("/api/incidents/import", headers=tok[Role.ANALYST],
                            files={"file": ("incidents_ok.csv", src, "text/csv")})  # fmt: skip
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) > 0 and "busy" in r.json()["detail"]
            body = {"name": "chief", "role": "planner", "password": "a long enough password"}
            r = client.post("/api/users", headers=tok[Role.ADMIN], json=body)
            assert r.status_code == 503, r.text
            assert "Retry-After" in r.headers
        finally:
            holder.join()
        r = client.post("/api/users", headers=tok[Role.ADMIN], json=body)
        assert r.status_code == 201, r.text  # nothing half-written: the retry succeeds
    with session_scope(engine) as s:
        assert audit.verify(s).ok
    engine.dispose()


def _cli(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "safecities", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip


def test_concurrent_cli_imports_on_a_fresh_store_all_land(tmp_path):
    """M5: 5 of 8 concurrent CLI imports exited "database is locked" with a traceback; now all 8
    land on a store none of them had created yet, and the chain verifies."""
    env = {**os.environ, "SAFECITIES_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "SAFECITIES_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    procs = [
        _cli(["incidents", "import", str(_csv(tmp_path, k)), "--actor", f"clerk{k}", "--json"], env)
        for k in range(8)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert "Traceback" not in err
        assert json.loads(out)["inserted"] == 3
    r = subprocess.run([sys.executable, "-m", "safecities", "audit", "verify", "--json"],
                       env=env, capture_output=True, text=True, cwd=REPO, timeout=300)  # fmt: skip
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True, r.stdout + r.stderr


def test_write_lock_waits_a_bounded_time_then_store_busy(engine):
    """On both databases: a second writer waits at most its budget, then StoreBusy (nothing
    written); once the first commits, the second gets the lock."""
    import pytest

    from safecities.errors import StoreBusy
    from safecities.store.db import write_lock

    holder = session_scope(engine)
    s1 = holder.__enter__()
    write_lock(s1, "register")
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreBusy, match="busy"), session_scope(engine) as s2:
            write_lock(s2, "register", wait=0.5)
        assert time.monotonic() - t0 < 3  # the budget, not a fixed 5 s busy timeout
    finally:
        holder.__exit__(None, None, None)
    with session_scope(engine) as s3:
        write_lock(s3, "register", wait=0.5)
