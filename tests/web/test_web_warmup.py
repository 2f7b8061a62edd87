"""Page speed (issue 15, item 5): sign-ins do not invalidate cached figures, one computation per key
at a time, and the served app precomputes the heavy page sections at start-up and after each write
so that the next visitor finds them warm. (Timings are in benchmarks/api_load.py, not here.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safecities.api import incidents as inc
from safecities.domain import Role
from safecities.store.db import session_scope

DATA = Path(__file__).parents[1] / "data" / "api"


@pytest.fixture(scope="module")
def warm_app(api_engine, demo_accounts, var_dir):
    from safecities.api.app import create_app
    from safecities.register.service import import_incidents

    import_incidents(api_engine, DATA / "incidents_ok.csv", actor="test")
    app = create_app(api_engine, warmup=True)
    assert app.state.warmer.wait(120)
    return app


def _login(client, acc) -> None:
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    assert r.status_code == 200, r.text


def test_sign_ins_do_not_change_the_data_version(warm_app, api_engine, demo_accounts):
    with session_scope(api_engine) as db:
        before = inc.data_version(db)
    with TestClient(warm_app) as c:
        _login(c, demo_accounts[Role.ANALYST])
        c.post("/logout")
    with session_scope(api_engine) as db:
        assert inc.data_version(db) == before
        from safecities.store.models import AuditEvent

        newest = db.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
        assert newest.action == "session.logout" and newest.id > before  # audited all the same


def test_one_computation_per_key_at_a_time(api_engine):
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return len(calls)

    out = []

    def worker():
        with session_scope(api_engine) as db:
            out.append(inc.cached(db, ("test-single-flight", time.time_ns() // 10**12), slow))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in threads:
        t.join(10)
    assert calls == [1] and out == [1, 1, 1, 1]


def test_heavy_sections_are_warm_at_start_and_after_a_write(
    warm_app, api_engine, demo_accounts, monkeypatch
):
    from safecities.api import hotspots as hsvc
    from safecities.api import review as rsvc

    def refuse(*a, **k):
        raise AssertionError("computed on request: the warm-up missed it")

    with TestClient(warm_app) as c:
        _login(c, demo_accounts[Role.ADMIN])
        with monkeypatch.context() as m:
            for name in ("forecast", "detect", "profile", "near_repeat", "emerging"):
                m.setattr(hsvc, name, refuse)
            m.setattr(rsvc, "build_report", refuse)
            m.setattr(inc, "summary", refuse)
            for path in ("/", "/hotspots", "/review"):
                assert c.get(path).status_code == 200, path
            r = c.get("/api/hotspots/forecast", params={"method": "naive", "horizon": "7d"})
            assert r.status_code == 200
            assert c.get("/api/hotspots/emerging", params={"geojson": True}).status_code == 200
        passes = warm_app.state.warmer.passes
        # a write (an import) makes every figure stale: the warm-up runs again by itself
        more = "id,occurred_at,lat,lon,kind,injured,killed\nw-1,2025-08-05T12:00:00+02:00,"
        more += "50.8405,4.3300,shooting,1,0\n"
        r = c.post("/incidents/import", files={"file": ("more.csv", more.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        assert warm_app.state.warmer.wait(120)
        assert warm_app.state.warmer.passes == passes + 1
        with session_scope(api_engine) as db:
            version = (str(api_engine.url), inc.data_version(db))
        key = ("hotspots", str(api_engine.url), "brussels", "kde", "7d", None, 250.0, 5.0)
        assert inc._CACHE[key][0] == version
