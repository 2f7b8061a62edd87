"""Camera pages with TestClient: coverage figures, import form with the row report, duplicates to
confirm, the budget planner and its curve, in NL / FR / EN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safecities.domain import Role

DATA = Path(__file__).parents[1] / "data" / "api"


def _signin(client, demo_accounts, role):
    acc = demo_accounts[role]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"], "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


@pytest.fixture(scope="module", autouse=True)
def seeded(api_engine):
    from safecities.cameras import service as cams
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        admin = cams.Caller("t", Role.ADMIN)
        cams.create_camera(s, admin, "21001", {"id": "21001-p1", "lat": 50.8386, "lon": 4.3096,
                                               "status": "active"})  # fmt: skip
        cams.create_camera(s, admin, "21004", {"id": "21004-p1", "lat": 50.8466, "lon": 4.3528,
                                               "status": "active", "fov_direction": 90,
                                               "fov_angle": 60})  # fmt: skip


def _upload(client, name, municipality="21001"):
    data = (DATA / name).read_bytes()
    return client.post("/cameras/import", files={"file": (name, data, "text/csv")},
                       data={"municipality": municipality})  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ("Dekking vandaag", "Te bevestigen dubbels", "Budgetplanner")),
        ("fr", ("Couverture actuelle", "Doublons à confirmer", "Planificateur budgétaire")),
        ("en", ("Coverage today", "Duplicates to confirm", "Budget planner")),
    ],
)
def test_cameras_page_with_coverage_in_three_languages(client, demo_accounts, lang, words):
    _signin(client, demo_accounts, Role.ADMIN)
    client.get(f"/lang?code={lang}&next=/cameras")
    r = client.get("/cameras")
    assert r.status_code == 200 and f'lang="{lang}"' in r.text
    for w in words:
        assert w in r.text, (lang, w)
    assert 'id="cov-cameras">2<' in r.text and 'id="cov-municipalities"' in r.text
    assert 'data-coverage-url="/api/cameras/coverage/geojson"' in r.text
    assert '<script src="/static/cameras.js"></script>' in r.text
    assert 'for="cam-file"' in r.text and 'for="cam-municipality"' in r.text


def test_operator_sees_own_coverage_and_import_reports_rows(client, demo_accounts):
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)  # 21001 (Anderlecht)
    client.get("/lang?code=en&next=/cameras")
    r = client.get("/cameras")
    assert r.status_code == 200 and 'id="cov-cameras">1<' in r.text
    assert "Only the cameras of your municipality are counted." in r.text
    assert r.text.count('<option value="2') == 1  # only their own municipality to import into
    assert 'id="link-plan"' not in r.text  # no planner for operators
    r = _upload(client, "cameras_bad_row.csv")
    assert r.status_code == 422 and 'id="import-errors"' in r.text
    assert re.search(r"<td>2</td><td>lat</td><td>not a number</td><td>noord</td>", r.text)
    assert "<td>retention_days</td>" in r.text
    r = _upload(client, "cameras_ok.csv", "21004")
    assert r.status_code == 403 and 'id="import-errors"' in r.text
    r = _upload(client, "cameras_ok.csv")
    assert r.status_code == 200 and 'id="import-ok"' in r.text
    assert "2 written, 0 unchanged, 1 possible duplicate(s)" in r.text
    assert "4 camera(s)" not in r.text and "3 camera(s)" in r.text
    # the same source again with one camera changed: the page lists it with before and after
    text = (DATA / "cameras_ok.csv").read_text(encoding="utf-8")
    data = text.replace(";actief;30", ";actief;14", 1).encode()
    r = client.post("/cameras/import", files={"file": ("cameras_ok.csv", data, "text/csv")},
                    data={"municipality": "21001"})  # fmt: skip
    assert r.status_code == 200 and 'id="import-updated"' in r.text
    assert "<td>21001-cameras_ok-W-1</td><td>retention_days</td><td>30</td><td>14</td>" in r.text


def test_duplicates_confirm_and_reject(client, demo_accounts):
    _signin(client, demo_accounts, Role.ANALYST)
    assert client.get("/cameras/duplicates").status_code == 403
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    client.get("/lang?code=fr&next=/cameras")
    r = client.get("/cameras/duplicates")
    assert r.status_code == 200 and "Doublons possibles" in r.text
    ids = re.findall(r'id="dup-(\d+)"', r.text)
    assert len(ids) == 1 and "21001-cameras_ok-W-1" in r.text and "21001-p1" in r.text
    dup = ids[0]
    assert f'<label for="keep-{dup}">' in r.text
    r = client.post(f"/cameras/duplicates/{dup}/confirm", data={"keep": "21001-p1"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/cameras/duplicates?done=confirmed"
    r = client.get("/cameras/duplicates?done=confirmed")
    assert 'id="dup-done"' in r.text and 'id="dup-' + dup + '"' not in r.text
    # the other record is now removed, with history
    r = client.get("/cameras/21001-cameras_ok-W-1")
    assert "retir" in r.text.lower() or "supprim" in r.text.lower() or "removed" in r.text
    # deciding twice is a 400 with the reason shown, not a 500
    r = client.post(f"/cameras/duplicates/{dup}/reject")
    assert r.status_code == 400 and 'id="dup-error"' in r.text
    assert client.post("/cameras/duplicates/999/reject").status_code == 404


def test_budget_planner_page_shows_curve(client, demo_accounts):
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    assert client.get("/cameras/plan").status_code == 403
    _signin(client, demo_accounts, Role.PLANNER)
    for lang, word in (("nl", "Budgetplanner"), ("fr", "Planificateur budgétaire"),
                       ("en", "Budget planner")):  # fmt: skip
        client.get(f"/lang?code={lang}&next=/cameras/plan")
        r = client.get("/cameras/plan")
        assert r.status_code == 200 and word in r.text and 'for="budget"' in r.text
    r = client.post("/cameras/plan", data={"budget": "100000", "curve_steps": "2"})
    assert r.status_code == 200, r.text[:500]
    assert (
        'id="plan-curve"' in r.text and '<title id="curve-title">Coverage against budget' in r.text
    )
    assert r.text.count('class="curve-point"') == 3  # origin + 2 curve points
    spent = re.search(r'id="plan-spent">([\d,]+) / 100,000<', r.text)
    assert spent and int(spent.group(1).replace(",", "")) <= 100000
    assert 'id="plan-chosen"' in r.text and 'data-plan="true"' in r.text
    # the download buttons post the same form with `format`: the cached run's chosen sites
    assert 'id="plan-downloads"' in r.text and 'name="format" value="xlsx"' in r.text
    d = client.post("/cameras/plan", data={"budget": "100000", "curve_steps": "2", "format": "csv"})
    assert (
        d.status_code == 200 and 'filename="chosen-sites.csv"' in d.headers["content-disposition"]
    )
    rows = d.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("site_id;lat;lon;action;cost") and len(rows) == 1 + int(
        re.search(r'id="plan-n">(\d+)<', r.text).group(1)
    )
    assert client.post("/cameras/plan", data={"budget": "-1"}).status_code == 400


def test_budget_planner_page_programme_defaults_names_and_exports(client, demo_accounts):
    """Issue 17: EUR 20 M by default, city choice and the national view, chosen sites with
    station/zone/municipality names, CSV and GeoJSON downloads of the same plan."""
    _signin(client, demo_accounts, Role.PLANNER)
    client.get("/lang?code=en&next=/cameras/plan")
    r = client.get("/cameras/plan")
    assert 'value="20000000"' in r.text
    assert '<option value="all">All cities (national view)' in r.text
    form = {"budget": "150000", "curve_steps": "0", "city": "brussels"}
    r = client.post("/cameras/plan", data=form)
    assert r.status_code == 200 and '<th scope="col">Municipality</th>' in r.text
    assert 'id="plan-downloads"' in r.text and 'name="city" value="brussels"' in r.text
    csv_r = client.post("/cameras/plan", data=form | {"format": "csv"})
    assert csv_r.status_code == 200 and csv_r.headers["content-type"].startswith("text/csv")
    head = csv_r.content.decode("utf-8-sig").splitlines()[0].split(";")
    assert head[:2] == ["site_id", "lat"] and "municipality_name" in head and "station" in head
    geo = client.post("/cameras/plan", data=form | {"format": "geojson"})
    doc = geo.json()
    assert doc["type"] == "FeatureCollection" and doc["features"]
    assert len(doc["features"]) == len(csv_r.content.decode("utf-8-sig").splitlines()) - 1
    bad = client.post("/cameras/plan", data=form | {"format": "exe"})
    bad_city = client.post("/cameras/plan", data=form | {"city": "atlantis"})
    assert bad.status_code in (400, 422)  # a refused form, never a 500
    assert bad_city.status_code in (400, 422)


def test_budget_planner_page_says_when_a_run_is_still_going(client, demo_accounts, monkeypatch):
    from safecities.web.pages import cameras as page

    _signin(client, demo_accounts, Role.PLANNER)
    client.get("/lang?code=nl&next=/cameras/plan")
    monkeypatch.setattr(page, "PAGE_WAIT_SECONDS", 0.0)
    r = client.post("/cameras/plan", data={"budget": "77000", "curve_steps": "1"})
    assert r.status_code == 202 and 'id="plan-running"' in r.text and "planner rekent nog" in r.text
    monkeypatch.setattr(page, "PAGE_WAIT_SECONDS", 90.0)
    r = client.post("/cameras/plan", data={"budget": "77000", "curve_steps": "1"})
    assert r.status_code == 200 and 'id="plan-curve"' in r.text
