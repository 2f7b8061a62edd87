"""Register services: load reference data, import incidents (all-or-nothing), query incidents.

Every write runs in one transaction together with its audit event: either all of it lands or
nothing does, including when the process is killed mid-import (the database never commits).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from safecities.domain import ImportReport, RowError
from safecities.errors import InputError
from safecities.geo import to_metres
from safecities.manifest import sha256_file
from safecities.register import reference
from safecities.register.mapping import Mapping, load_mapping
from safecities.register.tables import read_table
from safecities.register.validate import parse_incidents
from safecities.safeio import feature_collection, safe_row
from safecities.store import audit
from safecities.store.db import session_scope
from safecities.store.models import City, ImportBatch, Incident, Municipality, TransportNode, Zone

SYSTEM_ACTOR = "system"


# --- reference data ------------------------------------------------------------------------------


def load_reference(session: Session, actor: str = SYSTEM_ACTOR) -> dict[str, int]:
    """Upsert the bundled cities, municipalities and stations, and add the bundled zones the store
    does not have yet (idempotent; zones already stored, perhaps redrawn, are kept)."""
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
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "row", "field", "reason", "value"])
        for e in errors:
            w.writerow(safe_row([e.file, e.row, e.field, e.reason, e.value or ""]))


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
) -> ImportReport:
    """Validate every row, then write all of them in one transaction, or nothing.

    `on_step(name)` is called after each of the three steps (read, validate, write), for progress.
    """
    step = on_step or (lambda _name: None)
    path = Path(path)
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    try:
        df = read_table(path)
        step("read")
        parsed = parse_incidents(df, m, str(path), full=True)
        step("validate")
    except InputError as exc:
        if report:
            write_error_report(exc.errors or [RowError(str(path), 0, "file", str(exc))], report)
        raise
    rep = ImportReport(file=str(path), rows_read=parsed.rows_read, errors=parsed.errors)
    if parsed.errors:
        if report:
            write_error_report(parsed.errors, report)
        first = parsed.errors[0]
        raise InputError(
            f"{len(parsed.errors)} problem(s), nothing imported; first: {first}", parsed.errors
        )
    source = source or m.source or f"file:{path.name}"
    recs = parsed.records
    lon = np.array([r["lon"] for r in recs], float)
    lat = np.array([r["lat"] for r in recs], float)
    nis, city = assign_municipalities(lon, lat) if recs else ([], [])
    with session_scope(engine) as s:
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
