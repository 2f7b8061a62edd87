"""Progressive pages (issue 15, item 5) in headless Chromium, in English and Dutch: while the
served app's warm-up recomputes the figures after a write, the review and hotspots pages answer at
once with a "computing the latest figures" shell, and the page follows by fetch with its scripts
(the map) running. Outside a warm-up pass pages are served directly."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser
DATA = Path(__file__).parents[1] / "data" / "api"
WORDS = {"en": ("Computing the latest figures", "Review", "Hotspots"),
         "nl": ("De nieuwste cijfers worden berekend", "Evaluatie", "Hotspots")}  # fmt: skip


@pytest.fixture(scope="module")
def warm_server(api_engine, demo_accounts, var_dir, live_server):
    from safecities.api.app import create_app
    from safecities.register.service import import_incidents

    import_incidents(api_engine, DATA / "incidents_ok.csv", actor="test")
    app = create_app(api_engine, warmup=True)
    assert app.state.warmer.wait(120)
    with live_server(app) as url:
        yield app, url


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_heavy_page_behind_a_warm_up_pass_comes_progressively(
    page, warm_server, demo_accounts, shot, sign_in, monkeypatch, lang
):
    from safecities.web import warmup

    app, server = warm_server
    sign_in(page, server, demo_accounts[Role.ADMIN])
    page.goto(f"{server}/lang?code={lang}&next=/")
    assert app.state.warmer.wait(120)
    gate = threading.Event()
    real = warmup.steps
    monkeypatch.setattr(
        warmup, "steps", lambda w: [("held", lambda db, e: gate.wait(30))] + real(w)
    )
    app.state.warmer.kick()  # a write would do this: the pass is now held open
    for _ in range(100):
        if app.state.warmer.busy:
            break
        time.sleep(0.05)
    words = WORDS[lang]
    held = []  # the shell's fetch of the page is held until the shell has been looked at

    def hold(route):
        if route.request.headers.get("x-safecities-full"):
            held.append(route)
        else:
            route.continue_()

    page.route("**/review", hold)
    resp = page.goto(server + "/review")
    assert 'id="progressive"' in resp.text()  # answered at once, before any figure
    assert page.locator("h1").inner_text() == words[0]
    assert page.locator("#progressive").get_attribute("aria-busy") == "true"
    shot(page, f"progressive-shell-{lang}")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the shell did not fetch the page"
    held[0].continue_()
    # the page itself arrives by fetch and takes the shell's place
    page.wait_for_selector("#progressive", state="detached")
    page.unroute("**/review", hold)
    assert page.locator("h1").inner_text() != words[0]
    assert page.title().startswith(words[1])
    # the hotspots page: its scripts run after the swap, so the map is drawn
    page.goto(server + "/hotspots")
    page.wait_for_selector("#map[data-ready='true']")
    page.wait_for_selector("#map-legend .map-legend-title")
    assert page.title().startswith(words[2])
    shot(page, f"progressive-hotspots-{lang}")
    gate.set()
    assert app.state.warmer.wait(120)
    # outside a warm-up pass the page is served directly
    page.goto(server + "/review")
    assert page.locator("#progressive").count() == 0
