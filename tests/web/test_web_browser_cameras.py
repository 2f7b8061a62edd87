"""Camera pages in real headless Chromium: the coverage layer, an import with a bad row, confirming
a duplicate, and the budget planner with its curve. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser
DATA = Path(__file__).parents[1] / "data" / "api"


@pytest.fixture(scope="module")
def duplicate(server, api_engine):
    """An admin import whose W-1 (id <NIS>-<source>-<ref>) stands 2.6 m from camera 21001-t1."""
    from safecities.cameras import duplicates, importers, service
    from safecities.store.db import session_scope

    admin = service.Caller("test-admin", Role.ADMIN)
    with session_scope(api_engine) as s:
        importers.import_cameras(s, admin, DATA / "cameras_ok.csv", "21001")
    with session_scope(api_engine) as s:
        found = duplicates.list_duplicates(s, admin)
    assert [(d["camera_a"], d["camera_b"]) for d in found] == [("21001-cameras_ok-W-1", "21001-t1")]
    return found[0]


def test_coverage_layer_import_error_and_confirm_a_duplicate(
    page, server, demo_accounts, duplicate, shot, sign_in
):
    sign_in(page, server, demo_accounts[Role.CAMERA_OPERATOR])  # bound to 21001 Anderlecht
    page.goto(server + "/cameras")
    page.wait_for_selector("#map[data-coverage-shown]")
    assert int(page.locator("#map").get_attribute("data-coverage-shown")) >= 1
    assert page.locator(".leaflet-control-layers-overlays", has_text="Camera coverage").count() == 1
    assert page.locator("#cov-stations").inner_text().count("/") == 1
    shot(page, "cameras-coverage")
    # an inventory with a bad row: nothing imported, the row reported
    page.get_by_label("CSV, GeoJSON or Excel file", exact=False).set_input_files(
        str(DATA / "cameras_bad_row.csv")
    )
    page.get_by_role("button", name="Import", exact=True).click()
    rows = page.locator("#import-errors tbody tr")
    rows.first.wait_for()
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("\t2\tlat\t" in t for t in texts), texts
    shot(page, "cameras-import-error")
    # the duplicate candidate: keep the register's camera, the imported record is removed
    page.get_by_role("link", name="Duplicates to confirm").click()
    page.wait_for_url(server + "/cameras/duplicates")
    row = page.locator(f"#dup-{duplicate['id']}")
    row.wait_for()
    shot(page, "cameras-duplicates")
    row.get_by_label("Keep").select_option("21001-t1")
    row.get_by_role("button", name="Confirm: same camera").click()
    page.locator("#dup-done").wait_for()
    assert page.locator("#dup-count").inner_text().startswith("0 ")
    shot(page, "cameras-duplicate-confirmed")
    page.goto(server + "/cameras/21001-cameras_ok-W-1")
    assert page.locator("#status").input_value() == "removed"


def test_run_the_budget_planner_and_see_the_curve(page, server, demo_accounts, shot, sign_in):
    sign_in(page, server, demo_accounts[Role.PLANNER])
    page.goto(server + "/cameras")
    page.get_by_role("link", name="Budget planner").click()
    page.wait_for_url(server + "/cameras/plan")
    page.get_by_label("Budget (euros)").fill("150000")
    page.get_by_label("Points on the curve").fill("3")
    page.get_by_role("button", name="Run the planner").click()
    page.locator("#plan-curve").wait_for()
    assert page.locator("#plan-curve .curve-point").count() == 4
    assert page.locator("#curve-title").text_content() == "Coverage against budget"
    page.wait_for_selector("#map[data-chosen-shown]")
    n = int(page.locator("#map").get_attribute("data-chosen-shown"))
    assert n == int(page.locator("#plan-n").inner_text()) and n >= 1
    assert page.locator(".leaflet-control-layers-overlays", has_text="Chosen sites").count() == 1
    spent = page.locator("#plan-spent").inner_text().split(" / ")
    assert int(spent[0].replace(",", "")) <= 150000
    shot(page, "cameras-plan")
