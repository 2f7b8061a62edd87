"""API and web test fixtures (a plugin of tests/conftest.py): a migrated SQLite app per module, demo
accounts and role clients."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")

from fastapi.testclient import TestClient  # noqa: E402

from safecities.api import accounts  # noqa: E402
from safecities.api.accounts import create_demo_accounts  # noqa: E402
from safecities.api.app import create_app  # noqa: E402
from safecities.domain import Role  # noqa: E402
from safecities.store.db import make_engine, upgrade  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2():
    """Argon2 at full cost takes ~0.3 s a hash on a busy 2-core box: tests use cheap parameters."""
    accounts.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts.configure_hasher()


@pytest.fixture(scope="module")
def api_engine(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo_accounts(api_engine) -> dict[Role, dict]:
    return {Role(a["role"]): a for a in create_demo_accounts(api_engine)}


@pytest.fixture(scope="module")
def app(api_engine, demo_accounts):
    return create_app(api_engine)


@pytest.fixture(scope="module")
def tokens(app, demo_accounts) -> dict[Role, str]:
    out = {}
    with TestClient(app) as c:
        for role, acc in demo_accounts.items():
            r = c.post("/api/auth/login", json={"name": acc["name"], "password": acc["password"]})
            assert r.status_code == 200, r.text
            out[role] = r.json()["token"]
    return out


class CsrfClient(TestClient):
    """A TestClient that sends the CSRF token a browser page would (safecities.api.csrf): tests
    post forms as a signed-in browser does. Pass `headers={"X-CSRF-Token": ...}` or a
    `csrf_token` form field to override; tests/security checks the refusals."""

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        from safecities.api import csrf

        headers = dict(kwargs.pop("headers", None) or {})
        data = kwargs.get("data")
        bearer = any(k.lower() == "authorization" for k in headers)
        given = any(k.lower() == csrf.HEADER for k in headers) or (
            isinstance(data, dict) and csrf.FIELD in data
        )
        if method.upper() not in csrf.SAFE_METHODS and not bearer and not given:
            cookies = dict(self.cookies.items())
            if csrf.expected(cookies) is None and str(url).rstrip("/").endswith("/login"):
                super().request("GET", "/login")  # a browser opens the form first
                cookies = dict(self.cookies.items())
            token = csrf.expected(cookies)
            if token is not None:
                headers[csrf.HEADER] = token
        return super().request(method, url, *args, headers=headers, **kwargs)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with CsrfClient(app) as c:
        yield c


def flat_routes(routes):
    """APIRoutes, also inside included routers (FastAPI wraps them in newer versions)."""
    from fastapi.routing import APIRoute

    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):
            yield from flat_routes(r.original_router.routes)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def auth():
    return bearer


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A fresh SAFECITIES_VAR_DIR (plans, caches) for the module, restored afterwards."""
    import os

    from safecities.config import get_settings

    old = os.environ.get("SAFECITIES_VAR_DIR")
    path = tmp_path_factory.mktemp("var")
    os.environ["SAFECITIES_VAR_DIR"] = str(path)
    get_settings.cache_clear()
    yield path
    if old is None:
        os.environ.pop("SAFECITIES_VAR_DIR", None)
    else:
        os.environ["SAFECITIES_VAR_DIR"] = old
    get_settings.cache_clear()
