"""Every table export of the application: rows -> CSV, XLSX or GeoJSON bytes.

One module so every download (incidents, cameras, audit trail, hotspot cells, the camera
planner's chosen sites) follows the same rules:
- CSV is UTF-8 with a BOM and `;` as separator, as Belgian Excel opens it by double-click;
- every text cell goes through `safeio.safe_cell` (formula injection, OWASP) in CSV and XLSX;
  numbers stay numbers, so a negative count is not mistaken for a formula;
- lists become `a,b`, mappings compact JSON, datetimes ISO 8601, None an empty cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from safecities.safeio import safe_cell

Format = Literal["csv", "xlsx", "geojson"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
BOM = "\ufeff"


def openapi(*fmts: str) -> dict[int, Any]:
    """The `responses` entry of a route that can answer in these formats (default: all)."""
    return {200: {"content": {MEDIA_TYPES[f]: {} for f in fmts or MEDIA_TYPES}}}


SEPARATOR = ";"


@dataclass(frozen=True)
class Export:
    body: bytes
    media_type: str
    filename: str


def _plain(value: Any) -> Any:
    """A cell value a spreadsheet understands (before formula neutralising)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if isinstance(value, list | tuple | set):
        return ",".join(str(v) for v in value)
    return str(value)


def cell(value: Any) -> Any:
    """The exported value of one cell: plain, then neutralised if it is text."""
    return safe_cell(_plain(value))


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in first-seen order."""
    return list(dict.fromkeys(k for r in rows for k in r))


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, delimiter=SEPARATOR, lineterminator="\r\n")
    w.writerow([cell(c) for c in columns])
    for r in rows:
        w.writerow(["" if (v := cell(r.get(c))) is None else v for c in columns])
    return buf.getvalue().encode("utf-8")


def to_xlsx(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def xcell(value: Any) -> Any:
        # control characters are not allowed in XLSX (openpyxl raises): drop them first, then
        # neutralise, so "\x1b=cmd" cannot become the formula "=cmd"
        v = _plain(value)
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31] or "export")
    ws.append([xcell(c) for c in columns])
    for r in rows:
        # openpyxl stores a str beginning with "=" as a formula: cell() has neutralised it
        ws.append([xcell(r.get(c)) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_geojson(rows: Iterable[Mapping[str, Any]], *, lat: str = "lat", lon: str = "lon") -> bytes:
    """Points from each row's `lat`/`lon` (rows without a position are left out); the other keys
    become properties, as JSON values (GeoJSON is not opened by spreadsheets)."""
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r[lon], r[lat]]},
            "properties": {k: v for k, v in r.items() if k not in (lat, lon)},
        }
        for r in rows
        if r.get(lat) is not None and r.get(lon) is not None
    ]
    doc = {"type": "FeatureCollection", "features": feats}
    return json.dumps(doc, ensure_ascii=False, default=str, separators=(",", ":")).encode()


def export(
    rows: Sequence[Mapping[str, Any]],
    fmt: Format,
    name: str,
    columns: Sequence[str] | None = None,
) -> Export:
    """`rows` in `fmt`, named `<name>.<fmt>`; `columns` default to every key seen."""
    cols = list(columns) if columns is not None else columns_of(rows)
    if fmt == "csv":
        body = to_csv(rows, cols)
    elif fmt == "xlsx":
        body = to_xlsx(rows, cols, name)
    elif fmt == "geojson":
        body = to_geojson(rows)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return Export(body, MEDIA_TYPES[fmt], f"{name}.{fmt}")


def features_to_rows(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A GeoJSON FeatureCollection as table rows: the properties plus `lat`/`lon` of the point,
    or of the centroid for a polygon (hotspot cells), so a spreadsheet can place every row."""
    from shapely.geometry import shape

    rows = []
    for f in collection.get("features", []):
        props = dict(f.get("properties") or {})
        if f.get("geometry"):
            c = shape(f["geometry"]).centroid
            props["lat"], props["lon"] = round(c.y, 6), round(c.x, 6)
        rows.append(props)
    return rows


def geojson_export(collection: Mapping[str, Any], name: str) -> Export:
    """A FeatureCollection as it is (polygons stay polygons)."""
    body = json.dumps(collection, ensure_ascii=False, default=str, separators=(",", ":")).encode()
    return Export(body, MEDIA_TYPES["geojson"], f"{name}.geojson")


def features_download(collection: Mapping[str, Any], fmt: Format, name: str):
    """A FeatureCollection (hotspot cells) as a download: GeoJSON as it is, or one row per
    feature with its centroid for CSV/XLSX."""
    if fmt == "geojson":
        return response(geojson_export(collection, name))
    return response(export(features_to_rows(collection), fmt, name))


def response(exp: Export):
    """The export as a download (Content-Disposition attachment)."""
    from fastapi.responses import Response

    return Response(
        exp.body,
        media_type=exp.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exp.filename}"'},
    )
