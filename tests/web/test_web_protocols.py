"""Issue 14 in the pages: the request builder (another city without a file), the protocol page
approvers decide from, per-city plans, in NL/FR/EN."""

from __future__ import annotations

import json
import re

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.usefixtures("var_dir")


def _signin(client, demo_accounts, role, lang="en"):
    acc = demo_accounts[role]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert r.status_code == 200
    client.cookies.set("lang", lang)


def _form(city, **extra):
    data = {"city": city, "start": "2026-12-01", "months": "6", "soldier_cap": "12",
            "police_units": "20", "defence_units": "6", "reason": ""}  # fmt: skip
    data.update(extra)
    return data


def test_builder_for_liege_checks_downloads_and_sends(client, demo_accounts):
    _signin(client, demo_accounts, Role.PLANNER)
    r = client.get("/patrols/request/new", params={"city": "liege"})
    assert r.status_code == 200 and "Liège-Guillemins" in r.text and 'id="builder-note"' in r.text
    stations = re.findall(r'name="station" value="([^"]+)" checked', r.text)
    assert len(stations) == 14
    # errors: every one with its path; a FIPA above the cap and a negative cap
    bad = _form("liege", soldier_cap="-2", station=stations[:2], fipa_date=["2026-12-05"],
                fipa_start=["20:00"], fipa_end=["23:00"], fipa_zone=["liege-guillemins-railway"],
                fipa_soldiers=["30"])  # fmt: skip
    r = client.post("/patrols/request/new", data={**bad, "do": "check"})
    assert r.status_code == 400 and "<code>$.soldier_cap</code>" in r.text
    live = client.post("/patrols/request/check", data=bad).json()
    assert not live["valid"] and {e["path"] for e in live["errors"]} >= {"$.soldier_cap"}
    good = _form("liege", station=stations[:3])
    r = client.post("/patrols/request/new", data={**good, "do": "check"})
    assert r.status_code == 200 and 'id="builder-valid"' in r.text
    r = client.post("/patrols/request/new", data={**good, "do": "yaml"})
    assert r.headers["content-type"].startswith("application/yaml")
    assert "city: liege" in r.text and r.text.count("terrain: railway_station") == 3
    r = client.post("/patrols/request/new", data={**good, "do": "request"})
    assert r.status_code == 400 and "reason" in r.text  # a request states its reason
    r = client.post(
        "/patrols/request/new",
        data={**good, "do": "request", "reason": "shootings near Guillemins"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/patrols/protocols/")
    page = client.get(r.headers["location"]).text
    assert "Liège" in page and "ZP Liège (5277)" in page and "Brussel" not in page
    assert "at most 12 soldiers at any moment" in page
    # the template's travel (as the Brussels protocol), shown to the approvers
    assert "Handover at shift changes in zones with a minimum: 15 minutes." in page
    assert "Travel between zones: 25 km/h between zone centres." in page


def test_builder_and_protocol_page_speak_dutch(client, demo_accounts):
    _signin(client, demo_accounts, Role.PLANNER, lang="nl")
    r = client.post(
        "/patrols/request/check",
        data=_form("antwerp", soldier_cap="-1", station=["nmbs:008821006"]),
    )
    msgs = [e["message"] for e in r.json()["errors"]]
    assert msgs == ["-1 is kleiner dan het minimum 0"], msgs
    r = client.get("/patrols/request/new", params={"city": "antwerp"})
    assert "Gezamenlijke patrouilles aanvragen" in r.text and "Antwerpen-Centraal" in r.text


def test_antwerp_flow_per_city_posts_and_dashboard(client, demo_accounts):
    _signin(client, demo_accounts, Role.PLANNER)
    page = client.get("/patrols/request/new", params={"city": "antwerp"}).text
    stations = re.findall(r'name="station" value="([^"]+)" checked', page)
    form = _form(
        "antwerp", start="2026-05-01", soldier_cap="20", reason="shootings", station=stations[:4]
    )
    r = client.post("/patrols/request/new", data={**form, "do": "request"}, follow_redirects=False)
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    _signin(client, demo_accounts, Role.INTERIOR_APPROVER)
    assert f'id="decide-{pid}"' in client.get("/patrols").text
    dash = client.get("/").text
    assert f'href="/patrols/protocols/{pid}"' in dash and 'id="pending-requests"' in dash
    r = client.get(f"/patrols/protocols/{pid}")
    assert 'id="approve-button"' in r.text and 'id="protocol-zones"' in r.text
    assert (
        client.post(f"/patrols/approve-interior/{pid}", data={"confirm": "yes"}).status_code == 200
    )
    _signin(client, demo_accounts, Role.DEFENCE_APPROVER)
    assert (
        client.post(f"/patrols/approve-defence/{pid}", data={"confirm": "yes"}).status_code == 200
    )
    _signin(client, demo_accounts, Role.PLANNER)
    r = client.post(
        "/patrols/plan", data={"from": "2026-05-04", "to": "2026-05-04", "protocol": str(pid)}
    )
    assert r.status_code == 200, r.text[:500]
    page = client.get("/patrols").text
    name = re.search(rf"(plan-antwerp-p{pid}-2026-05-04-2026-05-04-s0\.csv)", page).group(1)
    row = page[page.index(f"<td>{name}</td>") :].split("</tr>", 1)[0]
    assert "cp-5345-antwerp" in row and "cp-5341" not in row and "brussel" not in row.lower()
    cal = client.get(f"/patrols/plans/{name}")
    assert cal.status_code == 200 and "cp-5341" not in cal.text
    assert not any(w in cal.text for w in ("Brussel", "Bruxelles"))
    for post in ("cp-5345-antwerp", "cp-spc-antwerp"):
        r = client.get(
            f"/api/patrols/plans/{name}/briefing", params={"post": post, "day": "2026-05-04"}
        )
        assert r.status_code == 200
        brussels = (
            "Brussel",
            "Bruxelles",
            "cp-5339",
            "cp-5340",
            "cp-5341",
            "cp-5344",
            "cp-spc-rail",
        )
        assert not any(w in r.text for w in brussels), post
    ics = client.get(f"/api/patrols/plans/{name}/calendar.ics", params={"post": "cp-spc-antwerp"})
    assert ics.status_code == 200 and "BEGIN:VCALENDAR" in ics.text
    # the plan on the map: the city's own zones, with the outlines the request drew
    layer = client.get(f"/api/patrols/plans/{name}/presence", params={"at": "2026-05-04T15:00"})
    feats = layer.json()["features"]
    assert layer.json()["city"] == "antwerp" and len(feats) == 4
    assert all(f["geometry"] and f["geometry"]["type"] == "Polygon" for f in feats)
    # plans listed newest first by their days, not by name
    listed = json.loads(client.get("/api/patrols/plans").text)
    froms = [p["from"] for p in listed]
    assert froms == sorted(froms, reverse=True)
