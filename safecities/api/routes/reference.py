"""Reference layers (municipalities, stations, zones, metro lines) as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.domain import CITIES
from safecities.errors import InputError
from safecities.register.reference import layer_bytes
from safecities.store.cache import cached

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
    request: Request,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Named zones: hotspots, approved patrol areas, railway police priority terrain (the store's
    zones, as zone imports changed them; cached until the next write)."""
    from safecities.register.reference import zones as reference_zones

    engine = request.app.state.engine
    body = cached(
        db,
        ("zones", str(engine.url), city),
        lambda: reference_zones(city, engine=engine).to_json(drop_id=True).encode(),
    )
    return Response(
        body, media_type="application/geo+json", headers={"Cache-Control": "private, no-cache"}
    )


@router.post("/zones", responses={400: {}})
def import_zones(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.REFERENCE_EDIT))],
    file: UploadFile = File(..., description="GeoJSON FeatureCollection of zone polygons"),
    city: City = Form("brussels"),
) -> dict[str, Any]:
    """`reference zones-import`: redraw or add named zones (properties id, name, kind,
    command_post, drawn_how); all or nothing, every bad feature named; audited before/after."""
    import dataclasses
    import tempfile
    from pathlib import Path

    from safecities.register.service import import_zones as do_import

    name = upload_name(file.filename, "zones.geojson")
    data = read_upload(file, 20 * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            out = do_import(request.app.state.engine, path, city=city, actor=user.name)
        except InputError as exc:
            errors = [dataclasses.replace(e, file=name) for e in exc.errors]
            raise InputError(str(exc).replace(str(path), name), errors) from None
    return {"file": name, "city": city, **out}


@router.get("/metro-lines", response_class=Response, responses=_GEOJSON)
def metro_lines(
    _: Annotated[Principal, Depends(require(Action.REFERENCE_READ))],
    city: City = Query("brussels"),
) -> Response:
    """Schematic metro lines (straight segments between stations)."""
    return _layer("metro_lines", city)


@router.post("/load")
def load(
    db: DbSession, user: Annotated[Principal, Depends(require(Action.REFERENCE_EDIT))]
) -> dict[str, int]:
    """`reference load`: upsert the bundled cities, municipalities and stations and add the
    bundled zones the store lacks (zones already stored, perhaps redrawn, are kept); audited."""
    from safecities.register.service import load_reference

    counts = load_reference(db, user.name)
    db.commit()
    return counts
