from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from safecities.store import audit
from safecities.store.db import session_scope, upgrade


def test_migrations_create_every_table(engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {"city", "municipality", "transport_node", "zone", "incident", "audit_event"} <= names
    upgrade(engine)  # idempotent


def test_audit_chain_detects_edit_and_delete(engine) -> None:
    with session_scope(engine) as s:
        for i in range(3):
            audit.record(s, actor="analyst1", action="test.write", entity="thing",
                         entity_id=str(i), before=None, after={"n": i})  # fmt: skip
    with session_scope(engine) as s:
        rep = audit.verify(s)
        assert rep.ok and rep.entries == 3
    # The database itself refuses edits and deletions of the audit log.
    for stmt in (
        "UPDATE audit_event SET actor='x' WHERE id=2",
        "DELETE FROM audit_event WHERE id=2",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(stmt))


def test_audit_verify_names_the_tampered_entry(sqlite_engine) -> None:
    with session_scope(sqlite_engine) as s:
        for i in range(4):
            audit.record(s, actor="planner1", action="plan.make", entity="plan", entity_id=str(i),
                         after={"zones": i})  # fmt: skip
    # Someone with file access drops the guard and edits entry 2: verify names it.
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        conn.execute(text("UPDATE audit_event SET actor='intruder' WHERE id=2"))
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
        assert not rep.ok and rep.first_bad_id == 2 and "edited" in rep.reason
    with sqlite_engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor='planner1' WHERE id=2"))
        conn.execute(text("DELETE FROM audit_event WHERE id=3"))
    with session_scope(sqlite_engine) as s:
        rep = audit.verify(s)
        assert not rep.ok and rep.first_bad_id == 4 and "deleted" in rep.reason


def test_times_are_stored_timezone_aware(engine) -> None:
    from datetime import datetime

    from safecities.domain import BRUSSELS_TZ
    from safecities.store.models import Incident

    local = datetime(2025, 2, 15, 22, 10, tzinfo=BRUSSELS_TZ)
    with session_scope(engine) as s:
        s.add(Incident(source="t", source_id="1", occurred_at=local, lat=50.84, lon=4.33,
                       kind="shooting", injured=0, killed=0, lines_closed=[],
                       disruption_minutes=0, synthetic=False))  # fmt: skip
    with session_scope(engine) as s:
        got = s.query(Incident).one().occurred_at
        assert got.tzinfo is not None and got == local
    naive = datetime(2025, 1, 1, 12, 0)
    with pytest.raises(Exception, match="naive"), session_scope(engine) as s:
        s.add(Incident(source="t", source_id="2", occurred_at=naive, lat=50.84, lon=4.33,
                       kind="shooting", injured=0, killed=0, lines_closed=[],
                       disruption_minutes=0, synthetic=False))  # fmt: skip
