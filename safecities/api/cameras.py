"""Thin adapters from the API and the web pages to the camera library (the same functions the
`safecities cameras ...` commands call): import an uploaded inventory, coverage today, and the
budget planner. Results carry the same keys as the CLI's `--json` output, manifest included."""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safecities.api.accounts import Principal
from safecities.api.permissions import Action
from safecities.domain import Role
from safecities.errors import InputError
from safecities.manifest import RunManifest
from safecities.store.cache import cached, data_version

MAX_UPLOAD = 20 * 1024 * 1024
#: Upper bound on the wall time of one planner call: the per-solve time limit is cut so that
#: (1 + alternatives + curve points) solves stay within it.
PLAN_TOTAL_SECONDS = 20.0  # runs in the background worker: a request never waits > 5 s


def caller_of(user: Principal):
    from safecities.cameras.service import Caller

    return Caller(user.name, user.role, user.municipality_id)


def safe_name(filename: str | None, default: str = "upload.csv") -> str:
    name = Path(filename or default).name.replace("\x00", "")[:120]
    return name if name not in ("", ".", "..") else default


def error_rows(exc: InputError, name: str) -> list[dict[str, Any]]:
    """Row-level errors of an InputError as JSON rows (one row with the message if none)."""
    rows = [
        {"file": Path(str(e.file)).name, "row": e.row, "field": e.field, "reason": e.reason,
         "value": None if e.value is None else str(e.value)}
        for e in exc.errors
    ]  # fmt: skip
    return rows or [{"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}]


# -- import ------------------------------------------------------------------------------------


def import_upload(
    db: Session, user: Principal, name: str, data: bytes, municipality: str,
    mapping: bytes | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the CLI's importer on uploaded bytes in `db`'s transaction (caller commits).

    All-or-nothing: InputError (with row-level errors) or PermissionDenied before any write."""
    from safecities.cameras import importers

    if len(data) > MAX_UPLOAD:
        raise InputError(f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        map_path = None
        if mapping is not None:
            map_path = Path(tmp) / "mapping.yaml"
            map_path.write_bytes(mapping[:MAX_UPLOAD])
        report, found = importers.import_cameras(db, caller_of(user), path, municipality, map_path)
        manifest = RunManifest(
            command="cameras import", parameters={"municipality": municipality, "file": name}
        )
        manifest.add_input_file("file", path)
        if map_path is not None:
            manifest.add_input_file("mapping", map_path)
    return {
        "command": "cameras import",
        "file": report.file,
        "rows_read": report.rows_read,
        "written": report.inserted,
        "unchanged": report.unchanged,
        "duplicate_candidates": found,
        "manifest": manifest.to_dict(),
    }


# -- coverage ----------------------------------------------------------------------------------


def coverage(
    db: Session, engine, user: Principal, *, cell: float = 200.0, station_radius: float = 100.0,
    default_range: float = 50.0, connected_only: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """`cameras coverage --json` plus `layers` (GeoJSON) and `scope`, cached until the next write.

    The library counts only the cameras the caller may see (a camera operator: their own
    municipality's); for an operator the municipality, zone and station tables are cut to that
    municipality too (the summary stays city-wide: their cameras against the whole city).
    Roles without `hotspots.read` get no hotspot-cell features (the share figure stays)."""
    operator = user.role is Role.CAMERA_OPERATOR
    cells_ok = user.can(Action.HOTSPOTS_READ)
    scope = user.municipality_id if operator else None
    key = ("cameras_coverage", scope, cells_ok, cell, station_radius, default_range,
           connected_only)  # fmt: skip
    args = (scope, cells_ok, cell, station_radius, default_range, connected_only)
    return cached(db, key, lambda: _coverage(db, engine, user, *args))


def _coverage(db, engine, user, scope, cells_ok, cell, station_radius, default_range,
              connected_only) -> dict[str, Any]:  # fmt: skip
    from safecities.cameras import coverage as cov

    inp = cov.inputs_from_register(db, engine, caller_of(user), cell_m=cell,
                                   connected_only=connected_only)  # fmt: skip
    res = cov.compute(inp, station_radius=station_radius, default_range=default_range)
    manifest = RunManifest(command="cameras coverage", parameters={
        "cell": cell, "station_radius": station_radius, "range": default_range,
        "connected_only": connected_only, "role": user.role.value})  # fmt: skip
    layers = res.pop("_layers")
    if not cells_ok:
        layers["features"] = [
            f for f in layers["features"] if f["properties"]["layer"] != "hotspot_cells"
        ]
    if scope:
        for table in ("municipalities", "zones", "stations"):
            res[table] = [r for r in res[table] if r["municipality"] == scope]
    out = {"command": "cameras coverage", **res, "layers": layers,
           "scope": {"municipality": scope, "hotspot_cells": cells_ok},
           "manifest": manifest.to_dict()}  # fmt: skip
    return clean(out)


def clean(v):
    """JSON-ready: numpy scalars to Python, NaN/inf to None, dates to ISO text."""
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return _plain(v)


def _plain(v):
    if hasattr(v, "item"):
        return v.item()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


# -- planner -----------------------------------------------------------------------------------

SITE_COLUMNS = ("site_id", "lat", "lon", "cost", "direction", "angle", "range_m", "existing")
DEMAND_COLUMNS = ("demand_id", "lat", "lon", "weight")


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue().encode()


class PlanRunning(Exception):
    """The planner is still running (answered 202: ask again for the same body)."""


class PlanBusy(Exception):
    """Too many planner runs queued (answered 429)."""


_JOBS: dict[tuple, Future] = {}
_JOBS_LOCK = threading.Lock()
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cameras-plan")
MAX_QUEUED = 3
#: How long an API request waits for a planner run before answering 202 (running).
API_WAIT_SECONDS = 5.0


def plan(db: Session, engine, params: dict[str, Any], *, wait: float | None = None) -> dict:
    """`cameras plan --json` for the request `params` (see routes.cameras.PlanIn).

    Runs in one background worker so a request never blocks longer than `wait` seconds: if the
    run is not done by then PlanRunning is raised and the same call later returns the result.
    Results are cached with `incidents.cached` until the next write (same body, same answer)."""
    wait = API_WAIT_SECONDS if wait is None else wait
    key = ("cameras_plan", json.dumps(params, sort_keys=True, default=str))
    job_key = (key, str(engine.url), data_version(db))
    with _JOBS_LOCK:
        job = _JOBS.get(job_key)
        if job is None:
            if sum(not j.done() for j in _JOBS.values()) >= MAX_QUEUED:
                raise PlanBusy("the camera planner is busy; try again in a minute")
            for k in [k for k, j in _JOBS.items() if j.done() and k[2] != job_key[2]]:
                del _JOBS[k]  # older data versions
            job = _JOBS[job_key] = _POOL.submit(_plan_in_session, engine, params)
    try:
        job.result(timeout=wait)
    except FutureTimeout:
        msg = "the camera planner is still running; send the same request again"
        raise PlanRunning(msg) from None
    except Exception:
        with _JOBS_LOCK:
            _JOBS.pop(job_key, None)
        raise
    return cached(db, key, job.result)


def _plan_in_session(engine, params: dict[str, Any]) -> dict[str, Any]:
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        return _plan(s, engine, params)


def _plan(db: Session, engine, p: dict[str, Any]) -> dict[str, Any]:
    from safecities.cameras import dbplan, planning
    from safecities.cameras.planner import HighsSolver

    solves = 1 + p["alternatives"] + p["curve_steps"]
    time_limit = min(float(p["time_limit"]), PLAN_TOTAL_SECONDS / solves)
    params = {k: p[k] for k in ("budget", "radius", "alternatives", "share", "min_difference",
                                "curve_steps")} | {"time_limit": time_limit}  # fmt: skip
    manifest = RunManifest(command="cameras plan", parameters=params)
    cands, dem = p.get("candidates"), p.get("demand")
    with tempfile.TemporaryDirectory() as tmp:
        if cands:
            data = _csv(cands, SITE_COLUMNS)
            (Path(tmp) / "candidates.csv").write_bytes(data)
            cand_df = planning.read_candidates(Path(tmp) / "candidates.csv")
            manifest.add_input_bytes("candidates", data)
        else:
            cand_df = dbplan.candidates_from_db(db, engine)
        if dem:
            data = _csv(dem, DEMAND_COLUMNS)
            (Path(tmp) / "demand.csv").write_bytes(data)
            dem_df = planning.read_demand(Path(tmp) / "demand.csv")
            manifest.add_input_bytes("demand", data)
        else:
            dem_df = dbplan.demand_from_reference(engine)
    source = "request" if cands and dem else "database" if not (cands or dem) \
        else "request+database"  # fmt: skip
    if cand_df.empty or dem_df.empty:
        raise InputError("no candidate sites or no demand points to plan with")
    solver = HighsSolver(time_limit=time_limit)
    report = planning.plan(
        planning.PlanInputs(cand_df, dem_df, float(p["radius"])), float(p["budget"]),
        alternatives=p["alternatives"], share=p["share"], min_difference=p["min_difference"],
        curve_steps=p["curve_steps"], solver=solver,
    )  # fmt: skip
    report["source"] = source
    manifest.solver = report["solver"]
    return clean({"command": "cameras plan", **report, "manifest": manifest.to_dict()})


def chosen_geojson(report: dict[str, Any]) -> dict[str, Any]:
    """The chosen sites as a GeoJSON layer (as `cameras plan --geojson` writes)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
         "properties": {k: v for k, v in s.items() if k not in ("lat", "lon")}
         | {"layer": "chosen"}}
        for s in report["chosen"]
    ]}  # fmt: skip
