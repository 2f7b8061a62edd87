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
