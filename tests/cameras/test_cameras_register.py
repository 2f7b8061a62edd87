"""Register: create/update with history and audit, past states, and access rules (both DBs)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from safecities.cameras import service as svc
from safecities.cameras.models import CameraHistory
from safecities.errors import InputError, PermissionDenied
from safecities.store import audit
from safecities.store.db import session_scope
from safecities.store.models import AuditEvent

ADMIN = svc.Caller.of("root", "admin")
ANDERLECHT_OP = svc.Caller.of("op-and", "camera_operator", "Anderlecht")
IXELLES_OP = svc.Caller.of("op-ixl", "camera_operator", "Elsene")
POLICE = svc.Caller.of("cmdr", "police_commander")
AUDITOR = svc.Caller.of("aud", "auditor")
APPROVER = svc.Caller.of("appr", "interior_approver")

CAM = {"lat": "50.8366", "lon": "4.3093", "fov_direction": "90", "fov_angle": "60",
       "status": "actief", "intelligent": "ja", "place_kind": "niet-besloten plaats",
       "retention_days": "30", "declared_on": "15/01/2024", "cost_yearly": "1200"}  # fmt: skip


def _seed(engine):
    with session_scope(engine) as s:
        a = svc.create_camera(s, ANDERLECHT_OP, "21001", dict(CAM, id="AND-1"))
        i = svc.create_camera(s, IXELLES_OP, "Ixelles", dict(CAM, id="IXL-1", lat="50.8275",
                                                           lon="4.3720"))  # fmt: skip
        return a.id, i.id


def test_create_update_history_and_state_at(engine):
    _seed(engine)
    with session_scope(engine) as s:
        cam = svc.get_camera(s, ANDERLECHT_OP, "21001-AND-1")
        assert cam["municipality_id"] == "21001"
        assert cam["intelligent"] is True and cam["place_kind"] == "open_place"
        assert cam["declared_on"] == "2024-01-15"
    t_mid = datetime.now(UTC)
    time.sleep(0.01)
    with session_scope(engine) as s:
        svc.update_camera(
            s, ANDERLECHT_OP, "21001-AND-1", {"status": "buiten dienst", "connected": "1"}
        )
    with session_scope(engine) as s:
        hist = svc.history(s, AUDITOR, "21001-AND-1")
        assert [h["action"] for h in hist] == ["create", "update"]
        assert hist[1]["actor"] == "op-and"
        assert set(hist[1]["changed"]) >= {"status", "connected", "version"}
        assert hist[1]["before"]["status"] == "active"
        old = svc.state_at(s, AUDITOR, "21001-AND-1", t_mid)
        assert old["status"] == "active" and old["connected"] is False
        now = svc.state_at(s, AUDITOR, "21001-AND-1", datetime.now(UTC))
        assert now["status"] == "out_of_service" and now["connected"] is True
        assert svc.state_at(s, AUDITOR, "21001-AND-1", datetime(2000, 1, 1, tzinfo=UTC)) is None
        # every change is also in the hash-chained audit log
        actions = s.execute(
            select(AuditEvent.action).where(AuditEvent.entity == "camera")
        ).scalars()
        assert sorted(actions) == ["camera.create", "camera.create", "camera.update"]
        assert audit.verify(s).ok


def test_history_is_append_only(engine):
    _seed(engine)
    with pytest.raises(Exception), session_scope(engine) as s:  # noqa: B017
        s.execute(text("UPDATE camera_history SET actor = 'someone else'"))
    with session_scope(engine) as s:
        assert set(s.execute(select(CameraHistory.actor)).scalars()) == {"op-and", "op-ixl"}


def test_operator_cannot_read_or_write_other_municipality(engine):
    _seed(engine)
    with session_scope(engine) as s:
        with pytest.raises(PermissionDenied):
            svc.get_camera(s, ANDERLECHT_OP, "21009-IXL-1")
        with pytest.raises(PermissionDenied):
            svc.update_camera(s, ANDERLECHT_OP, "21009-IXL-1", {"status": "removed"})
        with pytest.raises(PermissionDenied):
            svc.create_camera(s, ANDERLECHT_OP, "Ixelles", dict(CAM, id="X"))
        with pytest.raises(PermissionDenied):
            svc.update_camera(s, ANDERLECHT_OP, "21001-AND-1", {"municipality": "Ixelles"})
        with pytest.raises(PermissionDenied):
            svc.history(s, ANDERLECHT_OP, "21009-IXL-1")
        with pytest.raises(PermissionDenied):
            svc.list_cameras(s, ANDERLECHT_OP, municipality="Ixelles")
        ids = [c["id"] for c in svc.list_cameras(s, ANDERLECHT_OP)]
        assert ids == ["21001-AND-1"]
    with session_scope(engine) as s:
        assert svc.get_camera(s, IXELLES_OP, "21009-IXL-1")["status"] == "active"
        assert svc.history(s, IXELLES_OP, "21009-IXL-1")[0]["version"] == 1


def test_read_roles_counts_only_roles_and_no_write(engine):
    _seed(engine)
    with session_scope(engine) as s:
        assert len(svc.list_cameras(s, POLICE)) == 2
        assert len(svc.list_cameras(s, AUDITOR)) == 2
        with pytest.raises(PermissionDenied):
            svc.update_camera(s, POLICE, "21001-AND-1", {"status": "removed"})
        with pytest.raises(PermissionDenied):
            svc.history(s, POLICE, "21001-AND-1")
        with pytest.raises(PermissionDenied):
            svc.list_cameras(s, APPROVER)
        with pytest.raises(PermissionDenied):
            svc.get_camera(s, APPROVER, "21001-AND-1")
        counts = {c["municipality"]: c["total"] for c in svc.counts(s, APPROVER)}
        assert counts == {"21001": 1, "21009": 1}
        assert "lat" not in svc.counts(s, APPROVER)[0]


def test_operator_needs_municipality_and_validation():
    with pytest.raises(PermissionDenied):
        svc.Caller.of("x", "camera_operator")
    with pytest.raises(InputError):
        svc.Caller.of("x", "wizard")
    with pytest.raises(InputError):
        svc.resolve_municipality("Atlantis")
    assert svc.resolve_municipality("SINT-GILLIS") == svc.resolve_municipality("Saint-Gilles")


def test_bad_record_is_refused(engine):
    with session_scope(engine) as s:
        with pytest.raises(InputError, match="field 'lat'"):
            svc.create_camera(s, ADMIN, "21001", {"lat": "48.0", "lon": "2.0"})
        with pytest.raises(InputError, match="status"):
            svc.create_camera(s, ADMIN, "21001", dict(CAM, status="kapot-ish"))
