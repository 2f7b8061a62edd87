"""Reference layers through the API: zones come from the store, and an admin can redraw them."""

from __future__ import annotations

import json

from safecities.domain import Role

SQUARE = [[4.3295, 50.8395], [4.3325, 50.8395], [4.3325, 50.8420], [4.3295, 50.8420]]


def _zone(zid: str, kind: str = "hotspot", **extra) -> dict:
    props = {"id": zid, "name": zid.title(), "kind": kind, "drawn_how": "test square", **extra}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*SQUARE, SQUARE[0]]]},
        "properties": props,
    }


def test_admin_redraws_zones_and_the_map_layer_follows(client, tokens, auth, api_engine):
    from safecities.register.service import load_reference
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        load_reference(s)
    analyst = auth(tokens[Role.ANALYST])
    assert client.post("/api/reference/load", headers=analyst).status_code == 403
    before = client.get("/api/reference/zones", headers=analyst).json()
    ids = {f["properties"]["id"] for f in before["features"]}
    assert {"clemenceau", "railway-north"} <= ids and "test-square" not in ids
    doc = {"type": "FeatureCollection", "features": [_zone("test-square")]}
    files = {"file": ("zones.geojson", json.dumps(doc).encode(), "application/geo+json")}
    assert client.post("/api/reference/zones", headers=analyst, files=files).status_code == 403
    r = client.post("/api/reference/zones", headers=auth(tokens[Role.ADMIN]), files=files)
    assert r.status_code == 200, r.text
    assert r.json() == {"file": "zones.geojson", "city": "brussels", "zones": 1}
    after = client.get("/api/reference/zones", headers=analyst).json()
    assert {f["properties"]["id"] for f in after["features"]} == ids | {"test-square"}
    r = client.post("/api/reference/load", headers=auth(tokens[Role.ADMIN]))
    assert r.status_code == 200 and r.json()["zones"] == len(ids), r.text
    kept = client.get("/api/reference/zones", headers=analyst).json()  # reload kept the import
    assert {f["properties"]["id"] for f in kept["features"]} == ids | {"test-square"}
    audit = client.get(
        "/api/audit", headers=auth(tokens[Role.AUDITOR]), params={"entity": "zone"}
    ).json()
    assert any(e.get("entity_id") == "test-square" for e in audit.get("events", audit))


def test_bad_zone_file_names_the_feature_and_field(client, tokens, auth):
    doc = {
        "type": "FeatureCollection",
        "features": [_zone("ok-square"), _zone("bad-kind", kind="everywhere")],
    }
    files = {"file": ("redraw.geojson", json.dumps(doc).encode(), "application/geo+json")}
    r = client.post("/api/reference/zones", headers=auth(tokens[Role.ADMIN]), files=files)
    assert r.status_code == 400, r.text
    body = r.json()
    assert "nothing imported" in body["detail"] and "/tmp" not in body["detail"]
    assert body["errors"][0] | {"reason": None} == {
        "file": "redraw.geojson",
        "row": 2,
        "field": "kind",
        "reason": None,
        "value": "everywhere",
    }
    r = client.post(
        "/api/reference/zones",
        headers=auth(tokens[Role.ADMIN]),
        files={"file": ("x.geojson", b"not json", "application/geo+json")},
    )
    assert r.status_code == 400 and r.json()["detail"].startswith("x.geojson: not a readable")
