"""Register services: load reference data, import incidents (all-or-nothing), query incidents.

One function per verb, called alike by the CLI (`safecities/register/cli.py`), the API routes
(`safecities/api/routes/incidents.py`, `reference.py`) and the pages (`web/pages/incidents.py`,
the dashboard): `load_reference`, `import_zones`, `import_incidents` / `import_upload`,
`list_incidents`, `incidents_geojson`, `summarise_incidents`.

Every write runs in one transaction together with its audit event: either all of it lands or
nothing does, including when the process is killed mid-import (the database never commits).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from safecities.domain import ImportReport, RowError
from safecities.errors import KEPT_PROBLEMS, InputError, ProblemLog
from safecities.geo import to_metres
from safecities.manifest import RunManifest, sha256_file
from safecities.register import reference
from safecities.register.mapping import Mapping, load_mapping
from safecities.register.tables import read_table
from safecities.register.validate import parse_incidents
from safecities.safeio import feature_collection, upload_name
from safecities.store import audit
from safecities.store.db import session_scope, write_lock
from safecities.store.models import City, ImportBatch, Incident, Municipality, TransportNode, Zone

SYSTEM_ACTOR = "system"


# --- reference data ------------------------------------------------------------------------------


def load_reference(session: Session, actor: str = SYSTEM_ACTOR) -> dict[str, int]:
    """Upsert the bundled cities, municipalities and stations, and add the bundled zones the store
    does not have yet (idempotent; zones already stored, perhaps redrawn, are kept)."""
    write_lock(session, "register")  # concurrent first loads wait, then find the rows (M5)
    counts = {"cities": 0, "municipalities": 0, "transport_nodes": 0, "zones": 0}
    for c in reference.cities():
        session.merge(City(id=c["id"], name_nl=c["name_nl"], name_fr=c["name_fr"],
                           name_en=c["name_en"]))  # fmt: skip
        counts["cities"] += 1
    session.flush()
    munis = reference.municipalities(None)
    for _, r in munis.iterrows():
        session.merge(Municipality(
            id=r["nis"], city_id=r["city"], name_nl=r["name_nl"], name_fr=r["name_fr"],
            area_m2=float(r["area_m2"]), geometry=shapely.geometry.mapping(r.geometry),
            source="Statbel (gemeente2024, simplified)",
        ))  # fmt: skip
        counts["municipalities"] += 1
    session.flush()
    st = reference.stations(None)
    for _, r in st.iterrows():
        muni = r["municipality"] if isinstance(r["municipality"], str) else None
        session.merge(TransportNode(
            id=r["id"], city_id=r["city"], kind=r["kind"], name=r["name"],
            name_nl=r["name_nl"], name_fr=r["name_fr"], lat=float(r["lat"]), lon=float(r["lon"]),
            lines=list(r["lines"]), municipality_id=muni, source=r["source"],
        ))  # fmt: skip
        counts["transport_nodes"] += 1
    # Zones are the users' data once loaded (a zones import may have redrawn them): only the
    # bundled zones missing from the store are added, so reloading never reverts a redraw.
    for _, r in reference.zones(None).iterrows():
        if session.get(Zone, r["id"]) is None:
            session.add(Zone(
                id=r["id"], city_id=r["city"], name=r["name"], kind=r["kind"],
                geometry=shapely.geometry.mapping(r.geometry), drawn_how=r["drawn_how"],
                command_post=r["command_post"], area_m2=float(r["area_m2"]),
            ))  # fmt: skip
        counts["zones"] += 1
    audit.record(session, actor=actor, action="reference.load", entity="reference",
                 after=counts)  # fmt: skip
    return counts


def ensure_reference(session: Session, actor: str = SYSTEM_ACTOR) -> None:
    """Load the bundled reference data into an empty store (checked under the write lock, so
    concurrent first writers load it once)."""
    write_lock(session, "register")
    if session.execute(select(func.count()).select_from(Municipality)).scalar_one() == 0:
        load_reference(session, actor)


# --- incidents -----------------------------------------------------------------------------------


def assign_municipalities(lon: np.ndarray, lat: np.ndarray) -> tuple[list, list]:
    """Point-in-polygon against the bundled municipalities: (municipality ids, city ids)."""
    munis = reference.municipalities(None)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    hit = gpd.sjoin(pts, munis[["nis", "city", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated()]
    nis = [v if isinstance(v, str) else None for v in hit["nis"]]
    city = [v if isinstance(v, str) else None for v in hit["city"]]
    return nis, city


def write_error_report(errors: list[RowError], path: str | Path) -> None:
    """An errors.csv of a few problems (a file-level refusal); row problems are streamed to it
    by the ProblemLog as they are found."""
    with ProblemLog(path) as log:
        log.extend(errors)


_COMPARED = ("occurred_at", "lat", "lon", "kind", "injured", "killed", "lines_closed",
             "disruption_minutes", "summary")  # fmt: skip


def import_incidents(
    engine: Engine,
    path: str | Path,
    *,
    mapping: Mapping | str | Path | None = None,
    source: str | None = None,
    actor: str = SYSTEM_ACTOR,
    report: str | Path | None = None,
    synthetic: bool = False,
    on_step: Callable[[str], None] | None = None,
    keep: int = KEPT_PROBLEMS,
    report_name: str | None = None,
) -> ImportReport:
    """Validate every row, then write all of them in one transaction, or nothing.

    `on_step(name)` is called after each of the three steps (read, validate, write), for progress.
    A refused file raises InputError holding the first `keep` problems, their total and counts
    per field and reason; every problem is written to `report` as rows are validated (file
    column: `report_name` when given, e.g. an upload's own name), so memory stays bounded.
    """
    step = on_step or (lambda _name: None)
    path = Path(path)
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    with ProblemLog(report, keep=keep, file_name=report_name) as log:
        try:
            df = read_table(path)
            step("read")
            parsed = parse_incidents(df, m, str(path), full=True, problems=log)
            del df  # the records hold what is written; the frame is not needed any more
            step("validate")
        except InputError as exc:
            if not log:
                log.extend(exc.errors or [RowError(str(path), 0, "file", str(exc))])
            raise
        if log:
            raise log.error(f"{log.total} problem(s), nothing imported; first: {log.kept[0]}")
    rep = ImportReport(file=str(path), rows_read=parsed.rows_read)
    source = source or m.source or f"file:{path.name}"
    recs = parsed.records
    lon = np.array([r["lon"] for r in recs], float)
    lat = np.array([r["lat"] for r in recs], float)
    nis, city = assign_municipalities(lon, lat) if recs else ([], [])
    with session_scope(engine) as s:
        # The lock first: what is read next (the source's rows) cannot change until commit, so
        # concurrent imports of one source never insert the same rows twice.
        ensure_reference(s, actor)
        existing = {
            inc.source_id: inc
            for inc in s.execute(select(Incident).where(Incident.source == source)).scalars()
        }
        batch = ImportBatch(kind="incidents", file_name=path.name, sha256=sha256_file(path),
                            rows_read=parsed.rows_read, inserted=0, unchanged=0, actor=actor,
                            at=datetime.now(UTC))  # fmt: skip
        s.add(batch)
        s.flush()
        new_rows, updated = [], []
        for r, n, c in zip(recs, nis, city, strict=True):
            row = {
                "source": r.get("source") or source, "source_id": r["source_id"],
                "occurred_at": r["occurred_at"], "lat": r["lat"], "lon": r["lon"],
                "city_id": c, "municipality_id": n, "kind": r["kind"],
                "injured": r["injured"], "killed": r["killed"],
                "lines_closed": r["lines_closed"], "disruption_minutes": r["disruption_minutes"],
                "summary": r["summary"], "synthetic": synthetic, "import_batch_id": batch.id,
            }  # fmt: skip
            old = existing.get(r["source_id"]) if row["source"] == source else None
            if old is None:
                new_rows.append(row)
                continue
            before = {k: _plain(getattr(old, k)) for k in _COMPARED}
            after = {k: _plain(row[k]) for k in _COMPARED}
            if before == after:
                rep.unchanged += 1
            else:
                for k in _COMPARED:
                    setattr(old, k, row[k])
                old.municipality_id, old.city_id = n, c
                updated.append({"source_id": r["source_id"], "before": before, "after": after})
        half = len(new_rows) // 2
        for chunk in (new_rows[:half], new_rows[half:]):
            if chunk:
                s.execute(insert(Incident), chunk)
            _test_pause()  # lets a test kill the process between two chunks
        rep.inserted = len(new_rows)
        batch.inserted, batch.unchanged = rep.inserted, rep.unchanged
        audit.record(
            s, actor=actor, action="incident.import", entity="import_batch",
            entity_id=str(batch.id),
            after={"file": path.name, "sha256": batch.sha256, "source": source,
                   "rows_read": rep.rows_read, "inserted": rep.inserted,
                   "unchanged": rep.unchanged, "updated": len(updated),
                   "collapsed_victim_rows": parsed.collapsed},
            before={"updated": updated} if updated else None,
        )  # fmt: skip
    step("write")
    rep.updated, rep.collapsed = len(updated), parsed.collapsed
    return rep


def _plain(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    if isinstance(v, float):
        return round(v, 7)
    return v


def _test_pause() -> None:
    delay = os.environ.get("SAFECITIES_TEST_IMPORT_PAUSE")
    if delay:
        print("import: first half written, pausing", flush=True)
        time.sleep(float(delay))


def incidents_frame(engine: Engine, city: str | None = "brussels"):
    """All incidents of a city as a DataFrame (occurred_at in Europe/Brussels)."""
    import pandas as pd

    from safecities.domain import BRUSSELS_TZ

    with session_scope(engine) as s:
        q = select(Incident)
        if city:
            q = q.where(Incident.city_id == city)
        rows = [
            {
                "incident_id": f"{i.source}:{i.source_id}", "occurred_at": i.occurred_at,
                "lat": i.lat, "lon": i.lon, "municipality_id": i.municipality_id,
                "kind": i.kind, "injured": i.injured, "killed": i.killed,
                "lines_closed": i.lines_closed, "disruption_minutes": i.disruption_minutes,
                "synthetic": i.synthetic,
            }
            for i in s.execute(q.order_by(Incident.occurred_at)).scalars()
        ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["incident_id", "occurred_at", "lat", "lon", "municipality_id",
                                     "kind", "injured", "killed", "lines_closed",
                                     "disruption_minutes", "synthetic"])  # fmt: skip
    # Converted even when empty, so that `.dt` filters work on a city without incidents.
    df["occurred_at"] = pd.to_datetime(df["occurred_at"], utc=True).dt.tz_convert(BRUSSELS_TZ)
    x, y = to_metres(df["lon"].to_numpy(float), df["lat"].to_numpy(float)) if len(df) else ([], [])
    df["x"], df["y"] = x, y
    return df


def import_zones(engine: Engine, path: str | Path, *, city: str = "brussels",
                 actor: str = SYSTEM_ACTOR) -> dict[str, int]:  # fmt: skip
    """Replace or add named zones from a GeoJSON of polygons (properties: id, name, kind,
    command_post, drawn_how). All-or-nothing, audited with each zone's before and after."""

    from shapely.geometry import shape

    from safecities.domain import ZoneKind

    path = Path(path)
    try:
        feats = feature_collection(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError, JSON, NaN, not objects
        raise InputError(f"{path}: not a readable GeoJSON FeatureCollection ({exc})") from None
    errors: list[RowError] = []
    zones: list[dict] = []
    kinds = {k.value for k in ZoneKind}
    for i, f in enumerate(feats, start=1):
        p = (f or {}).get("properties") or {}
        for fld in ("id", "name", "kind", "drawn_how"):
            if not str(p.get(fld) or "").strip():
                errors.append(RowError(str(path), i, fld, "missing"))
        if p.get("kind") and p["kind"] not in kinds:
            errors.append(RowError(str(path), i, "kind", f"one of {sorted(kinds)}", p["kind"]))
        try:
            geom = shape(f["geometry"])
            if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
                raise ValueError("not a valid (Multi)Polygon")
        except Exception as exc:  # noqa: BLE001 - shapely raises several types on bad geometry
            errors.append(RowError(str(path), i, "geometry", str(exc)))
            continue
        area = float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs("EPSG:3812").area.iloc[0])
        zones.append({**p, "geometry": shapely.geometry.mapping(geom), "area_m2": round(area)})
    if errors:
        raise InputError(f"{len(errors)} problem(s), nothing imported; first: {errors[0]}", errors)
    with session_scope(engine) as s:
        ensure_reference(s, actor)
        for z in zones:
            old = s.get(Zone, z["id"])
            fields = ("name", "kind", "command_post", "drawn_how", "geometry")
            before = None if old is None else {k: getattr(old, k) for k in fields}
            s.merge(Zone(id=z["id"], city_id=city, name=z["name"], kind=z["kind"],
                         geometry=z["geometry"], drawn_how=z["drawn_how"],
                         command_post=z.get("command_post"), area_m2=z["area_m2"]))  # fmt: skip
            audit.record(
                s,
                actor=actor,
                action="zone.import",
                entity="zone",
                entity_id=z["id"],
                before=before,
                after={k: z.get(k) for k in fields},
            )
    return {"zones": len(zones)}


# --- incident queries (GET /api/incidents[/geojson|/summary], the incidents page, `summary`) ---


@dataclass(frozen=True)
class IncidentQuery:
    """Filters of the incident list; `since`/`until` are instants (callers turn days into local
    midnights), `until` exclusive."""

    city: str | None = "brussels"
    since: datetime | None = None
    until: datetime | None = None
    municipality: str | None = None
    kind: str | None = None
    limit: int | None = 100  # None: every matching incident (exports)
    offset: int = 0


@dataclass(frozen=True)
class IncidentPage:
    total: int
    incidents: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "incidents": self.incidents}


