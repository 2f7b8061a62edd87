"""Read the tables users hand us (CSV with `,` or `;` and a BOM, GeoJSON points, Excel) as text.

Every reader returns a DataFrame of strings (empty string for a missing value) with the original
header names, so that validation can name the file, the 1-based data row and the field.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from safecities.domain import RowError
from safecities.errors import InputError
from safecities.safeio import feature_collection, text_lines


def _decode(raw: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: not a text file (cannot decode as UTF-8 or Windows-1252)")


def _read_csv(path: Path, problems: list[RowError] | None = None) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path.name)
    if "\x00" in text:
        raise InputError(f"{path.name}: not a text file (contains NUL bytes)")
    if not text.strip():
        raise InputError(f"{path.name}: the file is empty")
    head = text.splitlines()[0]
    delim = max([",", ";", "\t"], key=head.count)
    try:
        rows = list(csv.reader(text_lines(text), delimiter=delim))  # no 4-byte-a-char copy
    except csv.Error as exc:
        raise InputError(f"{path.name}: unreadable CSV ({exc})") from exc
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise InputError(f"{path.name}: duplicate column names in the header row")
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    errors = [
        RowError(path.name, i, "*", f"row has {len(r)} fields, header has {len(header)}")
        for i, r in enumerate(body, start=1)
        if len(r) != len(header)
    ]
    if errors and problems is None:
        raise InputError(
            str(errors[0]) + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), errors
        )
    if errors:  # the caller reports them with its own problems: such a row reads as empty
        problems += errors
        body = [r if len(r) == len(header) else [""] * len(header) for r in body]
    df = pd.DataFrame([[c.strip() for c in r] for r in body], columns=header, dtype=str)
    df.attrs["bad_rows"] = {e.row for e in errors}
    return df


def _read_geojson(path: Path) -> pd.DataFrame:
    try:
        feats = feature_collection(_decode(path.read_bytes(), path.name))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except ValueError as exc:  # safeio: NaN, nesting, features or properties not objects
        raise InputError(f"{path.name}: not a GeoJSON FeatureCollection ({exc})") from None
    recs = []
    for i, f in enumerate(feats, start=1):
        props = dict((f or {}).get("properties") or {})
        geom = (f or {}).get("geometry") or {}
        if geom.get("type") != "Point":
            raise InputError(
                str(RowError(path.name, i, "geometry", "must be a Point", geom.get("type")))
            )
        coords = geom.get("coordinates") or []
        if len(coords) < 2:
            raise InputError(str(RowError(path.name, i, "geometry", "Point without coordinates")))
        props.setdefault("lon", coords[0])
        props.setdefault("lat", coords[1])
        recs.append({k: "" if v is None else str(v) for k, v in props.items()})
    return pd.DataFrame(recs, dtype=str).fillna("")


def _read_excel(path: Path) -> pd.DataFrame:
    from safecities.safeio import SpreadsheetTooLarge, xlsx_rows

    try:
        rows = list(xlsx_rows(path))
    except SpreadsheetTooLarge as exc:
        raise InputError(f"{path.name}: workbook too large: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad workbook
        raise InputError(
            f"{path.name}: not a readable Excel workbook ({type(exc).__name__})"
        ) from exc
    if not rows:
        raise InputError(f"{path.name}: the first sheet is empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    body = []
    for r in rows[1:]:
        vals = ["" if v is None else str(v).strip() for v in r[: len(header)]]
        vals += [""] * (len(header) - len(vals))
        if any(vals):
            body.append(vals)
    return pd.DataFrame(body, columns=header, dtype=str)


def read_table(path: str | Path, problems: list[RowError] | None = None) -> pd.DataFrame:
    """CSV / TSV (any of `,;\\t`, optional BOM), GeoJSON points or an Excel workbook -> strings.

    With `problems`, CSV rows with the wrong number of fields are appended there (and read as
    empty rows, listed in `df.attrs["bad_rows"]`) instead of raising, so that a caller can report
    them together with every other problem of the file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        df = _read_geojson(p)
    elif suffix in (".xlsx", ".xlsm"):
        df = _read_excel(p)
    else:
        df = _read_csv(p, problems)
    bad = df.attrs.get("bad_rows", set())
    df = df.fillna("")
    df.attrs["bad_rows"] = bad
    return df


def find_column(df: pd.DataFrame, synonyms: tuple[str, ...]) -> str | None:
    """The first column whose normalised name is one of the synonyms."""
    norm = {_norm(c): c for c in df.columns}
    for s in synonyms:
        if _norm(s) in norm:
            return norm[_norm(s)]
    return None


def _norm(name: str) -> str:
    import unicodedata

    n = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in n if ch.isalnum())
