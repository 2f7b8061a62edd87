"""CLI and API parity: for every verb both offer, the same inputs give the same JSON (manifest,
timestamps and the ids each database hands out aside). Both call safecities.patrols.service."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from safecities.domain import Role
from safecities.patrols.protocol import bundled_protocol_path

pytestmark = pytest.mark.usefixtures("var_dir")

DAY = "2026-04-06"


def _cli_json(cli, args: list[str], ok: bool = True) -> dict:
    res = cli([*args, "--json"])
    assert (res.exit_code == 0) is ok, (res.exit_code, res.stderr, res.stdout[:500])
    out = json.loads(res.stdout)
    out.pop("manifest", None)
    return out


def _no_times(d):
    """Ids, `requested_at` and decision `at` differ between two databases: drop them."""
    if isinstance(d, dict):
        return {k: _no_times(v) for k, v in d.items() if k not in ("id", "requested_at", "at")}
    if isinstance(d, list):
        return [_no_times(x) for x in d]
    return d


def _names(demo_accounts) -> dict[Role, str]:
    return {role: acc["name"] for role, acc in demo_accounts.items()}


@pytest.fixture
def protocol_copy(tmp_path, monkeypatch) -> Path:
    """The bundled protocol under its own name in the current folder, so that the CLI (given the
    relative name) and the API (given the upload's name) show the same `file`."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(bundled_protocol_path(), tmp_path / "brussels-2026.yaml")
    return Path("brussels-2026.yaml")


def test_protocol_verbs_same_json(cli, db_env, protocol_copy, client, tokens, auth, demo_accounts):
    names = _names(demo_accounts)
    planner = auth(tokens[Role.PLANNER])
    data = protocol_copy.read_bytes()
    # validate: a valid document and one with an error, identical answers
    for body, ok in ((data, True), (data.replace(b"soldier_cap: ", b"soldier_cap: -"), False)):
        Path("doc.yaml").write_bytes(body)
        api = client.post(
            "/api/patrols/protocols/validate",
            headers=planner,
            files={"file": ("doc.yaml", body, "application/yaml")},
        )
        assert api.status_code == 200, api.text
        assert _cli_json(cli, ["protocol", "validate", "doc.yaml"], ok=ok) == api.json()
        assert api.json()["valid"] is ok
    # request (the bundled document), by the same person
    api = client.post("/api/patrols/protocols", headers=planner, json={"reason": "shootings"})
    assert api.status_code == 201, api.text
    cli_out = _cli_json(
        cli,
        [
            "protocol",
            "request",
            str(protocol_copy),
            "--reason",
            "shootings",
            "--as",
            names[Role.PLANNER],
        ],
    )
    assert _no_times(cli_out) == _no_times(api.json())
    # approve as Interior, then as Defence: same status and decisions
    steps = (
        ("interior", Role.INTERIOR_APPROVER, "interior_approver"),
        ("defence", Role.DEFENCE_APPROVER, "defence_approver"),
    )
    for step, role, role_name in steps:
        api = client.post(
            f"/api/patrols/protocols/{api.json()['id']}/approve-{step}",
            headers=auth(tokens[role]),
        )
        assert api.status_code == 200, api.text
        cli_out = _cli_json(
            cli,
            ["protocol", "approve", str(cli_out["id"]), "--as", names[role], "--role", role_name],
        )
        assert _no_times(cli_out) == _no_times(api.json())
    assert cli_out["status"] == "active"
    # list
    api = client.get("/api/patrols/protocols", headers=planner)
    assert _no_times(_cli_json(cli, ["protocol", "list"])["protocols"]) == _no_times(api.json())


def test_refuse_same_json(cli, db_env, tmp_path, client, tokens, auth, demo_accounts):
    names = _names(demo_accounts)
    doc = bundled_protocol_path().read_text(encoding="utf-8")
    doc = re.sub(r"(?m)^version: .*$", "version: 2026.9-refused", doc)
    path = tmp_path / "refused.yaml"
    path.write_text(doc, encoding="utf-8")
    planner = auth(tokens[Role.PLANNER])
    files = {"file": ("refused.yaml", doc.encode(), "application/yaml")}
    api = client.post(
        "/api/patrols/protocols/upload", headers=planner, files=files, data={"reason": "x"}
    )
    assert api.status_code == 201, api.text
    cli_out = _cli_json(
        cli, ["protocol", "request", str(path), "--reason", "x", "--as", names[Role.PLANNER]]
    )
    api = client.post(
        f"/api/patrols/protocols/{api.json()['id']}/refuse-defence",
        headers=auth(tokens[Role.DEFENCE_APPROVER]),
        json={"reason": "no soldiers available"},
    )
    assert api.status_code == 200, api.text
    cli_out = _cli_json(
        cli,
        [
            "protocol",
            "refuse",
            str(cli_out["id"]),
            "--as",
            names[Role.DEFENCE_APPROVER],
            "--role",
            "defence_approver",
            "--reason",
            "no soldiers available",
        ],
    )
    assert _no_times(cli_out) == _no_times(api.json())
    assert cli_out["status"] == "refused"


def test_plan_make_check_export_same_json(cli, db_env, protocol_copy, client, tokens, auth):
    from safecities.patrols.service import saved

    planner = auth(tokens[Role.PLANNER])
    # the protocol active in both databases (the API's may already be from the test above)
    if not any(
        p["status"] in ("active", "expired")  # approved (the bundled period ended in September)
        for p in client.get("/api/patrols/protocols", headers=planner).json()
    ):
        pid = client.post(
            "/api/patrols/protocols", headers=planner, json={"reason": "shootings"}
        ).json()["id"]
        for step, role in (
            ("interior", Role.INTERIOR_APPROVER),
            ("defence", Role.DEFENCE_APPROVER),
        ):
            r = client.post(
                f"/api/patrols/protocols/{pid}/approve-{step}", headers=auth(tokens[role])
            )
            assert r.status_code == 200, r.text
    from patrols_cli import activate

    activate(protocol_copy)
    # make: one day, default risk profile, seed 0, one worker each
    api = client.post(
        "/api/patrols/plans",
        headers=planner,
        json={"from": DAY, "to": DAY, "time_limit": 30, "risk": "default"},
    )
    assert api.status_code == 201, api.text
    api_plan = api.json()
    out = Path("plan.csv")
    cli_plan = _cli_json(
        cli,
        [
            "plan",
            "make",
            "--protocol",
            str(protocol_copy),
            "--from",
            DAY,
            "--to",
            DAY,
            "--out",
            str(out),
            "--time-limit",
            "30",
            "--workers",
            "1",
        ],
    )
    shared = set(cli_plan) & set(api_plan)
    assert shared >= {"city", "protocol_version", "from", "to", "rows", "status", "objective"}
    assert {k: cli_plan[k] for k in shared - {"protocol_id"}} == {
        k: api_plan[k] for k in shared - {"protocol_id"}
    }
    assert out.read_text() == saved.plan_file(api_plan["name"]).read_text()
    # check: the same plan (and a broken copy) uploaded and given to the CLI
    text = out.read_text()
    lines = text.splitlines()
    broken = "\n".join([*lines[:2], lines[1].replace(",", ",x", 1), *lines[2:]]) + "\n"
    for body, ok in ((text, True), (broken, False)):
        Path("up.csv").write_text(body)
        api = client.post(
            "/api/patrols/plans/check",
            headers=planner,
            files={"file": ("up.csv", body.encode(), "text/csv")},
        )
        assert api.status_code == 200, api.text
        cli_check = _cli_json(
            cli, ["plan", "check", "up.csv", "--protocol", str(protocol_copy)], ok=ok
        )
        assert cli_check == api.json()
    # export: the CLI's calendar of a post is the API's (DTSTAMP, the moment of export, aside)
    exp = _cli_json(
        cli, ["plan", "export", str(out), "--protocol", str(protocol_copy), "--out", "x"]
    )
    post = exp["command_posts"][0]
    api = client.get(
        f"/api/patrols/plans/{api_plan['name']}/calendar.ics",
        headers=planner,
        params={"post": post},
    )

    def unstamped(ics: str) -> str:
        return re.sub(r"DTSTAMP:\S+", "", ics.replace(api_plan["name"], "plan.csv"))

    assert unstamped(Path("x", f"{post}.ics").read_bytes().decode()) == unstamped(api.text)
    idx = client.get(f"/api/patrols/plans/{api_plan['name']}/export", headers=planner).json()
    assert idx["command_posts"] == exp["command_posts"] and idx["days"] == exp["days"]
