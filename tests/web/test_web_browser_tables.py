"""Browser tests of issue 15 items 2 and 3 in Chromium: the register tables' filters, pages and
downloads (the file a person gets), and the same pages in Dutch (figures, dates, server
messages). Screenshots go to test-artifacts/web-tables-*.png. Fixtures: tests/web/conftest.py
(a live server with 3 incidents and 2 cameras)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.browser
DATA = Path(__file__).parents[1] / "data" / "api"


def _download(page, link):
    with page.expect_download() as info:
        link.click()
    return info.value


def test_incident_table_filters_and_downloads_in_english(page, server, demo_accounts, shot,
                                                         sign_in):  # fmt: skip
    sign_in(page, server, demo_accounts[Role.ANALYST])
    page.goto(server + "/incidents")
    page.get_by_label("Kind", exact=True).select_option("shooting")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/incidents?**")
    assert page.locator(".table-range").inner_text() == "Rows 1 to 2 of 2"
    shot(page, "tables-incidents-en")
    dl = _download(page, page.locator("a.download-csv").first)
    assert dl.suggested_filename == "incidents.csv"
    body = Path(dl.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and {r["kind"] for r in rows} == {"shooting"}
    dl = _download(page, page.locator("a.download-xlsx").first)
    assert dl.suggested_filename == "incidents.xlsx" and Path(dl.path()).stat().st_size > 1000


def test_tables_and_messages_in_dutch(page, server, demo_accounts, shot, sign_in):
    sign_in(page, server, demo_accounts[Role.ADMIN])
    page.goto(server + "/lang?code=nl&next=/incidents")
    page.wait_for_selector("html[lang='nl']")
    page.get_by_label("CSV-, GeoJSON- of Parquet-bestand", exact=False).set_input_files(
        str(DATA / "incidents_bad_row.csv")
    )
    page.locator("form[action='/incidents/import'] button").click()
    alert = page.locator("#import-errors")
    alert.wait_for()
    text = alert.inner_text()
    assert "onleesbaar tijdstip" in text and "negatief aantal" in text and "not-a-time" in text
    shot(page, "tables-import-errors-nl")
    page.goto(server + "/incidents")
    assert page.locator(".table-range").inner_text() == "Rijen 1 tot 3 van 3"
    assert "1 mrt 2025 22:10" in page.locator("table").last.inner_text()
    shot(page, "tables-incidents-nl")
    page.goto(server + "/cameras")
    assert page.locator("a.download-geojson").count() == 1
    dl = _download(page, page.locator("a.download-geojson"))
    assert dl.suggested_filename == "cameras.geojson"
    page.goto(server + "/audit?action=camera.create")
    assert page.locator(".table-range").inner_text().startswith("Rijen 1 tot")
    shot(page, "tables-audit-nl")
    dl = _download(page, page.locator("a.download-csv"))
    head = Path(dl.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert head[0].startswith("id;at;actor;action") and all(
        ";camera.create;" in x for x in head[1:]
    )
