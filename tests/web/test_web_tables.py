"""Register tables on the pages (issue 15 item 2): incidents, cameras and the audit trail paged
with filters, download links carrying the same filters to the API exports, figures and dates in
the reader's language."""

from __future__ import annotations

import csv
import html
import re

import pytest

from safecities.domain import Role


def _signin(client, demo_accounts, role, lang="en"):
    acc = demo_accounts[role]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert r.status_code in (200, 303)
    client.cookies.set("lang", lang)


@pytest.fixture(scope="module")
def register(api_engine, tmp_path_factory):
    """230 incidents over 2025 in Anderlecht and Brussels (more than two pages of 100)."""
    from safecities.register.service import import_incidents

    path = tmp_path_factory.mktemp("tables") / "incidents.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "occurred_at", "lat", "lon", "kind", "injured", "killed"])
        for k in range(230):
            lat, lon = ((50.8386, 4.3096), (50.8466, 4.3528))[k % 2]
            when = f"2025-{1 + k % 12:02d}-{1 + k % 28:02d}T{k % 24:02d}:15:00+01:00"
            w.writerow([f"p-{k}", when, lat + (k % 50) * 1e-5, lon, "shooting", 1234 * (k == 0), 0])
    import_incidents(api_engine, path, actor="test")


def _links(text: str, cls: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(rf'<a href="([^"]+)"[^>]*class="{cls}', text)]


def test_incident_table_pages_and_downloads_as_filtered(client, demo_accounts, register):
    _signin(client, demo_accounts, Role.ANALYST)
    r = client.get("/incidents", params={"municipality": "21004"})
    assert r.status_code == 200 and "Rows 1 to 100 of 115" in r.text
    assert r.text.count("<tr><td>") == 100
    nxt = _links(r.text, "pager-next")[0]
    assert "municipality=21004" in nxt and "offset=100" in nxt
    last = client.get(nxt)
    assert "Rows 101 to 115 of 115" in last.text and not _links(last.text, "pager-next")
    assert _links(last.text, "pager-prev")
    csv_url = _links(r.text, "download download-csv")[0]
    assert csv_url.startswith("/api/incidents?") and "municipality=21004" in csv_url
    assert "offset" not in csv_url  # a download is every filtered row, not the page
    body = client.get(csv_url)  # the page's session cookie is enough for the API
    assert body.status_code == 200 and body.content.count(b"\r\n") == 1 + 115
    assert _links(r.text, "download download-xlsx") and _links(r.text, "download download-geojson")


def test_incident_table_in_dutch_and_french(client, demo_accounts, register):
    _signin(client, demo_accounts, Role.ANALYST, "nl")
    r = client.get("/incidents", params={"since": "2025-01-01", "until": "2025-01-02"})
    assert "1.234" in r.text  # injured of p-0, Belgian Dutch thousands separator
    assert "1 jan 2025 00:15" in r.text and "Volgende pagina" not in r.text
    _signin(client, demo_accounts, Role.ANALYST, "fr")
    r = client.get("/incidents", params={"since": "2025-01-01", "until": "2025-01-02"})
    assert "1\u202f234" in r.text or "1\xa0234" in r.text or "1 234" in r.text
    assert "1 janv. 2025 00:15" in r.text


def test_audit_page_filters_pages_and_downloads(client, demo_accounts, register):
    _signin(client, demo_accounts, Role.AUDITOR)
    r = client.get("/audit")
    assert r.status_code == 200 and 'id="audit-table"' in r.text
    r = client.get("/audit", params={"actor": "test", "since": "2000-01-01", "until": ""})
    assert r.status_code == 200
    n = int(re.search(r"of (\d+)", r.text).group(1))
    assert n >= 1 and r.text.count("<td>test</td>") == min(n, 100)
    url = _links(r.text, "download download-csv")[0]
    assert "actor=test" in url and "since=2000-01-01" in url and "until" not in url
    assert not _links(r.text, "download download-geojson")
    assert client.get(url).content.count(b"\r\n") == 1 + n
    assert "Rows 0 to 0 of 0" in client.get("/audit", params={"actor": "nobody"}).text
    assert (
        '<datalist id="audit-actions">' in r.text and '<option value="incident.import">' in r.text
    )
    _signin(client, demo_accounts, Role.ANALYST)
    assert client.get("/audit").status_code == 403


def test_camera_table_filters_and_operator_scope(client, demo_accounts, tokens, auth):
    admin = auth(tokens[Role.ADMIN])
    for muni, lat, lon in (("21001", 50.8386, 4.3096), ("21004", 50.8466, 4.3528)):
        r = client.post("/api/cameras", headers=admin, params={"municipality": muni},
                        json={"lat": lat, "lon": lon, "purpose": "public order"})  # fmt: skip
        assert r.status_code == 201
    _signin(client, demo_accounts, Role.ADMIN)
    r = client.get("/cameras", params={"municipality": "21004", "status": ""})
    assert r.status_code == 200 and "1 camera(s)" in r.text
    assert "municipality=21004" in _links(r.text, "download download-csv")[0]
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)  # bound to 21001
    r = client.get("/cameras", params={"municipality": "21004"})
    assert r.status_code == 200 and "1 camera(s)" in r.text and "21004-" not in r.text
    url = _links(r.text, "download download-csv")[0]
    rows = client.get(url).content.decode("utf-8-sig").splitlines()[1:]
    assert len(rows) == 1 and ";21001;" in rows[0]
