"""Event input for the hotspot methods: reading, collapsing victims to incidents, metric arrays.

Reading goes through the foundation's `safecities.register.events.read_events` when it exists;
until then (and as a fallback) a small local reader handles the standard columns
`occurred_at,lat,lon[,incident_id]` and a YAML column mapping (see `_read_mapping`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from safecities.errors import InputError
from safecities.geo import metric_crs_for, to_metres
from safecities.safeio import SpreadsheetTooLarge, load_yaml, parquet_frame

DAY_SECONDS = 86_400.0
STANDARD_COLUMNS = ("occurred_at", "lat", "lon", "incident_id")


# --------------------------------------------------------------------------------------------
# reading


def read_events(
    path: str | Path, mapping: str | Path | None = None, tz: str | None = None
) -> pd.DataFrame:
    """Events as DataFrame[occurred_at (tz-aware), lat, lon, incident_id], sorted by time.

    `attrs["collapsed"]` counts victim rows the reader already merged into incidents;
    `attrs["timezone"]` is the local time zone of the data: `tz` when given, else the
    mapping's, else the zone whose UTC offsets match the file's (times that carry offsets keep
    them), else Europe/Brussels; `attrs["offsets"]` says whether the file's times carry
    offsets. Times without an offset in a file without a mapping are read in that zone."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: events file not found")
    if tz is not None:
        check_timezone(tz)
    try:  # the foundation reader (incident register)
        from safecities.register.events import read_events as foundation_read
    except ImportError:  # pragma: no cover - only before the foundation existed
        foundation_read = None
    mapping_tz = "Europe/Brussels"
    if foundation_read is not None and not _is_local_mapping(mapping):
        df = foundation_read(path, mapping=mapping)
        if mapping is not None:
            from safecities.register.mapping import load_mapping

            mapping_tz = load_mapping(mapping).timezone
    else:
        df = _local_read(path, mapping)
        if mapping is not None:
            mapping_tz = _read_mapping(mapping).get("timezone", mapping_tz)
    collapsed = int(df.attrs.get("collapsed", 0))
    out = _normalise(df, str(path))
    sample = _peek_times(path) if mapping is None else None
    offsets = bool(sample) and all(_OFFSET.search(t) for t in sample)
    if mapping is None:
        if tz is None and offsets:
            tz = zone_of_offsets(sample) or tz
        if not offsets and tz is not None and tz != "Europe/Brussels":
            # the reader took wall times without an offset as Brussels time: read them in `tz`
            wall = out["occurred_at"].dt.tz_convert("Europe/Brussels").dt.tz_localize(None)
            out["occurred_at"] = wall.dt.tz_localize(
                tz, ambiguous=np.zeros(len(out), bool), nonexistent="shift_forward"
            ).dt.tz_convert("UTC")
            out = out.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    elif tz is None:
        tz = mapping_tz
    out.attrs.update(collapsed=collapsed, timezone=tz or "Europe/Brussels", offsets=offsets)
    return out


_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
#: Zones tried first when guessing the zone of a file's UTC offsets (then every IANA zone).
_LIKELY_ZONES = ("Europe/Brussels", "Europe/London", "America/New_York", "America/Chicago",
                 "America/Denver", "America/Los_Angeles", "UTC")  # fmt: skip


