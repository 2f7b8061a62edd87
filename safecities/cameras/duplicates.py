"""The same camera reported twice: find candidates, and let a user confirm or reject them.

Two cameras are a duplicate candidate when they stand within `MAX_DISTANCE_M` of each other and
the attributes both records give mostly agree (mobility, kind of place, intelligent, field-of-view
direction within 30 degrees, controller). The score is the share of agreeing attributes, lowered
with distance. A confirmed pair keeps one camera and marks the other `removed` (with history); a
rejected pair is never proposed again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safecities.cameras import service
from safecities.cameras.models import Camera, CameraDuplicate, CameraStatus, DuplicateStatus
from safecities.cameras.schema import norm
from safecities.domain import Role
from safecities.errors import InputError, NotFound, PermissionDenied
from safecities.geo import to_metres
from safecities.store import audit

MAX_DISTANCE_M = 25.0
MIN_SCORE = 0.5
#: What a camera operator sees of a pair whose other camera belongs to another municipality:
#: nothing about that camera (no id, distance, direction or score), so duplicate detection cannot
#: be used to probe for other municipalities' cameras (issue 17, no leaks).
NEUTRAL = "possible duplicate with another municipality: the federal register decides"


def _sees_both(caller: service.Caller) -> bool:
    return caller.role in service.READ_ALL


def view(caller: service.Caller, pair: dict[str, Any], own: set[str]) -> dict[str, Any]:
    """The pair as `caller` may see it. `own`: ids of the pair's cameras the caller may read.
    Callers who read every camera (admins, federal roles) see both sides; an operator sees a
    pair with another municipality's camera only as their own camera and the neutral note."""
    if _sees_both(caller) or {pair["camera_a"], pair["camera_b"]} <= own:
        return pair
    mine = pair["camera_a"] if pair["camera_a"] in own else pair["camera_b"]
    return {**pair, "camera_a": mine, "camera_b": None, "distance_m": None, "score": None,
            "reasons": [NEUTRAL], "cross_municipality": True,
            **({"decided_by": None} if "decided_by" in pair else {})}  # fmt: skip


def _compare(a: Camera, b: Camera, dist: float) -> tuple[float, list[str]]:
    agree, total, reasons = 0, 0, [f"{dist:.1f} m apart"]
    for attr in ("mobility", "place_kind", "intelligent"):
        total += 1
        if getattr(a, attr) == getattr(b, attr):
            agree += 1
            reasons.append(f"same {attr}")
    if a.fov_direction is not None and b.fov_direction is not None:
        total += 1
        d = abs((a.fov_direction - b.fov_direction + 180) % 360 - 180)
        if d <= 30:
            agree += 1
            reasons.append(f"directions {d:.0f} deg apart")
    if a.controller and b.controller:
        total += 1
        if norm(a.controller) == norm(b.controller):
            agree += 1
            reasons.append("same controller")
    share = agree / total if total else 0.0
    return share * (1.0 - 0.5 * dist / MAX_DISTANCE_M), reasons


def detect(
    session: Session, camera_ids: list[str], caller: service.Caller | None = None
) -> list[dict[str, Any]]:
    """New duplicate candidates between the given cameras and every other live camera, as
    `caller` may see them (None: unfiltered, for the register itself)."""
    if not camera_ids:
        return []
    cams = list(
        session.execute(select(Camera).where(Camera.status != CameraStatus.REMOVED)).scalars()
    )
    if len(cams) < 2:
        return []
    idx = {c.id: k for k, c in enumerate(cams)}
    x, y = to_metres([c.lon for c in cams], [c.lat for c in cams])
    xy = np.column_stack([x, y])
    tree = cKDTree(xy)
    known = {
        (a, b)
        for a, b in session.execute(select(CameraDuplicate.camera_a, CameraDuplicate.camera_b))
    }
    now = datetime.now(UTC)
    found = []
    for cid in camera_ids:
        if cid not in idx:
            continue
        i = idx[cid]
        for j in tree.query_ball_point(xy[i], MAX_DISTANCE_M):
            if j == i:
                continue
            a, b = sorted((cams[i], cams[j]), key=lambda c: c.id)
            if (a.id, b.id) in known or (a.source and a.source == b.source):
                continue  # same file reporting two cameras close together is not a duplicate
            dist = float(np.hypot(*(xy[i] - xy[j])))
            score, reasons = _compare(a, b, dist)
            if score < MIN_SCORE:
                continue
            dup = CameraDuplicate(camera_a=a.id, camera_b=b.id, distance_m=round(dist, 2),
                                  score=round(score, 3), reasons=reasons,
                                  status=DuplicateStatus.CANDIDATE, found_at=now)  # fmt: skip
            session.add(dup)
            known.add((a.id, b.id))
            found.append(
                {
                    "camera_a": a.id,
                    "camera_b": b.id,
                    "distance_m": round(dist, 2),
                    "score": round(score, 3),
                    "reasons": reasons,
                    "cross_municipality": a.municipality_id != b.municipality_id,
                }
            )
    session.flush()
    if caller is None:
        return found
    return [view(caller, f, _own(session, caller, f)) for f in found]


