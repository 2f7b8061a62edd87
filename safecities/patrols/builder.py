"""Compose a protocol request from a template, so that a city can ask for joint patrols without
writing YAML (issue 14, mission point 5).

The builder proposes zones around the city's railway stations (and, for Brussels, its metro and
premetro stations) from the bundled reference data, adds zones the city draws or uploads as
GeoJSON, takes command posts from the local police zone and the railway police, and fills the
working-time rules and planning weights of the Brussels protocol of 20 March 2026. The result is an
ordinary protocol document: it is validated by `protocol.validate_document` (the same messages and
JSON paths as an uploaded file) and requested through `governance.request_document`.

Zones carry their outline (`geometry`, WGS84) and how it was drawn (`drawn_how`), so the
approvers see them on the map. Following the decision of 20 March 2026, only the railway police's
priority terrain (railway and metro stations) admits soldiers; drawn districts are police-only
unless the city asks otherwise in the form.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry import Point, mapping, shape

from safecities.domain import CITIES
from safecities.errors import InputError
from safecities.geo import to_metres, to_wgs84
from safecities.patrols.protocol import SCHEMA_ID, ProtocolIssue, validate_document
from safecities.safeio import dump_yaml

#: The local police zone of each city's main municipality: names as the Belgian police zone list
#: gives them (from the NAME_4 attribute of arneh61/Belgium-Map `Politiezones.json`, MIT; only the
#: names are used: that file's geometry is GADM-derived and is not bundled). Brussels has six
#: zones: its renewals start from the bundled protocol instead.
LOCAL_POLICE = {
    "antwerp": ("5345", "PZ Antwerpen (5345)"),
    "ghent": ("5415", "PZ Gent (5415)"),
    "liege": ("5277", "ZP Liège (5277)"),
    "charleroi": ("5330", "ZP Charleroi (5330)"),
    "mons": ("5324", "ZP Mons/Quévy (5324)"),
}
#: Why soldiers are admitted in a station zone (shown with the request and its plans).
RAILWAY_TERRAIN_BASIS = "railway police priority terrain (decision of 20 March 2026)"
#: The railway police (SPC / Spoorwegpolitie) post of each city's priority terrain.
RAILWAY_POLICE = {
    "antwerp": "SPC Spoorwegpolitie Antwerpen",
    "ghent": "SPC Spoorwegpolitie Gent",
    "liege": "SPC Police des chemins de fer Liège",
    "charleroi": "SPC Police des chemins de fer Charleroi",
    "mons": "SPC Police des chemins de fer Mons",
    "brussels": "SPC Police des chemins de fer / Spoorwegpolitie Brussel",
}
#: Cities whose municipality boundary is bundled (Statbel-derived); Walloon boundaries are not
#: openly available here, so Liege, Charleroi and Mons get station-based zones only.
BOUNDARY_NOTE = {
    "liege": "No open municipality boundary is bundled for Wallonia: zones are drawn around the "
    "railway stations only (the stations were attached within 6 km of the main station).",
    "charleroi": "No open municipality boundary is bundled for Wallonia: zones are drawn around "
    "the railway stations only (the stations were attached within 6 km of the main station).",
    "mons": "No open municipality boundary is bundled for Wallonia: zones are drawn around the "
    "railway stations only (the stations were attached within 6 km of the main station).",
}


def _slug(text: str) -> str:
    s = text.lower()
    for a, b in (("é", "e"), ("è", "e"), ("ê", "e"), ("à", "a"), ("â", "a"), ("ô", "o")):
        s = s.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-") or "zone"


@dataclass
class FipaDraft:
    date: str
    start: str
    end: str
    zone: str
    soldiers: int
    place: str = ""


@dataclass
class RequestDraft:
    """What the request form asks; every field has the Brussels protocol's value as default."""

    city: str
    version: str = ""
    start: str = ""
    months: int = 6
    soldier_cap: int = 20
    stations: list[str] | None = None  # station ids; None = every proposed station
    radius_m: float = 250.0
    police_units: int = 30
    defence_units: int = 10
    unit_size: int = 2
    liaisons_per_post: int = 3
    min_mixed_main_station: int = 1
    drawn_zones: dict[str, Any] | None = None  # GeoJSON FeatureCollection drawn or uploaded
    drawn_zones_admit_soldiers: bool = False
    fipa: list[FipaDraft] = field(default_factory=list)
    title: str = ""


