"""Privacy by minimum counts (issue 18 item 6): roles without incident access see hotspot cells
and zones only where they hold at least k incidents (k = `min_cell_count`, default 3).

Why: a 200 m cell holding exactly one incident is that incident's place; a role that may not read
incidents (Defence liaison, the approvers) must not recover it from the hotspot layers. Roles
with `incidents.read` see everything. The filter is applied at the route/page boundary, after the
shared cache, through `limit()` only: one place, one rule.

Cells are counted on the same grid the result was computed on (square cells of `cell_size`,
the register's incidents collapsed as the hotspot service does, the result's own time window),
so the count is the number of incidents in that cell, not a smoothed risk.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from safecities.api.accounts import Principal
from safecities.api.permissions import Action
from safecities.config import get_settings


def min_count() -> int:
    return max(1, int(get_settings().min_cell_count))


def restricted(user: Principal) -> bool:
    return not user.can(Action.INCIDENTS_READ)


def _events(engine: Any, city: str):
    from safecities.hotspots.events import collapse_incidents, events_from_db

    df, _ = collapse_incidents(events_from_db(engine, city=city))
    return df


def grid_counts(
    engine: Any, city: str, cell_size: float, *, start: Any = None, end: Any = None
) -> dict[str, int]:
    """Incidents per cell id in [start, end) on the hotspot service's grid for `cell_size`."""
    import pandas as pd

    from safecities.hotspots import service
    from safecities.hotspots.events import to_days

    df = _events(engine, city)
    if len(df) == 0:
        return {}
    grid = service.build_grid(df, cell_size, "square", 9, service.load_boundary(None, city))
    ev = service.event_array(df, grid)
    t0 = to_days(pd.Timestamp(start)) if start is not None else float("-inf")
    t1 = to_days(pd.Timestamp(end)) if end is not None else float("inf")
    ev = ev.between(t0, t1)
    counts = grid.counts(ev.x, ev.y)
    return {str(c): int(n) for c, n in zip(grid.cell_ids, counts, strict=True)}


def zone_counts(engine: Any, city: str, *, start: Any = None, end: Any = None) -> dict[str, int]:
    """Incidents per named zone id in [start, end)."""
    import geopandas as gpd
    import pandas as pd

    from safecities.hotspots.profile import load_zones

    df = _events(engine, city)
    zones = load_zones(None, city, engine=engine)
    idcol = "zone_id" if "zone_id" in zones.columns else "id"
    if len(df) == 0:
        return {str(z): 0 for z in zones[idcol]}
    t = pd.to_datetime(df["occurred_at"], utc=True)
    keep = pd.Series(True, index=df.index)
    if start is not None:
        keep &= t >= pd.Timestamp(start).tz_convert("UTC")
    if end is not None:
        keep &= t < pd.Timestamp(end).tz_convert("UTC")
    df = df[keep.to_numpy()]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    hit = gpd.sjoin(pts, zones[[idcol, "geometry"]].to_crs("EPSG:4326"), predicate="within")
    counts = hit.groupby(idcol).size()
    return {str(z): int(counts.get(z, 0)) for z in zones[idcol]}


def _filter(obj: Any, key: str, ok: Callable[[Any], bool]) -> Any:
    """`obj` without the list items / GeoJSON features whose `key` fails `ok` (recursive)."""
    if isinstance(obj, dict):
        if obj.get("type") == "FeatureCollection" and isinstance(obj.get("features"), list):
            feats = [
                f
                for f in obj["features"]
                if key not in (f.get("properties") or {}) or ok(f["properties"][key])
            ]
            return {**obj, "features": feats}
        return {k: _filter(v, key, ok) for k, v in obj.items()}
    if isinstance(obj, list):
        return [
            _filter(v, key, ok) for v in obj if not (isinstance(v, dict) and key in v) or ok(v[key])
        ]
    return obj


def _summary(out: dict[str, Any], k: int) -> dict[str, Any]:
    """An incident summary (counts by month, kind and municipality): municipalities with fewer
    than k incidents are left out; a summary filtered to one such municipality keeps no counts."""
    rows = out.get("by_municipality") or []
    out["by_municipality"] = [r for r in rows if (r.get("incidents") or 0) >= k]
    hidden = len(rows) - len(out["by_municipality"])
    one = (out.get("filters") or {}).get("municipality")
    if one and ((out.get("totals") or {}).get("incidents") or 0) < k:
        out.update(totals=None, since_1_january=None, since_summer=None, by_month=[],
                   by_kind={})  # fmt: skip
        hidden += 1
    out["min_count"] = {"k": k, "hidden": hidden}
    return out


def limit(
    kind: str,
    payload: Mapping[str, Any],
    user: Principal,
    engine: Any,
    *,
    city: str = "brussels",
    cell_size: float | None = None,
) -> dict[str, Any]:
    """`payload` of `kind` (hotspots forecast, detect, emerging, profile; incidents summary) as
    `user` may see it:
    unchanged for roles with incident access, else only cells / zones with >= k incidents, and
    `min_count` {k, hidden} saying how many were withheld. The cached payload is not modified."""
    if not restricted(user):
        return dict(payload)
    k = min_count()
    if kind == "summary":
        return _summary(dict(payload), k)
    if kind == "profile":
        window = payload.get("window") or [None, None]
        counts = zone_counts(engine, city, start=window[0], end=window[1])
        key = "zone_id"
        # an hour-of-week profile of fewer than k incidents gives their times away
        drop_hours = sum(counts.values()) < k
    else:
        if kind == "forecast":
            counts = grid_counts(engine, city, cell_size or 250.0, end=payload.get("at"))
        else:
            counts = grid_counts(engine, city, cell_size or 250.0, start=payload.get("start"),
                                 end=payload.get("end"))  # fmt: skip
        key = "cell_id"
        drop_hours = False
    hidden: set[str] = set()

    def ok(value: Any) -> bool:
        if counts.get(str(value), 0) >= k:
            return True
        hidden.add(str(value))
        return False

    out = _filter(copy.deepcopy(dict(payload)), key, ok)
    if drop_hours:
        out.pop("hourly", None)
        out.pop("weekday", None)
    out["min_count"] = {"k": k, "hidden": len(hidden)}
    return out
