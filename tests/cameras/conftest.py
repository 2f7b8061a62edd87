"""Fixtures of the camera tests: a fresh store with the API app and the CLI both on it."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from safecities.api.accounts import create_demo_accounts
from safecities.api.app import create_app
from safecities.cameras import cli
from safecities.domain import Role
from safecities.store.db import make_engine, upgrade


def _app():
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


class Store:
    """A fresh migrated SQLite store, an API client on it and the CLI pointed at it."""

    def __init__(self, url: str, engine, accounts: dict[Role, dict], client):
        self.url, self.engine, self.accounts, self.client = url, engine, accounts, client
        self.headers: dict[Role, dict[str, str]] = {}
        for role, acc in accounts.items():
            r = client.post("/api/auth/login", json={"name": acc["name"],
                                                     "password": acc["password"]})  # fmt: skip
            self.headers[role] = {"Authorization": f"Bearer {r.json()['token']}"}

    def cli(self, *args: str, role: Role = Role.ADMIN) -> dict:
        who = ["--as", self.accounts[role]["name"], "--role", role.value]
        if role is Role.CAMERA_OPERATOR:
            who += ["--as-municipality", "21001"]
        if args[0] in ("plan",):
            who = []
        r = CliRunner().invoke(_app(), ["cameras", *args, *who, "--json"])
        assert r.exit_code == 0, (r.output, r.exception)
        return json.loads(r.stdout)

    def api(self, method: str, path: str, role: Role = Role.ADMIN, **kw):
        r = self.client.request(method, path, headers=self.headers[role], **kw)
        assert r.status_code in (200, 201), r.text
        return r.json()


def _client(app):
    """A client that sends the CSRF token a signed-in browser page would (tests/api_fixtures)."""
    from api_fixtures import CsrfClient

    return CsrfClient(app)


@pytest.fixture
def store(tmp_path, monkeypatch):
    from safecities.config import get_settings
    from safecities.store import db

    url = f"sqlite:///{tmp_path / 'parity.db'}"
    monkeypatch.setenv("SAFECITIES_DATABASE_URL", url)
    monkeypatch.setenv("SAFECITIES_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with _client(create_app(engine)) as client:
        yield Store(url, engine, accounts, client)
    engine.dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def other_store(tmp_path):
    """A second fresh store with its own API app (the CLI stays on `store`)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(engine)
    accounts = {Role(a["role"]): a for a in create_demo_accounts(engine)}
    with _client(create_app(engine)) as client:
        yield Store(str(engine.url), engine, accounts, client)
    engine.dispose()
