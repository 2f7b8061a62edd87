"""Import municipal camera inventories (CSV NL/FR/EN, `;`, BOM, GeoJSON, Excel) all-or-nothing.

Headers are matched against the built-in NL/FR/EN synonyms of each field (see schema.FIELDS), or
a YAML mapping file `{field: "column header"}` overrides them. Every row is validated first; any
problem (named by file, row and field), all of them reported at once, aborts the import and
nothing is written. A file's own id column becomes `source_ref` and the register id
`<NIS>-<source>-<source_ref>` (source: `--source`, else the file stem), so re-importing the same
source updates changed cameras (reported with before/after) and leaves the rest unchanged, and no
import can land in a camera added by hand or imported from another source. Afterwards the
imported cameras are compared with every other camera in the register to find the same camera
reported twice (duplicate candidates, confirmed or rejected by a user).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecities.cameras import duplicates, service
from safecities.cameras.models import Camera
from safecities.cameras.schema import BY_NAME, FIELDS, norm, parse_record
from safecities.cameras.tabular import read_table
from safecities.domain import ImportReport, RowError
from safecities.errors import InputError, ProblemLog
from safecities.manifest import sha256_file
from safecities.safeio import load_yaml
from safecities.store import audit
from safecities.store.models import ImportBatch


@dataclass
class CameraImportReport(ImportReport):
    """An import's outcome; `changes`: each updated camera's changed fields before and after."""

    changes: list[dict[str, Any]] = field(default_factory=list)


def load_mapping(path: str | Path | None) -> dict[str, str]:
    if path is None:
        return {}
    p = Path(path)
    try:
        doc = load_yaml(p.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{p.name}: not a readable YAML mapping ({type(exc).__name__})") from exc
    if isinstance(doc, dict) and "columns" in doc:
        doc = doc["columns"]
    if not isinstance(doc, dict):
        raise InputError(f"{p.name}: a mapping is 'field: column header' lines")
    unknown = [k for k in doc if k not in BY_NAME]
    if unknown:
        raise InputError(f"{p.name}: unknown field {unknown[0]!r} (known: {', '.join(BY_NAME)})")
    return {str(k): str(v) for k, v in doc.items()}


def match_columns(columns: list[str], mapping: dict[str, str], file: str) -> dict[str, str]:
    """field -> column header, from the mapping first, then the built-in synonyms."""
    by_norm = {norm(c): c for c in columns}
    out: dict[str, str] = {}
    for field_name, header in mapping.items():
        if header not in columns and norm(header) not in by_norm:
            raise InputError(f"{file}: mapping names column {header!r}, which is not in the file")
        out[field_name] = header if header in columns else by_norm[norm(header)]
    used = set(out.values())
    for f in FIELDS:
        if f.name in out:
            continue
        for syn in f.synonyms:
            col = by_norm.get(norm(syn))
            if col is not None and col not in used:
                out[f.name] = col
                used.add(col)
                break
    for req in ("lat", "lon"):
        if req not in out:
            raise InputError(
                str(RowError(file, 0, req, "no column for this field (add a --mapping)"))
            )
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-.")[:50]


def source_name(value: str) -> str:
    """A source namespace: letters, digits and `_` only (no `-`, so `<NIS>-<source>-<ref>` splits
    one way), at most 20 characters; e.g. the file stem `anderlecht_nl`."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", str(value).strip()).strip("_")[:20]
    if not out:
        raise InputError(f"source {value!r}: give letters or digits (e.g. police_zone)")
    return out


def import_id(nis: str, source: str, ref: str) -> str:
    """The register id of an imported camera: `<NIS>-<source>-<id in the source>`."""
    return f"{nis}-{source}-{_slug(ref) or 'x'}"


#: Fields compared to find two identical cameras in one file (all but the file's own id).
_SAME = tuple(f.name for f in FIELDS if f.name != "id")


def parse_file(
    path: str | Path, municipality_nis: str, mapping: dict[str, str] | None = None,
    source: str | None = None, name: str | None = None, problems: ProblemLog | None = None,
):  # fmt: skip
    """Validated records (dict per row, with 'id' and 'source_ref' set), or InputError naming
    every problem of the file at once (values, positions outside the municipality, repeated
    ids, identical rows). Problems go to `problems` (default: a ProblemLog keeping the first
    200 and counting the rest), in row order, each streamed to its report file if it has one."""
    p = Path(path)
    file = name or p.name
    source = source_name(source or Path(file).stem)
    read_problems: list[RowError] = []
    df = read_table(p, read_problems)
    if df.empty:
        raise InputError(f"{file}: no cameras in the file")
    cols = match_columns(list(df.columns), mapping or {}, file)
    log = problems if problems is not None else ProblemLog()
    # Rows with the wrong number of fields, reported in their place among the others.
    misshapen = {e.row: e for e in read_problems}
    records: list[dict[str, Any]] = []
    seen_ref: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    seen_rec: dict[tuple, int] = {}
    names = list(df.columns)
    # One row at a time (not df.to_dict("records"): every row as a dict at once).
    for i, vals in enumerate(df.itertuples(index=False, name=None), start=1):
        if i in misshapen:  # wrong number of fields: nothing to validate
            log.add(misshapen.pop(i))
            continue
        row = dict(zip(names, vals, strict=True))
        raw = {f: row[c] for f, c in cols.items()}
        rec, errs = parse_record(raw, file, i)
        errors = list(errs)
        if rec.get("lat") is not None and rec.get("lon") is not None and not errs:
            err = service.position_error(municipality_nis, rec["lat"], rec["lon"], file, i)
            if err:
                errors.append(err)
        ref = str(rec.get("id") or f"row{i}")
        cid = import_id(municipality_nis, source, ref)
        if ref in seen_ref:
            errors.append(RowError(file, i, "id", f"duplicate id (also row {seen_ref[ref]})", ref))
        elif cid in seen_id:
            errors.append(RowError(file, i, "id", f"gives the same register id {cid} as row "
                                   f"{seen_id[cid]}", ref))  # fmt: skip
        seen_ref.setdefault(ref, i)
        seen_id.setdefault(cid, i)
        same = tuple(str(rec.get(k)) for k in _SAME)
        if not errs and same in seen_rec:
            errors.append(RowError(file, i, "*", f"identical to row {seen_rec[same]} (the same"
                                   " camera twice in one file)"))  # fmt: skip
        seen_rec.setdefault(same, i)
        rec["source_ref"] = ref
        rec["id"] = cid
        if not service.ID_PATTERN.match(cid):
            errors.append(RowError(file, i, "id", "not an allowed id", ref))
        log.extend(sorted(errors, key=lambda e: e.field))
        if not log:  # records of a file already refused are never written: not kept
            records.append(rec)
    if log:
        _raise(log)
    return records, cols


