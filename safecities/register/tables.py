"""Reading tabular input files (CSV, GeoJSON, Parquet) as text columns, with file-level errors.

Everything is read as strings: parsing and validation happen row by row afterwards, so that every
problem can be reported with its row and field instead of failing on the first bad cell.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from safecities.errors import InputError
from safecities.safeio import SpreadsheetTooLarge, feature_collection, parquet_frame

MAX_BYTES = 512 * 1024 * 1024


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:65536]:
        raise InputError(
            f"{name}: not a text file (binary content); expected CSV, GeoJSON or Parquet"
        )
    for enc in ("utf-8-sig", "cp1252"):  # cp1252 itself refuses its five undefined bytes
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: cannot be decoded as UTF-8 or Windows-1252 text")


def _sniff_delimiter(sample: str) -> str:
    """Belgian Excel exports use ';' (comma is the decimal separator there)."""
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv_text(text: str, name: str) -> pd.DataFrame:
    delim = _sniff_delimiter(text[:8192])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error as exc:
        raise InputError(f"{name}: malformed CSV: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{name}: empty file (no header row)")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or not all(header):
        raise InputError(f"{name}: header has empty or repeated column names: {header}")
    body = rows[1:]
    for i, r in enumerate(body, start=1):
        if len(r) != len(header):
            raise InputError(
                f"{name}: row {i}: {len(r)} fields where the header has {len(header)} "
                f"(separator {delim!r})"
            )
    return pd.DataFrame(body, columns=header, dtype=object)


def read_geojson_text(text: str, name: str) -> pd.DataFrame:
    try:
        features = feature_collection(text)  # safeio: every feature an object, no NaN
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: invalid JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:
        raise InputError(f"{name}: expected a GeoJSON FeatureCollection ({exc})") from None
    records = []
    for i, feat in enumerate(features, start=1):
        props = dict((feat or {}).get("properties") or {})
        geom = (feat or {}).get("geometry") or {}
        if geom.get("type") == "Point" and isinstance(geom.get("coordinates"), list):
            coords = geom["coordinates"]
            if len(coords) >= 2:
                props.setdefault("lon", coords[0])
                props.setdefault("lat", coords[1])
        elif geom:
            raise InputError(
                f"{name}: feature {i}: geometry must be a Point, not {geom.get('type')}"
            )
        records.append({k: ("" if v is None else str(v)) for k, v in props.items()})
    return pd.DataFrame.from_records(records, coerce_float=False).fillna("").astype(object)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, GeoJSON or Parquet file into a DataFrame of strings."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError(f"{name}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{name}: larger than {MAX_BYTES // 2**20} MB")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:  # within the workbook limits, checked from the footer first (issue 18)
            df = parquet_frame(path)
        except SpreadsheetTooLarge as exc:
            raise InputError(f"{name}: Parquet file too large: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for bad files
            raise InputError(
                f"{name}: not a readable Parquet file ({type(exc).__name__})"
            ) from None
        return df.astype(str).where(df.notna(), "").astype(object)
    raw = path.read_bytes()
    if raw[:4] == b"PAR1":
        raise InputError(f"{name}: Parquet content: rename the file to .parquet")
    text = _decode(raw, name)
    if suffix in (".geojson", ".json"):
        return read_geojson_text(text, name)
    return read_csv_text(text, name)
