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
from datetime import UTC, date, datetime, timedelta
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
    return request_document(session, doc, reason=reason, actor=actor, source=str(path))


def request_document(
    session: Session, doc: dict[str, Any], *, reason: str, actor: str, source: str = "request"
) -> dict[str, Any]:
    """Store a request for `doc` (from a file, an upload or the request builder), audited."""
    issues = validate_document(doc)
    if issues:
        raise InputError(f"{source}: invalid protocol ({len(issues)} problems; first: {issues[0]})")
    if doc["city"] not in CITIES:
        raise InputError(f"{source}: city {doc['city']!r} is not one of {', '.join(CITIES)}")
    if not reason.strip():
        raise InputError("--reason: give the reason for the request")
    dup = session.execute(
        select(PatrolProtocol).where(
            PatrolProtocol.city_id == doc["city"], PatrolProtocol.version == str(doc["version"])
        )
    ).scalar_one_or_none()
    if dup is not None:
        raise InputError(
            f"{source}: {doc['city']} version {doc['version']} was already requested (id {dup.id})"
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


def list_protocols(
    session: Session, city: str | None = None, today: date | None = None
) -> list[dict[str, Any]]:
    """Every request with its effective status (`expired`, `superseded` computed) and decisions."""
    rows = list(session.execute(select(PatrolProtocol).order_by(PatrolProtocol.id)).scalars())
    t = _today(today)
    out = []
    for p in rows:
        if city and p.city_id != city:
            continue
        item = _summary(p, _decisions(session, p.id))
        item["status"] = effective_status(p, rows, t)
        item["period"]["state"] = period_state(p, t)
        out.append(item)
    return out


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


# --- What the people who decide see (issue 14) ------------------------------------------------

#: Every status a protocol shows. `requested`, `refused` and `active` are stored; `expired` (the
#: period is over) and `superseded` (a later version of the same city is active and has started)
#: are computed from the period and the later versions, so they are never stale.
STATUSES = ("requested", "active", "refused", "expired", "superseded")
#: Statuses of a version both ministries approved (plans of days within its period stay lawful).
APPROVED = ("active", "expired", "superseded")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def period_state(p: PatrolProtocol, today: date) -> str:
    """`future`, `current` or `expired` for the protocol's period (end exclusive)."""
    if today < _as_date(p.period_start):
        return "future"
    return "current" if today < _as_date(p.period_end) else "expired"


def effective_status(p: PatrolProtocol, later: list[PatrolProtocol], today: date) -> str:
    """The status people see: an active protocol expires with its period and is superseded by a
    later active version of the same city once that one has started."""
    if p.status != "active":
        return p.status
    if any(
        q.city_id == p.city_id
        and q.id > p.id
        and q.status == "active"
        and _as_date(q.period_start) <= today
        for q in later
    ):
        return "superseded"
    return "expired" if period_state(p, today) == "expired" else "active"


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def replaced_version(session: Session, p: PatrolProtocol) -> PatrolProtocol | None:
    """The version a renewal or amendment replaces: the newest earlier request of the same city
    that was approved (active, expired or superseded), else the newest earlier request."""
    earlier = list(
        session.execute(
            select(PatrolProtocol)
            .where(PatrolProtocol.city_id == p.city_id, PatrolProtocol.id < p.id)
            .order_by(PatrolProtocol.id.desc())
        ).scalars()
    )
    approved = [q for q in earlier if q.status == "active"]
    return (approved or earlier or [None])[0]


def document_diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """A readable diff of two protocol documents: one entry per changed value, with its JSON
    path; list items with an `id` (zones, posts, FIPA) are matched by id, not by position.

    Written here because the diff must speak the protocol's own paths (`$.zones[peterbos]...`)
    to approvers; general JSON-diff libraries report positional list indices."""
    out: list[dict[str, Any]] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in [*a.keys(), *[k for k in b if k not in a]]:
                if k == "geometry" and k in a and k in b:
                    if a[k] != b[k]:
                        out.append(
                            {
                                "path": f"{path}.{k}",
                                "change": "changed",
                                "before": "outline",
                                "after": "new outline",
                            }
                        )
                    continue
                if k not in b:
                    out.append(
                        {"path": f"{path}.{k}", "change": "removed", "before": a[k], "after": None}
                    )
                elif k not in a:
                    out.append(
                        {"path": f"{path}.{k}", "change": "added", "before": None, "after": b[k]}
                    )
                else:
                    walk(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and _keyed(a) and _keyed(b):
            ia, ib = {x["id"]: x for x in a}, {x["id"]: x for x in b}
            for k in [*ia, *[k for k in ib if k not in ia]]:
                sub = f"{path}[{k}]"
                if k not in ib:
                    out.append(
                        {"path": sub, "change": "removed", "before": _brief(ia[k]), "after": None}
                    )
                elif k not in ia:
                    out.append(
                        {"path": sub, "change": "added", "before": None, "after": _brief(ib[k])}
                    )
                else:
                    walk(ia[k], ib[k], sub)
        elif a != b:
            out.append({"path": path, "change": "changed", "before": a, "after": b})

    walk(old, new, "$")
    return out


def _keyed(items: list[Any]) -> bool:
    return all(isinstance(x, dict) and "id" in x for x in items)


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "geometry"}


def protocol_detail(
    session: Session, protocol_id: int, today: date | None = None
) -> dict[str, Any]:
    """Everything an approver needs to decide on one request (`protocol show --json`,
    `GET /api/patrols/protocols/{id}`): content, period state, decisions, and the diff against
    the version it replaces."""
    from safecities.patrols.protocol import from_document

    p = _get(session, protocol_id)
    t = _today(today)
    rows = list(session.execute(select(PatrolProtocol)).scalars())
    doc = p.document
    proto = from_document(doc)
    decisions = _decisions(session, protocol_id)
    out = _summary(p, decisions)
    by_force: dict[str, dict[str, int]] = {}
    for u in proto.units:
        f = by_force.setdefault(u.force, {"units": 0, "people": 0})
        f["units"] += 1
        f["people"] += u.size
    replaced = replaced_version(session, p)
    out.update(
        {
            "status": effective_status(p, rows, t),
            "stored_status": p.status,
            "title": doc.get("title"),
            "timezone": proto.timezone,
            "period": {
                "start": p.period_start,
                "end": p.period_end,
                "end_inclusive": (_as_date(p.period_end) - timedelta(days=1)).isoformat(),
                "state": period_state(p, t),
                "days": (_as_date(p.period_end) - _as_date(p.period_start)).days,
            },
            "soldier_cap": proto.soldier_cap,
            "patrol": doc.get("patrol", {}),
            "defence_liaison": doc.get("defence_liaison", {}),
            "command_posts": [
                {"id": c.id, "name": c.name, "liaisons": list(c.liaisons)}
                for c in proto.command_posts
            ],
            "zones": [
                {
                    "id": z.id,
                    "name": z.name,
                    "command_post": z.command_post,
                    "soldiers_allowed": z.soldiers_allowed,
                    "soldiers_why": _soldiers_why(raw, z.soldiers_allowed),
                    "terrain": raw.get("terrain"),
                    "min_mixed_patrols": z.min_mixed_patrols,
                    "weight": z.weight,
                    "drawn_how": raw.get("drawn_how"),
                    "has_geometry": isinstance(raw.get("geometry"), dict),
                }
                for z, raw in zip(proto.zones, doc["zones"], strict=True)
            ],
            "units": by_force,
            "fipa": [
                {
                    "id": f.id,
                    "date": f.date.isoformat(),
                    "start": f.start.strftime("%H:%M"),
                    "end": f"{f.end_minutes // 60:02d}:{f.end_minutes % 60:02d}",
                    "zone": f.zone,
                    "soldiers": f.soldiers,
                    "place": f.place,
                }
                for f in proto.fipa
            ],
            "working_time": doc.get("working_time", {}),
            "handover_minutes": proto.handover_minutes,
            "travel": doc.get("travel"),
            "replaces": None
            if replaced is None
            else {
                "id": replaced.id,
                "version": replaced.version,
                "status": effective_status(replaced, rows, t),
            },
            "diff": [] if replaced is None else document_diff(replaced.document, doc),
            "waiting_for": _waiting_for(p, decisions),
        }
    )
    return out


def _soldiers_why(raw: dict[str, Any], allowed: bool) -> str:
    """Why soldiers are (or are not) admitted in a zone: the protocol's own `soldiers_basis`,
    else what its `terrain` implies."""
    if raw.get("soldiers_basis"):
        return str(raw["soldiers_basis"])
    if allowed and raw.get("terrain") in ("railway_station", "metro_station"):
        from safecities.patrols.builder import RAILWAY_TERRAIN_BASIS

        return RAILWAY_TERRAIN_BASIS
    return "admitted by this protocol version" if allowed else "police only"


def _waiting_for(p: PatrolProtocol, decisions: list[PatrolProtocolDecision]) -> list[str]:
    if p.status != "requested":
        return []
    approved = {d.role for d in decisions if d.decision == "approve"}
    return [r for r in APPROVER_ROLES if r not in approved]


def pending_for(session: Session, role: str) -> list[dict[str, Any]]:
    """Requests that wait for `role`'s decision (the dashboard's "waiting for you")."""
    if role not in APPROVER_ROLES:
        return []
    out = []
    q = (
        select(PatrolProtocol)
        .where(PatrolProtocol.status == "requested")
        .order_by(PatrolProtocol.id)
    )
    for p in session.execute(q).scalars():
        if role in _waiting_for(p, _decisions(session, p.id)):
            out.append(_summary(p))
    return out


def zone_outlines(doc: dict[str, Any], engine=None) -> dict[str, dict[str, Any]]:
    """GeoJSON outline of each zone of a protocol document: the one drawn in the document (the
    request builder's zones), else the stored (or bundled) named zone of the same id."""
    from shapely.geometry import mapping

    from safecities.register import reference

    stored = reference.zones(doc.get("city"), engine=engine)
    known = {r["id"]: r.geometry for _, r in stored.iterrows()}
    out = {}
    for z in doc.get("zones", []):
        if isinstance(z.get("geometry"), dict):
            out[z["id"]] = z["geometry"]
        elif z["id"] in known:
            out[z["id"]] = mapping(known[z["id"]])
    return out


def zones_geojson(session: Session, protocol_id: int) -> dict[str, Any]:
    """The request's zones on the map (`zone_outlines`); properties say whether soldiers are
    admitted and why."""
    p = _get(session, protocol_id)
    outlines = zone_outlines(p.document, engine=session.get_bind())
    feats = []
    for z in p.document["zones"]:
        geom = outlines.get(z["id"])
        if geom is None:
            continue
        allowed = bool(z.get("soldiers_allowed", True))
        feats.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "id": z["id"],
                    "name": z.get("name", z["id"]),
                    "command_post": z["command_post"],
                    "soldiers_allowed": allowed,
                    "soldiers_why": _soldiers_why(z, allowed),
                    "terrain": z.get("terrain"),
                },
            }
        )
    return {"type": "FeatureCollection", "protocol_id": p.id, "city": p.city_id, "features": feats}
