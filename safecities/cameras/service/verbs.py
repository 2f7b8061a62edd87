"""One function per camera command, shared by the CLI, the API routes and the web pages.

Each verb takes the caller's session (and engine where reference data or incidents are read), a
`Caller` and a typed request, and returns a result whose `to_dict()` is the command's `--json`
document (the API answers the same keys). Errors are InputError / NotFound / PermissionDenied.
Cost bounds the API needs (upload size, total solver seconds) are fields of the same requests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safecities.cameras.dbplan import SITE_COLUMNS
from safecities.cameras.service.register import (
    Caller,
    create_camera,
    get_camera,
    list_cameras,
    snapshot,
    state_at,
    update_camera,
)
from safecities.cameras.service.register import counts as _counts
from safecities.cameras.service.register import history as _history
from safecities.domain import Role, RowError
from safecities.errors import KEPT_PROBLEMS, InputError, ProblemLog
from safecities.manifest import RunManifest
from safecities.safeio import upload_name

#: Largest upload (inventory or mapping) the API and the pages accept.
MAX_UPLOAD = 20 * 1024 * 1024


def clean(v: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None, dates to ISO text."""
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


@dataclass
class Result:
    """A command's answer: `to_dict()` is `{"command", **body, "manifest"}` (the --json keys)."""

    command: str
    body: dict[str, Any]
    manifest: RunManifest

    def to_dict(self) -> dict[str, Any]:
        return clean({"command": self.command, **self.body, "manifest": self.manifest.to_dict()})


def _result(command: str, body: dict[str, Any], **params: Any) -> Result:
    return Result(command, body, RunManifest(command=command, parameters=params))


# -- the register ------------------------------------------------------------------------------


def add(db: Session, caller: Caller, municipality: str, fields: dict[str, Any]) -> Result:
    """`cameras add`: one camera (raw field values are validated); history and audit written."""
    cam = snapshot(create_camera(db, caller, municipality, dict(fields)))
    return _result("cameras add", {"camera": cam}, municipality=municipality)


def edit(db: Session, caller: Caller, camera_id: str, changes: dict[str, Any]) -> Result:
    """`cameras edit`: change fields (`municipality` moves the camera)."""
    cam = snapshot(update_camera(db, caller, camera_id, dict(changes)))
    return _result("cameras edit", {"camera": cam}, camera_id=camera_id)


def list_(
    db: Session, caller: Caller, *, municipality: str | None = None, status: str | None = None
) -> Result:
    cams = list_cameras(db, caller, municipality=municipality, status=status)
    return _result("cameras list", {"count": len(cams), "cameras": cams},
                   municipality=municipality, status=status)  # fmt: skip


def counts(db: Session, caller: Caller) -> Result:
    return _result("cameras counts", {"municipalities": _counts(db, caller)})


def parse_moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"--at: not an ISO 8601 date-time: {text!r}") from exc


def show(db: Session, caller: Caller, camera_id: str, at: datetime | str | None = None) -> Result:
    """`cameras show [--at]`: the camera now, or as it was at `at` (None: did not exist yet)."""
    when = parse_moment(at) if isinstance(at, str) else at
    cam = state_at(db, caller, camera_id, when) if when else get_camera(db, caller, camera_id)
    at_text = at if isinstance(at, str) or at is None else at.isoformat()
    return _result("cameras show", {"at": at_text, "camera": cam}, camera_id=camera_id,
                   at=at_text)  # fmt: skip


def history(db: Session, caller: Caller, camera_id: str) -> Result:
    return _result("cameras history", {"camera_id": camera_id,
                                       "changes": _history(db, caller, camera_id)},
                   camera_id=camera_id)  # fmt: skip


# -- imports -----------------------------------------------------------------------------------


@dataclass
class ImportRequest:
    """`cameras import FILE --municipality M [--mapping YAML] [--source S] [--report CSV]`;
    `name` is the name reported (an upload's own file name rather than the temporary path);
    `source` names the id namespace (`<NIS>-<source>-<id in the file>`; default: the file
    name's stem). A refused file keeps its first `keep` problems in memory and writes every one
    to `report` (errors.csv) as rows are validated."""

    file: Path
    municipality: str
    mapping: Path | None = None
    name: str | None = None
    source: str | None = None
    report: Path | None = None
    keep: int = KEPT_PROBLEMS

    def manifest(self) -> RunManifest:
        name = self.name or str(self.file)
        m = RunManifest(command="cameras import",
                        parameters={"municipality": self.municipality, "file": name,
                                    "source": self.source})  # fmt: skip
        for key, path in (("file", self.file), ("mapping", self.mapping)):
            if path is not None and Path(path).is_file():
                m.add_input_file(key, path)
        return m