def check_timezone(tz: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--tz {tz!r}: not a time zone (e.g. Europe/Brussels)") from None
    return str(tz)


def _peek_times(path: Path, n: int = 500) -> list[str] | None:
    """The first `n` occurred_at texts of a CSV in the standard layout (None otherwise)."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return None
    try:
        col = pd.read_csv(path, nrows=n, usecols=["occurred_at"], dtype=str)["occurred_at"]
    except (ValueError, OSError, pd.errors.ParserError):
        return None
    return [t.strip() for t in col.dropna()]


def zone_of_offsets(texts: list[str]) -> str | None:
    """The first IANA zone (likely ones first) whose UTC offset matches every sampled time's
    own offset at that instant, so days can be cut in the data's own zone across DST."""
    from zoneinfo import available_timezones

    stamps = []
    for text in texts:  # one by one: a series of mixed offsets is refused by pandas
        try:
            t = pd.Timestamp(text)
        except (ValueError, TypeError):
            continue
        if t is not pd.NaT and t.tzinfo is not None:
            stamps.append(t)
    if not stamps:
        return None
    utc = pd.DatetimeIndex([t.tz_convert("UTC") for t in stamps])
    want = np.array([t.utcoffset().total_seconds() for t in stamps])
    rest = sorted(available_timezones() - set(_LIKELY_ZONES))
    for zone in (*_LIKELY_ZONES, *rest):
        local = utc.tz_convert(zone)
        got = (local.tz_localize(None) - utc.tz_localize(None)).total_seconds().to_numpy()
        if np.array_equal(got, want):
            return zone
    return None


def events_from_db(engine: Any = None, city: str = "brussels") -> pd.DataFrame:
    """Events from the incident register (foundation); one-line error while it does not exist."""
    try:
        from safecities.register.events import events_from_db as foundation_db
    except ImportError as exc:
        raise InputError("--from-db: the incident register is not available yet") from exc
    if engine is None:
        from safecities.store.db import make_engine

        engine = make_engine()
    df = foundation_db(engine, city=city)
    out = _normalise(df, "database")
    out.attrs.update(collapsed=int(df.attrs.get("collapsed", 0)), timezone="Europe/Brussels")
    return out


def _is_local_mapping(mapping: str | Path | None) -> bool:
    """Our own mapping files carry `format: safecities-hotspots-mapping`."""
    if mapping is None:
        return False
    try:
        doc = load_yaml(Path(mapping).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(doc, dict) and doc.get("format") == "safecities-hotspots-mapping"


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return parquet_frame(path)  # footer checked against the workbook limits first
        if suffix in (".geojson", ".json"):
            import geopandas as gpd

            gdf = gpd.read_file(path)
            df = pd.DataFrame(gdf.drop(columns="geometry"))
            if "lat" not in df.columns or "lon" not in df.columns:
                df["lon"], df["lat"] = gdf.geometry.x, gdf.geometry.y
            return df
        return pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", dtype=str)
    except InputError:
        raise
    except SpreadsheetTooLarge as exc:
        raise InputError(f"{path}: events file too large: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad input file
        raise InputError(f"{path}: cannot read events file ({type(exc).__name__}: {exc})") from exc


def _local_read(path: Path, mapping: str | Path | None) -> pd.DataFrame:
    df = _read_table(path)
    if mapping is None:
        missing = [c for c in ("occurred_at", "lat", "lon") if c not in df.columns]
        if missing:
            raise InputError(
                f"{path}: missing column(s) {', '.join(missing)} "
                "(expected occurred_at,lat,lon or a --mapping file)"
            )
        return df
    return _apply_mapping(df, path, _read_mapping(mapping))


def _read_mapping(mapping: str | Path) -> dict[str, Any]:
    """Local mapping YAML: `columns: {occurred_at|date, time, lat, lon, incident_id}`, plus
    optional `date_format` (strftime, applied to date + ' ' + time) and `timezone`."""
    try:
        doc = load_yaml(Path(mapping).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{mapping}: cannot read mapping file ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("columns"), dict):
        raise InputError(f"{mapping}: mapping file needs a 'columns' section")
    return doc


def _apply_mapping(df: pd.DataFrame, path: Path, doc: dict[str, Any]) -> pd.DataFrame:
    cols = doc["columns"]
    need = ["lat", "lon"] + (["occurred_at"] if "occurred_at" in cols else ["date"])
    for key in need:
        if key not in cols:
            raise InputError(f"mapping: 'columns' needs '{key}'")
        if cols[key] not in df.columns:
            raise InputError(f"{path}: column {cols[key]!r} (mapped to {key}) not found")
    out = pd.DataFrame(index=df.index)
    if "occurred_at" in cols:
        when = df[cols["occurred_at"]].astype(str)
    else:
        when = df[cols["date"]].astype(str)
        if cols.get("time"):
            when = when + " " + df[cols["time"]].astype(str)
    fmt = doc.get("date_format")
    out["occurred_at"] = pd.to_datetime(when, format=fmt, errors="coerce")
    tz = doc.get("timezone")
    if tz is not None and out["occurred_at"].dt.tz is None:
        # the repeated hour at the end of summer time is read as standard time
        out["occurred_at"] = out["occurred_at"].dt.tz_localize(
            tz, ambiguous=np.zeros(len(out), bool), nonexistent="shift_forward"
        )
    out["lat"] = df[cols["lat"]]
    out["lon"] = df[cols["lon"]]
    if cols.get("incident_id"):
        out["incident_id"] = df[cols["incident_id"]].astype(str)
    return out


def _normalise(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate and coerce to the standard frame; every bad row is named."""
    for c in ("occurred_at", "lat", "lon"):
        if c not in df.columns:
            raise InputError(f"{source}: missing column {c!r}")
    out = pd.DataFrame(index=df.index)
    when = df["occurred_at"]
    if not pd.api.types.is_datetime64_any_dtype(when):
        when = pd.to_datetime(when, errors="coerce", utc=False, format="mixed")
    if when.dt.tz is None:
        when = when.dt.tz_localize("UTC")
    out["occurred_at"] = when
    out["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    out["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    out["incident_id"] = (
        df["incident_id"].astype("string") if "incident_id" in df.columns else pd.NA
    )
    bad = out["occurred_at"].isna() | out["lat"].isna() | out["lon"].isna()
    bad |= ~out["lat"].between(-90, 90) | ~out["lon"].between(-180, 180)
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        row = out.iloc[first]
        if pd.isna(row["occurred_at"]):
            field = "occurred_at"
        elif pd.isna(row["lat"]) or not -90 <= row["lat"] <= 90:
            field = "lat"
        else:
            field = "lon"
        raise InputError(
            f"{source}:{first + 1}: field {field!r}: unparseable or out of range "
            f"({int(bad.sum())} bad row(s) in all)"
        )
    if out.empty:
        raise InputError(f"{source}: no events")
    return out.sort_values("occurred_at", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# one event per incident


def collapse_incidents(
    df: pd.DataFrame, place_tolerance_m: float = 1.0
) -> tuple[pd.DataFrame, int]:
    """One row per incident: rows sharing an incident id, or the same instant and place
    (within `place_tolerance_m`), are one event. Returns (events, number of rows collapsed)."""
    n0 = len(df)
    attrs = dict(df.attrs)
    out = df
    if "incident_id" in out.columns and out["incident_id"].notna().any():
        has = out["incident_id"].notna()
        dedup = out[has].drop_duplicates("incident_id", keep="first")
        out = pd.concat([dedup, out[~has]]).sort_values("occurred_at", kind="stable")
    # same instant and place: round to ~place_tolerance_m (1e-5 deg ~ 1.1 m of latitude)
    step = max(place_tolerance_m, 0.01) / 111_000.0
    key = pd.DataFrame(
        {
            "t": out["occurred_at"].astype("int64"),
            "la": np.round(out["lat"].to_numpy() / step).astype(np.int64),
            "lo": np.round(out["lon"].to_numpy() / step).astype(np.int64),
        },
        index=out.index,
    )
    out = out[~key.duplicated(keep="first")]
    out = out.reset_index(drop=True)
    n = n0 - len(out) + int(attrs.get("collapsed", 0))
    out.attrs.update(attrs, collapsed=n)
    return out, n


# --------------------------------------------------------------------------------------------
# metric arrays


@dataclass(frozen=True)
class EventArray:
    """Events in metres and days (float days since 1970-01-01 UTC), sorted by time."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: str

    def __len__(self) -> int:
        return len(self.t)

    def before(self, t0: float) -> EventArray:
        """Events strictly before t0 (the training set for an origin t0)."""
        k = int(np.searchsorted(self.t, t0, side="left"))
        return EventArray(self.t[:k], self.x[:k], self.y[:k], self.crs)

    def between(self, t0: float, t1: float) -> EventArray:
        """Events in [t0, t1)."""
        a = int(np.searchsorted(self.t, t0, side="left"))
        b = int(np.searchsorted(self.t, t1, side="left"))
        return EventArray(self.t[a:b], self.x[a:b], self.y[a:b], self.crs)


def to_days(when: Any) -> float:
    """datetime / Timestamp / date string / float days -> float days since epoch (UTC)."""
    if isinstance(when, int | float | np.floating | np.integer):
        return float(when)
    ts = pd.Timestamp(when)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.value / 1e9 / DAY_SECONDS


def from_days(t: float, tz: str = "UTC") -> pd.Timestamp:
    return pd.Timestamp(round(t * DAY_SECONDS * 1e9), tz="UTC").tz_convert(tz)


def parse_horizon(text: Any) -> float:
    """'1d', '12h', '1w', '30min' or a number of days -> float days."""
    if isinstance(text, int | float):
        return float(text)
    if hasattr(text, "total_seconds"):
        return text.total_seconds() / DAY_SECONDS
    s = str(text).strip().lower()
    units = {"w": 7.0, "d": 1.0, "h": 1 / 24, "min": 1 / 1440, "m": 1 / 1440}
    for u in ("min", "w", "d", "h", "m"):
        if s.endswith(u):
            try:
                v = float(s[: -len(u)]) * units[u]
            except ValueError:
                break
            if v > 0:
                return v
            break
    try:
        v = float(s)
        if v > 0:
            return v
    except ValueError:
        pass
    raise InputError(f"horizon {text!r}: expected e.g. 1d, 12h, 1w")


def to_event_array(df: pd.DataFrame | EventArray, crs: str | None = None) -> EventArray:
    """DataFrame[occurred_at, lat, lon] -> EventArray in `crs` (default: local metric CRS)."""
    if isinstance(df, EventArray):
        if crs is not None and df.crs != crs:
            raise ValueError(f"events are in {df.crs}, grid in {crs}")
        return df
    if crs is None:
        crs = metric_crs_for(float(df["lon"].median()), float(df["lat"].median()))
    ts = pd.to_datetime(df["occurred_at"], utc=True).dt.as_unit("ns")
    t = ts.astype("int64").to_numpy() / 1e9 / DAY_SECONDS
    x, y = to_metres(df["lon"].to_numpy(), df["lat"].to_numpy(), crs)
    order = np.argsort(t, kind="stable")
    return EventArray(t[order], np.asarray(x)[order], np.asarray(y)[order], crs)
