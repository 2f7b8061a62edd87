"""Row-by-row parsing and validation of incident tables: every problem named by row and field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import shapely

from safecities.domain import BELGIUM_BBOX, IncidentKind, RowError
from safecities.errors import InputError, ProblemLog
from safecities.register.mapping import Mapping

KIND_SYNONYMS = {
    "shooting": IncidentKind.SHOOTING, "fusillade": IncidentKind.SHOOTING,
    "schietpartij": IncidentKind.SHOOTING, "schietincident": IncidentKind.SHOOTING,
    "shots_fired": IncidentKind.SHOTS_FIRED, "shots fired": IncidentKind.SHOTS_FIRED,
    "coups de feu": IncidentKind.SHOTS_FIRED, "tirs": IncidentKind.SHOTS_FIRED,
    "schoten": IncidentKind.SHOTS_FIRED,
    "armed_threat": IncidentKind.ARMED_THREAT, "other": IncidentKind.OTHER,
}  # fmt: skip


@dataclass
class Parsed:
    records: list[dict]
    errors: list[RowError]  # the first problems only (`problems.kept`); `problems.total` counts
    rows_read: int
    collapsed: int = 0  # rows merged into another row of the same incident (one row per victim)
    problems: ProblemLog | None = None


def _parse_time(row: dict, m: Mapping, tz: ZoneInfo) -> datetime:
    col = m.column("occurred_at")
    if col and col in row and str(row[col]).strip():
        text = str(row[col]).strip().replace("Z", "+00:00")
        fmt = m.formats.get("occurred_at")
        dt = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    else:
        dcol, tcol = m.column("date"), m.column("time")
        if not dcol or not str(row.get(dcol, "")).strip():
            raise ValueError("missing date/time")
        d = datetime.strptime(str(row[dcol]).strip(), m.formats.get("date", "%Y-%m-%d"))
        if tcol and str(row.get(tcol, "")).strip():
            t = datetime.strptime(str(row[tcol]).strip(), m.formats.get("time", "%H:%M:%S"))
            d = d.replace(hour=t.hour, minute=t.minute, second=t.second)
        dt = d
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)  # local wall time; ambiguous autumn hour -> first occurrence
    return dt


def _bounds_check(m: Mapping, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, str]:
    b = m.bounds
    if b in (None, "none", "any"):
        return np.ones(len(lon), bool), ""
    if b == "brussels":
        from safecities.register.reference import city_boundary

        geom = city_boundary("brussels").buffer(0.0005)  # ~40 m tolerance on the simplified edge
        return shapely.contains_xy(geom, lon, lat), "outside the Brussels-Capital Region"
    if b == "belgium":
        x0, y0, x1, y1 = BELGIUM_BBOX
        return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1), "outside Belgium"
    x0, y0, x1, y1 = (float(v) for v in b)
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1), f"outside the bounds {b}"


#: Bounds of plausible values: no register holds incidents before 1900, and no count (victims,
#: minutes of disruption) reaches a million.
EARLIEST_YEAR = 1900
MAX_COUNT = 1_000_000


def _int(value: object, default: int = 0) -> int:
    text = str(value).strip()
    if text == "" or text.lower() == "nan":
        return default
    f = float(text.replace(",", "."))
    if not f.is_integer():
        raise ValueError("not a whole number")
    return int(f)


def parse_incidents(
    df: pd.DataFrame, m: Mapping, file: str, *, full: bool = True,
    problems: ProblemLog | None = None,
) -> Parsed:  # fmt: skip
    """Parse rows into incident records. `full=False` reads only time and place (events files).

    Problems go to `problems` (default: a ProblemLog keeping the first 200), which bounds the
    memory a file of only bad rows takes and streams each to its report file."""
    try:
        tz = ZoneInfo(m.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{file}: unknown time zone {m.timezone!r} in mapping") from None
    errors = problems if problems is not None else ProblemLog()
    needed = ["lat", "lon"] + (
        ["occurred_at"] if m.column("occurred_at") in df.columns else ["date"]
    )
    if full or m.one_row_per_victim:
        needed.append("id")
    missing = [m.column(f) or f for f in needed if (m.column(f) or f) not in df.columns]
    if missing:
        raise InputError(
            f"{file}: missing column(s) {missing}; found {list(df.columns)[:12]} "
            f"(give a mapping file with --mapping)"
        )
    now = datetime.now(UTC)
    # Rows one at a time (not df.to_dict("records"): a million dicts held at once).
    cols = list(df.columns)
    rows = (dict(zip(cols, vals, strict=True)) for vals in df.itertuples(index=False, name=None))
    lat = pd.to_numeric(df[m.column("lat")].astype(str).str.replace(",", "."), errors="coerce")
    lon = pd.to_numeric(df[m.column("lon")].astype(str).str.replace(",", "."), errors="coerce")
    lat_a, lon_a = lat.to_numpy(float), lon.to_numpy(float)
    finite = np.isfinite(lat_a) & np.isfinite(lon_a)
    inside, why_out = _bounds_check(m, np.where(finite, lon_a, 0.0), np.where(finite, lat_a, 0.0))
    records: list[dict] = []
    seen: dict[str, int] = {}
    collapsed = 0
    for i, row in enumerate(rows, start=1):
        row_errors: list[RowError] = []

        def err(fld: str, reason: str, value: object = None, _i: int = i, _e=row_errors) -> None:
            _e.append(RowError(file, _i, fld, reason, None if value is None else str(value)))

        rec: dict = {"row": i}
        idcol = m.column("id")
        rid = str(row.get(idcol, "")).strip() if idcol else ""
        if not rid:
            if full:
                err(idcol or "id", "missing id")
            rid = f"row-{i}"
        rec["source_id"] = rid
        try:
            rec["occurred_at"] = _parse_time(row, m, tz)
            if rec["occurred_at"] > now:
                err(m.column("occurred_at") or "occurred_at", "in the future", rec["occurred_at"])
            elif rec["occurred_at"].year < EARLIEST_YEAR:  # year 1 broke every analysis later
                err(m.column("occurred_at") or "occurred_at", f"before {EARLIEST_YEAR}",
                    rec["occurred_at"])  # fmt: skip
        except (ValueError, TypeError, OverflowError):
            col = m.column("occurred_at") if m.column("occurred_at") in row else m.column("date")
            err(col or "occurred_at", "unparseable time", row.get(col or "", ""))
        if not finite[i - 1]:
            bad = "lat" if not np.isfinite(lat_a[i - 1]) else "lon"
            err(m.column(bad) or bad, "not a number", row.get(m.column(bad) or bad))
        elif not (-90 <= lat_a[i - 1] <= 90 and -180 <= lon_a[i - 1] <= 180):
            err(
                m.column("lat") or "lat",
                "coordinates out of range",
                f"{lat_a[i - 1]},{lon_a[i - 1]}",
            )
        elif not inside[i - 1]:
            err(m.column("lat") or "lat", f"point {why_out}", f"{lat_a[i - 1]},{lon_a[i - 1]}")
        rec["lat"], rec["lon"] = float(lat_a[i - 1]), float(lon_a[i - 1])
        if full:
            _parse_full(row, m, rec, err)
        if row_errors:
            errors.extend(row_errors)
            continue
        if rid in seen and idcol:
            if m.one_row_per_victim:
                first = records[seen[rid]]
                if full:
                    first["injured"] += rec["injured"]
                    first["killed"] += rec["killed"]
                collapsed += 1
                continue
            errors.add(
                RowError(
                    file, i, idcol, f"duplicate id (first at row {records[seen[rid]]['row']})", rid
                )
            )
            continue
        seen[rid] = len(records)
        records.append(rec)
    return Parsed(records, errors.kept, len(df), collapsed, errors)


def _parse_full(row: dict, m: Mapping, rec: dict, err) -> None:
    kcol = m.column("kind")
    kind_text = str(row.get(kcol, "") if kcol else "").strip() or str(m.constants.get("kind", ""))
    kind = KIND_SYNONYMS.get(kind_text.lower())
    if kind is None:
        if kind_text:
            err(kcol or "kind", f"unknown kind (one of {', '.join(k.value for k in IncidentKind)})",
                kind_text)  # fmt: skip
        kind = IncidentKind.SHOOTING if not kind_text else IncidentKind.OTHER
    rec["kind"] = kind.value
    for fld in ("injured", "killed", "disruption_minutes"):
        col = m.column(fld)
        raw = row.get(col, "") if col else ""
        try:
            val = _int(raw, int(m.constants.get(fld, 0)))
        except ValueError:
            err(col or fld, "not a whole number", raw)
            continue
        if val < 0:
            err(col or fld, "negative count", raw)
        elif val > MAX_COUNT:  # beyond 64 bits the store itself overflowed (a 500 before)
            err(col or fld, f"implausible count (> {MAX_COUNT})", raw)
            continue
        rec[fld] = val
    if m.killed_flag:
        flag = str(row.get(m.killed_flag["column"], "")).strip().lower()
        is_killed = flag in {str(t).lower() for t in m.killed_flag.get("true", ["true"])}
        rec["killed"] = int(is_killed)
        rec["injured"] = int(not is_killed)  # one row = one victim: hit, fatally or not
    lcol = m.column("lines_closed")
    lines = str(row.get(lcol, "") if lcol else "").strip()
    rec["lines_closed"] = [p.strip() for p in lines.replace(",", ";").split(";") if p.strip()]
    scol = m.column("summary")
    summary = str(row.get(scol, "") if scol else "").strip()
    rec["summary"] = summary or None
    srccol = m.column("source")
    rec["source"] = str(row.get(srccol, "") if srccol else "").strip() or None
    if isinstance(rec.get("killed"), int) and rec["killed"] > 50:
        err(m.column("killed") or "killed", "implausible count (> 50)", rec["killed"])
