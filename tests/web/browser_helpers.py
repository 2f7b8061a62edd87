"""Steps the browser tests share."""

from __future__ import annotations

from pathlib import Path


def download_calendar_and_briefing(page, tmp_path: Path) -> None:
    """On a plan calendar page: the post's iCalendar and the first PDF briefing download."""
    with page.expect_download() as dl:
        page.locator("#ics-link").click()
    ics = tmp_path / "post.ics"
    dl.value.save_as(ics)
    assert ics.read_text().startswith("BEGIN:VCALENDAR")
    with page.expect_download() as dl:
        page.locator("a.pdf-link").first.click()
    pdf = tmp_path / "briefing.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
