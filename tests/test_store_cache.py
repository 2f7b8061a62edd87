"""The figure cache: a sign-in is not a write, and a key is computed once by concurrent callers."""

from __future__ import annotations

import threading
import time

from safecities.store import audit
from safecities.store.cache import cached, data_version
from safecities.store.db import make_engine, session_scope, upgrade


def _engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(eng)
    return eng


def test_sign_ins_do_not_make_figures_stale(tmp_path):
    eng = _engine(tmp_path)
    calls = []
    with session_scope(eng) as s:
        audit.record(s, actor="ana", action="incident.import", entity="incident", entity_id="f")
    with session_scope(eng) as s:
        v = data_version(s)
        assert cached(s, ("k",), lambda: calls.append(1) or 42) == 42
    with session_scope(eng) as s:
        audit.record(s, actor="bert", action="session.login", entity="user", entity_id="bert")
    with session_scope(eng) as s:
        assert data_version(s) == v  # a sign-in changes no figure
        assert cached(s, ("k",), lambda: calls.append(1) or 43) == 42
    with session_scope(eng) as s:
        audit.record(s, actor="ana", action="camera.edit", entity="camera", entity_id="c")
    with session_scope(eng) as s:
        assert data_version(s) > v and cached(s, ("k",), lambda: calls.append(1) or 44) == 44
    assert len(calls) == 2


def test_concurrent_callers_compute_a_key_once(tmp_path):
    eng = _engine(tmp_path)
    calls, results = [], []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "figure"

    def ask():
        with session_scope(eng) as s:
            results.append(cached(s, ("slow", 1), slow))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["figure"] * 4 and len(calls) == 1
