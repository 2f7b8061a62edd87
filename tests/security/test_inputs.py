"""Finding L of issue 18: input classes that answered 500. Each must now answer 4xx.

Sent through the in-process app as an admin or analyst with a bearer token (loopback only)."""

from __future__ import annotations

import json

import pytest

from safecities.domain import Role

INCIDENT_HEADER = "id,occurred_at,lat,lon,kind,injured,killed\n"


def _geojson(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


POINT = {"type": "Point", "coordinates": [4.35, 50.85]}
BAD_GEOJSON = {
    "features-not-objects": _geojson([1, "x", None]),
    "properties-not-object": _geojson([{"type": "Feature", "geometry": POINT, "properties": [1]}]),
    "geometry-not-object": _geojson([{"type": "Feature", "geometry": "x", "properties": {}}]),
    "features-not-a-list": json.dumps({"type": "FeatureCollection", "features": {"a": 1}}).encode(),
    "top-level-a-list": b"[1, 2, 3]",
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "nan": b'{"type": "FeatureCollection", "features": NaN}',
}


@pytest.mark.parametrize("case", sorted(BAD_GEOJSON))
@pytest.mark.parametrize(
    "path, role, extra",
    [
        ("/api/incidents/import", Role.ANALYST, {}),
        ("/api/reference/zones", Role.ADMIN, {}),
        ("/api/cameras/import", Role.ADMIN, {"municipality": "21001"}),
    ],
)
def test_malformed_geojson_uploads_answer_4xx(client, tokens, auth, path, role, extra, case):
    files = {"file": ("upload.geojson", BAD_GEOJSON[case], "application/geo+json")}
    r = client.post(path, headers=auth(tokens[role]), data=extra, files=files)
    assert 400 <= r.status_code < 500, (path, case, r.status_code, r.text[:300])


@pytest.mark.parametrize(
    "row",
    [
        "t-1,2025-03-01T22:10:00+01:00,50.84,4.33,shooting,99999999999999999999,0",
        "t-1,2025-03-01T22:10:00+01:00,50.84,4.33,shooting,1,18446744073709551616",
        "t-1,0001-01-01T00:00:00+00:00,50.84,4.33,shooting,1,0",
        "t-1,9999-12-31T23:59:59+00:00,50.84,4.33,shooting,1,0",
        "t-1,2025-03-01T22:10:00+01:00,nan,inf,shooting,1,0",
    ],
)
def test_out_of_range_incident_values_answer_4xx(client, tokens, auth, row):
    files = {"file": ("x.csv", (INCIDENT_HEADER + row + "\n").encode(), "text/csv")}
    r = client.post("/api/incidents/import", headers=auth(tokens[Role.ANALYST]), files=files)
    assert 400 <= r.status_code < 500, (row, r.status_code, r.text[:300])


@pytest.mark.parametrize("at", ["0001-01-01", "9999-12-31", "1677-09-21", "2262-04-12"])
def test_forecast_at_extreme_years_answers_4xx(client, tokens, auth, at):
    r = client.get("/api/hotspots/forecast", params={"at": at}, headers=auth(tokens[Role.ANALYST]))
    assert 400 <= r.status_code < 500, (at, r.status_code, r.text[:300])


@pytest.mark.parametrize(
    "dates",
    [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2026-01-01", "9999-12-31")],
)
def test_plan_in_extreme_years_answers_4xx(client, tokens, auth, dates, var_dir):
    r = client.post("/api/patrols/plans", headers=auth(tokens[Role.PLANNER]),
                    json={"from": dates[0], "to": dates[1], "time_limit": 1})  # fmt: skip
    assert 400 <= r.status_code < 500, (dates, r.status_code, r.text[:300])


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_huge_integers_in_query_strings_answer_4xx(client, tokens, auth, value):
    h = auth(tokens[Role.ADMIN])
    for path, params in (("/api/incidents", {"offset": value}), ("/api/audit", {"limit": value}),
                         ("/api/hotspots/detect", {"seed": value})):  # fmt: skip
        r = client.get(path, params=params, headers=h)
        assert 400 <= r.status_code < 500, (path, value, r.status_code, r.text[:300])


@pytest.fixture(scope="module")
def demo_store(api_engine):
    """The synthetic Brussels scenario: extreme dates used to overflow only with data present."""
    from safecities.register.demo import load_demo

    load_demo(api_engine)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(
    "path, param, role",
    [
        ("/api/hotspots/forecast", "at", Role.ANALYST),
        ("/api/hotspots/detect", "start", Role.ANALYST),
        ("/api/hotspots/detect", "end", Role.ANALYST),
        ("/api/hotspots/emerging", "start", Role.ANALYST),
        ("/api/hotspots/near-repeat", "end", Role.ANALYST),
        ("/api/hotspots/profile", "until", Role.ANALYST),
        ("/api/incidents", "since", Role.ANALYST),
        ("/api/incidents", "until", Role.ANALYST),
        ("/api/incidents/summary", "since", Role.ANALYST),
        ("/api/review/its", "intervention", Role.ANALYST),
    ],
)
def test_extreme_dates_with_data_never_500(
    client, tokens, auth, demo_store, path, param, role, day
):
    r = client.get(path, params={param: day}, headers=auth(tokens[role]))
    assert r.status_code < 500, (path, param, day, r.status_code, r.text[:300])


def test_request_builder_refuses_a_nesting_bomb_as_drawn_zones(client, demo_accounts):
    """The request builder's zone upload (a page form) used `json.loads`: a nesting bomb crashed."""
    acc = demo_accounts[Role.PLANNER]
    client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    bomb = b"[" * 100_000 + b"]" * 100_000
    r = client.post(
        "/patrols/request/new",
        data={"city": "antwerp", "action": "check"},
        files={"zones": ("zones.geojson", bomb, "application/geo+json")},
    )
    assert r.status_code < 500 and "GeoJSON FeatureCollection is expected" in r.text
