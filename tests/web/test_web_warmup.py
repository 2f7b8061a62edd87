"""Page speed (issue 15, item 5): the served app precomputes the heavy page sections at start-up
and after each write (sign-ins included: they are audited, and the store's cache is keyed on the
newest audit entry), so the next visitor finds them warm. (Timings: benchmarks/api_load.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from api_fixtures import CsrfClient as TestClient  # posts forms with their CSRF token

from safecities.domain import Role

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


def _refuse_computing(m) -> None:
    """Every heavy computation fails the test: the pages must come from the warm cache."""
    from safecities.api.routes import hotspots as api
    from safecities.cameras.service import verbs as cam_verbs
    from safecities.register import service as register_svc
    from safecities.review import service as review_svc

    def refuse(*a, **k):
        raise AssertionError("computed on request: the warm-up missed it")

    for verb in ("forecast", "detect", "profile", "near-repeat", "emerging"):
        m.setitem(api.VERBS, verb, refuse)
    m.setattr(review_svc, "build_report", refuse)
    m.setattr(cam_verbs, "coverage", refuse)
    m.setattr(register_svc, "summarise_incidents", refuse)


def _pages_are_warm(c) -> None:
    for path in ("/", "/hotspots", "/review", "/cameras"):
        r = c.get(path)
        assert r.status_code == 200 and "computed on request" not in r.text, path
    assert c.get("/api/hotspots/forecast", params={"method": "naive"}).status_code == 200
    assert c.get("/api/hotspots/emerging", params={"geojson": True}).status_code == 200


def test_heavy_sections_are_warm_at_start_after_a_sign_in_and_after_a_write(
    warm_app, demo_accounts, monkeypatch
):
    warmer = warm_app.state.warmer
    with TestClient(warm_app) as c:
        passes = warmer.passes
        _login(c, demo_accounts[Role.ADMIN])  # audited: the cache's version moves on
        assert c.get("/cameras").status_code == 200  # its coverage is warmed for admins from now
        assert warmer.wait(120) and warmer.passes > passes
        c.post("/logout")  # (writes coming while a pass runs are coalesced: count at least one)
        passes = warmer.passes
        _login(c, demo_accounts[Role.ADMIN])
        assert warmer.wait(120) and warmer.passes > passes
        with monkeypatch.context() as m:
            _refuse_computing(m)
            _pages_are_warm(c)
        # a write (an import) makes every figure stale: the warm-up runs again by itself
        passes = warmer.passes
        more = "id,occurred_at,lat,lon,kind,injured,killed\nw-1,2025-08-05T12:00:00+02:00,"
        more += "50.8405,4.3300,shooting,1,0\n"
        r = c.post("/incidents/import", files={"file": ("more.csv", more.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        assert warmer.wait(120) and warmer.passes > passes
        with monkeypatch.context() as m:
            _refuse_computing(m)
            _pages_are_warm(c)
            assert 'id="since-jan">4</dd>' in c.get("/").text  # the new incident: fresh


def test_a_page_asked_in_another_language_is_warmed_in_it(warm_app, demo_accounts):
    warmer = warm_app.state.warmer
    with TestClient(warm_app) as c:
        _login(c, demo_accounts[Role.ANALYST])
        warmer.wait(120)
        c.cookies.set("lang", "nl")
        assert c.get("/review").status_code == 200
        assert "nl" in warmer.languages
        assert warmer.wait(120)


def test_the_plan_calendar_is_computed_once_per_plan_file_version(
    warm_app, demo_accounts, monkeypatch
):
    import os

    from safecities.patrols.planner import HEADER
    from safecities.patrols.service import saved

    name, post = "plan-brussels-2026-04-06-2026-04-06-s7.csv", "cp-5341-midi"
    row = "2026-04-06T01:00:00+02:00,2026-04-06T01:15:00+02:00,clemenceau,P1,2,2,"
    row += f"{post},patrol,A1;A2,S1;S2,"
    path = saved.plans_dir() / name
    path.write_text(",".join(HEADER) + "\n" + row + "\n")
    real, calls = saved.calendar, []
    monkeypatch.setattr(saved, "calendar", lambda *a: calls.append(a) or real(*a))
    with TestClient(warm_app) as c:
        _login(c, demo_accounts[Role.PLANNER])
        for _ in range(3):
            assert c.get(f"/patrols/plans/{name}", params={"post": post}).status_code == 200
        assert len(calls) == 1
        # the plan is rewritten (a new version of the file): computed again, once
        path.write_text(",".join(HEADER) + "\n" + row + "\n" + row.replace("P1", "P2") + "\n")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        for _ in range(2):
            assert c.get(f"/patrols/plans/{name}", params={"post": post}).status_code == 200
        assert len(calls) == 2
        assert c.get("/patrols/plans/plan-nope.csv").status_code == 404
