"""Cameras through the API: a municipal operator edits its own cameras and is refused others."""

from __future__ import annotations

from safecities.domain import Role


def test_operator_edits_own_camera_and_is_refused_another_municipality(client, tokens, auth):
    admin, op = auth(tokens[Role.ADMIN]), auth(tokens[Role.CAMERA_OPERATOR])  # op: 21001
    r = client.post(
        "/api/cameras",
        headers=admin,
        params={"municipality": "21004"},
        json={"lat": 50.8466, "lon": 4.3528, "purpose": "public order"},
    )
    assert r.status_code == 201, r.text
    other = r.json()["id"]
    r = client.post(
        "/api/cameras",
        headers=op,
        params={"municipality": "21001"},
        json={"lat": 50.8386, "lon": 4.3096, "purpose": "public order"},
    )
    assert r.status_code == 201, r.text
    own = r.json()["id"]
    assert [c["id"] for c in client.get("/api/cameras", headers=op).json()] == [own]
    r = client.patch(f"/api/cameras/{own}", headers=op, json={"retention_days": 30})
    assert r.status_code == 200 and r.json()["retention_days"] == 30
    assert client.get(f"/api/cameras/{other}", headers=op).status_code == 403
    r = client.patch(f"/api/cameras/{other}", headers=op, json={"retention_days": 30})
    # refused without naming the camera's municipality (issue 17: no leaks)
    assert r.status_code == 403 and "21004" not in r.json()["detail"]
    r = client.post(
        "/api/cameras",
        headers=op,
        params={"municipality": "21004"},
        json={"lat": 50.8466, "lon": 4.3528},
    )
    assert r.status_code == 403
    hist = client.get(f"/api/cameras/{own}/history", headers=op).json()
    assert [h["version"] for h in hist] == [1, 2] and "retention_days" in hist[1]["changed"]
    assert (
        client.get(f"/api/cameras/{own}/history", headers=auth(tokens[Role.ANALYST])).status_code
        == 403
    )  # noqa: E501
    geo = client.get("/api/cameras/geojson", headers=admin).json()
    assert len(geo["features"]) == 2
    r = client.patch(f"/api/cameras/{own}", headers=op, json={"retention_days": -5})
    assert r.status_code == 400
    counts = client.get("/api/cameras/counts", headers=auth(tokens[Role.MINISTERIAL_STAFF]))
    assert counts.status_code == 200 and sum(c["total"] for c in counts.json()) == 2
    # Ministerial staff read the national picture (as the service layer allows) but never edit.
    staff = auth(tokens[Role.MINISTERIAL_STAFF])
    assert len(client.get("/api/cameras/geojson", headers=staff).json()["features"]) == 2
    assert (
        client.patch(f"/api/cameras/{own}", headers=staff, json={"retention_days": 5}).status_code
        == 403
    )
    audit = client.get(
        "/api/audit", headers=auth(tokens[Role.AUDITOR]), params={"actor": "demo-camera-operator"}
    ).json()
    assert audit["total"] >= 2


def test_duplicates_listed_and_confirmed(client, tokens, auth, api_engine):
    from safecities.cameras import duplicates, service
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        admin = service.Caller("t", Role.ADMIN)
        a = service.create_camera(
            s, admin, "21001", {"lat": 50.8300, "lon": 4.3200, "purpose": "x"}, source="file-a.csv"
        ).id
        b = service.create_camera(
            s,
            admin,
            "21001",
            {"lat": 50.83001, "lon": 4.32001, "purpose": "x"},
            source="file-b.csv",
        ).id
        found = duplicates.detect(s, [a, b])
    assert found, "the two cameras 1 m apart should be duplicate candidates"
    op = auth(tokens[Role.CAMERA_OPERATOR])
    cands = client.get("/api/cameras/duplicates", headers=op).json()
    pair = next(d for d in cands if {d["camera_a"], d["camera_b"]} == {a, b})
    r = client.post(f"/api/cameras/duplicates/{pair['id']}/confirm", headers=op)
    assert r.status_code == 200, r.text
    assert (
        client.get(f"/api/cameras/{b if pair['camera_a'] == a else a}", headers=op).json()["status"]
        == "removed"
    )
    r = client.post(f"/api/cameras/duplicates/{pair['id']}/confirm", headers=op)
    assert r.status_code == 400  # already decided


def test_a_camera_as_it_was_at_a_past_moment(client, tokens, auth):
    import time
    from datetime import UTC, datetime

    admin = auth(tokens[Role.ADMIN])
    before = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    r = client.post(
        "/api/cameras",
        headers=admin,
        params={"municipality": "21001"},
        json={"lat": 50.8390, "lon": 4.3100, "retention_days": 30},
    )
    cam = r.json()["id"]
    time.sleep(0.01)
    middle = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    client.patch(f"/api/cameras/{cam}", headers=admin, json={"retention_days": 14})
    at = lambda m: client.get(f"/api/cameras/{cam}/at", headers=admin, params={"moment": m})  # noqa: E731
    assert at(before).json()["camera"] is None  # did not exist yet
    assert at(middle).json()["camera"]["retention_days"] == 30
    assert at(datetime.now(UTC).isoformat()).json()["camera"]["retention_days"] == 14
    r = at("2025-03-01T12:00")  # no time zone: a one-line 400
    assert r.status_code == 400 and "timezone" in r.json()["detail"]
    staff = auth(tokens[Role.MINISTERIAL_STAFF])
    assert (
        client.get(f"/api/cameras/{cam}/at", headers=staff, params={"moment": middle}).status_code
        == 403
    )