def _filtered(q, f: IncidentQuery):
    if f.city:
        q = q.where(Incident.city_id == f.city)
    if f.since:
        q = q.where(Incident.occurred_at >= f.since)
    if f.until:
        q = q.where(Incident.occurred_at < f.until)
    if f.municipality:
        q = q.where(Incident.municipality_id == f.municipality)
    if f.kind:
        q = q.where(Incident.kind == f.kind)
    return q


#: The keys of incident_dict, in order (the columns of the incident exports).
INCIDENT_COLUMNS = ["id", "source", "source_id", "occurred_at", "lat", "lon", "city_id",
                    "municipality_id", "kind", "injured", "killed", "lines_closed",
                    "disruption_minutes", "summary", "synthetic"]  # fmt: skip


def incident_dict(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id, "source": i.source, "source_id": i.source_id, "occurred_at": i.occurred_at,
        "lat": i.lat, "lon": i.lon, "city_id": i.city_id, "municipality_id": i.municipality_id,
        "kind": i.kind, "injured": i.injured, "killed": i.killed,
        "lines_closed": list(i.lines_closed or []), "disruption_minutes": i.disruption_minutes,
        "summary": i.summary, "synthetic": bool(i.synthetic),
    }  # fmt: skip


def list_incidents(session: Session, query: IncidentQuery | None = None) -> IncidentPage:
    """Incidents matching the filters, newest first, and how many match in all."""
    f = query or IncidentQuery()
    total = session.execute(_filtered(select(func.count(Incident.id)), f)).scalar_one()
    q = _filtered(select(Incident), f).order_by(Incident.occurred_at.desc(), Incident.id.desc())
    rows = session.execute(q.limit(f.limit).offset(f.offset)).scalars()
    return IncidentPage(total, [incident_dict(i) for i in rows])


