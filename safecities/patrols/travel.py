"""Travel times between the zones of a protocol (`travel.speed_kmh`, `travel.matrix`).

Protocol data, derived once from the document: the planner (through `Protocol.travel_minutes`)
and the independent checker both read it, as they both read the zones. Minutes between two zones:
the protocol's `travel.matrix` entry (either direction) where given, else the straight line
between the zones' centroids at `travel.speed_kmh`. Centroids are computed in metres in the
Belgian Lambert 2008 projection (EPSG:3812) from the outlines, stored in WGS84: the document's own
`geometry`, else the bundled zone of the same id (`safecities/data/zones.geojson`). A team moving
between zones loses whole 15-minute visits: `visits(minutes)` rounds up.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

VISIT_MINUTES = 15
LAMBERT_2008 = "EPSG:3812"


def visits(minutes: float) -> int:
    """Whole visits a journey of `minutes` takes (rounded up: a visit is all or nothing)."""
    return int(math.ceil(minutes / VISIT_MINUTES - 1e-9)) if minutes > 0 else 0


def centroids_m(doc: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Zone id -> centroid (x, y) in metres (EPSG:3812), for the zones that have an outline."""
    import geopandas as gpd
    from shapely.geometry import shape

    from safecities.register import reference

    bundled = reference.zones(None)
    known = dict(zip(bundled["id"], bundled.geometry, strict=True))
    ids, geoms = [], []
    for z in doc.get("zones") or []:
        if not isinstance(z, dict) or not isinstance(z.get("id"), str):
            continue
        g = z.get("geometry")
        try:
            geom = shape(g) if isinstance(g, dict) else known.get(z["id"])
        except (ValueError, TypeError, AttributeError, KeyError):
            geom = None  # a malformed outline: the schema names it
        if geom is not None and not geom.is_empty:
            ids.append(z["id"])
            geoms.append(geom)
    if not ids:
        return {}
    pts = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(LAMBERT_2008).centroid
    return {i: (float(p.x), float(p.y)) for i, p in zip(ids, pts, strict=True)}


def travel_problems(doc: dict[str, Any]) -> list[tuple[list, str]]:
    """Why the document's travel times cannot be derived: (JSON path parts, message) each."""
    travel = doc.get("travel")
    if not isinstance(travel, dict) or not travel:
        return []  # the schema names an empty or malformed `travel`
    zones = [z.get("id") for z in doc.get("zones") or [] if isinstance(z, dict)]
    out: list[tuple[list, str]] = []
    matrix = travel.get("matrix") if isinstance(travel.get("matrix"), dict) else {}
    for a, row in matrix.items():
        if a not in zones:
            out.append((["travel", "matrix", a], f"unknown zone {a!r}"))
        for b in row if isinstance(row, dict) else {}:
            if b not in zones:
                out.append((["travel", "matrix", a, b], f"unknown zone {b!r}"))
    speed = travel.get("speed_kmh")
    if isinstance(speed, int | float) and speed > 0:
        have = centroids_m(doc)
        for i, z in enumerate(zones):
            if z not in have:
                out.append(
                    (["zones", i], f"zone {z!r} has no outline to compute travel times from: "
                     "give its geometry or its rows in travel.matrix")
                )  # fmt: skip
    elif "speed_kmh" not in travel:
        missing = [
            (a, b)
            for i, a in enumerate(zones)
            for b in zones[i + 1 :]
            if _given(matrix, a, b) is None
        ]
        if missing:
            a, b = missing[0]
            out.append(
                (["travel", "matrix"], f"{len(missing)} zone pairs have no travel time (first: "
                 f"{a} - {b}); give travel.speed_kmh or every pair")
            )  # fmt: skip
    return out


def _given(matrix: dict[str, Any], a: str, b: str) -> float | None:
    for x, y in ((a, b), (b, a)):
        row = matrix.get(x)
        if isinstance(row, dict) and isinstance(row.get(y), int | float):
            return float(row[y])
    return None


def travel_minutes(doc: dict[str, Any]) -> np.ndarray | None:
    """[Z, Z] minutes between the document's zones (in `zones` order), or None without `travel`.
    Call on a document `validate_document` accepted."""
    travel = doc.get("travel")
    if not isinstance(travel, dict):
        return None
    zones = [z["id"] for z in doc["zones"]]
    matrix = travel.get("matrix") or {}
    speed = travel.get("speed_kmh")
    pts = centroids_m(doc) if speed else {}
    out = np.zeros((len(zones), len(zones)))
    for i, a in enumerate(zones):
        for j, b in enumerate(zones):
            if i == j:
                continue
            given = _given(matrix, a, b)
            if given is not None:
                out[i, j] = given
            else:
                (xa, ya), (xb, yb) = pts[a], pts[b]
                out[i, j] = math.hypot(xa - xb, ya - yb) / 1000 / float(speed) * 60
    return out


def duty_gap_minutes(minutes: np.ndarray | None) -> int:
    """The longest break between two visits of a unit that is still one duty period: the longest
    journey between two zones, in whole visits (travel is working time). 0 without travel."""
    if minutes is None or not minutes.size:
        return 0
    return visits(float(minutes.max())) * VISIT_MINUTES