def _raise(log: ProblemLog) -> None:
    more = f" (and {log.total - 1} more problems)" if log.total > 1 else ""
    raise log.error(str(log.kept[0]) + more)


def _clash(cam: Camera, cid: str, source: str, nis: str) -> str | None:
    """Why an import row may not write into the existing camera `cam` (None: it may)."""
    if cam.source is None:
        return f"register id {cid} belongs to a camera added by hand"
    if cam.source != source or cam.municipality_id != nis:
        return f"register id {cid} is held by another camera"  # names nothing of that camera
    return None


def import_cameras(
    session: Session, caller: service.Caller, path: str | Path, municipality: str,
    mapping_file: str | Path | None = None, *, source: str | None = None,
    name: str | None = None, problems: ProblemLog | None = None,
) -> tuple[CameraImportReport, list[dict[str, Any]]]:  # fmt: skip
    """Import in the caller's transaction; any error raises before anything is flushed.

    Ids are `<NIS>-<source>-<id in the source>` (`source`: the file stem unless told), so an
    import never lands in a camera added by hand or imported from another source: such a row is
    an error. Returns the report (its `updated` list holds each changed camera's before/after)
    and the duplicate candidates found."""
    p = Path(path)
    file = name or p.name
    nis = service.resolve_municipality(municipality)
    service._check_write(caller, nis)
    src = source_name(source or Path(file).stem)
    log = problems if problems is not None else ProblemLog()
    records, _ = parse_file(p, nis, load_mapping(mapping_file), src, file, log)
    report = CameraImportReport(file=file, rows_read=len(records))
    existing = {c.id: c for c in session.execute(
        select(Camera).where(Camera.id.in_([r["id"] for r in records]))).scalars()}  # fmt: skip
    clashes = [
        RowError(file, i, "id", _clash(existing[r["id"]], r["id"], src, nis), r["source_ref"])
        for i, r in enumerate(records, start=1)
        if r["id"] in existing and _clash(existing[r["id"]], r["id"], src, nis)
    ]
    if clashes:
        log.extend(clashes)
        _raise(log)
    at = datetime.now(UTC)
    touched: list[str] = []
    updated: list[dict[str, Any]] = []
    for i, rec in enumerate(records, start=1):
        ref = rec.pop("source_ref")
        cam = existing.get(rec["id"])
        if cam is None:
            service.create_camera(session, caller, nis, rec, source=src, source_ref=ref,
                                  action="import", validated=True, at=at)  # fmt: skip
            report.inserted += 1
            touched.append(rec["id"])
            continue
        before = service.snapshot(cam)
        changes = {k: v for k, v in rec.items() if k != "id"}
        service.update_camera(session, caller, rec["id"], changes, action="import",
                              validated=True, at=at)  # fmt: skip
        after = service.snapshot(cam)
        if after["version"] == before["version"]:
            report.unchanged += 1
            continue
        report.updated += 1
        touched.append(rec["id"])
        diff = [k for k in after if k not in ("version",) and after[k] != before[k]]
        updated.append({"id": rec["id"], "row": i, "before": {k: before[k] for k in diff},
                        "after": {k: after[k] for k in diff}})  # fmt: skip
    report.changes = updated
    batch = ImportBatch(kind="cameras", file_name=file, sha256=sha256_file(p),
                        rows_read=report.rows_read, inserted=report.inserted + report.updated,
                        unchanged=report.unchanged, actor=caller.user, at=at)  # fmt: skip
    session.add(batch)
    session.flush()
    found = duplicates.detect(session, touched, caller)
    audit.record(session, actor=caller.user, action="camera.import_batch", entity="import_batch",
                 entity_id=str(batch.id), after={"file": file, "municipality": nis,
                 "source": src, "rows": report.rows_read, "created": report.inserted,
                 "updated": report.updated, "unchanged": report.unchanged,
                 "duplicate_candidates": len(found)})  # fmt: skip
    return report, found
