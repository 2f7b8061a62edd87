"""Patrols through the API: request, two different approvers, make a plan, download it."""

from __future__ import annotations

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.usefixtures("var_dir")  # plans are written under it


def test_request_approve_plan_download(client, tokens, auth):
    planner = auth(tokens[Role.PLANNER])
    body = {"from": "2026-04-06", "to": "2026-04-06", "time_limit": 20}
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 403 and "approved" in r.json()["detail"]  # no approval yet
    r = client.post("/api/patrols/protocols", headers=planner, json={"reason": "shootings"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = client.post(
        f"/api/patrols/protocols/{pid}/approve-interior",
        headers=auth(tokens[Role.INTERIOR_APPROVER]),
    )
    assert r.status_code == 200, r.text
    assert (
        client.post(
            f"/api/patrols/protocols/{pid}/approve-defence",
            headers=auth(tokens[Role.INTERIOR_APPROVER]),
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/patrols/protocols/{pid}/approve-defence", headers=auth(tokens[Role.DEFENCE_APPROVER])
    )
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["check"]["ok"] and plan["rows"] > 0
    assert plan["risk"] == "default" and any("no incidents recorded" in n for n in plan["notes"])
    names = [p["name"] for p in client.get("/api/patrols/plans", headers=planner).json()]
    assert names == [plan["name"]]
    csv = client.get(f"/api/patrols/plans/{plan['name']}", headers=planner)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    post = plan["command_posts"][0]
    r = client.get(
        f"/api/patrols/plans/{plan['name']}/briefing",
        headers=planner,
        params={"post": post, "day": "2026-04-06"},
    )
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert client.get("/api/patrols/plans/../../etc/passwd", headers=planner).status_code == 404
    assert client.get("/api/patrols/plans/plan-x.csv", headers=planner).status_code == 404


def test_check_an_uploaded_plan_lists_violations(client, tokens, auth):
    from safecities.patrols.planner import HEADER

    h = auth(tokens[Role.DEFENCE_LIAISON])
    bad = ",".join(HEADER) + (
        "\n2026-04-06T02:00:00+02:00,2026-04-06T02:15:00+02:00,clemenceau,P1,0,3,"
        "cp-5341-midi,patrol,,S1;S2;S3,\n"
    )  # a patrol of soldiers without police
    r = client.post(
        "/api/patrols/plans/check",
        headers=h,
        files={"file": ("bad-plan.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and body["file"] == "bad-plan.csv"
    assert "mixed_police_min" in body["counts_by_rule"]
    r = client.post(
        "/api/patrols/plans/check", headers=h, files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert r.status_code == 400 and "missing column" in r.json()["detail"]


def _a_plan(client, tokens, auth) -> str:
    """The plan made by the flow above (made here when this test runs alone)."""
    planner = auth(tokens[Role.PLANNER])
    flow = "plan-brussels-2026-04-06-2026-04-06-s0.csv"  # other tests add plans of other days
    names = [p["name"] for p in client.get("/api/patrols/plans", headers=planner).json()]
    if flow not in names:
        test_request_approve_plan_download(client, tokens, auth)
    return flow


def test_export_calendar_and_pdf_of_a_plan(client, tokens, auth):
    name = _a_plan(client, tokens, auth)
    h = auth(tokens[Role.POLICE_COMMANDER])
    idx = client.get(f"/api/patrols/plans/{name}/export", headers=h)
    assert idx.status_code == 200, idx.text
    idx = idx.json()
    assert idx["days"] == ["2026-04-06"] and idx["command_posts"]
    assert len(idx["files"]["ics"]) == len(idx["command_posts"])
    assert len(idx["files"]["pdf"]) == len(idx["command_posts"]) * len(idx["days"])
    ics = client.get(idx["files"]["ics"][0], headers=h)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR\r\n") and "BEGIN:VEVENT" in ics.text
    assert "attachment" in ics.headers["content-disposition"]
    pdf = client.get(idx["files"]["pdf"][0], headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    r = client.get(
        f"/api/patrols/plans/{name}/calendar.ics", headers=h, params={"post": "no-such-post"}
    )
    assert r.status_code == 404
    # ministerial staff may not read plans
    staff = auth(tokens[Role.MINISTERIAL_STAFF])
    assert client.get(f"/api/patrols/plans/{name}/export", headers=staff).status_code == 403


def test_calendar_per_post_highlights_violations(client, tokens, auth):
    from safecities.patrols.service import saved as svc

    name = _a_plan(client, tokens, auth)
    h = auth(tokens[Role.DEFENCE_LIAISON])
    idx = client.get(f"/api/patrols/plans/{name}/export", headers=h).json()
    post = idx["command_posts"][0]
    cal = client.get(f"/api/patrols/plans/{name}/calendar", headers=h, params={"post": post})
    assert cal.status_code == 200, cal.text
    cal = cal.json()
    assert cal["check"]["ok"] and cal["violations"] == []
    (day,) = cal["days"]
    assert [x["hour"] for x in day["hours"]] == list(range(24))
    assert sum(x["mixed"] + x["police_only"] + x["fipa"] for x in day["hours"]) > 0
    assert max(x["soldiers_max"] for x in day["hours"]) <= 45
    # the same plan with one patrol of soldiers only (no police) at 02:00: flagged at that hour
    text = svc.plan_file(name).read_text()
    head, first, *rest = text.splitlines()
    cols = head.split(",")
    row = next(r.split(",") for r in rest if r.split(",")[cols.index("command_post")] == post)
    row[cols.index("start")] = "2026-04-06T02:00:00+02:00"
    row[cols.index("end")] = "2026-04-06T02:15:00+02:00"
    row[cols.index("kind")] = "patrol"
    row[cols.index("police")] = "0"
    row[cols.index("soldiers")] = "3"
    row[cols.index("police_units")] = ""
    row[cols.index("patrol_id")] = "PX"
    bad = name.replace(".csv", "-doctored.csv")
    (svc.plans_dir() / bad).write_text("\n".join([head, first, *rest, ",".join(row)]) + "\n")
    check = client.get(f"/api/patrols/plans/{bad}/check", headers=h).json()
    assert check["ok"] is False and check["violation_count"] >= 1
    cal = client.get(f"/api/patrols/plans/{bad}/calendar", headers=h, params={"post": post}).json()
    assert cal["check"]["ok"] is False and cal["violations"]
    flagged = [x["hour"] for x in cal["days"][0]["hours"] if x["violations"]]
    assert 2 in flagged, flagged
    (svc.plans_dir() / bad).unlink()


def test_another_city_requests_with_its_own_protocol_and_plans_only_once_approved(
    client, tokens, auth
):
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "data" / "api" / "patrols_antwerp_request.yaml").read_bytes()
    planner = auth(tokens[Role.PLANNER])
    # validate first: a broken copy lists its errors with their paths; the real one is valid
    broken = doc.replace(b"soldier_cap: 20", b"soldier_cap: -4")
    r = client.post(
        "/api/patrols/protocols/validate",
        headers=auth(tokens[Role.DEFENCE_LIAISON]),
        files={"file": ("antwerp.yaml", broken, "application/yaml")},
    )
    assert r.status_code == 200 and r.json()["valid"] is False
    assert any(e["path"] == "$.soldier_cap" for e in r.json()["errors"]), r.json()
    r = client.post(
        "/api/patrols/protocols/validate",
        headers=planner,
        files={"file": ("antwerp.yaml", b"city: [unclosed", "application/yaml")},
    )
    assert r.status_code == 400 and r.json()["detail"].startswith("antwerp.yaml: line 1")
    r = client.post(
        "/api/patrols/protocols/validate",
        headers=planner,
        files={"file": ("antwerp.yaml", doc, "application/yaml")},
    )
    assert r.json() == {
        "file": "antwerp.yaml",
        "valid": True,
        "city": "antwerp",
        "version": "2026.1-request",
        "errors": [],
    }
    # request: only planners; the record awaits both ministries
    files = {"file": ("antwerp.yaml", doc, "application/yaml")}
    data = {"reason": "shootings near Antwerpen-Centraal"}
    assert (
        client.post(
            "/api/patrols/protocols/upload",
            headers=auth(tokens[Role.ANALYST]),
            files=files,
            data=data,
        ).status_code
        == 403
    )
    r = client.post("/api/patrols/protocols/upload", headers=planner, files=files, data=data)
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["city"] == "antwerp" and req["status"] == "requested"
    again = client.post("/api/patrols/protocols/upload", headers=planner, files=files, data=data)
    assert again.status_code == 400 and "already requested" in again.json()["detail"]
    body = {"from": "2026-05-04", "to": "2026-05-04", "time_limit": 5, "protocol_id": req["id"]}
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 403 and "not active" in r.json()["detail"]
    for role, step in ((Role.INTERIOR_APPROVER, "interior"), (Role.DEFENCE_APPROVER, "defence")):
        r = client.post(
            f"/api/patrols/protocols/{req['id']}/approve-{step}", headers=auth(tokens[role])
        )
        assert r.status_code == 200, r.text
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["city"] == "antwerp" and plan["check"]["ok"]
    assert plan["name"] == f"plan-antwerp-p{req['id']}-2026-05-04-2026-05-04-s0.csv"
    assert plan["command_posts"] == ["cp-5345-antwerpen", "cp-spc-antwerpen"]
    # exports and the calendar read the plan with ITS protocol, not the bundled Brussels one
    cal = client.get(
        f"/api/patrols/plans/{plan['name']}/calendar",
        headers=planner,
        params={"post": "cp-spc-antwerpen"},
    ).json()
    assert cal["zones"] == ["antwerpen-centraal-railway", "antwerpen-berchem-railway"]
    assert cal["check"]["ok"] and max(h["soldiers_max"] for h in cal["days"][0]["hours"]) <= 20
    r = client.get(
        f"/api/patrols/plans/{plan['name']}/briefing",
        headers=planner,
        params={"post": "cp-5345-antwerpen", "day": "2026-05-04"},
    )
    assert r.status_code == 200 and "PZ Antwerpen" in r.text


def test_plan_presence_at_a_moment_is_a_map_layer(client, tokens, auth):
    name = _a_plan(client, tokens, auth)
    h = auth(tokens[Role.DEFENCE_LIAISON])
    r = client.get(
        f"/api/patrols/plans/{name}/presence", headers=h, params={"at": "2026-04-06T15:00"}
    )
    assert r.status_code == 200, r.text
    gj = r.json()
    assert gj["type"] == "FeatureCollection" and gj["in_plan"] is True
    assert gj["at"] == "2026-04-06T15:00:00+02:00"
    props = {f["properties"]["id"]: f["properties"] for f in gj["features"]}
    assert {"clemenceau", "railway-north", "matonge"} <= set(props)
    assert all(f["geometry"] is not None for f in gj["features"])
    # the railway priority terrain always has a mixed patrol; soldiers within the cap
    assert props["railway-north"]["mixed"] >= 1
    assert 0 < gj["soldiers_total"] == sum(p["soldiers"] for p in props.values()) <= 45
    for p in props.values():
        assert p["police"] >= 2 * (p["mixed"] + p["police_only"])  # police lead every patrol
    outside = client.get(
        f"/api/patrols/plans/{name}/presence", headers=h, params={"at": "2026-05-01T15:00"}
    ).json()
    assert outside["in_plan"] is False and outside["soldiers_total"] == 0


def test_a_web_plan_continues_the_latest_plan_of_its_protocol(client, tokens, auth):
    """The plan of 7 April continues the saved plan of 6 April (rest, weekly hours, the night
    of 6 to 7 April planned once); checked together they break no rule, across the seam."""
    first = _a_plan(client, tokens, auth)
    planner = auth(tokens[Role.PLANNER])
    body = {"from": "2026-04-07", "to": "2026-04-07", "time_limit": 20, "risk": "default"}
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["after"] == first and plan["check"]["ok"]
    check = client.get(f"/api/patrols/plans/{plan['name']}/check", headers=planner).json()
    assert check["ok"] and check["after"] == first, check["violations"][:3]
    assert check["horizon"]["start"] == "2026-04-06T00:00:00+02:00"
    # asked for a fresh plan, the same day is planned from its eve
    fresh = client.post(
        "/api/patrols/plans", headers=planner, json={**body, "continue_latest": False, "seed": 1}
    ).json()
    assert fresh["after"] is None and fresh["check"]["ok"]


def test_soldiers_patrol_only_on_railway_terrain_and_the_plan_says_why(client, tokens, auth):
    import csv
    import io

    from safecities.patrols.service import saved as svc

    name = _a_plan(client, tokens, auth)
    rows = list(csv.DictReader(io.StringIO(svc.plan_file(name).read_text())))
    zones = {r["zone_id"] for r in rows if r["kind"] == "patrol" and int(r["soldiers"]) > 0}
    assert zones and all(z.startswith(("railway-", "metro-")) for z in zones), zones
    body = {"from": "2026-04-08", "to": "2026-04-08", "time_limit": 20, "risk": "default"}
    plan = client.post("/api/patrols/plans", headers=auth(tokens[Role.PLANNER]), json=body).json()
    why = {z["zone"]: z for z in plan["soldier_zones"]}
    assert why["matonge"]["soldiers_allowed"] is False and "police-only" in why["matonge"]["why"]
    assert why["railway-south"]["terrain"] == "railway_station"
    page = client.get("/patrols", headers=auth(tokens[Role.PLANNER]))
    assert 'id="soldier-zones"' in page.text and "police-only" in page.text


def test_replan_a_saved_plan_with_changes(client, tokens, auth):
    """A command post closes a metro zone for a day and loses a unit: the saved plan is re-planned
    from that day into a new plan (the old one stays), checked, audited; bad changes answer 400
    with every JSON path; only planners re-plan."""
    import csv
    import io

    from safecities.patrols.protocol import bundled_protocol_path, load_protocol
    from safecities.patrols.service import saved as svc

    _a_plan(client, tokens, auth)  # the protocol is active
    planner = auth(tokens[Role.PLANNER])
    body = {"from": "2026-04-20", "to": "2026-04-21", "time_limit": 20, "risk": "default",
            "continue_latest": False}  # fmt: skip
    r = client.post("/api/patrols/plans", headers=planner, json=body)
    assert r.status_code == 201, r.text
    old = r.json()["name"]
    unit = next(u.code for u in load_protocol(bundled_protocol_path()).units if u.force == "police")
    changes = {
        "close_zone": [
            {"zone": "metro-clemenceau", "from": "2026-04-21T00:00", "to": "2026-04-22T00:00"}
        ],
        "unit_unavailable": [{"unit": unit, "from": "2026-04-21T06:00", "to": "2026-04-21T18:00"}],
    }  # fmt: skip
    req = {"from": "2026-04-21", "changes": changes, "time_limit": 20, "risk": "default"}
    r = client.post(f"/api/patrols/plans/{old}/replan", headers=planner, json=req)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["name"] == old.replace(".csv", "-r1.csv") and new["from_plan"] == old
    assert new["check"]["ok"] and new["from"] == "2026-04-21" and new["replan"]["fallback"] is None
    assert new["replan"]["kept_rows"] > 0 and new["replan"]["old_assignments"] > 0
    assert new["changes"]["close_zone"][0]["from"] == "2026-04-21T00:00:00+02:00"
    rows = list(csv.DictReader(io.StringIO(svc.plan_file(new["name"]).read_text())))
    day21 = [x for x in rows if x["start"].startswith("2026-04-21")]
    assert day21 and not any(x["zone_id"] == "metro-clemenceau" for x in day21)
    assert not any(unit in x["police_units"].split(";") for x in day21
                   if "06:00" <= x["start"][11:16] < "18:00")  # fmt: skip
    before = [x for x in rows if x["start"] < "2026-04-21"]
    olds = list(csv.DictReader(io.StringIO(svc.plan_file(old).read_text())))
    assert before == [x for x in olds if x["start"] < "2026-04-21"]  # the past is kept verbatim
    names = [p["name"] for p in client.get("/api/patrols/plans", headers=planner).json()]
    assert old in names and new["name"] in names
    r = client.post(f"/api/patrols/plans/{old}/replan", headers=planner, json=req)
    assert r.status_code == 201 and r.json()["name"].endswith("-r2.csv")  # never overwrites
    audit = client.get("/api/audit", headers=auth(tokens[Role.AUDITOR]),
                       params={"action": "patrol_plan.replan"}).json()["events"]  # fmt: skip
    assert len(audit) >= 2 and {e["actor"] for e in audit} == {"demo-planner"}, audit[:1]
    # bad changes: every problem named, nothing written
    bad = {"from": "2026-04-21", "changes": {
        "close_zone": [{"zone": "atlantis", "from": "2026-04-21T00:00", "to": "2026-04-21T06:00"}],
        "cap": {"value": 999, "from": "2026-04-21T00:00"}}}  # fmt: skip
    r = client.post(f"/api/patrols/plans/{old}/replan", headers=planner, json=bad)
    assert r.status_code == 400 and "$.close_zone[0].zone" in r.text and "$.cap.value" in r.text
    r = client.post(f"/api/patrols/plans/{old}/replan", headers=planner,
                    json={**req, "from": "2026-05-01"})  # fmt: skip
    assert r.status_code == 400 and "re-plan from a day of the plan" in r.text
    assert not svc.plans_dir().joinpath(old.replace(".csv", "-r3.csv")).exists()
    r = client.post("/api/patrols/plans/plan-x.csv/replan", headers=planner, json=req)
    assert r.status_code == 404
    r = client.post(
        f"/api/patrols/plans/{old}/replan", headers=auth(tokens[Role.ANALYST]), json=req
    )
    assert r.status_code == 403
