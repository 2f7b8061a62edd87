"""Incident queries for the API and the map (read-only views over the store's incident table),
plus thin adapters to the register's import and summary services."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.store.models import AuditEvent, Incident


def data_version(session: Session) -> int:
    """The newest audit entry id of a data write: every write appends one, so it changes whenever
    data does. Sign-ins and sign-outs (`session.*`) are audited too but change no data, so they do
    not throw away every cached forecast and report (the newest entries are read backwards by
    primary key and the scan stops at the first data write)."""
    newest = (
        select(AuditEvent.id)
        .where(~AuditEvent.action.startswith("session."))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return session.execute(newest).scalar_one_or_none() or 0


_CACHE: dict[tuple, tuple[int, Any]] = {}
_CACHE_LOCK = threading.Lock()
#: key -> event set when the thread computing it is done (one computation per key at a time).
_INFLIGHT: dict[tuple, threading.Event] = {}


def cached(session: Session, key: tuple, compute):
    """`compute()` cached until the next write (keyed on the audit log's newest entry).

    One computation per key at a time ("single flight"): a request arriving while another request,
    or the page warm-up (safecities.web.warmup), computes the same key waits for that result
    instead of computing it a second time on the same cores."""
    version = (str(session.get_bind().url), data_version(session))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        flight = _INFLIGHT.get(key)
        mine = flight is None
        if mine:
            flight = _INFLIGHT[key] = threading.Event()
    if not mine:
        flight.wait(timeout=300)
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        return _store(key, version, compute())  # the other failed or saw older data
    try:
        return _store(key, version, compute())
    finally:
        with _CACHE_LOCK:
            _INFLIGHT.pop(key, None)
        flight.set()


def _store(key: tuple, version: tuple, value: Any) -> Any:
    with _CACHE_LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = (version, value)
    return value


class CapabilityUnavailable(Exception):
    def __init__(self, capability: str) -> None:
        super().__init__(f"{capability} is not available yet in this installation")
        self.capability = capability


def _filtered(q, *, city, since, until, municipality, kind):
    if city:
        q = q.where(Incident.city_id == city)
    if since:
        q = q.where(Incident.occurred_at >= since)
    if until:
        q = q.where(Incident.occurred_at < until)
    if municipality:
        q = q.where(Incident.municipality_id == municipality)
    if kind:
        q = q.where(Incident.kind == kind)
    return q


def incident_dict(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "source": i.source,
        "source_id": i.source_id,
        "occurred_at": i.occurred_at,
        "lat": i.lat,
        "lon": i.lon,
        "city_id": i.city_id,
        "municipality_id": i.municipality_id,
        "kind": i.kind,
        "injured": i.injured,
        "killed": i.killed,
        "lines_closed": list(i.lines_closed or []),
        "disruption_minutes": i.disruption_minutes,
        "summary": i.summary,
        "synthetic": bool(i.synthetic),
    }


def list_incidents(
    session: Session,
    *,
    city: str | None = "brussels",
    since: datetime | None = None,
    until: datetime | None = None,
    municipality: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Newest first."""
    kw = dict(city=city, since=since, until=until, municipality=municipality, kind=kind)
    total = session.execute(_filtered(select(func.count(Incident.id)), **kw)).scalar_one()
    q = _filtered(select(Incident), **kw).order_by(Incident.occurred_at.desc(), Incident.id.desc())
    rows = session.execute(q.limit(limit).offset(offset)).scalars()
    return total, [incident_dict(i) for i in rows]


def incidents_geojson_bytes(session: Session, *, city: str = "brussels") -> bytes:
    """incidents_geojson() serialised, cached until the next write."""
    key = ("incidents_geojson", str(session.get_bind().url), city)
    return cached(
        session,
        key,
        lambda: json.dumps(incidents_geojson(session, city=city), separators=(",", ":")).encode(),
    )


def incidents_geojson(session: Session, *, city: str = "brussels") -> dict[str, Any]:
    """All incidents of a city as GeoJSON points (time as epoch ms, for the map's time slider)."""
    q = (
        select(
            Incident.id,
            Incident.occurred_at,
            Incident.lat,
            Incident.lon,
            Incident.kind,
            Incident.injured,
            Incident.killed,
            Incident.municipality_id,
            Incident.synthetic,
        )
        .where(Incident.city_id == city)
        .order_by(Incident.occurred_at)
    )
    feats = []
    for r in session.execute(q):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "id": r.id,
                    "t": int(r.occurred_at.timestamp() * 1000),
                    "occurred_at": r.occurred_at.isoformat(),
                    "kind": r.kind,
                    "injured": r.injured,
                    "killed": r.killed,
                    "municipality": r.municipality_id,
                    "synthetic": bool(r.synthetic),
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def summary(engine, *, city: str, since=None, municipality: str | None = None) -> dict[str, Any]:
    """The register's trend summary (counts by month and municipality, since 1 Jan / summer)."""
    try:
        from safecities.register.summary import summarise
    except ImportError:
        raise CapabilityUnavailable("incidents.summary") from None
    try:
        return summarise(engine, city=city, since=since, municipality=municipality)
    except AttributeError:
        # Adapter: the register's summarise() fails on a `since` filter when no incident is
        # left to filter (pandas .dt on an empty frame); without it the result is the same empty
        # summary, so answer that.
        if since is None:
            raise
        out = summarise(engine, city=city, municipality=municipality)
        out["filters"]["since"] = since
        return out


def import_file(engine, path, *, actor: str):
    """Run the register's all-or-nothing import; returns its ImportReport (InputError if bad)."""
    try:
        from safecities.register.service import import_incidents
    except ImportError:
        raise CapabilityUnavailable("incidents.import") from None
    return import_incidents(engine, path, actor=actor)
