"""Import municipal camera inventories (CSV NL/FR/EN, `;`, BOM, GeoJSON, Excel) all-or-nothing.

Headers are matched against the built-in NL/FR/EN synonyms of each field (see schema.FIELDS), or
a YAML mapping file `{field: "column header"}` overrides them. Every row is validated first; any
problem (named by file, row and field) aborts the import and nothing is written. A file's own id
column becomes `source_ref` and the register id `<NIS>-<source_ref>`, so re-importing the same
file updates changed cameras and leaves the rest unchanged. Afterwards the imported cameras are
compared with every other camera in the register to find the same camera reported twice
(duplicate candidates, confirmed or rejected by a user).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from safecities.cameras import duplicates, service
from safecities.cameras.models import Camera
from safecities.cameras.schema import BY_NAME, FIELDS, norm, parse_record
from safecities.cameras.tabular import read_table
from safecities.domain import ImportReport, RowError
from safecities.errors import InputError
from safecities.manifest import sha256_file
from safecities.safeio import load_yaml
from safecities.store import audit
from safecities.store.models import ImportBatch


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
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-")[:60]


def parse_file(path: str | Path, municipality_nis: str, mapping: dict[str, str] | None = None):
    """Validated records (dict per row, with 'id' set) or InputError naming every problem."""
    p = Path(path)
    df = read_table(p)
    if df.empty:
        raise InputError(f"{p.name}: no cameras in the file")
    cols = match_columns(list(df.columns), mapping or {}, p.name)
    records, errors = [], []
    seen: dict[str, int] = {}
    for i, row in enumerate(df.to_dict("records"), start=1):
        raw = {f: row[c] for f, c in cols.items()}
        rec, errs = parse_record(raw, p.name, i)
        errors += errs
        ref = str(rec.get("id") or f"row{i}")
        if ref in seen:
            errors.append(RowError(p.name, i, "id", f"duplicate id (also row {seen[ref]})", ref))
        seen[ref] = i
        rec["source_ref"] = ref
        rec["id"] = (
            ref if ref.startswith(f"{municipality_nis}-") else f"{municipality_nis}-{_slug(ref)}"
        )
        records.append(rec)
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise InputError(str(errors[0]) + more, errors)
    return records, cols


def import_cameras(
    session: Session, caller: service.Caller, path: str | Path, municipality: str,
    mapping_file: str | Path | None = None,
) -> tuple[ImportReport, list[dict[str, Any]]]:  # fmt: skip
    """Import in the caller's transaction; any error raises before anything is flushed."""
    p = Path(path)
    nis = service.resolve_municipality(municipality)
    service._check_write(caller, nis)
    records, _ = parse_file(p, nis, load_mapping(mapping_file))
    report = ImportReport(file=p.name, rows_read=len(records))
    at = datetime.now(UTC)
    touched: list[str] = []
    for rec in records:
        ref = rec.pop("source_ref")
        cam = session.get(Camera, rec["id"])
        if cam is None:
            service.create_camera(session, caller, nis, rec, source=p.name, source_ref=ref,
                                  action="import", validated=True, at=at)  # fmt: skip
            report.inserted += 1
            touched.append(rec["id"])
        else:
            before = cam.version
            changes = {k: v for k, v in rec.items() if k != "id"}
            service.update_camera(session, caller, rec["id"], changes, action="import",
                                  validated=True, at=at)  # fmt: skip
            if cam.version == before:
                report.unchanged += 1
            else:
                report.inserted += 1
                touched.append(rec["id"])
    batch = ImportBatch(kind="cameras", file_name=p.name, sha256=sha256_file(p),
                        rows_read=report.rows_read, inserted=report.inserted,
                        unchanged=report.unchanged, actor=caller.user, at=at)  # fmt: skip
    session.add(batch)
    session.flush()
    found = duplicates.detect(session, touched)
    audit.record(session, actor=caller.user, action="camera.import_batch", entity="import_batch",
                 entity_id=str(batch.id), after={"file": p.name, "municipality": nis,
                 "rows": report.rows_read, "written": report.inserted,
                 "unchanged": report.unchanged, "duplicate_candidates": len(found)})  # fmt: skip
    return report, found
