# ruff: noqa: E501  (messages are kept on one line)
"""Governance of protocols: city requests, Interior and Defence approvals, refusals, all audited.

A protocol version becomes active only when a user in the Interior approver role AND a different
user in the Defence approver role have approved it; one refusal closes the request. Every write
goes through these functions and records an audit event in the same transaction. The CLI passes
the user and role it is given; the API (another capability) passes the logged-in user and role.
No plan is made for a protocol that is not active (`require_active`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecities.domain import CITIES, Role
from safecities.errors import InputError, NotFound, PermissionDenied, SafecitiesError
from safecities.patrols.models import PatrolProtocol, PatrolProtocolDecision
from safecities.patrols.protocol import read_document, validate_document
from safecities.store.audit import record

APPROVER_ROLES = (Role.INTERIOR_APPROVER.value, Role.DEFENCE_APPROVER.value)


def document_sha256(doc: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _summary(
    p: PatrolProtocol, decisions: list[PatrolProtocolDecision] | None = None
) -> dict[str, Any]:
    out = {
        "id": p.id,
        "city": p.city_id,
        "version": p.version,
        "status": p.status,
        "period": {"start": p.period_start, "end": p.period_end},
        "zones": list(p.zones),
        "reason": p.reason,
        "sha256": p.sha256,
        "requested_by": p.requested_by,
        "requested_at": p.requested_at.isoformat(),
    }
    if decisions is not None:
        out["decisions"] = [
            {
                "actor": d.actor,
                "role": d.role,
                "decision": d.decision,
                "comment": d.comment,
                "at": d.at.isoformat(),
            }
            for d in decisions
        ]
    return out


def request_protocol(
    session: Session, path: str | Path, *, reason: str, actor: str
) -> dict[str, Any]:
    """A city asks for joint patrols: the proposed protocol document gives zones and period."""
    doc, _ = read_document(path)
    issues = validate_document(doc)
    if issues:
        raise InputError(f"{path}: invalid protocol ({len(issues)} problems; first: {issues[0]})")
    if doc["city"] not in CITIES:
        raise InputError(f"{path}: city {doc['city']!r} is not one of {', '.join(CITIES)}")
    if not reason.strip():
        raise InputError("--reason: give the reason for the request")
    dup = session.execute(
        select(PatrolProtocol).where(
            PatrolProtocol.city_id == doc["city"], PatrolProtocol.version == str(doc["version"])
        )
    ).scalar_one_or_none()
    if dup is not None:
        raise InputError(
            f"{path}: {doc['city']} version {doc['version']} was already requested (id {dup.id})"
        )
    p = PatrolProtocol(
        city_id=doc["city"],
        version=str(doc["version"]),
        status="requested",
        period_start=doc["period"]["start"],
        period_end=doc["period"]["end"],
        zones=[z["id"] for z in doc["zones"]],
        reason=reason.strip(),
        document=doc,
        sha256=document_sha256(doc),
        requested_by=actor,
        requested_at=datetime.now(UTC),
    )
    session.add(p)
    session.flush()
    after = _summary(p)
    record(
        session,
        actor=actor,
        action="patrol_protocol.request",
        entity="patrol_protocol",
        entity_id=str(p.id),
        before=None,
        after=after,
    )
    return after


def _get(session: Session, protocol_id: int) -> PatrolProtocol:
    p = session.get(PatrolProtocol, protocol_id)
    if p is None:
        raise NotFound(f"no protocol request with id {protocol_id}")
    return p


def _decisions(session: Session, protocol_id: int) -> list[PatrolProtocolDecision]:
    q = select(PatrolProtocolDecision).where(PatrolProtocolDecision.protocol_id == protocol_id)
    return list(session.execute(q.order_by(PatrolProtocolDecision.id)).scalars())


def _decide(
    session: Session, protocol_id: int, *, actor: str, role: str, decision: str, comment: str | None
) -> dict[str, Any]:
    if role not in APPROVER_ROLES:
        raise PermissionDenied(
            f"role {role!r} cannot decide on protocols (needs {' or '.join(APPROVER_ROLES)})"
        )
    p = _get(session, protocol_id)
    if p.status != "requested":
        raise SafecitiesError(f"protocol {protocol_id} is {p.status}: no further decision possible")
    earlier = _decisions(session, protocol_id)
    if any(d.role == role and d.decision == "approve" for d in earlier):
        raise SafecitiesError(f"protocol {protocol_id} already has the {role} approval")
    if decision == "approve" and any(d.actor == actor and d.role != role for d in earlier):
        raise PermissionDenied(
            f"{actor} already decided as the other approver; a different user must approve as {role}"
        )
    before = _summary(p, earlier)
    session.add(
        PatrolProtocolDecision(
            protocol_id=p.id,
            actor=actor,
            role=role,
            decision=decision,
            comment=comment,
            at=datetime.now(UTC),
        )
    )
    session.flush()
    decisions = _decisions(session, protocol_id)
    if decision == "refuse":
        p.status = "refused"
    elif {d.role for d in decisions if d.decision == "approve"} == set(APPROVER_ROLES):
        p.status = "active"
    session.flush()
    after = _summary(p, decisions)
    record(
        session,
        actor=actor,
        action=f"patrol_protocol.{decision}",
        entity="patrol_protocol",
        entity_id=str(p.id),
        before=before,
        after=after,
    )
    return after


def approve(
    session: Session, protocol_id: int, *, actor: str, role: str, comment: str | None = None
) -> dict[str, Any]:
    return _decide(
        session, protocol_id, actor=actor, role=role, decision="approve", comment=comment
    )


def refuse(
    session: Session, protocol_id: int, *, actor: str, role: str, reason: str
) -> dict[str, Any]:
    if not reason.strip():
        raise InputError("--reason: a refusal states its reason")
    return _decide(
        session, protocol_id, actor=actor, role=role, decision="refuse", comment=reason.strip()
    )


def list_protocols(session: Session, city: str | None = None) -> list[dict[str, Any]]:
    q = select(PatrolProtocol).order_by(PatrolProtocol.id)
    if city:
        q = q.where(PatrolProtocol.city_id == city)
    return [_summary(p, _decisions(session, p.id)) for p in session.execute(q).scalars()]


def require_active(session: Session, doc: dict[str, Any]) -> dict[str, Any]:
    """The active protocol record with exactly this document; else an error naming what is missing."""
    sha = document_sha256(doc)
    rows = list(
        session.execute(
            select(PatrolProtocol).where(PatrolProtocol.city_id == doc.get("city"))
        ).scalars()
    )
    for p in rows:
        if p.sha256 == sha and p.status == "active":
            return _summary(p)
    same = [p for p in rows if p.sha256 == sha]
    if same:
        raise PermissionDenied(
            f"protocol {doc.get('city')} {doc.get('version')} is {same[0].status} (id {same[0].id}), "
            "not active: no plan without Interior and Defence approval"
        )
    raise PermissionDenied(
        f"no active protocol for {doc.get('city')} matches this document: request it "
        "(safecities protocol request) and have it approved by Interior and Defence"
    )
