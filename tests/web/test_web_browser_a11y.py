"""Accessibility of every page, checked by axe-core (the engine behind the browsers' own audits,
bundled by axe-playwright-python) in headless Chromium: no serious or critical WCAG 2.1 A/AA
violation (labels, names, contrast, landmarks, table headers, language) on any page, in English
and in Dutch. (When written, the pages had no violation of any impact.)"""

from __future__ import annotations

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser
PAGES = (
    "/",
    "/incidents",
    "/hotspots",
    "/patrols",
    "/cameras",
    "/cameras/21001-t1",
    "/cameras/duplicates",
    "/cameras/plan",
    "/review",
    "/audit",
    "/users",
    "/patrols/request/new?city=liege",
    "/patrols/protocols/{protocol}",
)


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    opts = {
        "resultTypes": ["violations"],
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    }
    res = Axe().run(page, options=opts).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}"
        for v in res["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_serious_accessibility_violation_on_any_page(
    page, server, demo_accounts, sign_in, lang, api_engine
):
    from safecities.patrols import builder, governance
    from safecities.store.db import session_scope

    draft = builder.RequestDraft(city="antwerp", start="2026-12-01", version=f"a11y-{lang}")
    with session_scope(api_engine) as s:  # a request to show on the protocol page
        rec = governance.request_document(
            s, builder.build_document(draft)[0], reason="a11y", actor="test"
        )
    sign_in(page, server, demo_accounts[Role.ADMIN])
    page.goto(f"{server}/lang?code={lang}&next=/")
    found = {}
    for path in PAGES:
        page.goto(server + path.format(protocol=rec["id"]))
        page.wait_for_load_state("networkidle")
        bad = _violations(page)
        if bad:
            found[path] = bad
    assert not found, found