def proposed_stations(city: str) -> list[dict[str, Any]]:
    """The stations the builder proposes as zones: railway stations of the city, main station
    first, then by distance to it; for Brussels also the metro and premetro stations."""
    from safecities.register import reference

    if city not in CITIES:
        raise InputError(f"city {city!r}: choose one of {', '.join(CITIES)}")
    st = reference.stations(city)
    main = reference.city(city).get("main_station")
    mx, my = _main_xy(st, main)
    out = []
    for _, row in st.iterrows():
        x, y = to_metres(row.geometry.x, row.geometry.y)
        out.append(
            {
                "id": row["id"],
                "name": row.get("name") or row["id"],
                "kind": row.get("kind") or "railway",
                "lat": round(float(row.geometry.y), 6),
                "lon": round(float(row.geometry.x), 6),
                "main": row["id"] == main,
                "distance_m": round(float(((x - mx) ** 2 + (y - my) ** 2) ** 0.5)),
            }
        )
    out.sort(key=lambda s: (not s["main"], s["kind"] != "railway", s["distance_m"], s["id"]))
    return out


def _main_xy(st, main: str | None) -> tuple[float, float]:
    rows = st[st["id"] == main]
    g = rows.iloc[0].geometry if len(rows) else st.geometry.union_all().centroid
    x, y = to_metres(g.x, g.y)
    return float(x), float(y)


def _buffer_wgs84(lon: float, lat: float, radius_m: float) -> dict[str, Any]:
    x, y = to_metres(lon, lat)
    poly = Point(float(x), float(y)).buffer(radius_m, quad_segs=8)
    geo = shapely.transform(poly, lambda xs, ys: to_wgs84(xs, ys), interleaved=False)
    return _rounded(mapping(geo))