def incidents_geojson(session: Session, *, city: str = "brussels") -> dict[str, Any]:
    """All incidents of a city as GeoJSON points (time as epoch ms, for the map's time slider)."""
    q = (
        select(Incident.id, Incident.occurred_at, Incident.lat, Incident.lon, Incident.kind,
               Incident.injured, Incident.killed, Incident.municipality_id, Incident.synthetic)
        .where(Incident.city_id == city)
        .order_by(Incident.occurred_at)
    )  # fmt: skip
    feats = [
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
        }  # fmt: skip
        for r in session.execute(q)
    ]
    return {"type": "FeatureCollection", "features": feats}


def incidents_geojson_bytes(session: Session, *, city: str = "brussels") -> bytes:
    """incidents_geojson() serialised, cached until the next write."""
    from safecities.store.cache import cached

    key = ("incidents_geojson", str(session.get_bind().url), city)
    return cached(
        session,
        key,
        lambda: json.dumps(incidents_geojson(session, city=city), separators=(",", ":")).encode(),
    )


@dataclass(frozen=True)
class SummaryRequest:
    """Options of `incidents summary` and GET /api/incidents/summary."""

    city: str = "brussels"
    since: date | None = None
    municipality: str | None = None  # Dutch or French name, or NIS code
    plot: Path | None = None  # CLI only: a PNG of the monthly trend


