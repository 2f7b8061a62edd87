"""Hotspots page (TestClient) on the demo scenario: forecast picker, Gi* layer and table,
weekday/hour profile, and the backtest form and table, in NL, FR and EN, by role."""

from __future__ import annotations

import re

import pytest

from safecities.domain import Role

FORM = {
    "start": "2025-06-01",
    "end": "2025-08-10",
    "bt_horizon": "7d",
    "methods": ["naive", "kde"],
    "method": "kde",
    "horizon": "7d",
}


@pytest.fixture(scope="module", autouse=True)
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    load_demo(api_engine, var_dir=tmp_path_factory.mktemp("var"))


def _signin(client, demo_accounts, role, lang="en"):
    acc = demo_accounts[role]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert r.status_code == 200, r.text[:200]
    client.cookies.set("lang", lang)


WORDS = {
    "en": ("Risk by weekday and hour", "Hot spot cells, strongest first", "Run the backtest"),
    "nl": ("Risico per weekdag en uur", "Hotspotcellen, sterkste eerst", "maandag"),
    "fr": ("Risque par jour de la semaine et par heure", "Lancer le test", "lundi"),
}


def test_page_in_three_languages_and_a_backtest_table(client, demo_accounts):
    """One sign-in (a sign-in is a write: it would empty the cache), then every language."""
    _signin(client, demo_accounts, Role.ANALYST)
    for lang, words in WORDS.items():
        client.cookies.set("lang", lang)
        r = client.get("/hotspots?method=naive&horizon=7d")
        assert r.status_code == 200 and f'lang="{lang}"' in r.text
        for w in words:
            assert w in r.text, (lang, w)
    html = r.text
    # forecast layer and picker kept; the Gi* layer is asked from the API by hotspots.js
    assert 'data-forecast="/api/hotspots/forecast?method=naive&amp;horizon=7d"' in html
    assert 'data-detect="/api/hotspots/detect?geojson=true"' in html
    assert 'data-emerging="/api/hotspots/emerging?geojson=true"' in html
    assert '<script src="/static/hotspots.js">' in html and 'id="forecast-summary"' in html
    assert re.search(r'<option value="naive" selected>', html)
    # Gi* table and profile charts/table: captions, scoped headers, SVG titles
    assert 'id="detect-table"' in html and "<caption>" in html and 'scope="row"' in html
    assert html.count("<svg") == 2 and 'id="profile-weekday-title"' in html
    assert html.count("<title>") >= 7 + 24  # one per bar
    assert 'id="profile-table"' in html
    # Knox near-repeat table: same-place row + 5 distance bands, 5 time bands
    knox = html[html.index('id="knox-table"') :]
    knox = knox[: knox.index("</table>")]
    assert knox.count('<th scope="row">') == 6 and knox.count('scope="col"') == 6
    # the form: every input labelled, defaults = the ten weeks before the last incident
    for field in ("bt-start", "bt-end", "bt-horizon", "bt-m-naive", "bt-m-sepp"):
        assert f'for="{field}"' in html and f'id="{field}"' in html
    assert 'value="2025-08-13"' in html
    assert "backtest-table" not in html  # nothing run yet

    for lang, caption in (("en", "Backtest from"), ("fr", "Test rétrospectif du")):
        client.cookies.set("lang", lang)
        r = client.post("/hotspots/backtest", data=FORM)
        assert r.status_code == 200, r.text[:300]
        table = r.text[r.text.index('id="backtest-table"') :]
        table = table[: table.index("</table>")]
        assert f"<caption>{caption}" in table
        rows = re.findall(r"<tr[ >].*?</tr>", table, flags=re.S)
        assert len(rows) == 1 + 2 * 4  # header + two methods x four coverages
        assert table.count('<th scope="row">') == 8 and table.count('scope="col"') == 6
        assert 'class="best"' in table and 'id="backtest-best"' in r.text
        # decimals in the page's language: 0.36 / 0,36, bounds split by ", " (EN) or " ; " (FR)
        intervals = re.findall(r'class="ci">\[(\d+[.,]\d+)(?:, | ; )(\d+[.,]\d+)\]', table)
        assert len(intervals) == 8 * 3
        # the form keeps what was asked
        assert 'value="2025-06-01"' in r.text and re.search(r'id="bt-m-kde"[^>]*checked', r.text)


def test_backtest_form_reports_bad_requests(client, demo_accounts):
    _signin(client, demo_accounts, Role.ADMIN)
    r = client.post(
        "/hotspots/backtest", data={**FORM, "methods": ["naive", "kde", "sepp", "learned"]}
    )
    assert r.status_code == 400 and 'id="backtest-error"' in r.text and "at most 3" in r.text
    r = client.post("/hotspots/backtest", data={**FORM, "start": "2024-01-01", "bt_horizon": "1d"})
    assert r.status_code == 400 and "origins" in r.text
    r = client.post("/hotspots/backtest", data={**FORM, "methods": []})
    assert r.status_code == 400 and "at least one" in r.text
    r = client.post("/hotspots/backtest", data={"start": "not a date"})
    assert r.status_code == 400  # the form was not filled in correctly (no 500)


def test_readers_see_the_page_without_the_form_and_may_not_run(client, demo_accounts):
    _signin(client, demo_accounts, Role.PLANNER, "nl")
    r = client.get("/hotspots")
    assert r.status_code == 200
    assert 'id="backtest-form"' not in r.text and 'id="backtest-not-allowed"' in r.text
    assert 'id="detect-table"' in r.text and 'id="profile-table"' in r.text
    assert client.post("/hotspots/backtest", data=FORM).status_code == 403
    # the result page's address (language switch after a run) leads back to the page
    r = client.get("/hotspots/backtest", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/hotspots")


def test_roles_without_hotspots_are_refused(client, demo_accounts):
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    assert client.get("/hotspots").status_code == 403
    assert client.post("/hotspots/backtest", data=FORM).status_code == 403


def test_static_script_and_style_are_served(client):
    assert "safecitiesMap" in client.get("/static/hotspots.js").text
    assert ".swatch" in client.get("/static/hotspots.css").text


def test_forecast_and_detect_cells_download_from_the_page(client, demo_accounts):
    import html as html_mod

    _signin(client, demo_accounts, Role.ANALYST, "nl")
    r = client.get("/hotspots?method=naive&horizon=7d")
    links = [html_mod.unescape(u) for u in re.findall(r'<a href="([^"]+)" download', r.text)]
    forecast = [u for u in links if u.startswith("/api/hotspots/forecast?")]
    detect = [u for u in links if u.startswith("/api/hotspots/detect?")]
    assert [u.rsplit("=", 1)[1] for u in forecast] == ["csv", "xlsx", "geojson"]
    assert len(detect) == 3 and "Download de voorspelde cellen" in r.text
    cells = client.get("/api/hotspots/forecast?method=naive&horizon=7d").json()["cells"]
    body = client.get(forecast[0]).content.decode("utf-8-sig").splitlines()
    assert len(body) == 1 + len(cells["features"]) and "cell_id" in body[0].split(";")
    assert client.get(detect[2]).json()["type"] == "FeatureCollection"
