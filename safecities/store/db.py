"""Engines, sessions, write locks and schema upgrades (Alembic, run programmatically).

Writers never collide: a write transaction takes the store's write lock before it reads what it
will change (`write_lock`: SQLite `BEGIN IMMEDIATE`, PostgreSQL a transaction advisory lock), waits
a bounded time and otherwise fails with `StoreBusy` (one line on the CLI, 503 + Retry-After from
the API). Schema upgrades are serialised too, so a fresh store survives concurrent first use.
"""

from __future__ import annotations

import fcntl
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from safecities.config import get_settings
from safecities.errors import StoreBusy

MIGRATIONS = Path(__file__).parent / "migrations"


#: How long one SQLite statement waits for the write lock before SQLITE_BUSY.
BUSY_TIMEOUT_MS = 5000
#: How long a write waits for the store in all (the CLI; the API gives a request API_WRITE_WAIT).
WRITE_WAIT_SECONDS = 120.0
API_WRITE_WAIT = 5.0
RETRY_AFTER_SECONDS = 5
#: SQLSTATEs of PostgreSQL that mean "busy, try again": serialization failure, deadlock, lock
#: timeout (lock_not_available).
_PG_BUSY = {"40001", "40P01", "55P03"}
#: The wait budget of writes in this context (the API sets API_WRITE_WAIT for each request).
write_wait: ContextVar[float] = ContextVar("write_wait", default=WRITE_WAIT_SECONDS)


def make_engine(url: str | None = None) -> Engine:
    url = url or get_settings().resolved_database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA foreign_keys=ON")
            # Each wait for the write lock; `write_lock` retries it up to the session's budget.
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.close()

    return engine


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["engine"] = engine
    return cfg


_UPGRADE_LOCK = threading.Lock()


def upgrade(engine: Engine | None = None) -> None:
    """Bring the schema to the newest revision of every branch (capabilities add branches).

    Serialised across threads and processes (a lock file next to an SQLite database, a session
    advisory lock on PostgreSQL): concurrent first commands on an empty store all succeed."""
    engine = engine or get_engine()
    cfg = alembic_config(engine)
    with _UPGRADE_LOCK:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(7243002)"))
                try:
                    command.upgrade(cfg, "heads")
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(7243002)"))
                    conn.commit()
            return
        db = engine.url.database
        if engine.dialect.name != "sqlite" or not db or db == ":memory:":
            command.upgrade(cfg, "heads")
            return
        with open(f"{db}.migrate-lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                command.upgrade(cfg, "heads")
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def migrated_engine() -> Engine:
    """The application's engine with its schema up to date: what every command starts with."""
    engine = get_engine()
    upgrade(engine)
    return engine


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(engine or get_engine(), expire_on_commit=False, future=True)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- the write lock ------------------------------------------------------------------------------


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means "another writer holds the store; try again"."""
    if isinstance(exc, StoreBusy):
        return True
    if isinstance(exc, OperationalError) and any(
        m in str(exc.orig).lower() for m in ("database is locked", "database is busy")
    ):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and code in _PG_BUSY


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"safecities:{name}".encode()).digest()[:4], "big")


def write_lock(session: Session, name: str = "store", *, wait: float | None = None) -> None:
    """Hold the store's write lock for the rest of `session`'s transaction (idempotent).

    SQLite: `BEGIN IMMEDIATE` unless the transaction already writes (pysqlite opens transactions
    only at the first INSERT/UPDATE/DELETE, and that statement takes the write lock), so what the
    caller reads next cannot change under it. PostgreSQL: `pg_advisory_xact_lock` on `name`
    (writers of different names do not wait for each other). Waits up to `wait` seconds (default:
    the session's `info["write_wait"]`, else the context's `write_wait`), then raises StoreBusy.
    """
    budget = wait if wait is not None else session.info.get("write_wait", write_wait.get())
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        ms = max(1, int(budget * 1000))
        conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
        try:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name)})
        except DBAPIError as exc:
            if is_busy(exc):
                raise StoreBusy(_busy_message(budget)) from None
            raise
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        return
    if dialect != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw.in_transaction:
        return
    deadline = time.monotonic() + budget
    try:
        while True:
            # Each attempt waits at most what is left of the budget (SQLite's own busy handler).
            left = max(1, int((deadline - time.monotonic()) * 1000))
            raw.execute(f"PRAGMA busy_timeout={min(left, BUSY_TIMEOUT_MS)}")
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except Exception as exc:  # sqlite3.OperationalError: database is locked
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusy(_busy_message(budget)) from None
                time.sleep(random.uniform(0.01, 0.1))  # jitter, so waiting writers do not march
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _busy_message(waited: float) -> str:
    return (
        f"the store is busy: another write held it for more than {waited:g} s; "
        f"nothing was written, try again"
    )
