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


def zones(city: str | None = "brussels") -> gpd.GeoDataFrame:
    g = _read("zones.geojson").copy()
    return g if city is None else g[g["city"] == city].reset_index(drop=True)


def geojson_text(name: str) -> str:
    """The raw bundled GeoJSON (for the web map's offline base layers)."""
    return _path(name).read_text(encoding="utf-8")
