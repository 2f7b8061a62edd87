"""Reference layers (municipalities, stations, zones, metro lines) as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from safecities.api.accounts import Principal
from safecities.api.deps import require
from safecities.api.layers import layer_bytes
from safecities.api.permissions import Action
from safecities.domain import CITIES

router = APIRouter(prefix="/api/reference", tags=["reference"])
City = Literal[CITIES]  # type: ignore[valid-type]
_GEOJSON = {200: {"content": {"application/geo+json": {}}, "description": "GeoJSON"}}


def _layer(layer: str, city: str) -> Response:
    return Response(
        layer_bytes(layer, city),
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/municipalities", response_class=Response, responses=_GEOJSON)
def municipalities(
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Municipality polygons (NIS code, Dutch and French names)."""
    return _layer("municipalities", city)


@router.get("/stations", response_class=Response, responses=_GEOJSON)
def stations(
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Metro/premetro and railway stations (points, lines served)."""
    return _layer("stations", city)


@router.get("/zones", response_class=Response, responses=_GEOJSON)
def zones(
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Named zones: hotspots, approved patrol areas, railway police priority terrain."""
    return _layer("zones", city)


@router.get("/metro-lines", response_class=Response, responses=_GEOJSON)
def metro_lines(
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Schematic metro lines (straight segments between stations)."""
    return _layer("metro_lines", city)