def _own(session: Session, caller: service.Caller, pair: dict[str, Any]) -> set[str]:
    """Ids of the pair's cameras in the caller's municipality (operators)."""
    if caller.role is not Role.CAMERA_OPERATOR:
        return set()
    ids = [pair["camera_a"], pair["camera_b"]]
    return set(session.execute(select(Camera.id).where(
        Camera.id.in_(ids), Camera.municipality_id == caller.municipality)).scalars())  # fmt: skip


def _as_dict(d: CameraDuplicate, cross: bool | None = None) -> dict[str, Any]:
    return {"id": d.id, "camera_a": d.camera_a, "camera_b": d.camera_b,
            "distance_m": d.distance_m, "score": d.score, "reasons": d.reasons,
            "status": d.status, "decided_by": d.decided_by,
            "decided_at": d.decided_at.isoformat() if d.decided_at else None,
            "cross_municipality": cross}  # fmt: skip


def _cross(session: Session, d: CameraDuplicate) -> bool:
    munis = session.execute(select(Camera.municipality_id).where(
        Camera.id.in_([d.camera_a, d.camera_b]))).scalars().all()  # fmt: skip
    return len(set(munis)) > 1


def list_duplicates(
    session: Session, caller: service.Caller, status: str | None = "candidate"
) -> list[dict[str, Any]]:
    if not service._can_read_positions(caller):
        raise PermissionDenied(service.MSG["counts_only"].format(role=caller.role))
    q = select(CameraDuplicate).order_by(CameraDuplicate.id)
    if status:
        q = q.where(CameraDuplicate.status == status)
    if caller.role is Role.CAMERA_OPERATOR:
        own = select(Camera.id).where(Camera.municipality_id == caller.municipality)
        q = q.where(or_(CameraDuplicate.camera_a.in_(own), CameraDuplicate.camera_b.in_(own)))
    out = []
    for d in session.execute(q).scalars():
        pair = _as_dict(d, _cross(session, d))
        out.append(view(caller, pair, _own(session, caller, pair)))
    return out


def _get(session: Session, dup_id: int, caller: service.Caller) -> CameraDuplicate:
    d = session.get(CameraDuplicate, dup_id)
    if d is None:
        raise NotFound(f"no duplicate candidate {dup_id}")
    if caller.role is Role.CAMERA_OPERATOR:
        own = _own(session, caller, {"camera_a": d.camera_a, "camera_b": d.camera_b})
        if not own:  # not theirs at all: as if it did not exist
            raise NotFound(f"no duplicate candidate {dup_id}")
        if len(own) < 2:
            raise PermissionDenied(f"duplicate candidate {dup_id}: {NEUTRAL}")
    if d.status != DuplicateStatus.CANDIDATE:
        raise InputError(f"duplicate candidate {dup_id} was already {d.status}")
    return d


def confirm(
    session: Session, caller: service.Caller, dup_id: int, keep: str | None = None
) -> dict[str, Any]:
    """Same camera: keep one record (camera_a unless told) and mark the other removed."""
    d = _get(session, dup_id, caller)
    keep = keep or d.camera_a
    if keep not in (d.camera_a, d.camera_b):
        raise InputError(f"--keep must be {d.camera_a} or {d.camera_b}")
    drop = d.camera_b if keep == d.camera_a else d.camera_a
    service.update_camera(session, caller, drop, {"status": CameraStatus.REMOVED.value},
                          action="duplicate", validated=True)  # fmt: skip
    return _decide(session, caller, d, DuplicateStatus.CONFIRMED, {"kept": keep, "removed": drop})


def reject(session: Session, caller: service.Caller, dup_id: int) -> dict[str, Any]:
    """Two different cameras: never propose this pair again."""
    d = _get(session, dup_id, caller)
    allowed = False
    for cid in (d.camera_a, d.camera_b):
        cam = session.get(Camera, cid)
        try:
            service._check_write(caller, cam.municipality_id)
            allowed = True
        except PermissionDenied:
            continue
    if not allowed:
        raise PermissionDenied(
            f"{caller.user} ({caller.role}) may not decide on duplicate {dup_id}"
        )
    return _decide(session, caller, d, DuplicateStatus.REJECTED, {})


def _decide(session, caller, d: CameraDuplicate, status, extra) -> dict[str, Any]:
    before = _as_dict(d, _cross(session, d))
    d.status = status
    d.decided_by = caller.user
    d.decided_at = datetime.now(UTC)
    session.flush()
    after = _as_dict(d, before["cross_municipality"]) | extra
    audit.record(
        session, actor=caller.user, action=f"camera_duplicate.{status}",
        entity="camera_duplicate", entity_id=str(d.id), before=before, after=after,
    )  # fmt: skip
    return after
