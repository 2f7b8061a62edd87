"""Hotspots page in real headless Chromium on the demo scenario: the forecast and Gi* layers on
the map, the weekday/hour profile, and a backtest run from the form with its table. Screenshots
go to test-artifacts/."""

from __future__ import annotations

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(server, api_engine, tmp_path_factory):
    """The synthetic demo scenario (57 shootings in 2025) on top of the server's 3 incidents."""
    from safecities.register.demo import load_demo

    load_demo(api_engine, var_dir=tmp_path_factory.mktemp("demo"))
    return server


def test_layers_profile_and_a_backtest_from_the_page(page, demo, demo_accounts, shot, sign_in):
    server = demo
    sign_in(page, server, demo_accounts[Role.ANALYST])
    page.get_by_role("link", name="Hotspots").click()
    page.wait_for_url(server + "/hotspots")
    page.wait_for_selector("#map[data-ready='true']")
    page.wait_for_selector("#map[data-forecast-shown]")
    page.wait_for_selector("#map[data-detect-shown]")
    n_hot = int(page.locator("#map").get_attribute("data-detect-shown"))
    assert n_hot >= 1
    overlays = page.locator(".leaflet-control-layers-overlays")
    assert overlays.filter(has_text="Gi* hot and cold spots").count() == 1
    assert overlays.filter(has_text="Forecast risk").count() == 1
    page.wait_for_selector("#map[data-emerging-shown]")
    assert int(page.locator("#map").get_attribute("data-emerging-shown")) >= 1
    emerging = overlays.locator("label", has_text="Emerging hot and cold spots")
    assert not emerging.locator("input").is_checked()  # off until chosen
    emerging.locator("input").check()
    assert page.locator("#profile-weekday").is_visible() and page.locator("#profile-hour").count()
    assert 3 <= page.locator("#profile-table tbody tr").count() <= 10
    shot(page, "hotspots-layers")

    # run a bounded backtest from the form (keyboard-reachable, labelled fields)
    page.get_by_label("First origin").fill("2025-06-02")
    page.get_by_label("End (exclusive)").fill("2025-08-11")
    page.select_option("#bt-horizon", "7d")
    page.get_by_label("naive (recent counts)").check()
    page.get_by_label("kernel density").check()
    page.get_by_label("self-exciting point process").check()
    page.get_by_role("button", name="Run the backtest").click()
    table = page.locator("#backtest-table")
    table.wait_for()
    assert table.locator("caption").inner_text().startswith("Backtest from 2 Jun 2025")
    assert table.locator("tbody tr").count() == 3 * 4  # three methods x four coverages
    headers = table.locator("thead th").all_inner_texts()
    assert headers[2:5] == ["Hit rate", "PAI", "PEI"]
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[0] == "1" and "[" in first[2]  # coverage 1 %, PAI with its interval
    assert page.locator("#backtest-best").is_visible()
    table.scroll_into_view_if_needed()
    shot(page, "hotspots-backtest")

    # the same page in French keeps the table's structure
    page.select_option("#lang-select", "fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("html[lang='fr']")
    assert page.get_by_role("heading", name="Test rétrospectif").is_visible()
    assert page.get_by_role("button", name="Lancer le test rétrospectif").is_visible()
    shot(page, "hotspots-fr")


def test_reader_sees_layers_but_no_backtest_form(page, demo, demo_accounts, shot, sign_in):
    sign_in(page, demo, demo_accounts[Role.POLICE_COMMANDER])
    page.goto(demo + "/hotspots")
    page.wait_for_selector("#map[data-detect-shown]")
    assert page.locator("#backtest-form").count() == 0
    assert page.locator("#backtest-not-allowed").is_visible()
    shot(page, "hotspots-reader")