def import_file(db: Session, caller: Caller, req: ImportRequest) -> Result:
    """All-or-nothing in `db`'s transaction (the caller commits): InputError with every row
    problem, or PermissionDenied, before anything is written."""
    from safecities.cameras import importers

    name = req.name or Path(req.file).name
    with ProblemLog(req.report, keep=req.keep, file_name=name) as log:
        try:
            report, found = importers.import_cameras(
                db, caller, req.file, req.municipality, req.mapping, source=req.source,
                name=req.name, problems=log,
            )  # fmt: skip
        except InputError as exc:
            if not log:  # refused as a whole (columns, mapping, municipality): one report line
                log.extend(exc.errors or [RowError(name, 0, "file", str(exc))])
            raise
    body = {"file": report.file,
            "source": importers.source_name(req.source or Path(report.file).stem),
            "rows_read": report.rows_read, "written": report.inserted + report.updated,
            "created": report.inserted, "unchanged": report.unchanged,
            "updated": report.changes, "errors": [],
            "duplicate_candidates": found}  # fmt: skip
    return Result("cameras import", body, req.manifest())


def import_error(req: ImportRequest, exc: InputError) -> Result:
    """The `--json` document of a refused import: the same keys as a success, nothing written,
    `errors` listing the first problems of the file (`errors_total` of them in all, counted per
    field and reason in `error_counts`; every one in the `--report` file)."""
    name = req.name or Path(req.file).name
    errors = error_rows(exc, name)
    body = {"file": name, "source": req.source, "rows_read": 0, "written": 0, "created": 0,
            "unchanged": 0, "updated": [], "errors": errors,
            "errors_total": max(exc.errors_total, len(errors)), "error_counts": exc.counts,
            "duplicate_candidates": [], "error": str(exc)}  # fmt: skip
    return Result("cameras import", body, req.manifest())


