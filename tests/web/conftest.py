"""Browser-test fixtures shared by every tests/web/test_web_browser*.py module: a live server on a
free port with a migrated SQLite store (3 incidents, 2 cameras), Debian's headless Chromium driven
by Playwright, `shot(page, name)` to save a screenshot to test-artifacts/, and `sign_in`."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from safecities.domain import Role

REPO = Path(__file__).resolve().parents[2]
ART = REPO / "test-artifacts"
DATA = Path(__file__).parents[1] / "data" / "api"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app, api_engine, var_dir):
    from safecities.register.service import import_incidents

    import_incidents(api_engine, DATA / "incidents_ok.csv", actor="test")
    from safecities.cameras import service as cams
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        admin = cams.Caller("test-admin", Role.ADMIN)
        cams.create_camera(
            s,
            admin,
            "21001",
            {"id": "21001-t1", "lat": 50.8386, "lon": 4.3096, "purpose": "public order"},
        )
        cams.create_camera(
            s,
            admin,
            "21004",
            {"id": "21004-t1", "lat": 50.8466, "lon": 4.3528, "purpose": "public order"},
        )
    with live(app) as url:
        yield url


@contextmanager
def live(app):
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        th.join(10)


@pytest.fixture(scope="session")
def live_server():
    """`with live_server(app) as url:` another app (e.g. one that warms its pages) served live."""
    return live


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium missing: scripts/services.sh ensure installs Debian's chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def save_shot(page, name: str) -> None:
    ART.mkdir(exist_ok=True)
    page.screenshot(path=str(ART / f"web-{name}.png"), full_page=True)


def do_sign_in(page, server, acc) -> None:
    page.goto(server + "/")
    assert "/login" in page.url
    page.get_by_label("User name").fill(acc["name"])
    page.get_by_label("Password").fill(acc["password"])
    save_shot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server + "/")


@pytest.fixture(scope="session")
def shot():
    """`shot(page, name)`: full-page screenshot to test-artifacts/web-<name>.png."""
    return save_shot


@pytest.fixture(scope="session")
def sign_in():
    """`sign_in(page, server, account)`: sign in through the login form, land on the dashboard."""
    return do_sign_in