@dataclass
class SummaryResult:
    summary: dict[str, Any]  # what the API answers
    manifest: RunManifest

    def to_dict(self) -> dict[str, Any]:
        """`incidents summary --json`: the summary plus the run manifest."""
        return {**self.summary, "manifest": self.manifest.to_dict()}


def summarise_incidents(engine: Engine, req: SummaryRequest) -> SummaryResult:
    """Counts, injured and killed by month and municipality; since 1 January and since summer."""
    from safecities.register.summary import plot_monthly, summarise

    frame = incidents_frame(engine, req.city)
    summary = summarise(engine, city=req.city, since=req.since, municipality=req.municipality,
                        frame=frame)  # fmt: skip
    manifest = RunManifest(
        command="incidents summary",
        parameters={"since": req.since.isoformat() if req.since else None,
                    "municipality": req.municipality, "city": req.city},
    )  # fmt: skip
    # The fingerprint of exactly the rows the figures were computed from.
    manifest.add_input_bytes(
        "incidents", frame.drop(columns=["x", "y"]).to_csv(index=False).encode()
    )
    if req.plot:
        plot_monthly(summary, req.plot)
        summary["plot"] = str(req.plot)
    return SummaryResult(summary, manifest)


def summary_cached(session: Session, engine: Engine, req: SummaryRequest) -> dict[str, Any]:
    """The API's and the pages' summary (no manifest, no plot), cached until the next write."""
    from safecities.store.cache import cached

    key = ("summary", str(engine.url), req.city, req.since, req.municipality)
    return cached(session, key, lambda: summarise_incidents(engine, req).summary)