def import_upload(
    db: Session, caller: Caller, name: str, data: bytes, municipality: str,
    mapping: bytes | None = None, *, max_bytes: int = MAX_UPLOAD, source: str | None = None,
    report: Path | None = None, keep: int = KEPT_PROBLEMS,
) -> Result:  # fmt: skip
    """`import_file` on uploaded bytes (API and web form), refusing more than `max_bytes`;
    `report`/`keep` as in ImportRequest (the API's `?report=csv`, its 50 listed problems)."""
    name = upload_name(name)  # a plain file name: it becomes a path in the temporary folder
    if len(data) > max_bytes or (mapping is not None and len(mapping) > max_bytes):
        raise InputError(f"{name}: larger than {max_bytes // (1024 * 1024)} MB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        map_path = None
        if mapping is not None:
            map_path = Path(tmp) / "mapping.yaml"
            map_path.write_bytes(mapping)
        req = ImportRequest(path, municipality, map_path, name=name, source=source,
                            report=report, keep=keep)  # fmt: skip
        return import_file(db, caller, req)


def error_rows(exc: InputError, name: str) -> list[dict[str, Any]]:
    """Row-level errors of an InputError as JSON rows (one row with the message if none)."""
    rows = [
        {"file": Path(str(e.file)).name, "row": e.row, "field": e.field, "reason": e.reason,
         "value": None if e.value is None else str(e.value)}
        for e in exc.errors
    ]  # fmt: skip
    return rows or [{"file": name, "row": 0, "field": "", "reason": str(exc), "value": None}]


# -- duplicates --------------------------------------------------------------------------------


def describe_duplicate(d: dict[str, Any]) -> str:
    """One line of a duplicate candidate as the caller may see it."""
    if d.get("camera_b") is None:
        return f"{d['camera_a']}: {d['reasons'][0]}"
    return f"{d['camera_a']} ~ {d['camera_b']} ({', '.join(d['reasons'])})"


def duplicates_list(db: Session, caller: Caller, status: str | None = "candidate") -> Result:
    from safecities.cameras import duplicates

    rows = duplicates.list_duplicates(db, caller, status)
    return _result("cameras duplicates list", {"duplicates": rows}, status=status or "all")


def duplicates_confirm(db: Session, caller: Caller, dup_id: int, keep: str | None = None) -> Result:
    from safecities.cameras import duplicates

    d = duplicates.confirm(db, caller, dup_id, keep)
    return _result("cameras duplicates confirm", {"duplicate": d}, id=dup_id)


def duplicates_reject(db: Session, caller: Caller, dup_id: int) -> Result:
    from safecities.cameras import duplicates

    d = duplicates.reject(db, caller, dup_id)
    return _result("cameras duplicates reject", {"duplicate": d}, id=dup_id)


# -- coverage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRequest:
    """`cameras coverage` options. `hotspot_cells=False` leaves the hotspot-cell map features
    out (roles without hotspot access); the share figure stays."""

    risk: Path | None = None
    cell: float = 200.0
    station_radius: float = 100.0
    default_range: float = 50.0
    connected_only: bool = False
    hotspot_cells: bool = True


@dataclass
class CoverageResult:
    tables: dict[str, Any]
    layers: dict[str, Any]
    scope: dict[str, Any]
    manifest: RunManifest

    def to_dict(self, *, layers: bool = False) -> dict[str, Any]:
        """The `--json` document; `layers=True` adds the map `layers` and the `scope` (API)."""
        extra = {"layers": self.layers, "scope": self.scope} if layers else {}
        return clean({"command": "cameras coverage", **self.tables, **extra,
                      "manifest": self.manifest.to_dict()})  # fmt: skip


def coverage(db: Session, engine, caller: Caller, req: CoverageRequest) -> CoverageResult:
    """Coverage today. Only the cameras the caller may see count; for a camera operator the
    municipality, zone and station tables and the summary are those of their municipality."""
    from safecities.cameras import coverage as cov

    inp = cov.inputs_from_register(db, engine, caller, risk=req.risk, cell_m=req.cell,
                                   connected_only=req.connected_only)  # fmt: skip
    res = cov.compute(inp, station_radius=req.station_radius, default_range=req.default_range)
    manifest = RunManifest(command="cameras coverage", parameters={
        "cell": req.cell, "station_radius": req.station_radius, "range": req.default_range,
        "connected_only": req.connected_only, "role": str(caller.role)})  # fmt: skip
    if req.risk is not None:
        manifest.add_input_file("risk", req.risk)
    layers = res.pop("_layers")
    if not req.hotspot_cells:
        layers = {
            **layers,
            "features": [
                f for f in layers["features"] if f["properties"]["layer"] != "hotspot_cells"
            ],
        }
    scope = caller.municipality if caller.role is Role.CAMERA_OPERATOR else None
    if scope:
        for table in ("municipalities", "zones", "stations"):
            res[table] = [r for r in res[table] if r["municipality"] == scope]
        # The summary of the operator's own municipality, as their table says (it said
        # "11 / 105 stations, 0.1 %" city-wide next to "11 / 12, 0.4 %" in the table).
        own = res["municipalities"][0] if res["municipalities"] else {}
        res["summary"] |= {
            "hotspot_cells": own.get("hotspot_cells", 0), "hotspot_share": own.get("hotspot_share"),
            "stations": own.get("stations", 0), "stations_covered": own.get("stations_covered", 0),
            "station_share": own.get("station_share"), "municipality": scope}  # fmt: skip
    return CoverageResult(res, layers, {"municipality": scope, "hotspot_cells": req.hotspot_cells},
                          manifest)  # fmt: skip


# -- planner -----------------------------------------------------------------------------------

DEMAND_COLUMNS = ("demand_id", "lat", "lon", "weight")
MUNICIPAL_COLUMNS = ("municipality", "budget", "share", "capacity")


@dataclass
class PlanRequest:
    """`cameras plan` options. `candidates`/`demand`: a file, rows (the API's JSON body) or None
    (from the database). `total_seconds` bounds the solver time of the whole call: the
    per-solve limit is cut so that 1 + alternatives + curve points solves fit in it."""

    budget: float
    radius: float = 150.0
    alternatives: int = 0
    share: float = 0.95
    min_difference: float = 0.25
    curve_steps: int = 5
    time_limit: float = 300.0
    candidates: Path | list[dict[str, Any]] | None = None
    demand: Path | list[dict[str, Any]] | None = None
    total_seconds: float | None = None
    ignore_register: bool = False
    municipal_budgets: Path | list[dict[str, Any]] | None = None
    years: int = 0
    city: str | None = "brussels"  # database inputs: a bundled city, None = every city

    @property
    def solves(self) -> int:
        return 1 + self.alternatives + self.curve_steps

    def effective_time_limit(self) -> float:
        if self.total_seconds is None:
            return float(self.time_limit)
        return min(float(self.time_limit), self.total_seconds / self.solves)


def _rows_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue().encode()


def _plan_input(value, name: str, columns, reader, manifest: RunManifest, tmp: Path):
    """(DataFrame, origin) of one planner input given as a file or as rows; (None, None)."""
    if value is None:
        return None, None
    if isinstance(value, list):
        data = _rows_csv(value, columns)
        path = tmp / f"{name}.csv"
        path.write_bytes(data)
        manifest.add_input_bytes(name, data)
        return reader(path), "request"
    manifest.add_input_file(name, value)
    return reader(value), "files"


def plan(db: Session | None, engine, req: PlanRequest, *, on_step=None) -> Result:
    """`cameras plan`: choose sites within the budget; inputs not given come from the database
    (`db` and `engine`)."""
    from safecities.cameras import dbplan, planning
    from safecities.cameras.planner import HighsSolver

    if req.budget < 0:
        raise InputError(f"--budget must be >= 0, got {req.budget}")
    time_limit = req.effective_time_limit()
    manifest = RunManifest(command="cameras plan", parameters={
        "budget": req.budget, "radius": req.radius, "alternatives": req.alternatives,
        "share": req.share, "min_difference": req.min_difference,
        "curve_steps": req.curve_steps, "time_limit": time_limit,
        "ignore_register": req.ignore_register, "years": req.years,
        "city": req.city})  # fmt: skip
    if req.years < 0 or req.years > 50:
        raise InputError(f"--years must be between 0 and 50, got {req.years}")
    if req.min_difference <= 0:
        raise InputError(f"--min-difference must be > 0, got {req.min_difference}")
    with tempfile.TemporaryDirectory() as tmp:
        cand, c_from = _plan_input(req.candidates, "candidates", SITE_COLUMNS,
                                   planning.read_candidates, manifest, Path(tmp))  # fmt: skip
        dem, d_from = _plan_input(req.demand, "demand", DEMAND_COLUMNS, planning.read_demand,
                                  manifest, Path(tmp))  # fmt: skip
        muni, _ = _plan_input(req.municipal_budgets, "municipal_budgets", MUNICIPAL_COLUMNS,
                              planning.read_municipal, manifest, Path(tmp))  # fmt: skip
    n_register = 0
    if cand is None:
        cand = dbplan.candidates_from_db(db, engine, req.city)
        n_register = int((cand["existing"] == "connected").sum())
    elif not req.ignore_register:
        cand, n_register = dbplan.with_register(db, cand)
    if dem is None:
        dem = dbplan.demand_from_reference(engine, req.city)
    origin = c_from or d_from
    source = "database" if origin is None else origin if c_from and d_from \
        else f"{origin}+database"  # fmt: skip
    if cand.empty or dem.empty:
        raise InputError("no candidate sites or no demand points to plan with")
    solver = HighsSolver(time_limit=time_limit)
    report = planning.plan(
        planning.PlanInputs(cand, dem, float(req.radius), muni, int(req.years)),
        float(req.budget),
        alternatives=req.alternatives, share=req.share, min_difference=req.min_difference,
        curve_steps=req.curve_steps, solver=solver, on_step=on_step,
    )  # fmt: skip
    report["source"] = source
    report["register"] = {"included": c_from is None or not req.ignore_register,
                          "connected_cameras": n_register}  # fmt: skip
    manifest.solver = report["solver"]
    return Result("cameras plan", report, manifest)


class PlanRunning(Exception):
    """The planner is still running (the API answers 202: ask again for the same request)."""


class PlanBusy(Exception):
    """Too many planner runs queued (the API answers 429)."""


_JOBS: dict[tuple, Future] = {}
_JOBS_LOCK = threading.Lock()
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cameras-plan")
MAX_QUEUED = 3


def plan_in_background(engine, req: PlanRequest, data_version: int, *, wait: float) -> dict:
    """`plan(...).to_dict()` run in one background worker, so a request never blocks longer
    than `wait` seconds: PlanRunning when not done by then (the same call later returns the
    result); the same request on the same data answers the same document."""
    key = (json.dumps(asdict(req), sort_keys=True, default=str), str(engine.url), data_version)
    with _JOBS_LOCK:
        job = _JOBS.get(key)
        if job is None:
            if sum(not j.done() for j in _JOBS.values()) >= MAX_QUEUED:
                raise PlanBusy("the camera planner is busy; try again in a minute")
            for k in [k for k, j in _JOBS.items() if j.done() and k[2] != data_version]:
                del _JOBS[k]  # older data versions
            job = _JOBS[key] = _POOL.submit(_plan_in_session, engine, req)
    try:
        return job.result(timeout=wait)
    except FutureTimeout:
        msg = "the camera planner is still running; send the same request again"
        raise PlanRunning(msg) from None
    except Exception:
        with _JOBS_LOCK:
            _JOBS.pop(key, None)
        raise


def _plan_in_session(engine, req: PlanRequest) -> dict[str, Any]:
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        return plan(s, engine, req).to_dict()


def chosen_geojson(report: dict[str, Any]) -> dict[str, Any]:
    """The chosen sites as a GeoJSON layer (as `cameras plan --geojson` writes)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
         "properties": {k: v for k, v in s.items() if k not in ("lat", "lon")}
         | {"layer": "chosen"}}
        for s in report["chosen"]
    ]}  # fmt: skip


def camera_geojson(cams: list[dict[str, Any]]) -> dict[str, Any]:
    """Cameras as GeoJSON points (map layer)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
         "properties": {k: v for k, v in c.items() if k not in ("lat", "lon")}}
        for c in cams if c.get("lat") is not None and c.get("lon") is not None
    ]}  # fmt: skip