def _rounded(geom: dict[str, Any]) -> dict[str, Any]:
    def r(c):
        return (
            [r(x) for x in c]
            if isinstance(c[0], list | tuple)
            else [round(c[0], 6), round(c[1], 6)]
        )

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def _drawn(draft: RequestDraft, post: str, issues: list[ProtocolIssue]) -> list[dict[str, Any]]:
    fc = draft.drawn_zones
    if not fc:
        return []
    feats = fc.get("features") if isinstance(fc, dict) else None
    if not isinstance(feats, list):
        issues.append(ProtocolIssue("$.drawn_zones", "a GeoJSON FeatureCollection is expected"))
        return []
    zones = []
    for i, f in enumerate(feats):
        path = f"$.drawn_zones.features[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("geometry"), dict):
            issues.append(ProtocolIssue(path, "a Feature with a Polygon geometry is expected"))
            continue
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        try:
            geom = shape(f["geometry"])
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            issues.append(ProtocolIssue(f"{path}.geometry", f"not a valid geometry ({exc})"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            issues.append(
                ProtocolIssue(f"{path}.geometry", "a Polygon or MultiPolygon is expected")
            )
            continue
        if not geom.is_valid:
            issues.append(ProtocolIssue(f"{path}.geometry", "the outline crosses itself"))
            continue
        name = str(props.get("name") or f"Zone {i + 1}")
        zones.append(
            {
                "id": _slug(str(props.get("id") or name)),
                "name": name,
                "command_post": post,
                "soldiers_allowed": bool(draft.drawn_zones_admit_soldiers),
                "weight": 1.2,
                "terrain": "district",
                "soldiers_basis": "admitted by this request"
                if draft.drawn_zones_admit_soldiers
                else "police only: not railway police priority terrain",
                "drawn_how": str(
                    props.get("drawn_how") or "drawn or uploaded by the requesting city"
                ),
                "geometry": _rounded(mapping(geom)),
            }
        )
    return zones


def build_document(draft: RequestDraft) -> tuple[dict[str, Any], list[ProtocolIssue]]:
    """The protocol document the form describes, and every problem with its JSON path (the
    schema's own messages for the document, `$.drawn_zones...` for the drawn zones)."""
    issues: list[ProtocolIssue] = []
    city = draft.city
    if city not in CITIES:
        raise InputError(f"city {city!r}: choose one of {', '.join(CITIES)}")
    if city == "brussels":
        return _brussels_renewal(draft), []
    try:
        start = date.fromisoformat(draft.start) if draft.start else date.today()
    except ValueError:
        issues.append(
            ProtocolIssue("$.period.start", f"{draft.start!r} is not a date (YYYY-MM-DD)")
        )
        start = date.today()
    end = _add_months(start, max(1, int(draft.months)))
    pz_code, pz_name = LOCAL_POLICE[city]
    local_post, rail_post = f"cp-{pz_code}-{_slug(city)}", f"cp-spc-{_slug(city)}"
    short = _slug(city)[:3].upper()
    liaisons = max(1, int(draft.liaisons_per_post))
    zones: list[dict[str, Any]] = []
    wanted = set(draft.stations) if draft.stations is not None else None
    stations = proposed_stations(city)
    for s in stations:
        if wanted is not None and s["id"] not in wanted:
            continue
        zid = _slug(s["name"].split("/")[0]) + ("-metro" if s["kind"] == "metro" else "-railway")
        while zid in {z["id"] for z in zones}:  # two stations of one name: keep ids unique
            zid += "-2"
        zones.append(
            {
                "id": zid,
                "name": f"{s['name']} priority terrain",
                "command_post": rail_post,
                "soldiers_allowed": True,
                "min_mixed_patrols": int(draft.min_mixed_main_station) if s["main"] else 0,
                "weight": 1.5 if s["main"] else 1.0,
                "terrain": "railway_station" if s["kind"] == "railway" else "metro_station",
                "soldiers_basis": RAILWAY_TERRAIN_BASIS,
                "drawn_how": f"{draft.radius_m:.0f} m around {s['name']} station ({s['id']})",
                "geometry": _buffer_wgs84(s["lon"], s["lat"], float(draft.radius_m)),
            }
        )
    zones += _drawn(draft, local_post, issues)
    if wanted is not None:
        known = {s["id"] for s in stations}
        for sid in sorted(wanted - known):
            issues.append(ProtocolIssue("$.stations", f"unknown station {sid!r} for {city}"))
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "city": city,
        "version": draft.version or f"{start.year}.1-request",
        "title": draft.title or f"Joint patrols police-Defence, {city.capitalize()} (request)",
        "timezone": "Europe/Brussels",
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "soldier_cap": int(draft.soldier_cap),
        "patrol": {
            "police_min_per_mixed_patrol": 2,
            "soldiers_max_per_patrol": 2,
            "police_min_per_police_only_patrol": 2,
            "visit_minutes": 15,
        },
        "defence_liaison": {"required": True},
        "command_posts": [
            {
                "id": local_post,
                "name": pz_name,
                "liaisons": [f"DL-{short}-{i}" for i in range(1, liaisons + 1)],
            },
            {
                "id": rail_post,
                "name": RAILWAY_POLICE[city],
                "liaisons": [f"DL-{short}R-{i}" for i in range(1, liaisons + 1)],
            },
        ],
        "zones": zones,
        "fipa": [
            {
                "id": f"fipa-{i + 1}",
                "date": f.date,
                "start": f.start,
                "end": f.end,
                "zone": f.zone,
                "soldiers": int(f.soldiers),
                **({"place": f.place} if f.place else {}),
            }
            for i, f in enumerate(draft.fipa)
        ],
        # as the Brussels protocol: teams drive between zones (their outlines give the distances)
        # and the patrol holding a zone minimum hands over to the next one
        "travel": {"speed_kmh": TRAVEL_SPEED_KMH},
        "handover_minutes": HANDOVER_MINUTES,
        "working_time": {force: dict(WORKING_TIME) for force in ("police", "defence")},
        "unit_series": [
            {
                "prefix": f"{short}POL",
                "force": "police",
                "count": int(draft.police_units),
                "size": int(draft.unit_size),
            },
            {
                "prefix": f"{short}DEF",
                "force": "defence",
                "count": int(draft.defence_units),
                "size": int(draft.unit_size),
            },
        ],
        "planning": {
            "diminishing_returns": 0.5,
            "max_patrols_per_zone": 2,
            "mixed_patrol_bonus": 0.25,
        },
    }
    issues += validate_document(doc)
    return doc, issues


#: Travel speed of the bundled Brussels protocol (2026.3 on), the template's default.
TRAVEL_SPEED_KMH = 25
#: Handover at shift changes of the bundled Brussels protocol (2026.4 on), the template's default.
HANDOVER_MINUTES = 15

#: Working time of the Brussels protocol of 20 March 2026 (the template's default).
WORKING_TIME = {
    "shift_min_hours": 6,
    "shift_max_hours": 10,
    "min_rest_hours": 11,
    "max_hours_per_week": 48,
    "shift_starts": [6, 14, 22],
    "shift_lengths": [8],
}


def _brussels_renewal(draft: RequestDraft) -> dict[str, Any]:
    """A Brussels renewal is the bundled protocol with a new version, period and cap."""
    from safecities.patrols.protocol import bundled_protocol_path, read_document

    doc, _ = read_document(bundled_protocol_path())
    start = (
        date.fromisoformat(draft.start) if draft.start else date.fromisoformat(doc["period"]["end"])
    )
    doc["version"] = draft.version or f"{start.year}.{2 if start.month > 6 else 1}"
    doc["period"] = {
        "start": start.isoformat(),
        "end": _add_months(start, draft.months).isoformat(),
    }
    doc["soldier_cap"] = int(draft.soldier_cap)
    doc["title"] = draft.title or f"{doc.get('title', 'Joint patrols')} (renewal)"
    doc.pop("approved_on", None)
    doc.pop("approved_by", None)
    doc["fipa"] = []
    return doc


def _add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months (31 January + 1 month = the last day of February)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def to_yaml(doc: dict[str, Any]) -> str:
    head = (
        f"# Protocol request composed with the safecities request builder for {doc['city']}.\n"
        "# Zones around stations are proposals from the bundled reference data; check them.\n"
    )
    return head + dump_yaml(doc)


__all__ = [
    "BOUNDARY_NOTE",
    "FipaDraft",
    "RequestDraft",
    "build_document",
    "proposed_stations",
    "to_yaml",
]
