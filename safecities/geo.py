"""Coordinate handling: store WGS84, compute in metres (EPSG:3812 for Belgium)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

from safecities.domain import BELGIAN_LAMBERT_2008, BELGIUM_BBOX, WGS84


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_metres(lon, lat, crs: str = BELGIAN_LAMBERT_2008) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat -> projected x/y in metres (Belgian Lambert 2008 unless told)."""
    return _transformer(WGS84, crs).transform(np.asarray(lon, float), np.asarray(lat, float))


def to_wgs84(x, y, crs: str = BELGIAN_LAMBERT_2008) -> tuple[np.ndarray, np.ndarray]:
    """Projected x/y in metres -> WGS84 lon/lat."""
    return _transformer(crs, WGS84).transform(np.asarray(x, float), np.asarray(y, float))


def metric_crs_for(lon: float, lat: float) -> str:
    """EPSG:3812 inside Belgium; elsewhere the local UTM zone (e.g. the NYPD benchmark data)."""
    x0, y0, x1, y1 = BELGIUM_BBOX
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return BELGIAN_LAMBERT_2008
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def in_belgium(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = BELGIUM_BBOX
    return x0 <= lon <= x1 and y0 <= lat <= y1
