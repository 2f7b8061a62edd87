"""Reading tabular input files (CSV, GeoJSON, Parquet) as text columns, with file-level errors.

Everything is read as strings: parsing and validation happen row by row afterwards, so that every
problem can be reported with its row and field instead of failing on the first bad cell.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from safecities.errors import InputError
from safecities.safeio import SpreadsheetTooLarge, feature_collection, parquet_frame, text_lines

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
    """Rows straight into one list per column: a list per row for a million rows, then a 2-D
    array, used to take three times the memory of the cells themselves (issue 18, item 3)."""
    delim = _sniff_delimiter(text[:8192])
    header: list[str] | None = None
    columns: list[list[str]] = []
    i = 0
    try:
        for r in csv.reader(text_lines(text), delimiter=delim, strict=True):
            if not any(cell.strip() for cell in r):
                continue
            if header is None:
                header = [h.strip() for h in r]
                if len(set(header)) != len(header) or not all(header):
                    raise InputError(f"{name}: header has empty or repeated column names: {header}")
                columns = [[] for _ in header]
                continue
            i += 1
            if len(r) != len(header):
                raise InputError(
                    f"{name}: row {i}: {len(r)} fields where the header has {len(header)} "
                    f"(separator {delim!r})"
                )
            for col, cell in zip(columns, r, strict=True):
                col.append(cell)
    except csv.Error as exc:
        raise InputError(f"{name}: malformed CSV: {exc}") from None
    if header is None:
        raise InputError(f"{name}: empty file (no header row)")
    df = pd.DataFrame({h: pd.Series(col, dtype=object) for h, col in zip(header, columns,
                                                                       strict=True)})  # fmt: skip
    return df if i else pd.DataFrame(columns=header, dtype=object)


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
    del raw  # the decoded text alone from here on (a 40 MB upload held twice otherwise)
    if suffix in (".geojson", ".json"):
        return read_geojson_text(text, name)
    return read_csv_text(text, name)
