"""Patrols through the API: request, two different approvers, make a plan, download it."""

from __future__ import annotations

import pytest

from safecities.domain import Role


@pytest.fixture(scope="module", autouse=True)
def _var_dir(tmp_path_factory):
    import os

    from safecities.config import get_settings

    old = os.environ.get("SAFECITIES_VAR_DIR")
    os.environ["SAFECITIES_VAR_DIR"] = str(tmp_path_factory.mktemp("var"))
    get_settings.cache_clear()
    yield
    if old is None:
        os.environ.pop("SAFECITIES_VAR_DIR", None)
    else:
        os.environ["SAFECITIES_VAR_DIR"] = old
    get_settings.cache_clear()


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
