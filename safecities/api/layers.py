"""Map layers from the bundled reference data (GeoJSON, WGS84), serialised once and cached.

The files are the foundation's package data (safecities/data/*.geojson); when
`safecities.register.reference` is available its loaders are preferred, so a user who replaces the
zones sees them here too.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from safecities.domain import CITIES
from safecities.errors import NotFound

LAYERS = ("municipalities", "stations", "zones", "metro_lines")
_FILES = {name: f"{name}.geojson" for name in LAYERS}


def _from_reference(layer: str, city: str) -> dict | None:
    try:
        from safecities.register import reference
    except ImportError:
        return None
    fn = {"municipalities": "municipalities", "stations": "stations", "zones": "zones"}.get(layer)
    if fn is None or not hasattr(reference, fn):
        return None
    try:
        gdf = getattr(reference, fn)(city=city)
    except Exception:  # noqa: BLE001 - fall back to the bundled file
        return None
    return json.loads(gdf.to_json(drop_id=True))


def _from_file(layer: str, city: str) -> dict:
    path = resources.files("safecities.data") / _FILES[layer]
    data = json.loads(path.read_text(encoding="utf-8"))
    feats = [f for f in data["features"] if f["properties"].get("city", city) == city]
    return {"type": "FeatureCollection", "features": feats}


@lru_cache(maxsize=64)
def layer_bytes(layer: str, city: str = "brussels") -> bytes:
    """The layer as compact GeoJSON bytes (cached: reference data does not change at runtime)."""
    if layer not in LAYERS:
        raise NotFound(f"no layer {layer!r}; layers: {', '.join(LAYERS)}")
    if city not in CITIES:
        raise NotFound(f"no city {city!r}; cities: {', '.join(CITIES)}")
    data = _from_reference(layer, city) or _from_file(layer, city)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
