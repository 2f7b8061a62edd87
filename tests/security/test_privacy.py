"""Finding L of issue 18 (item 6): roles without incident access saw 200 m hotspot cells that each
held exactly one incident. Now they see a cell or zone only with >= k incidents (k = 3).

The synthetic Brussels scenario (57 incidents) is loaded into this module's store; the check
counts the register's incidents inside each returned cell polygon with shapely, independently of
the filter's own counting."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from safecities.api import privacy
from safecities.domain import Role

RESTRICTED = Role.DEFENCE_LIAISON  # hotspots.read without incidents.read
FULL = Role.ANALYST


@pytest.fixture(scope="module")
def incidents(api_engine, app, tokens):
    from fastapi.testclient import TestClient

    from safecities.register.demo import load_demo

    load_demo(api_engine)
    with TestClient(app) as c:
        r = c.get("/api/incidents", params={"limit": 1000},
                  headers={"Authorization": f"Bearer {tokens[FULL]}"})  # fmt: skip
    rows = r.json()["incidents"]
    assert len(rows) >= 50
    return [Point(i["lon"], i["lat"]) for i in rows]


def _inside(feature: dict, points: list[Point]) -> int:
    poly = shape(feature["geometry"])
    return sum(poly.covers(p) for p in points)


def test_the_role_split_is_what_the_permission_table_says():
    from safecities.api.permissions import Action, allowed

    assert allowed(RESTRICTED, Action.HOTSPOTS_READ)
    assert not allowed(RESTRICTED, Action.INCIDENTS_READ) and allowed(FULL, Action.INCIDENTS_READ)


@pytest.mark.parametrize(
    "path, params, layer",
    [
        ("/api/hotspots/forecast", {"method": "naive", "cell_size": 200}, "cells"),
        ("/api/hotspots/detect", {"cell_size": 200, "geojson": "true"}, "geojson"),
        ("/api/hotspots/emerging", {"geojson": "true"}, "geojson"),
    ],
)
def test_restricted_roles_see_only_cells_with_k_incidents(client, tokens, auth, incidents, path,
                                                         params, layer):  # fmt: skip
    full = client.get(path, params=params, headers=auth(tokens[FULL])).json()
    some = client.get(path, params=params, headers=auth(tokens[RESTRICTED])).json()
    k = privacy.min_count()
    assert k == 3
    full_counts = [_inside(f, incidents) for f in full[layer]["features"]]
    assert any(0 < n < k for n in full_counts)  # the finding: single-incident cells were shown
    seen = [_inside(f, incidents) for f in some[layer]["features"]]
    assert all(n >= k for n in seen), seen
    assert some["min_count"]["k"] == k and some["min_count"]["hidden"] > 0
    assert "min_count" not in full


def test_restricted_lists_follow_the_layers(client, tokens, auth, incidents):
    d = client.get("/api/hotspots/detect", params={"cell_size": 200, "geojson": "true"},
                   headers=auth(tokens[RESTRICTED])).json()  # fmt: skip
    ids = {f["properties"]["cell_id"] for f in d["geojson"]["features"]}
    assert all(c["cell_id"] in ids and c["count"] >= 3 for c in d["hot_cells"])


def test_zone_profile_hides_zones_under_k(client, tokens, auth, incidents, api_engine):
    full = client.get("/api/hotspots/profile", headers=auth(tokens[FULL])).json()
    some = client.get("/api/hotspots/profile", headers=auth(tokens[RESTRICTED])).json()
    counts = privacy.zone_counts(api_engine, "brussels", start=full["window"][0],
                                 end=full["window"][1])  # fmt: skip
    assert any(0 < counts[z["zone_id"]] < 3 for z in full["zones"])
    assert all(counts[z["zone_id"]] >= 3 for z in some["zones"]) and some["zones"]


def test_k_is_a_setting(client, tokens, auth, incidents, monkeypatch):
    from safecities.config import get_settings

    monkeypatch.setattr(get_settings(), "min_cell_count", 1)
    some = client.get("/api/hotspots/forecast", params={"method": "naive", "cell_size": 200},
                      headers=auth(tokens[RESTRICTED])).json()  # fmt: skip
    assert some["min_count"]["k"] == 1


def test_hotspots_page_renders_for_a_restricted_role(client, demo_accounts, incidents):
    acc = demo_accounts[RESTRICTED]
    client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert client.get("/hotspots").status_code == 200


def test_incident_summary_leaves_out_municipalities_under_k(client, tokens, auth, incidents):
    full = client.get("/api/incidents/summary", headers=auth(tokens[FULL])).json()
    some = client.get("/api/incidents/summary", headers=auth(tokens[RESTRICTED])).json()
    small = [r["nis"] for r in full["by_municipality"] if 0 < r["incidents"] < 3]
    assert small  # the synthetic scenario has municipalities with one or two incidents
    assert all(r["incidents"] >= 3 for r in some["by_municipality"]) and some["by_municipality"]
    assert some["totals"] == full["totals"]  # the city-wide figures stay
    one = client.get("/api/incidents/summary", params={"municipality": small[0]},
                     headers=auth(tokens[RESTRICTED])).json()  # fmt: skip
    assert one["totals"] is None and one["by_month"] == [] and one["min_count"]["hidden"] >= 1
