"""Web pages: every label translated (NL/FR/EN), no hard-coded text in templates, pages render."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safecities.domain import Role
from safecities.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
DATA = Path(__file__).parents[1] / "data" / "api"


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_every_message_is_translated(lang):
    have = i18n.catalogue(lang)
    for msgid in i18n.extract_messages():
        assert have.get(msgid), f"{lang}: no translation for {msgid!r}"
        assert re.findall(r"%\(\w+\)s", have[msgid]) == re.findall(r"%\(\w+\)s", msgid)


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_every_server_message_template_is_translated_and_found_again(lang):
    """Messages the server composes (import reasons, violations, protocol problems, planner
    errors) and the status words: each template has its translation with the same placeholders,
    and a message made from it is recognised as that template, values kept."""
    from safecities.web import server_text

    have = i18n.catalogue(lang)
    tr = i18n.translations(lang)
    words = [m for table in server_text.LABELS.values() for m in table.values()]
    for msgid in server_text.all_templates() + words:
        assert have.get(msgid), f"{lang}: no translation for {msgid!r}"
        assert sorted(re.findall(r"%\(\w+\)s", have[msgid])) == sorted(
            re.findall(r"%\(\w+\)s", msgid)
        ), (lang, msgid)
    phrases = set(server_text.part_templates())  # found only as values inside a message
    for k, template in enumerate(server_text.all_templates()):
        names = re.findall(r"%\((\w+)\)s", template)
        values = {n: f"v{k}x{i}" for i, n in enumerate(names)}
        text = template % values
        found = server_text.match(text, value=template in phrases)
        assert found == (template, values), template
        if template in phrases:
            continue
        out = server_text.translate(text, tr.gettext)
        assert out == tr.gettext(template) % values and all(v in out for v in values.values())
    assert server_text.translate("something new from the server", tr.gettext) == (
        "something new from the server"
    )


def test_server_messages_in_dutch_and_french_keep_their_values():
    from safecities.web import server_text

    nl, fr = i18n.translations("nl").gettext, i18n.translations("fr").gettext
    assert server_text.translate("point outside the Brussels-Capital Region", nl) == (
        "punt buiten het Brussels Hoofdstedelijk Gewest"
    )
    msg = "unit PB-007 works 13 h 2026-04-06 08:00-21:00, allowed 8-12 h"
    assert server_text.translate(msg, fr) == (
        "l'unité PB-007 travaille 13 h 2026-04-06 08:00-21:00, permis 8-12 h"
    )
    assert server_text.translate("row 4: has no UTC offset (write e.g. 2026-04-06T22:00:00+02:00)",
                                 nl).startswith("rij 4: heeft geen UTC-verschuiving")  # fmt: skip
    assert server_text.translate("#3 antwerp: requested", nl) == "#3 antwerp: aangevraagd"
    from safecities.domain import RowError

    err = str(RowError("cam.csv", 3, "retention_days", "out of range [0, 3650]", "-4"))
    assert server_text.translate(err, fr) == (
        "cam.csv:3 : champ 'retention_days' : hors limites [0, 3650] (valeur '-4')"
    )
    assert server_text.label("protocol_status", "active", fr) == "en vigueur"
    assert server_text.label("solver", "Time_Limit_Reached", nl) == "tijdslimiet bereikt"
    assert server_text.label("protocol_status", "brand-new", nl) == "brand-new"
    from safecities.patrols.check import MSG

    for rule in MSG:  # every rule of the plan check has its name in the violations table
        assert rule in server_text.RULE_LABELS, rule
    assert server_text.label("rule", "soldier_cap", fr) == "plafond de militaires"


def test_templates_have_no_hard_coded_text():
    for f in TEMPLATES.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", text, flags=re.S)
        text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", text, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        words = [w for w in re.findall(r"[A-Za-z]{2,}", text)]
        assert not words, f"{f.name}: untranslated text {words[:10]}"


def test_catalogues_compile(tmp_path, monkeypatch):
    i18n.compile_catalogues()
    assert i18n.translations("fr").gettext("Sign in") == "Se connecter"
    assert i18n.translations("nl").gettext("Sign in") == "Aanmelden"
    assert i18n.translations("xx").gettext("Sign in") == "Sign in"
    assert i18n.negotiate(None, "nl-BE,nl;q=0.9,en;q=0.5") == "nl"
    assert i18n.negotiate("fr", "nl") == "fr"
    assert i18n.negotiate(None, None) == "en"


def _signin(client, demo_accounts, role):
    acc = demo_accounts[role]
    r = client.post(
        "/login",
        data={"name": acc["name"], "password": acc["password"], "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_pages_redirect_anonymous_to_login_and_render_in_three_languages(client, demo_accounts):
    r = client.get("/incidents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/incidents"
    r = client.post("/login", data={"name": "x", "password": "y"})
    assert r.status_code == 401 and "Wrong user name or password." in r.text
    _signin(client, demo_accounts, Role.ANALYST)
    for lang, word in (("nl", "Incidenten"), ("fr", "Tableau de bord"), ("en", "Dashboard")):
        r = client.get(f"/lang?code={lang}&next=/", follow_redirects=True)
        assert r.status_code == 200 and f'lang="{lang}"' in r.text and word in r.text
    r = client.get("/hotspots")
    assert r.status_code == 200
    assert client.get("/audit").status_code == 403
    assert client.get("/lang?code=en&next=//evil.example").headers.get("location") in (None, "/")


def test_camera_operator_menu_shows_only_allowed_pages(client, demo_accounts):
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    r = client.get("/")
    assert r.status_code == 200
    assert 'href="/cameras"' in r.text and 'href="/incidents"' not in r.text
    assert 'id="time-slider"' not in r.text  # no incident layer for this role
    assert client.get("/incidents").status_code == 403


def test_import_form_reports_the_bad_row(client, demo_accounts):
    _signin(client, demo_accounts, Role.ANALYST)
    bad = (DATA / "incidents_bad_row.csv").read_bytes()
    r = client.post("/incidents/import", files={"file": ("incidents_bad_row.csv", bad, "text/csv")})
    assert r.status_code == 422
    assert 'id="import-errors"' in r.text and "<td>occurred_at</td>" in r.text
    ok = (DATA / "incidents_ok.csv").read_bytes()
    r = client.post("/incidents/import", files={"file": ("incidents_ok.csv", ok, "text/csv")})
    assert r.status_code == 200 and 'id="import-ok"' in r.text
    assert "3 incident(s)" in r.text
    r = client.get("/incidents?since=2025-07-01&kind=shooting")
    assert "1 incident(s)" in r.text
    r = client.get("/")
    assert 'id="since-jan">3<' in r.text and "<svg" in r.text


def test_import_errors_shown_in_dutch_and_french(client, demo_accounts):
    _signin(client, demo_accounts, Role.ANALYST)
    bad = (DATA / "incidents_bad_row.csv").read_bytes()
    for lang, words in (("nl", ("onleesbaar tijdstip", "negatief aantal")),
                        ("fr", ("heure illisible", "nombre négatif"))):  # fmt: skip
        client.cookies.set("lang", lang)
        r = client.post("/incidents/import", files={"file": ("bad.csv", bad, "text/csv")})
        assert r.status_code == 422 and all(w in r.text for w in words), lang
        assert "<td>not-a-time</td>" in r.text  # the value stays as it was
    client.cookies.set("lang", "en")


def test_camera_edit_form_reports_a_bad_value(client, demo_accounts, api_engine):
    from safecities.cameras import service as cams
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        cams.create_camera(
            s,
            cams.Caller("t", Role.ADMIN),
            "21001",
            {"id": "21001-p1", "lat": 50.8386, "lon": 4.3096},
        )
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    r = client.post("/cameras/21001-p1", data={"retention_days": "-3"})
    assert r.status_code == 400 and 'id="edit-error"' in r.text
    r = client.post("/cameras/21001-p1", data={"retention_days": "14"}, follow_redirects=False)
    assert r.status_code == 303
    # an operator gets one answer for no camera and another municipality's camera (no probing)
    assert client.get("/cameras/21001-nope").status_code == 403


def test_hotspots_page_and_api_forecast(client, demo_accounts, tokens, auth, api_engine):
    from safecities.register.service import import_incidents

    import_incidents(api_engine, DATA / "incidents_ok.csv", actor="test", source="hs-test")
    _signin(client, demo_accounts, Role.DEFENCE_LIAISON)
    r = client.get("/hotspots?method=naive&horizon=7d")
    assert r.status_code == 200 and 'id="forecast-summary"' in r.text
    assert 'data-forecast="/api/hotspots/forecast?method=naive' in r.text
    r = client.get(
        "/api/hotspots/forecast",
        params={"method": "naive", "top": 10},
        headers=auth(tokens[Role.ANALYST]),
    )
    body = r.json()
    assert r.status_code == 200 and body["n_events_used"] >= 3
    assert body["cells"]["features"] and body["cells"]["features"][0]["properties"]["rank"] == 1
    r = client.get(
        "/api/hotspots/forecast", params={"method": "magic"}, headers=auth(tokens[Role.ANALYST])
    )
    assert r.status_code == 422


def test_review_page_shows_its_result(client, demo_accounts, api_engine):
    from safecities.register.demo import generate
    from safecities.register.service import import_incidents

    csv = Path(__import__("tempfile").mkdtemp()) / "demo.csv"
    generate(seed=2025).to_csv(csv, index=False)
    import_incidents(api_engine, csv, actor="test", source="demo-review", synthetic=True)
    _signin(client, demo_accounts, Role.MINISTERIAL_STAFF)
    r = client.get("/review?intervention=2025-06-01&freq=month")  # too few months: said so
    assert r.status_code == 200 and 'id="review-error"' in r.text
    r = client.get("/review?intervention=2025-06-01&freq=week")
    assert r.status_code == 200 and 'id="its-figures"' in r.text and "<svg" in r.text


def test_docs_served_without_cdn_and_security_headers(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in r.text
    assert "cdn" not in r.text.lower() and "http" not in r.text.split("<body>")[1].split("url:")[0]
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    r = client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    for f in TEMPLATES.glob("*.html"):  # no external resources anywhere
        assert "http://" not in f.read_text() and "https://" not in f.read_text(), f.name


def test_patrol_plan_check_highlights_violations(client, demo_accounts):
    from safecities.patrols.planner import HEADER

    _signin(client, demo_accounts, Role.DEFENCE_LIAISON)
    bad = ",".join(HEADER) + (
        "\n2026-04-06T02:00:00+02:00,2026-04-06T02:15:00+02:00,clemenceau,P1,0,3,"
        "cp-5341-midi,patrol,,S1;S2;S3,\n"
    )
    r = client.post("/patrols/check", files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert r.status_code == 200 and 'id="check-violations"' in r.text
    assert (
        '<tr class="violation"><td>police in a mixed patrol <code>mixed_police_min</code></td>'
        in r.text
    )
