"""Issue 14 through the API: the request builder, the detail approvers decide from, what waits
for whom, and the CLI giving the same JSON."""

from __future__ import annotations

import json

import pytest

from safecities.domain import Role

pytestmark = pytest.mark.usefixtures("var_dir")


def test_builder_detail_pending_for_liege(client, tokens, auth):
    planner = auth(tokens[Role.PLANNER])
    st = client.get("/api/patrols/builder/stations?city=liege", headers=planner)
    assert st.status_code == 200 and st.json()[0]["main"] and "Guillemins" in st.json()[0]["name"]
    body = {"city": "liege", "start": "2026-12-01", "soldier_cap": 12, "reason": "shootings"}
    bad = client.post(
        "/api/patrols/protocols/draft", headers=planner, json={**body, "soldier_cap": -3}
    )
    assert bad.status_code == 200 and not bad.json()["valid"]
    assert {e["path"] for e in bad.json()["errors"]} == {"$.soldier_cap"}
    r = client.post(
        "/api/patrols/protocols/draft/request", headers=planner, json={**body, "soldier_cap": -3}
    )
    assert r.status_code == 400 and "$.soldier_cap" in r.json()["detail"]
    d = client.post("/api/patrols/protocols/draft", headers=planner, json=body).json()
    assert d["valid"] and d["note"].startswith("No open municipality boundary")
    assert "city: liege" in d["yaml"] and d["document"]["soldier_cap"] == 12
    # a camera operator may not read protocols
    op = auth(tokens[Role.CAMERA_OPERATOR])
    assert client.post("/api/patrols/protocols/draft", headers=op, json=body).status_code == 403
    r = client.post("/api/patrols/protocols/draft/request", headers=planner, json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    interior = auth(tokens[Role.INTERIOR_APPROVER])
    waiting = client.get("/api/patrols/pending", headers=interior).json()
    assert pid in [p["id"] for p in waiting]
    assert client.get("/api/patrols/pending", headers=planner).json() == []
    detail = client.get(f"/api/patrols/protocols/{pid}", headers=interior).json()
    assert detail["city"] == "liege" and detail["soldier_cap"] == 12
    assert detail["period"]["end_inclusive"] == "2027-05-31"
    assert detail["waiting_for"] == ["interior_approver", "defence_approver"]
    assert all("brussel" not in c["id"] for c in detail["command_posts"])
    zones = client.get(f"/api/patrols/protocols/{pid}/zones", headers=interior)
    assert zones.headers["content-type"].startswith("application/geo+json")
    assert len(zones.json()["features"]) == len(detail["zones"]) == 14
    assert client.get("/api/patrols/protocols/999999", headers=interior).status_code == 404


def test_protocol_show_and_draft_cli_match_the_api(client, tokens, auth, cli, db_env, tmp_path):
    out = tmp_path / "antwerp.yaml"
    res = cli(
        [
            "protocol",
            "draft",
            "antwerp",
            "--start",
            "2026-12-01",
            "--cap",
            "15",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    cli_draft = json.loads(res.stdout)
    api_draft = client.post(
        "/api/patrols/protocols/draft",
        headers=auth(tokens[Role.PLANNER]),
        json={"city": "antwerp", "start": "2026-12-01", "soldier_cap": 15},
    ).json()
    cli_draft.pop("manifest")
    assert cli_draft == api_draft
    assert out.read_text(encoding="utf-8") == api_draft["yaml"]
    bad = cli(["protocol", "draft", "antwerp", "--cap", "-1", "--station", "nope"])
    assert bad.exit_code == 1 and "$.soldier_cap" in bad.stdout and "$.stations" in bad.stdout
    res = cli(
        ["protocol", "request", str(out), "--reason", "Seefhoek", "--as", "clerk-ant", "--json"]
    )
    pid = json.loads(res.stdout)["id"]
    shown = cli(["protocol", "show", str(pid), "--json"])
    assert shown.exit_code == 0, shown.stderr
    d = json.loads(shown.stdout)
    assert d["status"] == "requested" and d["soldier_cap"] == 15 and d["replaces"] is None
    text = cli(["protocol", "show", str(pid)]).stdout
    assert "waiting for: interior_approver, defence_approver" in text and "SHA-256" in text
