"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL for store tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text

from safecities.store.db import make_engine, upgrade

# Property tests draw the same examples on every run (CI must not be flaky); set
# HYPOTHESIS_PROFILE=random to explore new examples locally.
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.register_profile("random", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# Fixtures shared by tests/api and tests/web (one module instead of two copies).
pytest_plugins = ["api_fixtures"]

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


def _postgres_url() -> str:
    url = os.environ.get("SAFECITIES_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("SAFECITIES_TEST_POSTGRES_URL not set (make test starts PostgreSQL)")
    if url == "unavailable":
        pytest.fail("PostgreSQL was requested but could not be started by scripts/services.sh")
    return url


def _fresh_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: run store tests on both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        eng = _fresh_postgres(_postgres_url())
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point the CLI (SAFECITIES_DATABASE_URL) at a fresh SQLite file; returns the URL."""
    from safecities.config import get_settings
    from safecities.store import db

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SAFECITIES_DATABASE_URL", url)
    monkeypatch.setenv("SAFECITIES_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
