"""Issue 14 in Chromium, for Antwerp and for Liege: a city's staff compose the request in the
form (no file), both ministries decide from what the page shows (with the confirmation), then a
plan, its calendar, briefing PDF and iCalendar for that city's own command posts."""

from __future__ import annotations

import pytest
from browser_helpers import download_calendar_and_briefing

from safecities.domain import Role

pytestmark = pytest.mark.browser

CITIES = {
    # city: (the local police post, a word of the main station's name)
    "antwerp": ("cp-5345-antwerp", "Antwerpen-Centraal"),
    "liege": ("cp-5277-liege", "Guillemins"),
}


@pytest.mark.parametrize("city", list(CITIES))
def test_city_requests_is_approved_plans_and_downloads(
    city, browser, server, demo_accounts, tmp_path, shot, sign_in
):
    local_post, station = CITIES[city]

    def as_role(role, lang="en-GB"):
        ctx = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=lang, accept_downloads=True
        )
        pg = ctx.new_page()
        pg.set_default_timeout(60000)
        sign_in(pg, server, demo_accounts[role])
        return ctx, pg

    # 1. the city's staff compose the request in the form
    ctx, pg = as_role(Role.PLANNER)
    pg.goto(server + "/patrols")
    pg.locator("#builder-link").click()
    pg.get_by_label("City").select_option(city)
    pg.get_by_role("button", name="Start from this city's template").click()
    assert station in pg.locator("#b-stations").inner_text()
    pg.get_by_label("First day").fill("2026-05-01")
    cap = pg.get_by_label("Soldier cap (at any moment)")
    cap.fill("-3")
    cap.dispatch_event("change")  # live validation: the schema's message with its path
    pg.locator("#builder-errors:not([hidden])").wait_for()
    assert "$.soldier_cap" in pg.locator("#builder-errors").inner_text()
    shot(pg, f"protocol-builder-{city}-error")
    cap.fill("16")
    cap.dispatch_event("change")
    pg.locator("#builder-errors[hidden]").wait_for(state="attached")
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download the YAML").click()
    yaml_path = tmp_path / "request.yaml"
    dl.value.save_as(yaml_path)
    assert f"city: {city}" in yaml_path.read_text(encoding="utf-8")
    pg.get_by_label("Reason for the request").fill("shootings near the main station")
    pg.get_by_role("button", name="Send the request").click()
    pg.wait_for_url("**/patrols/protocols/*")
    pid = pg.url.rsplit("/", 1)[1]
    shot(pg, f"protocol-request-{city}")
    ctx.close()

    # 2. Interior, then Defence: the content is on the page, the approval is confirmed
    for role in (Role.INTERIOR_APPROVER, Role.DEFENCE_APPROVER):
        ctx, pg = as_role(role)
        pg.locator(f'#pending-requests a[href="/patrols/protocols/{pid}"]').click()
        assert "at most 16 soldiers at any moment" in pg.locator("#protocol-cap").inner_text()
        assert local_post in pg.locator("#protocol-posts").inner_text()
        pg.wait_for_selector("#protocol-map[data-loaded]")
        assert int(pg.locator("#protocol-map").get_attribute("data-loaded")) > 0
        assert "Brussel" not in pg.locator("main").inner_text()
        pg.get_by_role("button", name="Approve…").click()
        assert "16 soldiers" in pg.locator("#confirm-approve").inner_text()
        shot(pg, f"protocol-confirm-{city}-{role.value}")
        pg.get_by_role("button", name="Yes, approve").click()
        pg.locator("#protocol-message").wait_for()
        ctx.close()

    # 3. a plan under the city's own protocol, its calendar and downloads
    ctx, pg = as_role(Role.PLANNER)
    pg.goto(server + "/patrols")
    assert (
        "active" in pg.locator("#protocols-table").inner_text()
        or "expired" in pg.locator("#protocols-table").inner_text()
    )
    pg.get_by_label("First day").fill("2026-05-04")
    pg.get_by_label("Last day").fill("2026-05-04")
    pg.locator("#plan-protocol").select_option(pid)
    pg.get_by_role("button", name="Make a plan").click()
    pg.locator("#patrol-message.success").wait_for()
    row = pg.locator("tr", has_text=f"plan-{city}-p{pid}-2026-05-04")
    assert local_post in row.inner_text() and "cp-5341" not in row.inner_text()
    row.get_by_role("link", name="Calendar per command post").click()
    pg.locator("#plan-calendar").wait_for()
    options = pg.locator("#post option").all_inner_texts()
    assert options and not any("5341" in o or "5344" in o for o in options)
    shot(pg, f"protocol-calendar-{city}")
    download_calendar_and_briefing(pg, tmp_path)
    ctx.close()