# --- the import verb for the CLI, the API and the import form ---


@dataclass
class ImportResult:
    report: ImportReport
    manifest: RunManifest

    def to_dict(self) -> dict[str, Any]:
        """`incidents import --json`: the report plus the run manifest."""
        return {**self.report.to_dict(), "manifest": self.manifest.to_dict()}


def run_import(
    engine: Engine,
    path: str | Path,
    *,
    mapping: str | None = None,
    source: str | None = None,
    actor: str = SYSTEM_ACTOR,
    report: str | Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ImportResult:
    """`incidents import`: the all-or-nothing import and the run manifest of its input."""
    path = Path(path)
    rep = import_incidents(engine, path, mapping=mapping, source=source, actor=actor,
                           report=report, on_step=on_step)  # fmt: skip
    manifest = RunManifest(command="incidents import",
                           parameters={"mapping": mapping, "source": source})  # fmt: skip
    manifest.add_input_file(path.name, path)
    return ImportResult(rep, manifest)


def _error_dict(e: RowError, name: str | None = None) -> dict[str, Any]:
    return {"file": name or Path(str(e.file)).name, "row": e.row, "field": e.field,
            "reason": e.reason, "value": e.value}  # fmt: skip


@dataclass
class UploadResult:
    """POST /api/incidents/import and the import form: what was written, or the first problems
    (`errors`), how many there are (`errors_total`) and how many per field and reason
    (`error_counts`); the full list went to the report file when one was asked for."""

    file: str
    rows_read: int = 0
    inserted: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_total: int = 0
    error_counts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "file": self.file, "rows_read": self.rows_read,
            "inserted": self.inserted, "unchanged": self.unchanged, "errors": self.errors,
            "errors_total": self.errors_total, "error_counts": self.error_counts,
        }  # fmt: skip


def import_upload(
    engine: Engine, name: str, data: bytes, *, actor: str, keep: int = KEPT_PROBLEMS,
    report: str | Path | None = None,
) -> UploadResult:  # fmt: skip
    """Import an uploaded file (named by its base name only); bad rows come back as errors
    naming file, row and field, never as an exception: the first `keep`, with the total and
    counts, and every one in `report` (CSV) when given."""
    name = upload_name(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            rep = import_incidents(engine, path, actor=actor, keep=keep, report=report,
                                   report_name=name)  # fmt: skip
        except InputError as exc:
            errors = [_error_dict(e, name) for e in exc.errors] or [
                {"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}
            ]
            return UploadResult(file=name, errors=errors,
                                errors_total=max(exc.errors_total, len(errors)),
                                error_counts=exc.counts)  # fmt: skip
    return UploadResult(file=name, rows_read=rep.rows_read, inserted=rep.inserted,
                        unchanged=rep.unchanged)  # fmt: skip
