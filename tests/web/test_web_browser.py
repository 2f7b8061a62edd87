"""Browser tests in real headless Chromium (Debian's `chromium`, driven by Playwright with the
system executable; never `playwright install`). Screenshots go to test-artifacts/. Fixtures
(server, browser, page, shot, sign_in) are in tests/web/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import download_calendar_and_briefing

from safecities.domain import Role

pytestmark = pytest.mark.browser
DATA = Path(__file__).parents[1] / "data" / "api"


def test_sign_in_switch_language_and_map_layers(page, server, demo_accounts, shot, sign_in):
    sign_in(page, server, demo_accounts[Role.ANALYST])
    page.wait_for_selector("#map[data-ready='true']")
    # (no wait_for_function: the page's Content-Security-Policy forbids eval, as it should)
    page.wait_for_selector(".leaflet-control-layers-overlays label:nth-child(5)")
    page.wait_for_selector("#map[data-incidents-shown]")
    # layers drawn as SVG paths, incidents filtered by the time slider
    assert page.locator("#map path.leaflet-interactive").count() > 30
    assert page.locator("#map").get_attribute("data-incidents-shown") == "3"
    page.locator("#time-slider").fill("0")
    page.wait_for_selector("#map[data-incidents-shown='1']")
    page.locator("#time-slider").fill("100")
    for label in ("Municipalities", "Metro lines", "Stations", "Named zones", "Incidents"):
        assert page.locator(".leaflet-control-layers-overlays", has_text=label).count() == 1
    assert page.locator("#since-jan").inner_text() == "3"
    shot(page, "dashboard-en")
    # keyboard: the language form is reachable and works
    page.select_option("#lang-select", "fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("html[lang='fr']")
    assert page.get_by_role("heading", name="Tableau de bord").is_visible()
    page.wait_for_selector(".leaflet-control-layers-overlays >> text=Communes")
    shot(page, "dashboard-fr")
    page.select_option("#lang-select", "nl")
    page.get_by_role("button", name="Changer").click()
    page.wait_for_selector("html[lang='nl']")
    assert page.get_by_role("heading", name="Overzicht").is_visible()
    shot(page, "dashboard-nl")


def test_import_a_file_with_an_error_and_see_the_row(page, server, demo_accounts, shot, sign_in):
    sign_in(page, server, demo_accounts[Role.ANALYST])
    page.get_by_role("link", name="Incidents").click()
    page.wait_for_url(server + "/incidents")
    page.get_by_label("CSV, GeoJSON or Parquet file", exact=False).set_input_files(
        str(DATA / "incidents_bad_row.csv")
    )
    page.get_by_role("button", name="Import", exact=True).click()
    alert = page.locator("#import-errors")
    alert.wait_for()
    rows = alert.locator("tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("\t2\toccurred_at" in t for t in texts), texts
    assert any("\t3\tinjured" in t for t in texts), texts
    shot(page, "incidents-import-error")
    page.get_by_label("Kind", exact=True).select_option("shooting")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/incidents?**")
    shot(page, "incidents-filtered")
    assert page.locator("#incident-count").inner_text() == "2 incident(s)"
    shot(page, "incidents")


def test_other_pages_render(page, server, demo_accounts, shot, sign_in):
    sign_in(page, server, demo_accounts[Role.ADMIN])
    for path in ("/hotspots", "/review", "/audit"):
        page.goto(server + path)
        assert page.locator("h1").count() == 1
        shot(page, path.strip("/"))
    assert "intact" in page.locator("#chain").inner_text()


def test_camera_operator_edits_own_camera_and_is_refused_another(
    page, server, demo_accounts, shot, sign_in
):
    sign_in(page, server, demo_accounts[Role.CAMERA_OPERATOR])  # bound to 21001 Anderlecht
    page.get_by_role("link", name="Cameras").click()
    page.wait_for_url(server + "/cameras")
    page.wait_for_selector("#map[data-cameras-shown='1']")
    assert page.locator("#camera-count").inner_text() == "1 camera(s)"
    shot(page, "cameras")
    page.get_by_role("link", name="21001-t1").click()
    page.get_by_label("Retention (days)").fill("30")
    page.get_by_label("Status").select_option("out_of_service")
    page.get_by_role("button", name="Save").click()
    page.locator("#saved").wait_for()
    assert page.locator("#hist-h + table tbody tr").count() == 2
    shot(page, "camera-edit")
    # the browser itself refuses a negative retention (min=0) before anything is sent
    page.get_by_label("Retention (days)").fill("-3")
    assert not page.locator("#retention_days").evaluate("e => e.checkValidity()")
    page.goto(server + "/cameras/21004-t1")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    shot(page, "camera-refused")


def test_request_approve_make_and_download_a_plan(
    browser, server, demo_accounts, tmp_path, shot, sign_in
):
    def as_role(role):
        ctx = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
        )
        pg = ctx.new_page()
        pg.set_default_timeout(60000)
        sign_in(pg, server, demo_accounts[role])
        pg.goto(server + "/patrols")
        return ctx, pg

    ctx, pg = as_role(Role.PLANNER)
    pg.get_by_label("Reason for the request").fill("shootings near metro stations")
    pg.get_by_role(
        "button", name="Request joint patrols for Brussels under the bundled protocol"
    ).click()
    pg.locator("#patrol-message").wait_for()
    ctx.close()
    for role in (Role.INTERIOR_APPROVER, Role.DEFENCE_APPROVER):
        ctx, pg = as_role(role)
        pg.get_by_role("link", name="Review and decide").first.click()
        pg.get_by_role("button", name="Approve…").click()
        pg.get_by_role("button", name="Yes, approve").click()
        pg.locator("#protocol-message").wait_for()
        ctx.close()
    ctx, pg = as_role(Role.PLANNER)
    # approved by both; 20 March - 20 September 2026 is over, so it shows as expired
    assert "expired" in pg.locator("#protocols-table").inner_text()
    pg.get_by_label("First day").fill("2026-04-06")
    pg.get_by_label("Last day").fill("2026-04-06")
    pg.get_by_role("button", name="Make a plan").click()
    pg.locator("#patrol-message.success").wait_for()
    shot(pg, "patrols")
    with pg.expect_download() as dl:
        pg.get_by_role("link", name="CSV").first.click()
    path = tmp_path / "plan.csv"
    dl.value.save_as(path)
    assert path.read_text().count("\n") > 10
    # the plan calendar of a command post, then its iCalendar and PDF briefing
    pg.get_by_role("link", name="Calendar per command post").first.click()
    pg.locator("#plan-calendar").wait_for()
    pg.locator("#check-ok").wait_for()
    assert pg.locator("#plan-calendar td.busy").count() > 0
    shot(pg, "patrols-calendar")
    plan_url = pg.url
    download_calendar_and_briefing(pg, tmp_path)
    # the command post closes one of its zones for the afternoon and re-plans the day
    pg.goto(plan_url)
    pg.get_by_label("First day re-planned").fill("2026-04-06")
    zone = pg.locator("#replan-zone option").nth(1).get_attribute("value")
    pg.locator("#replan-zone").select_option(zone)
    pg.locator("#replan-zone-from").fill("2026-04-06T14:00")
    pg.locator("#replan-zone-to").fill("2026-04-06T18:00")
    pg.get_by_role("button", name="Re-plan").click()
    message = pg.locator("#replan-message.success")
    message.wait_for()
    assert "-r1.csv: re-planned from 2026-04-06" in message.inner_text()
    assert "-r1.csv" in pg.locator("#plan-name").inner_text()
    pg.locator("#check-ok").wait_for()
    shot(pg, "patrols-replanned")
    # the plan on the dashboard's map at a chosen day and hour
    pg.goto(server + "/")
    pg.get_by_label("Day and hour").fill("2026-04-06T15:00")
    pg.get_by_role("button", name="Show the plan").click()
    pg.wait_for_selector("#map[data-patrols-shown]")
    assert int(pg.locator("#map").get_attribute("data-patrols-shown")) > 10
    assert "/ 45" in pg.locator("#patrols-summary").inner_text()
    shot(pg, "dashboard-patrols")
    ctx.close()
