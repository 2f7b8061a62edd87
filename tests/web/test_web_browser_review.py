"""Browser test of the review page (headless Chromium): open the full report on the synthetic demo
scenario, see every chart, switch to Dutch, download the PDF. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser

CHARTS = ("chart-trend", "chart-its-zones", "chart-its-city", "chart-did-means",
          "chart-did-events", "chart-displacement", "chart-power")  # fmt: skip


@pytest.fixture(scope="module")
def demo_server(server, api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    load_demo(api_engine, var_dir=tmp_path_factory.mktemp("review-browser-var"))
    return server


def test_open_the_report_see_the_charts_and_download_the_pdf(
    page, demo_server, demo_accounts, shot, sign_in
):
    sign_in(page, demo_server, demo_accounts[Role.MINISTERIAL_STAFF])
    page.goto(demo_server + "/review?intervention=2025-05-05&freq=week")
    page.wait_for_selector("#chart-power")
    for chart in CHARTS:
        svg = page.locator(f"#{chart}")
        assert svg.is_visible(), chart
        assert svg.get_attribute("role") == "img"
        assert page.locator(f"#{chart}-title").text_content().strip()
    assert page.locator("#review-synthetic").is_visible()
    assert page.locator("#review-caveat").is_visible()
    assert page.locator("#wdq-table caption").is_visible()
    shot(page, "review-report")

    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename == "review-en.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"

    # the form: keyboard-reachable fields, a new intervention day, the report in Dutch
    page.goto(demo_server + "/lang?code=nl&next=/review")
    page.get_by_label("Dag van de maatregel").fill("2025-05-05")
    page.get_by_label("Dag van de maatregel").press("Enter")
    page.wait_for_selector("#chart-its-city")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert "SYNTHETISCHE" in page.locator("#review-synthetic").text_content()
    assert page.locator("#download-pdf").get_attribute("href").endswith("lang=nl")
    shot(page, "review-report-nl")
