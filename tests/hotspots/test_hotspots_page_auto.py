"""The hotspots page defaults to `auto` and says what it chose, with the candidates' validation
scores, and how the study area was built (km², cells), in NL, FR and EN."""

from __future__ import annotations

import re

import pytest

from safecities.domain import Role


@pytest.fixture(scope="module", autouse=True)
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    load_demo(api_engine, var_dir=tmp_path_factory.mktemp("var"))


WORDS = {
    "en": ("Method chosen by validation", "Study area:", "cells meeting the boundary of brussels"),
    "nl": ("Methode gekozen door validatie", "Studiegebied:", "cellen binnen de grens van"),
    "fr": ("Méthode choisie par validation", "Zone d&#39;étude", "cellules touchant le périmètre"),
}


def test_page_defaults_to_auto_and_states_choice_and_study_area(client, demo_accounts, tokens):
    acc = demo_accounts[Role.ANALYST]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert r.status_code == 200
    for lang, words in WORDS.items():
        client.cookies.set("lang", lang)
        html = client.get("/hotspots").text
        assert re.search(r'<option value="auto" selected>', html), lang
        assert 'data-forecast="/api/hotspots/forecast?method=auto' in html
        for w in words:
            assert w in html, (lang, w)
        table = html[
            html.index('id="auto-scores"') : html.index("</table>", html.index("auto-scores"))
        ]
        assert table.count('<th scope="row">') == 8 and 'class="chosen"' in table
    api = client.get(
        "/api/hotspots/forecast", params={"method": "auto"},
        headers={"Authorization": f"Bearer {tokens[Role.ANALYST]}"},
    ).json()  # fmt: skip
    chosen = api["fitted"]["chosen"]
    assert chosen in api["fitted"]["validation"]["scores"]
    assert api["grid"]["study_area"]["built_from"] == "boundary"
    assert api["grid"]["study_area"]["boundary"] == "city brussels"


def test_backtest_table_states_its_study_area(client, demo_accounts):
    acc = demo_accounts[Role.ANALYST]
    assert (
        client.post("/login", data={"name": acc["name"], "password": acc["password"]}).status_code
        == 200
    )
    client.cookies.set("lang", "nl")
    form = {"start": "2025-06-02", "end": "2025-08-11", "bt_horizon": "7d",
            "methods": ["naive", "auto"], "method": "auto", "horizon": "7d"}  # fmt: skip
    r = client.post("/hotspots/backtest", data=form)
    assert r.status_code == 200 and 'id="backtest-table"' in r.text
    assert "Elk venster wordt op hetzelfde studiegebied gescoord" in r.text
    assert "cellen binnen de grens van brussels" in r.text
