"""Accounts, sessions, rate limit and the audit trail: service level on SQLite and PostgreSQL,
then the HTTP layer and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from safecities.api import accounts
from safecities.domain import Role
from safecities.errors import InputError, PermissionDenied
from safecities.store import audit
from safecities.store.db import session_scope
from safecities.store.models import ApiSession, User


def _add(engine, name="ana", role=Role.ANALYST, password="correct horse battery", **kw):
    with session_scope(engine) as s:
        return accounts.user_public(
            accounts.create_user(
                s, actor="test", actor_role=None, name=name, role=role, password=password, **kw
            )
        )


def test_create_login_resolve_logout_on_both_stores(engine):
    _add(engine)
    with session_scope(engine) as s:
        u = s.execute(select(User)).scalar_one()
        assert u.password_hash.startswith("$argon2id$")
        assert "correct horse" not in u.password_hash
        token, expires, who = accounts.login(s, name="ana", password="correct horse battery")
        assert who.role is Role.ANALYST and expires > datetime.now(UTC)
    with session_scope(engine) as s:
        assert accounts.resolve(s, token).name == "ana"
        assert accounts.resolve(s, token + "x") is None
        stored = s.execute(select(ApiSession)).scalar_one()
        assert stored.token_hash != token  # only the hash is kept
        accounts.logout(s, token, actor="ana")
    with session_scope(engine) as s:
        assert accounts.resolve(s, token) is None
        assert audit.verify(s).ok
        events = audit.browse(s).events
        assert [e["action"] for e in reversed(events)] == [
            "user.create",
            "session.login",
            "session.logout",
        ]
        assert all("password" not in json.dumps(e) for e in events)


def test_sessions_expire(engine, monkeypatch):
    _add(engine)
    with session_scope(engine) as s:
        token, _, _ = accounts.login(s, name="ana", password="correct horse battery")
    later = datetime.now(UTC) + accounts.SESSION_TTL + timedelta(seconds=1)
    monkeypatch.setattr(accounts, "_now", lambda: later)
    with session_scope(engine) as s:
        assert accounts.resolve(s, token) is None


def test_login_is_rate_limited_per_name(engine):
    _add(engine)
    for _ in range(accounts.MAX_FAILURES_PER_NAME):
        with session_scope(engine) as s, pytest.raises(accounts.AuthError):
            accounts.login(s, name="ana", password="wrong password!")
    with session_scope(engine) as s, pytest.raises(accounts.RateLimited):
        accounts.login(s, name="ana", password="correct horse battery")  # even the right one
    # unknown names are treated the same way (no user probing)
    with session_scope(engine) as s, pytest.raises(accounts.AuthError, match="wrong user name"):
        accounts.login(s, name="nobody", password="x" * 12)


def test_create_user_validation_and_permission(engine):
    with pytest.raises(InputError, match="needs --municipality"):
        _add(engine, name="op", role=Role.CAMERA_OPERATOR)
    with pytest.raises(InputError, match="not bound"):
        _add(engine, name="op", role=Role.ANALYST, municipality="21001")
    with pytest.raises(InputError, match="at least"):
        _add(engine, name="op", password="short")
    with pytest.raises(InputError, match="not one of"):
        _add(engine, name="op", role="sheriff")
    _add(engine, name="op", role=Role.CAMERA_OPERATOR, municipality="21004")
    with pytest.raises(InputError, match="already exists"):
        _add(engine, name="op", role=Role.CAMERA_OPERATOR, municipality="21004")
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        accounts.create_user(
            s,
            actor="x",
            actor_role=Role.AUDITOR,
            name="y",
            role=Role.ANALYST,
            password="long enough pw",
        )


def test_demo_accounts_one_per_role_random_passwords(engine):
    first = accounts.create_demo_accounts(engine)
    assert {a["role"] for a in first} == {r.value for r in Role}
    assert len({a["password"] for a in first}) == len(Role)
    op = next(a for a in first if a["role"] == "camera_operator")
    assert op["municipality"] == "21001"
    again = accounts.create_demo_accounts(engine)  # re-run: same names, new passwords
    assert [a["name"] for a in again] == [a["name"] for a in first]
    with session_scope(engine) as s, pytest.raises(accounts.AuthError):
        accounts.login(s, name=first[0]["name"], password=first[0]["password"])
    with session_scope(engine) as s:
        accounts.login(s, name=again[0]["name"], password=again[0]["password"])


# --- HTTP layer -------------------------------------------------------------------------------


def test_login_sets_httponly_samesite_cookie_and_bearer_works(client, demo_accounts):
    acc = demo_accounts[Role.AUDITOR]
    r = client.post("/api/auth/login", json={"name": acc["name"], "password": acc["password"]})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie
    assert client.get("/api/auth/me").json()["role"] == "auditor"  # via the cookie
    token = r.json()["token"]
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == acc["name"]
    assert (
        client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code
        == 204
    )  # noqa: E501
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )  # noqa: E501


def test_http_rate_limit_answers_429(client):
    codes = [
        client.post("/api/auth/login", json={"name": "ghost", "password": "nope"}).status_code
        for _ in range(accounts.MAX_FAILURES_PER_NAME + 1)
    ]
    assert codes[:-1] == [401] * accounts.MAX_FAILURES_PER_NAME
    assert codes[-1] == 429


def test_admin_creates_and_deactivates_users_audited(client, tokens, auth):
    h = auth(tokens[Role.ADMIN])
    r = client.post(
        "/api/users",
        headers=h,
        json={
            "name": "op-ixelles",
            "role": "camera_operator",
            "password": "0123456789ab",
            "municipality_id": "21009",
        },
    )
    assert r.status_code == 201, r.text
    assert "password" not in r.text
    r = client.post(
        "/api/users",
        headers=h,
        json={"name": "op2", "role": "camera_operator", "password": "0123456789ab"},
    )
    assert r.status_code == 400 and "municipality" in r.json()["detail"]
    assert client.post("/api/users/op-ixelles/deactivate", headers=h).json()["active"] is False
    assert client.post("/api/users/nobody/deactivate", headers=h).status_code == 404
    ha = auth(tokens[Role.AUDITOR])
    page = client.get("/api/audit", headers=ha, params={"action": "user.deactivate"}).json()
    assert page["total"] == 1 and page["events"][0]["actor"] == "demo-admin"
    assert client.get("/api/audit/verify", headers=ha).json()["ok"] is True
    users = client.get("/api/users", headers=ha).json()
    assert "password_hash" not in json.dumps(users)


def test_reference_layers_are_geojson(client, tokens, auth):
    h = auth(tokens[Role.CAMERA_OPERATOR])
    for layer, n_min in (
        ("municipalities", 19),
        ("stations", 50),
        ("zones", 5),
        ("metro-lines", 4),
    ):
        r = client.get(f"/api/reference/{layer}", headers=h)
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        assert len(r.json()["features"]) >= n_min, layer
    names = {
        f["properties"]["name"]
        for f in client.get("/api/reference/zones", headers=h).json()["features"]
    }  # noqa: E501
    assert {"Clemenceau", "Peterbos"} <= names
    assert client.get("/api/reference/zones?city=atlantis", headers=h).status_code == 422


# --- CLI --------------------------------------------------------------------------------------


def test_cli_users_add_and_audit_verify_detects_tampering(db_env):
    from safecities.cli import build_app

    app = build_app()
    run = CliRunner().invoke
    r = run(
        app,
        ["users", "add", "chief", "--role", "police_commander", "--password-stdin", "--json"],
        input="a long enough password\n",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["role"] == "police_commander"
    run(
        app,
        ["users", "add", "chief2", "--role", "planner", "--password-stdin"],
        input="a long enough password\n",
    )
    r = run(
        app,
        ["users", "add", "op", "--role", "camera_operator", "--password-stdin"],
        input="a long enough password\n",
    )
    assert r.exit_code != 0 and "municipality" in str(r.exception or r.output)
    r = run(app, ["audit", "verify", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"] is True
    r = run(app, ["audit", "log", "--json"])
    out = json.loads(r.stdout)
    assert out["total"] == 2 and out["events"][0]["action"] == "user.create" and out["manifest"]

    # Tamper behind the application's back (drop the append-only trigger first).
    from safecities.store.db import make_engine

    eng = make_engine(db_env)
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_event_no_update"))
        c.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = 1"))
    r = run(app, ["audit", "verify", "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout) | {"manifest": None} == {
        "ok": False,
        "entries": 1,
        "first_bad_id": 1,
        "reason": "content does not match its hash: entry was edited",
        "manifest": None,
    }
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_event_no_delete"))
        c.execute(text("DELETE FROM audit_event WHERE id = 1"))
    r = run(app, ["audit", "verify", "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout)["first_bad_id"] == 2
    assert "deleted" in json.loads(r.stdout)["reason"]
    eng.dispose()


# --- incidents through the register ---------------------------------------------------------

DATA = __import__("pathlib").Path(__file__).parents[1] / "data" / "api"


def test_import_upload_reports_row_errors_then_imports_and_summarises(client, tokens, auth):
    h = auth(tokens[Role.ANALYST])
    bad = (DATA / "incidents_bad_row.csv").read_bytes()
    r = client.post(
        "/api/incidents/import",
        headers=h,
        files={"file": ("incidents_bad_row.csv", bad, "text/csv")},
    )
    assert r.status_code == 422, r.text
    errs = r.json()["errors"]
    assert {(e["row"], e["field"]) for e in errs} >= {(2, "occurred_at"), (3, "injured")}
    assert all(e["file"] == "incidents_bad_row.csv" for e in errs)
    assert client.get("/api/incidents", headers=h).json()["total"] == 0  # all-or-nothing

    ok = (DATA / "incidents_ok.csv").read_bytes()
    r = client.post(
        "/api/incidents/import", headers=h, files={"file": ("incidents_ok.csv", ok, "text/csv")}
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 3
    page = client.get("/api/incidents", headers=h, params={"since": "2025-07-01"}).json()
    assert page["total"] == 2 and page["incidents"][0]["source_id"] == "t-3"
    geo = client.get("/api/incidents/geojson", headers=h).json()
    assert len(geo["features"]) == 3 and "t" in geo["features"][0]["properties"]
    hm = auth(tokens[Role.MINISTERIAL_STAFF])
    s = client.get("/api/incidents/summary", headers=hm).json()
    assert s["totals"]["incidents"] == 3
    assert client.get("/api/incidents", headers=hm).status_code == 403
    ha = auth(tokens[Role.AUDITOR])
    ev = client.get("/api/audit", headers=ha, params={"action": "incident.import"}).json()
    assert ev["total"] == 1 and ev["events"][0]["actor"] == "demo-analyst"
