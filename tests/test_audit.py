"""The audit trail no one can rewrite unseen (issue 18 item 1): serialised appends (H1), a keyed
seal, recorded heads and content digests (M2), writes attributed to a person (M3)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from safecities.config import get_settings
from safecities.store import audit
from safecities.store.db import make_engine, session_scope, upgrade
from safecities.store.models import AuditEvent

DATA = Path(__file__).parent / "data"
WRITERS, WRITES = 8, 12


def _hammer(engine, worker: int, errors: list) -> None:
    """One writer: audit-only transactions (the append is the transaction's first statement, the
    case that forked) alternating with a write that precedes its audit entry."""
    from safecities.api import accounts

    try:
        for k in range(WRITES):
            with session_scope(engine) as s:
                if k % 2:
                    accounts.create_user(s, actor=f"w{worker}", actor_role=None,
                                         name=f"u{worker}-{k}", role="analyst",
                                         password="a long enough password")  # fmt: skip
                else:
                    audit.record(s, actor=f"w{worker}", action="test.write", entity="test",
                                 entity_id=f"{worker}-{k}")  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(repr(exc))


def test_h1_eight_concurrent_writers_keep_one_chain(engine):
    """H1: 8 writers x 12 writes at once; every write lands and `verify` passes (it reported
    "chain broken" with 17 forks before appends took the write lock first)."""
    errors: list[str] = []
    threads = [threading.Thread(target=_hammer, args=(engine, w, errors)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    with session_scope(engine) as s:
        assert s.execute(select(func.count(AuditEvent.id))).scalar_one() == WRITERS * WRITES
        report = audit.verify(s)
        hashes = s.execute(select(AuditEvent.prev_hash)).scalars().all()
    assert report.ok, report
    assert len(set(hashes)) == len(hashes)  # no two entries chained to the same predecessor


def _write_some(engine, n: int = 3) -> None:
    with session_scope(engine) as s:
        for k in range(n):
            audit.record(s, actor="ana", action="test.write", entity="test", entity_id=str(k))


def test_m2_recomputed_chain_without_the_key_fails(sqlite_engine):
    """Editing an entry and recomputing every later hash (as anyone with the database can) no
    longer passes: the seal needs the deployment's key, which is not in the database."""
    import hashlib

    _write_some(sqlite_engine, 4)
    with sqlite_engine.begin() as c:
        c.execute(text("DROP TRIGGER audit_event_no_update"))
        rows = c.execute(text("SELECT id, at, actor, action, entity, entity_id, before, after "
                              "FROM audit_event ORDER BY id")).all()  # fmt: skip
        prev = audit.GENESIS
        for r in rows:  # the forger's best effort: a consistent unkeyed chain, actor rewritten
            doc = {
                "prev": prev,
                "at": r.at,
                "actor": "mallory",
                "action": r.action,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "before": None,
                "after": None,
            }
            body = audit._canonical(doc)
            h = hashlib.sha256(body.encode()).hexdigest()
            c.execute(text("UPDATE audit_event SET actor='mallory', prev_hash=:p, hash=:h "
                           "WHERE id=:i"), {"p": prev, "h": h, "i": r.id})  # fmt: skip
            prev = h
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
    assert not rep.ok and rep.first_bad_id == 1 and "edited" in rep.reason


def test_m2_forged_appended_entry_fails(sqlite_engine):
    _write_some(sqlite_engine, 2)
    with session_scope(sqlite_engine) as s:
        h = audit.head(s)
    with sqlite_engine.begin() as c:  # a forged entry, sealed with a guessed key
        import hmac

        body = audit._canonical({"prev": h["hash"], "x": 1})
        forged = hmac.new(b"guess", body.encode(), "sha256").hexdigest()
        c.execute(
            text("INSERT INTO audit_event (at, actor, action, entity, prev_hash, hash, alg) "
                 "VALUES (:at, 'admin', 'user.create', 'user', :p, :h, :alg)"),
            {"at": "2026-11-29 10:00:00.000000", "p": h["hash"], "h": forged,
             "alg": f"hmac-sha256:{audit.key_id(get_settings().audit_key())}"},
        )  # fmt: skip
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
    assert not rep.ok and rep.first_bad_id == 3


