"""Register services: every read and write of cameras goes through here, scoped to the caller.

Access (enforced in these functions, not in the CLI or the web page):

* camera_operator: reads and edits only the cameras of its own municipality;
* police_commander, planner, analyst, ministerial_staff: read every camera;
* admin: reads and edits every camera;
* auditor: reads every camera and every history;
* any other role: only the number of cameras per municipality (`counts`), never positions.

Every write appends one `camera_history` row (who, when, before, after) and one audit event in
the same transaction; `state_at` rebuilds a camera as it was at any moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.cameras.models import Camera, CameraHistory, CameraStatus
from safecities.cameras.schema import EDITABLE, norm, parse_record
from safecities.domain import BELGIAN_LAMBERT_2008, Role, RowError
from safecities.errors import InputError, NotFound, PermissionDenied
from safecities.store import audit

READ_ALL = {Role.POLICE_COMMANDER, Role.PLANNER, Role.ANALYST, Role.MINISTERIAL_STAFF,
            Role.ADMIN, Role.AUDITOR}  # fmt: skip
WRITE_ALL = {Role.ADMIN}
HISTORY_ALL = {Role.AUDITOR, Role.ADMIN}

MSG = {
    "no_municipality": "role camera_operator needs a municipality (--as-municipality)",
    "counts_only": "role {role} may only see camera counts per municipality",
    "other_municipality": "{user} ({role}, {muni}) may not {verb} cameras of another municipality",
    # By camera id: the same answer whether the camera is another municipality's or does not
    # exist, so an operator cannot probe for other municipalities' ids (issue 17, no leaks).
    "not_own": "{user} ({role}, {muni}) may not {verb} this camera: not a camera of"
    " municipality {muni}",
    "outside": "position is not inside municipality {nis} ({name}): more than {tol:g} m outside"
    " its border",
    "bad_id": "camera id {id!r} is not allowed: ids are '<NIS>-<letters, digits, _ . ->'"
    " (at most 80 characters)",
    "foreign_id": "the camera id lies in the namespace of municipality {other}: cameras of"
    " municipality {muni} have ids starting with '{muni}-'",
    "no_write": "role {role} may not change the camera register",
    "no_history": "role {role} may not read camera history",
    "unknown_municipality": "unknown municipality {value!r}"
    " (give a NIS code or a Dutch/French name)",
    "not_found": "no camera {id!r} in the register",
    "exists": "camera {id!r} already exists",
}


@dataclass(frozen=True)
class Caller:
    """Who is asking: a user name, a role and (for camera operators) a municipality NIS code."""

    user: str
    role: Role
    municipality: str | None = None

    @classmethod
    def of(cls, user: str, role: str | Role, municipality: str | None = None) -> Caller:
        try:
            r = Role(role)
        except ValueError as exc:
            raise InputError(f"unknown role {role!r}; known: {', '.join(Role)}") from exc
        nis = resolve_municipality(municipality) if municipality else None
        if r is Role.CAMERA_OPERATOR and nis is None:
            raise PermissionDenied(MSG["no_municipality"])
        return cls(user, r, nis)


_MUNI_CACHE: dict[str, str] = {}


def municipality_names() -> dict[str, tuple[str, str]]:
    from safecities.register import reference

    m = reference.municipalities(None)
    return {r["nis"]: (r["name_nl"], r["name_fr"]) for _, r in m.iterrows()}


def resolve_municipality(value: str) -> str:
    """NIS code, Dutch or French name (case and accents ignored) -> NIS code."""
    if not _MUNI_CACHE:
        for nis, (nl, fr) in municipality_names().items():
            for key in (nis, nl, fr):
                _MUNI_CACHE[norm(key)] = nis
    nis = _MUNI_CACHE.get(norm(value))
    if nis is None:
        raise InputError(MSG["unknown_municipality"].format(value=value))
    return nis


# -- positions and ids ---------------------------------------------------------------------------

#: A camera may stand this far outside its municipality's bundled border (digitising error of
#: the boundary, a camera on the far pavement of a border street).
BORDER_TOLERANCE_M = 25.0
_AREAS: dict[str, Any] = {}


def _areas() -> dict[str, Any]:
    """Municipality polygons in EPSG:3812, grown by the border tolerance and prepared."""
    if not _AREAS:
        import shapely

        from safecities.register import reference

        m = reference.municipalities(None).to_crs(BELGIAN_LAMBERT_2008)
        for nis, geom in zip(m["nis"], m.geometry, strict=True):
            area = geom.buffer(BORDER_TOLERANCE_M)
            shapely.prepare(area)
            _AREAS[str(nis)] = area
    return _AREAS


def outside_municipality(nis: str, lat, lon) -> np.ndarray:
    """True where a position lies more than BORDER_TOLERANCE_M outside municipality `nis`."""
    import shapely

    from safecities.geo import to_metres

    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    area = _areas().get(nis)
    if area is None:  # no bundled boundary: only "inside Belgium" (schema.py) applies
        return np.zeros(len(lat), bool)
    x, y = to_metres(lon, lat)
    return ~shapely.contains_xy(area, x, y)


def position_error(nis: str, lat: float, lon: float, file: str, row: int) -> RowError | None:
    if not outside_municipality(nis, lat, lon)[0]:
        return None
    name = municipality_names().get(nis, (nis,))[0]
    reason = MSG["outside"].format(nis=nis, name=name, tol=BORDER_TOLERANCE_M)
    return RowError(file, row, "lat", reason, f"{lat}, {lon}")


#: Every camera id: `<NIS>-<local part>`; no `/`, spaces, quotes or markup (ids end up in URLs,
#: file names and HTML).
ID_PATTERN = re.compile(r"^[0-9]{5}-[A-Za-z0-9][A-Za-z0-9_.-]{0,73}$")


def manual_id(muni: str, given: Any) -> str | None:
    """The register id of a camera added by hand: `<NIS>-<given>` (a given `<NIS>-` prefix of
    the camera's own municipality is kept). A prefix of another municipality is refused: no
    caller can create an id in another municipality's namespace (issue 18, M1)."""
    if given is None or str(given).strip() == "":
        return None
    text = str(given).strip()
    m = re.match(r"^([0-9]{5})-", text)
    if m and m.group(1) != muni:
        raise InputError(
            MSG["foreign_id"].format(id=text, other=m.group(1), muni=muni),
            [RowError("input", 1, "id", "another municipality's namespace")],
        )
    cid = text if m else f"{muni}-{text}"
    if not ID_PATTERN.match(cid):
        raise InputError(MSG["bad_id"].format(id=text),
                         [RowError("input", 1, "id", "not an allowed id", text)])  # fmt: skip
    return cid


# -- access checks -----------------------------------------------------------------------------


def _can_read_positions(caller: Caller) -> bool:
    return caller.role in READ_ALL or caller.role is Role.CAMERA_OPERATOR


def _check(caller: Caller, muni: str, everyone: set[Role], verb: str, refusal: str) -> None:
    """Roles in `everyone` pass; an operator passes for their own municipality only (refused
    with `verb` otherwise); any other role is refused with `refusal`."""
    if caller.role in everyone:
        return
    if caller.role is Role.CAMERA_OPERATOR:
        if muni != caller.municipality:
            raise PermissionDenied(_other(caller, muni, verb))
        return
    raise PermissionDenied(MSG[refusal].format(role=caller.role))


def _check_read(caller: Caller, muni: str) -> None:
    _check(caller, muni, READ_ALL, "read", "counts_only")


def _check_write(caller: Caller, muni: str) -> None:
    _check(caller, muni, WRITE_ALL, "change", "no_write")


def _check_history(caller: Caller, muni: str) -> None:
    _check(caller, muni, HISTORY_ALL, "read the history of", "no_history")


def _other(caller: Caller, muni: str, verb: str) -> str:
    return MSG["other_municipality"].format(
        user=caller.user, role=caller.role, muni=caller.municipality, verb=verb, other=muni
    )


# -- records ------------------------------------------------------------------------------------

COLUMNS = ("id", "municipality_id", *EDITABLE, "source", "source_ref", "version")


def snapshot(cam: Camera) -> dict[str, Any]:
    out = {}
    for c in COLUMNS:
        v = getattr(cam, c)
        out[c] = v.isoformat() if isinstance(v, date | datetime) else v
    return out


def _now() -> datetime:
    return datetime.now(UTC)


def _write_history(session, caller, cam_id, muni, version, action, before, after, at) -> None:
    session.add(CameraHistory(camera_id=cam_id, municipality_id=muni, version=version, at=at,
                              actor=caller.user, role=str(caller.role), action=action,
                              before=before, after=after))  # fmt: skip
    audit.record(session, actor=caller.user, action=f"camera.{action}", entity="camera",
                 entity_id=cam_id, before=before, after=after)  # fmt: skip


DEFAULTS = {"place_kind": "open_place", "mobility": "fixed", "intelligent": False,
            "live_viewing": False, "pictogram": False, "status": CameraStatus.ACTIVE.value,
            "connected": False}  # fmt: skip


def create_camera(
    session: Session, caller: Caller, municipality: str, data: dict[str, Any], *,
    source: str | None = None, source_ref: str | None = None, action: str = "create",
    validated: bool = False, at: datetime | None = None,
) -> Camera:  # fmt: skip
    """Add one camera (data by field name, raw strings are validated) and log it."""
    muni = resolve_municipality(municipality)
    _check_write(caller, muni)
    if not validated:
        data, errors = parse_record(data, "input", 1)
        if errors:
            raise InputError(str(errors[0]), errors)
    if validated:  # an importer's record: its id is minted and checked there
        cam_id = data["id"]
    else:
        cam_id = manual_id(muni, data.get("id")) or _next_id(session, muni)
        err = position_error(muni, data["lat"], data["lon"], "input", 1)
        if err:
            raise InputError(str(err), [err])
    if not ID_PATTERN.match(cam_id):
        raise InputError(MSG["bad_id"].format(id=cam_id))
    if session.get(Camera, cam_id) is not None:
        raise InputError(MSG["exists"].format(id=cam_id))
    names = municipality_names()
    values = {**DEFAULTS, **{k: v for k, v in data.items() if k != "id" and v is not None}}
    values.setdefault("controller", names.get(muni, (muni,))[0])
    at = at or _now()
    cam = Camera(id=cam_id, municipality_id=muni, source=source, source_ref=source_ref,
                 version=1, updated_at=at, updated_by=caller.user, **values)  # fmt: skip
    session.add(cam)
    session.flush()
    _write_history(session, caller, cam_id, muni, 1, action, None, snapshot(cam), at)
    return cam


def _next_id(session: Session, muni: str) -> str:
    n = session.execute(
        select(func.count()).select_from(Camera).where(Camera.municipality_id == muni)
    ).scalar_one()
    while True:
        n += 1
        cid = f"{muni}-{n:05d}"
        if session.get(Camera, cid) is None:
            return cid


def update_camera(
    session: Session, caller: Caller, cam_id: str, changes: dict[str, Any], *,
    action: str = "update", validated: bool = False, at: datetime | None = None,
) -> Camera:  # fmt: skip
    cam = _get_for(session, caller, cam_id, "change")
    _check_write(caller, cam.municipality_id)
    new_muni = changes.pop("municipality", None)
    if not validated:
        changes, errors = parse_record(changes, "input", 1, partial=True)
        if errors:
            raise InputError(str(errors[0]), errors)
    changes.pop("id", None)
    if new_muni:
        nis = resolve_municipality(new_muni)
        _check_write(caller, nis)
        changes["municipality_id"] = nis
    moved = {"lat", "lon", "municipality_id"} & set(changes)
    if moved:  # adds, edits and moves: the position must lie inside the (new) municipality
        muni = changes.get("municipality_id", cam.municipality_id)
        lat, lon = changes.get("lat", cam.lat), changes.get("lon", cam.lon)
        err = position_error(muni, lat, lon, "input", 1)
        if err:
            raise InputError(str(err), [err])
    before = snapshot(cam)
    for k, v in changes.items():
        setattr(cam, k, v)
    if snapshot(cam) == before:
        return cam
    at = at or _now()
    cam.version += 1
    cam.updated_at = at
    cam.updated_by = caller.user
    session.flush()
    _write_history(session, caller, cam.id, cam.municipality_id, cam.version, action,
                   before, snapshot(cam), at)  # fmt: skip
    return cam


def _get_for(session: Session, caller: Caller, cam_id: str, verb: str) -> Camera:
    """The camera `cam_id`; an operator gets one answer for another municipality's camera and
    for no camera at all (PermissionDenied naming only their own municipality)."""
    cam = session.get(Camera, cam_id)
    if caller.role is Role.CAMERA_OPERATOR and (
        cam is None or cam.municipality_id != caller.municipality
    ):
        raise PermissionDenied(MSG["not_own"].format(user=caller.user, role=caller.role,
                                                     muni=caller.municipality, verb=verb,
                                                     id=cam_id))  # fmt: skip
    if cam is None:
        if not _can_read_positions(caller):
            raise PermissionDenied(MSG["counts_only"].format(role=caller.role))
        raise NotFound(MSG["not_found"].format(id=cam_id))
    return cam


def get_camera(session: Session, caller: Caller, cam_id: str) -> dict[str, Any]:
    cam = _get_for(session, caller, cam_id, "read")
    _check_read(caller, cam.municipality_id)
    return snapshot(cam)


def list_cameras(
    session: Session, caller: Caller, *, municipality: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Cameras the caller may see (operators: their municipality only)."""
    if not _can_read_positions(caller):
        raise PermissionDenied(MSG["counts_only"].format(role=caller.role))
    q = select(Camera).order_by(Camera.id)
    if caller.role is Role.CAMERA_OPERATOR:
        if municipality and resolve_municipality(municipality) != caller.municipality:
            raise PermissionDenied(_other(caller, resolve_municipality(municipality), "read"))
        q = q.where(Camera.municipality_id == caller.municipality)
    elif municipality:
        q = q.where(Camera.municipality_id == resolve_municipality(municipality))
    if status:
        q = q.where(Camera.status == status)
    return [snapshot(c) for c in session.execute(q).scalars()]


def counts(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """Cameras per municipality and status: open to every role (no positions)."""
    rows = session.execute(
        select(Camera.municipality_id, Camera.status, func.count())
        .group_by(Camera.municipality_id, Camera.status)
        .order_by(Camera.municipality_id)
    ).all()
    names = municipality_names()
    out: dict[str, dict[str, Any]] = {}
    for muni, status, n in rows:
        rec = out.setdefault(muni, {"municipality": muni, "name_nl": names.get(muni, ("", ""))[0],
                                    "name_fr": names.get(muni, ("", ""))[1], "total": 0,
                                    **{s.value: 0 for s in CameraStatus}})  # fmt: skip
        rec[status] = rec.get(status, 0) + int(n)
        rec["total"] += int(n)
    return list(out.values())


def history(session: Session, caller: Caller, cam_id: str) -> list[dict[str, Any]]:
    if caller.role is Role.CAMERA_OPERATOR:
        _get_for(session, caller, cam_id, "read the history of")
    rows = list(
        session.execute(
            select(CameraHistory).where(CameraHistory.camera_id == cam_id)
            .order_by(CameraHistory.at, CameraHistory.id)
        ).scalars()
    )  # fmt: skip
    if not rows:
        raise NotFound(MSG["not_found"].format(id=cam_id))
    for muni in {r.municipality_id for r in rows}:
        _check_history(caller, muni)
    return [
        {"version": r.version, "at": r.at.isoformat(), "actor": r.actor, "role": r.role,
         "action": r.action, "before": r.before, "after": r.after,
         "changed": sorted(k for k in set(r.before or {}) | set(r.after or {})
                           if (r.before or {}).get(k) != (r.after or {}).get(k))}
        for r in rows
    ]  # fmt: skip


def state_at(session: Session, caller: Caller, cam_id: str, at: datetime) -> dict[str, Any] | None:
    """The camera as it was at `at` (None when it did not exist yet)."""
    if at.tzinfo is None:
        raise InputError("--at needs a timezone (e.g. 2025-03-01T12:00+01:00)")
    hist = history(session, caller, cam_id)
    state = None
    for h in hist:
        if datetime.fromisoformat(h["at"]) <= at:
            state = h["after"]
    return state
