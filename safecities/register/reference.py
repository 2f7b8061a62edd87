"""Bundled reference data (municipalities, stations, metro lines, zones), read with no network.

Files live in safecities/data/ (see SOURCES.md there for licences); they are built from open data
by scripts/build_reference_data.py.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import geopandas as gpd
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from sqlalchemy import Engine

from safecities.errors import NotFound


def _path(name: str):
    return resources.files("safecities") / "data" / name


@lru_cache(maxsize=8)
def _read(name: str) -> gpd.GeoDataFrame:
    with _path(name).open("r", encoding="utf-8") as fh:
        data = json.load(fh)
    return gpd.GeoDataFrame.from_features(data["features"], crs="EPSG:4326")


def cities() -> list[dict]:
    with _path("cities.json").open("r", encoding="utf-8") as fh:
        return json.load(fh)


def city(city_id: str) -> dict:
    for c in cities():
        if c["id"] == city_id:
            return c
    raise NotFound(f"unknown city {city_id!r}; known: {', '.join(c['id'] for c in cities())}")


def municipalities(city: str | None = "brussels") -> gpd.GeoDataFrame:
    g = _read("municipalities.geojson").copy()
    return g if city is None else g[g["city"] == city].reset_index(drop=True)


def city_boundary(city: str = "brussels") -> BaseGeometry:
    m = municipalities(city)
    if m.empty:
        raise NotFound(f"no bundled boundary for {city!r} (Walloon municipalities are not bundled)")
    return unary_union(m.geometry.values)


def stations(city: str | None = "brussels", kind: str | None = None) -> gpd.GeoDataFrame:
    g = _read("stations.geojson").copy()
    if city is not None:
        g = g[g["city"] == city]
    if kind is not None:
        g = g[g["kind"] == kind]
    return g.reset_index(drop=True)


def metro_lines() -> gpd.GeoDataFrame:
    return _read("metro_lines.geojson").copy()


def zones(city: str | None = "brussels", engine: Engine | None = None) -> gpd.GeoDataFrame:
    """Named zones [id, name, kind, command_post, drawn_how, area_m2, city, geometry] (WGS84).

    With `engine`, the store's zones: the bundled ones after `reference load`, as changed by
    `reference zones-import` (so analyses of the database use the zones users imported); the
    bundled file when the store has none for the city. Without `engine`, the bundled file.
    """
    if engine is not None:
        g = _store_zones(engine, city)
        if g is not None:
            return g
    g = _read("zones.geojson").copy()
    return g if city is None else g[g["city"] == city].reset_index(drop=True)


def _store_zones(engine: Engine, city: str | None) -> gpd.GeoDataFrame | None:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from safecities.store.models import Zone

    q = select(Zone).order_by(Zone.city_id, Zone.id)
    if city is not None:
        q = q.where(Zone.city_id == city)
    try:
        with Session(engine) as s:
            rows = list(s.execute(q).scalars())
    except SQLAlchemyError:  # store not created yet: the bundled zones
        return None
    if not rows:
        return None
    feats = [
        {
            "type": "Feature",
            "geometry": z.geometry,
            "properties": {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                "command_post": z.command_post,
                "drawn_how": z.drawn_how,
                "area_m2": z.area_m2,
                "city": z.city_id,
            },
        }
        for z in rows
    ]
    # the bundled file's order first (so results list zones as they always did), then new ids
    rank = {zid: i for i, zid in enumerate(_read("zones.geojson")["id"])}
    feats.sort(key=lambda f: (rank.get(f["properties"]["id"], len(rank)), f["properties"]["id"]))
    return gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")


def geojson_text(name: str) -> str:
    """The raw bundled GeoJSON (for the web map's offline base layers)."""
    return _path(name).read_text(encoding="utf-8")


# --- map layers (GET /api/reference/<layer>, the dashboard map, the pages' municipality lists) ---

LAYERS = ("municipalities", "stations", "zones", "metro_lines")


def _layer_data(layer: str, city: str) -> dict:
    loader = {"municipalities": municipalities, "stations": stations, "zones": zones}.get(layer)
    if loader is not None:
        return json.loads(loader(city=city).to_json(drop_id=True))
    data = json.loads(geojson_text(f"{layer}.geojson"))
    feats = [f for f in data["features"] if f["properties"].get("city", city) == city]
    return {"type": "FeatureCollection", "features": feats}


@lru_cache(maxsize=64)
def layer_bytes(layer: str, city: str = "brussels") -> bytes:
    """The bundled layer as compact GeoJSON bytes, WGS84 (cached: bundled data never changes at
    runtime; the store's zones, as imports changed them, are served by `zones(engine=...)`)."""
    from safecities.domain import CITIES

    if layer not in LAYERS:
        raise NotFound(f"no layer {layer!r}; layers: {', '.join(LAYERS)}")
    if city not in CITIES:
        raise NotFound(f"no city {city!r}; cities: {', '.join(CITIES)}")
    data = _layer_data(layer, city)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