def test_m2_cut_log_fails_against_a_recorded_head(sqlite_engine, tmp_path):
    """Deleting the newest entries leaves a valid shorter chain: a head kept elsewhere shows it,
    by hash (`--head`) and by checkpoint file (beyond the end)."""
    _write_some(sqlite_engine, 3)
    cps = tmp_path / "heads.jsonl"
    with session_scope(sqlite_engine) as s:
        first = audit.write_checkpoint(s, cps)
    _write_some(sqlite_engine, 2)
    with session_scope(sqlite_engine) as s:
        last = audit.write_checkpoint(s, cps)
        assert audit.verify(s, heads=audit.read_checkpoints(cps)).ok
        assert audit.verify(s, heads=[last["hash"]]).ok
    assert [json.loads(x)["id"] for x in cps.read_text().splitlines()] == [3, 5]
    with sqlite_engine.begin() as c:
        c.execute(text("DROP TRIGGER audit_event_no_delete"))
        c.execute(text("DELETE FROM audit_event WHERE id > 3"))
    with session_scope(sqlite_engine) as s:
        assert audit.verify(s).ok  # the cut alone is invisible ...
        rep = audit.verify(s, heads=audit.read_checkpoints(cps))
        assert not rep.ok and "beyond the end" in rep.reason  # ... a checkpoint is not
        rep = audit.verify(s, heads=[last["hash"]])
        assert not rep.ok and "not in the log" in rep.reason
        assert audit.verify(s, heads=[first["hash"]]).ok


def test_m2_incident_rows_edited_outside_the_application_fail(sqlite_engine):
    from safecities.register.service import import_incidents

    import_incidents(sqlite_engine, DATA / "api" / "incidents_ok.csv", actor="ana")
    with session_scope(sqlite_engine) as s:
        assert audit.verify(s).ok
        q = select(AuditEvent).where(AuditEvent.action == "incident.import")
        ev = s.execute(q).scalar_one()
        assert ev.content["incident"]["rows"] == 3
    with sqlite_engine.begin() as c:
        c.execute(text("UPDATE incident SET injured = injured + 1 WHERE id = 1"))
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
    assert not rep.ok and rep.first_bad_id == ev.id and "incident rows differ" in rep.reason


def test_m2_camera_history_edited_or_deleted_fails(sqlite_engine):
    from safecities.cameras.service import Caller, create_camera, update_camera
    from safecities.domain import Role

    admin = Caller.of("ana", Role.ADMIN)
    with session_scope(sqlite_engine) as s:
        from safecities.register.service import ensure_reference

        ensure_reference(s)
    with session_scope(sqlite_engine) as s:
        data = {"lat": "50.8365", "lon": "4.3090"}  # Anderlecht (21001)
        cam_id = create_camera(s, admin, "21001", data).id
    with session_scope(sqlite_engine) as s:
        update_camera(s, admin, cam_id, {"status": "out_of_service"})
    with session_scope(sqlite_engine) as s:
        assert audit.verify(s).ok
    with sqlite_engine.begin() as c:
        c.execute(text("DROP TRIGGER camera_history_no_update"))
        c.execute(text("UPDATE camera_history SET actor = 'someone-else' WHERE id = 1"))
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
    assert not rep.ok and "camera_history" in rep.reason


def test_verify_with_another_key_names_the_key(sqlite_engine, monkeypatch):
    _write_some(sqlite_engine, 1)
    monkeypatch.setenv("SAFECITIES_SECRET_KEY", "another-secret-of-this-deployment")
    get_settings.cache_clear()
    try:
        with session_scope(sqlite_engine) as s:
            rep = audit.verify(s)
    finally:
        get_settings.cache_clear()
    assert not rep.ok and "another key" in rep.reason


