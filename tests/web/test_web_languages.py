"""Issue 15 item 3: what the server composes is shown in the reader's language, values kept;
figures and dates through Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from safecities.domain import Role
from safecities.web import formats

DATA = Path(__file__).parents[1] / "data" / "api"


def _signin(client, demo_accounts, role, lang):
    acc = demo_accounts[role]
    client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    client.cookies.set("lang", lang)


def test_protocol_problems_in_french_with_their_values():
    """Every problem `protocol validate` finds in a broken request document (JSON Schema's
    messages and the protocol's own rules) is recognised and shown in French."""
    import yaml

    from safecities.patrols.protocol import validate_document
    from safecities.web import i18n, server_text

    doc = yaml.safe_load((DATA / "patrols_antwerp_request.yaml").read_text(encoding="utf-8"))
    doc["soldier_cap"] = -4
    doc["period"]["end"] = doc["period"]["start"]
    doc["zones"][0]["command_post"] = "nowhere"
    doc["surprise"] = 1
    issues = validate_document(doc)
    assert len(issues) >= 4
    fr = i18n.translations("fr").gettext
    for issue in issues:
        assert server_text.match(issue.message), issue.message
        assert server_text.translate(issue.message, fr) != issue.message, issue.message
    texts = {server_text.translate(i.message, fr) for i in issues}
    assert "-4 est inférieur au minimum de 1" in texts or any(
        t.startswith("-4 est inférieur au minimum") for t in texts
    )
    assert "poste de commandement inconnu 'nowhere'" in texts


def test_camera_import_errors_in_dutch(client, demo_accounts):
    _signin(client, demo_accounts, Role.ADMIN, "nl")
    bad = (DATA / "cameras_bad_row.csv").read_bytes()
    r = client.post("/cameras/import", data={"municipality": "21001"},
                    files={"file": ("cams.csv", bad, "text/csv")})  # fmt: skip
    assert r.status_code == 422
    assert "geen getal" in r.text and "buiten bereik [" in r.text and "<td>noord</td>" in r.text


def test_babel_formats_per_language():
    assert formats.number(1234.5, "nl") == "1.234,5" and formats.number(1234.5, "en") == "1,234.5"
    assert formats.number(0.25, "fr", 2) == "0,25" and formats.number(None, "fr") == ""
    assert formats.number(0.5, "nl", 2, signed=True) == "+0,50"
    assert formats.number(-0.5, "en", 2, signed=True) == "-0.50"
    assert formats.percent(0.253, "nl") == "25,3\xa0%" and formats.percent(0.253, "en") == "25.3%"
    assert formats.percent(None, "fr") == "–" and formats.percent(float("nan"), "fr") == "–"
    # estimates a model blew up never break a page
    assert formats.number(1e300, "nl", 2) == "1e+300" and formats.number(float("inf"), "en") == "∞"
    assert formats.day(date(2025, 8, 12), "fr", "long") == "12 août 2025"
    assert formats.day("2026-04-06", "nl", "EEE d MMM") == "ma 6 apr"
    # an instant is shown in Brussels time, across the autumn DST change
    assert formats.moment(datetime(2025, 10, 26, 0, 30, tzinfo=UTC), "nl") == "26 okt 2025 02:30"
    assert formats.moment(datetime(2025, 10, 26, 1, 30, tzinfo=UTC), "nl") == "26 okt 2025 02:30"
    assert formats.moment("2025-03-30T01:30:00+00:00", "en") == "30 Mar 2025 03:30"
    assert formats.moment("not a time", "en") == "not a time"


def test_municipality_names_in_the_reader_language(client, demo_accounts):
    _signin(client, demo_accounts, Role.ANALYST, "nl")
    nl = client.get("/incidents").text
    assert '<option value="21013">Sint-Gillis</option>' in nl
    _signin(client, demo_accounts, Role.ANALYST, "fr")
    fr = client.get("/incidents").text
    assert '<option value="21013">Saint-Gilles</option>' in fr
    _signin(client, demo_accounts, Role.ANALYST, "en")
    en = client.get("/incidents").text
    assert '<option value="21013">Saint-Gilles / Sint-Gillis</option>' in en
    assert '<option value="21001">Anderlecht</option>' in en  # one name in both languages
    assert formats.place_name({"name": "Gare du Nord / Noordstation"}, "nl") == (
        "Gare du Nord / Noordstation"  # zones: one name in the data, shown as it is
    )
