# ruff: noqa: E501
"""Governance: a second city's request, two different approvers, refusals, audit, no plan before."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from patrols_cli import run_cli
from sqlalchemy import select

from safecities.errors import PermissionDenied, SafecitiesError
from safecities.patrols import governance as gov
from safecities.patrols.check import check_plan
from safecities.patrols.protocol import read_document
from safecities.store.audit import verify
from safecities.store.db import session_scope
from safecities.store.models import AuditEvent

DATA = Path(__file__).resolve().parents[1] / "data" / "patrols"
ANTWERP = DATA / "antwerp-request.yaml"
MINI = DATA / "mini.yaml"


def test_services_need_two_different_approvers_and_audit_everything(engine) -> None:
    with session_scope(engine) as s:
        req = gov.request_protocol(
            s, ANTWERP, reason="shootings near Antwerpen-Centraal", actor="clerk-ant"
        )
        assert req["status"] == "requested" and req["city"] == "antwerp"
        assert req["zones"] == ["antwerpen-centraal", "seefhoek", "kiel"]
    pid = req["id"]
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        gov.approve(s, pid, actor="x", role="planner")
    with session_scope(engine) as s:
        after = gov.approve(s, pid, actor="ana", role="interior_approver")
        assert after["status"] == "requested"
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        gov.approve(s, pid, actor="ana", role="defence_approver")  # the same person cannot be both
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        gov.require_active(s, read_document(ANTWERP)[0])  # no plan yet
    with session_scope(engine) as s:
        after = gov.approve(s, pid, actor="bert", role="defence_approver")
        assert after["status"] == "active"
        assert gov.require_active(s, read_document(ANTWERP)[0])["id"] == pid
        # a refused request stays refused and blocks plans
        other = gov.request_protocol(s, MINI, reason="test", actor="clerk")
        gov.refuse(s, other["id"], actor="bert", role="defence_approver", reason="zones too wide")
    with session_scope(engine) as s, pytest.raises(SafecitiesError):
        gov.approve(s, other["id"], actor="ana", role="interior_approver")
    with session_scope(engine) as s:
        actions = [
            e.action for e in s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]
        assert actions == [
            "patrol_protocol.request",
            "patrol_protocol.approve",
            "patrol_protocol.approve",
            "patrol_protocol.request",
            "patrol_protocol.refuse",
        ]
        assert verify(s).ok
        listed = gov.list_protocols(s, today=date(2026, 5, 15))  # within Antwerp's period
        assert [p["status"] for p in listed] == ["active", "refused"]
        # after its period the active protocol shows as expired (computed, never stored)
        after = gov.list_protocols(s, today=date(2026, 8, 1))
        assert [p["status"] for p in after] == ["expired", "refused"]
        assert listed[1]["decisions"][0]["comment"] == "zones too wide"


def test_request_approve_plan_flow_for_antwerp(tmp_path: Path, db_env) -> None:
    out = tmp_path / "antwerp.csv"
    plan = [
        "plan",
        "make",
        "--protocol",
        str(ANTWERP),
        "--from",
        "2026-05-04",
        "--to",
        "2026-05-05",
        "--out",
        str(out),
        "--seed",
        "1",
        "--json",
    ]
    res = run_cli(plan)
    assert res.exit_code == 1 and "no active protocol" in res.stderr and not out.exists()
    res = run_cli(
        [
            "protocol",
            "request",
            str(ANTWERP),
            "--reason",
            "shootings in Seefhoek",
            "--as",
            "clerk-ant",
            "--json",
        ]
    )
    pid = json.loads(res.stdout)["id"]
    assert (
        run_cli(
            ["protocol", "approve", str(pid), "--as", "ana", "--role", "interior_approver"]
        ).exit_code
        == 0
    )
    res = run_cli(plan)
    assert res.exit_code == 1 and "requested" in res.stderr  # one approval is not enough
    res = run_cli(["protocol", "approve", str(pid), "--as", "ana", "--role", "defence_approver"])
    assert res.exit_code == 1 and "different user" in res.stderr
    assert (
        run_cli(
            ["protocol", "approve", str(pid), "--as", "bert", "--role", "defence_approver"]
        ).exit_code
        == 0
    )
    res = run_cli(plan)
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["city"] == "antwerp" and payload["protocol_id"] == pid and payload["check"]["ok"]
    assert check_plan(out, ANTWERP).ok
    listed = json.loads(run_cli(["protocol", "list", "--city", "antwerp", "--json"]).stdout)
    # approved by both; its period (May-July 2026) is over, so it shows as expired
    assert listed["protocols"][0]["status"] == "expired"
    assert listed["protocols"][0]["period"]["state"] == "expired"
    assert {d["actor"] for d in listed["protocols"][0]["decisions"]} == {"ana", "bert"}