def test_production_refuses_the_development_key(monkeypatch):
    from safecities.errors import SafecitiesError

    monkeypatch.setenv("SAFECITIES_ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(SafecitiesError, match="SECRET_KEY"):
            get_settings().audit_key()
    finally:
        get_settings.cache_clear()


def test_key_file_wins_and_stays_outside_the_database(sqlite_engine, monkeypatch, tmp_path):
    keyfile = tmp_path / "audit.key"
    keyfile.write_text("k" * 40 + "\n")
    monkeypatch.setenv("SAFECITIES_SECRET_KEY_FILE", str(keyfile))
    get_settings.cache_clear()
    try:
        assert get_settings().audit_key() == b"k" * 40
        _write_some(sqlite_engine, 1)
        with session_scope(sqlite_engine) as s:
            assert audit.verify(s).ok
            assert s.execute(select(AuditEvent.alg)).scalar_one().endswith(audit.key_id(b"k" * 40))
    finally:
        get_settings.cache_clear()


def test_cli_head_checkpoint_verify_and_attribution(db_env, tmp_path):
    """`audit head|checkpoint|verify --head/--checkpoints`; CLI writes name the OS user or --as."""
    import getpass

    from safecities.cli import build_app

    def run(*args, input=None):
        return CliRunner().invoke(build_app(), list(args), input=input)

    r = run("users", "add", "chief", "--role", "planner", "--password-stdin", "--json",
            input="a long enough password\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("users", "add", "chief2", "--role", "planner", "--password-stdin", "--as", "ops-7",
            input="a long enough password\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("reference", "load", "--as", "ops-7", "--json")
    assert r.exit_code == 0, r.output
    h = json.loads(run("audit", "head", "--json").stdout)
    assert set(h) == {"id", "hash", "at"} and h["id"] == 3
    cps = tmp_path / "elsewhere" / "heads.jsonl"
    cps.parent.mkdir()
    assert run("audit", "checkpoint", "--out", str(cps)).exit_code == 0
    assert json.loads(cps.read_text())["hash"] == h["hash"]
    log = json.loads(run("audit", "log", "--json").stdout)["events"]
    assert [e["actor"] for e in reversed(log)] == [getpass.getuser(), "ops-7", "ops-7"]
    assert run("audit", "verify", "--head", h["hash"], "--checkpoints", str(cps)).exit_code == 0

    eng = make_engine(db_env)
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_event_no_delete"))
        c.execute(text("DELETE FROM audit_event WHERE id = 3"))
    eng.dispose()
    assert run("audit", "verify").exit_code == 0  # a shorter chain is still a chain
    r = run("audit", "verify", "--checkpoints", str(cps), "--json")
    assert r.exit_code == 1 and "beyond the end" in json.loads(r.stdout)["reason"]
    r = run("audit", "verify", "--head", h["hash"])
    assert r.exit_code == 1
    cps.write_text("not json\n")
    r = run("audit", "verify", "--checkpoints", str(cps))
    assert r.exit_code != 0 and "line(s) 1" in str(r.exception)


def test_unkeyed_entries_from_before_the_seal_still_verify(tmp_path):
    """A store written before the seal keeps verifying (unkeyed prefix); an unkeyed entry after
    a sealed one is refused as forged."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    import hashlib
    from datetime import UTC, datetime

    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    body = audit._canonical({"prev": audit.GENESIS, "at": at.isoformat(timespec="microseconds"),
                             "actor": "old", "action": "user.create", "entity": "user",
                             "entity_id": "1", "before": None, "after": None})  # fmt: skip
    with session_scope(engine) as s:
        s.add(AuditEvent(at=at, actor="old", action="user.create", entity="user", entity_id="1",
                         prev_hash=audit.GENESIS,
                         hash=hashlib.sha256(body.encode()).hexdigest()))  # fmt: skip
    _write_some(engine, 1)
    with session_scope(engine) as s:
        assert audit.verify(s).ok
        last = audit.head(s)["hash"]
        body2 = audit._canonical({"prev": last, "at": at.isoformat(timespec="microseconds"),
                                  "actor": "x", "action": "a", "entity": "e", "entity_id": None,
                                  "before": None, "after": None})  # fmt: skip
        s.add(AuditEvent(at=at, actor="x", action="a", entity="e", prev_hash=last,
                         hash=hashlib.sha256(body2.encode()).hexdigest()))  # fmt: skip
    with session_scope(engine) as s:
        rep = audit.verify(s)
    assert not rep.ok and "forged" in rep.reason
    engine.dispose()


@pytest.mark.usefixtures("var_dir")
def test_m3_patrol_plan_writes_are_audited_under_the_callers_name(client, tokens, auth):
    """M3: POST /api/patrols/plans wrote (and replaced) the plan file without an audit entry."""
    from safecities.domain import Role
    from safecities.manifest import sha256_file
    from safecities.patrols.service import saved as psvc

    planner = auth(tokens[Role.PLANNER])
    r = client.post("/api/patrols/protocols", headers=planner, json={"reason": "shootings"})
    pid = r.json()["id"]
    for path, role in (("approve-interior", Role.INTERIOR_APPROVER),
                       ("approve-defence", Role.DEFENCE_APPROVER)):  # fmt: skip
        assert client.post(f"/api/patrols/protocols/{pid}/{path}",
                           headers=auth(tokens[role])).status_code == 200  # fmt: skip
    body = {"from": "2026-04-06", "to": "2026-04-06", "time_limit": 20}
    for _ in range(2):  # the same plan twice: the second replaces the file, and is audited too
        r = client.post("/api/patrols/plans", headers=planner, json=body)
        assert r.status_code == 201, r.text
    name = r.json()["name"]
    ev = client.get("/api/audit", headers=auth(tokens[Role.AUDITOR]),
                    params={"action": "patrol_plan.create"}).json()  # fmt: skip
    assert ev["total"] == 2
    e = ev["events"][0]
    assert e["actor"] == "demo-planner" and e["entity_id"] == name
    assert e["after"]["sha256"] == sha256_file(psvc.plans_dir() / name)
    assert e["after"]["protocol_id"] == pid and e["after"]["check"]["ok"] is True
    assert client.get("/api/audit/verify", headers=auth(tokens[Role.AUDITOR])).json()["ok"]
    head = client.get("/api/audit/head", headers=auth(tokens[Role.AUDITOR])).json()
    assert head["id"] == ev["events"][0]["id"] and head["hash"] == e["hash"]
    assert client.get("/api/audit/head", headers=planner).status_code == 403


def test_h1_eight_api_clients_writing_at_once_keep_one_chain(app, api_engine, tokens, auth):
    """H1 as the tester ran it: 8 API clients, 96 writes at once (accounts created and
    deactivated), then the chain verifies and every write has its entry."""
    from fastapi.testclient import TestClient

    from safecities.domain import Role

    with session_scope(api_engine) as s:
        start = audit.head(s)["id"]
    admin = auth(tokens[Role.ADMIN])
    codes: list[int] = []

    def client_run(w: int) -> None:
        with TestClient(app) as c:
            for k in range(WRITES):  # create an account, then deactivate it
                name = f"h1-{w}-{k // 2}"
                if k % 2 == 0:
                    body = {"name": name, "role": "analyst", "password": "a long enough password"}
                    codes.append(c.post("/api/users", headers=admin, json=body).status_code)
                else:
                    r = c.post(f"/api/users/{name}/deactivate", headers=admin)
                    codes.append(r.status_code)

    threads = [threading.Thread(target=client_run, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(set(codes)) == [200, 201] and len(codes) == WRITERS * WRITES
    with session_scope(api_engine) as s:
        assert audit.head(s)["id"] - start == WRITERS * WRITES
        assert audit.verify(s).ok


def test_audit_page_shows_the_head_to_auditors(client, tokens, auth):
    from safecities.domain import Role

    h = auth(tokens[Role.AUDITOR])
    head = client.get("/api/audit/head", headers=h).json()
    for lang, word in (("en", "Head of the log"), ("fr", "Tête du journal"),
                       ("nl", "Kop van het logboek")):  # fmt: skip
        client.cookies.set("lang", lang)
        page = client.get("/audit", headers=h)
        assert page.status_code == 200
        assert word in page.text and head["hash"] in page.text
    assert client.get("/audit", headers=auth(tokens[Role.PLANNER])).status_code == 403
