"""Thin adapters to safecities.patrols for the API and web: protocol governance and plans made
with the bundled (or an approved) protocol, stored as CSV under <var_dir>/plans/."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from safecities.errors import InputError, NotFound
from safecities.safeio import safe_frame

MAX_DAYS = 14
MAX_TIME_LIMIT = 60.0
_NAME = re.compile(r"^plan-[0-9A-Za-z_.-]{1,80}\.csv$")


def plans_dir() -> Path:
    from safecities.config import get_settings

    d = get_settings().var_dir / "plans"
    d.mkdir(parents=True, exist_ok=True)
    return d


def protocol_path() -> Path:
    from safecities.patrols.protocol import bundled_protocol_path

    return bundled_protocol_path()


def plan_file(name: str) -> Path:
    if not _NAME.match(name):
        raise NotFound(f"no plan {name!r}")
    path = plans_dir() / name
    if not path.exists():
        raise NotFound(f"no plan {name!r}")
    return path


def list_plans() -> list[dict[str, Any]]:
    out = []
    for p in sorted(plans_dir().glob("plan-*.csv"), reverse=True):
        out.append(
            {
                "name": p.name,
                "bytes": p.stat().st_size,
                "created_at": datetime.fromtimestamp(p.stat().st_mtime).isoformat(),
            }
        )
    return out


def plan_protocol_path(name: str) -> Path:
    """The protocol a saved plan was made under: its sidecar document (plans made under a stored
    protocol, e.g. another city's), else the bundled protocol."""
    side = plans_dir() / f"{name}.protocol.json"
    return side if side.exists() else protocol_path()


def register_risk(engine: Engine, city: str, out: Path) -> Path | None:
    """The hotspot risk profile of the register's incidents per named zone, weekday and hour
    (`safecities hotspots profile --from-db --out FILE`), written to `out`; None when the city
    has no incidents yet."""
    from safecities.hotspots.events import collapse_incidents, events_from_db
    from safecities.hotspots.profile import load_zones, zone_profiles
    from safecities.hotspots.service import events_tz

    try:
        df, _ = collapse_incidents(events_from_db(engine, city=city))
    except InputError:  # the register has no incidents for this city yet
        return None
    if len(df) == 0:
        return None
    prof = zone_profiles(df, load_zones(None, city, engine=engine), tz=events_tz(df))
    safe_frame(prof).to_csv(out, index=False)
    return out


def make(
    engine: Engine,
    *,
    first: date,
    last: date,
    seed: int = 0,
    time_limit: float = 30.0,
    protocol_id: int | None = None,
    risk: str = "register",
) -> dict[str, Any]:
    """Plan [first, last] under the bundled protocol, or under the stored protocol `protocol_id`
    (another city's); either must be active (approved by Interior and by Defence). `risk`
    "register" weighs zones and hours by the hotspot profile of the register's incidents (the
    protocol's default profile when the city has none); "default" uses that default profile."""
    import json
    import tempfile

    from safecities.patrols.governance import require_active
    from safecities.patrols.models import PatrolProtocol
    from safecities.patrols.protocol import load_protocol, load_protocol_document, read_document
    from safecities.patrols.service import make_plan
    from safecities.store.db import session_scope

    if last < first:
        raise InputError("to: must not be before from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(f"plan at most {MAX_DAYS} days from the web (use the CLI for more)")
    side = None
    if protocol_id is None:
        path = protocol_path()
        proto = load_protocol(path)
        doc = read_document(path)[0]
    else:
        with session_scope(engine) as s:
            row = s.get(PatrolProtocol, protocol_id)
            if row is None:
                raise NotFound(f"no protocol request with id {protocol_id}")
            doc = dict(row.document)
        proto = load_protocol_document(doc, source=f"protocol #{protocol_id}")
    with session_scope(engine) as s:
        active = require_active(s, doc)
    if protocol_id is None:
        name = f"plan-{proto.city}-{first.isoformat()}-{last.isoformat()}-s{seed}.csv"
    else:
        name = (
            f"plan-{proto.city}-p{protocol_id}-{first.isoformat()}-{last.isoformat()}-s{seed}.csv"
        )
        side = plans_dir() / f"{name}.protocol.json"
        side.write_text(json.dumps(doc, default=str, indent=1), encoding="utf-8")
        path = side
    out = plans_dir() / name
    try:
        with tempfile.TemporaryDirectory() as tmp:
            risk_path = None
            if risk == "register":
                risk_path = register_risk(engine, proto.city, Path(tmp) / "risk.csv")
            result, check = make_plan(
                proto,
                path,
                first,
                last,
                out,
                risk_path=risk_path,
                seed=seed,
                time_limit=min(time_limit, MAX_TIME_LIMIT),
                workers=1,
            )
    except BaseException:
        if side is not None and not out.exists():
            side.unlink(missing_ok=True)
        raise
    notes = [n.replace(str(risk_path), "the register's hotspot profile") for n in result.notes]
    if risk == "register" and risk_path is None:
        notes.append(f"no incidents recorded for {proto.city}: the default profile was used")
    return {
        "name": name,
        "city": proto.city,
        "protocol_id": active["id"],
        "protocol_version": proto.version,
        "from": first,
        "to": last,
        "rows": len(result.rows),
        "status": result.status,
        "objective": round(result.objective, 4),
        "gap": round(result.gap, 6),
        "check": {"ok": check["ok"], "violation_count": check["violation_count"]},
        "risk": "register" if risk == "register" and risk_path is not None else "default",
        "notes": notes,
        "command_posts": [p.id for p in proto.command_posts],
    }


def briefing(name: str, post: str, day: date) -> str:
    from safecities.patrols.export import briefing_html

    proto, df = _plan_frame(name, post)
    return briefing_html(df, post, day, proto, name)


def _uploaded(data: bytes, filename: str, tmp: str) -> tuple[Path, str]:
    name = Path(filename or "protocol.yaml").name or "protocol.yaml"
    if Path(name).suffix.lower() not in (".yaml", ".yml", ".json"):
        name += ".yaml"
    path = Path(tmp) / name
    path.write_bytes(data)
    return path, name


def validate_upload(data: bytes, filename: str) -> dict[str, Any]:
    """`protocol validate` on an uploaded document: every schema and cross-reference error."""
    import tempfile

    from safecities.patrols.protocol import read_document, validate_document

    with tempfile.TemporaryDirectory() as tmp:
        path, name = _uploaded(data, filename, tmp)
        try:
            doc, _ = read_document(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None
    issues = validate_document(doc)
    return {
        "file": name,
        "valid": not issues,
        "city": doc.get("city"),
        "version": None if doc.get("version") is None else str(doc.get("version")),
        "errors": [i.to_dict() for i in issues],
    }


def request_upload(session, data: bytes, filename: str, *, reason: str, actor: str):
    """`protocol request` with an uploaded document (e.g. Antwerp's): awaits both approvals."""
    import tempfile

    from safecities.patrols.governance import request_protocol

    with tempfile.TemporaryDirectory() as tmp:
        path, name = _uploaded(data, filename, tmp)
        try:
            return request_protocol(session, path, reason=reason, actor=actor)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None


def check_upload(data: bytes, filename: str) -> dict[str, Any]:
    """Check an uploaded plan CSV against the bundled protocol: every violation, or ok."""
    import tempfile

    from safecities.patrols.check import check_plan

    name = Path(filename or "plan.csv").name or "plan.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        report = check_plan(path, protocol_path()).to_dict()
    report["file"] = name
    return report


def _plan_protocol(name: str, post: str | None = None):
    """The protocol a saved plan was made under (404 for an unknown plan); `post`, if given,
    must be one of its command posts."""
    from safecities.patrols.protocol import load_protocol

    plan_file(name)
    proto = load_protocol(plan_protocol_path(name))
    if post is not None and post not in {p.id for p in proto.command_posts}:
        raise NotFound(f"no command post {post!r}")
    return proto


def _plan_frame(name: str, post: str | None = None):
    """The plan's rows (and the protocol); `post` must be one of the protocol's command posts."""
    from safecities.patrols.export import read_plan_rows

    proto = _plan_protocol(name, post)
    return proto, read_plan_rows(plan_file(name), proto)


def calendar_ics(name: str, post: str) -> str:
    """The plan of one command post as iCalendar (RFC 5545), as `plan export` writes it."""
    from safecities.patrols.export import ics_for_post

    proto, df = _plan_frame(name, post)
    return ics_for_post(df, post, proto, name)


def briefing_pdf(name: str, post: str, day: date) -> bytes:
    """The printable daily briefing of one command post as PDF, as `plan export` writes it
    (cached per plan file version: rendering takes seconds)."""
    _plan_protocol(name, post)  # 404 for an unknown plan or post, before the cache
    path = plan_file(name)
    return _pdf_cached(str(path), path.stat().st_mtime_ns, post, day)


@lru_cache(maxsize=16)
def _pdf_cached(path: str, _mtime_ns: int, post: str, day: date) -> bytes:
    import tempfile

    from safecities.patrols.export import briefing_data
    from safecities.patrols.export import briefing_pdf as render_pdf

    name = Path(path).name
    proto, df = _plan_frame(name, post)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "briefing.pdf"
        render_pdf(briefing_data(df, post, day, proto), proto, name, out)
        return out.read_bytes()


def export_index(name: str) -> dict[str, Any]:
    """What `plan export` would write for this plan, as download links (one iCalendar per
    command post; an HTML and a PDF briefing per post and day)."""
    from urllib.parse import quote

    _, df = _plan_frame(name)
    posts = sorted(set(df["command_post"]))
    days = sorted(set(df["local"].dt.date))
    base = f"/api/patrols/plans/{quote(name)}"
    return {
        "plan": name,
        "command_posts": posts,
        "days": [d.isoformat() for d in days],
        "files": {
            "ics": [f"{base}/calendar.ics?post={quote(p)}" for p in posts],
            "html": [f"{base}/briefing?post={quote(p)}&day={d}" for d in days for p in posts],
            "pdf": [f"{base}/briefing.pdf?post={quote(p)}&day={d}" for d in days for p in posts],
        },
    }


def check_saved(name: str) -> dict[str, Any]:
    """Independent check of a saved plan against the bundled protocol (cached per file version)."""
    path = plan_file(name)
    proto = plan_protocol_path(name)
    return dict(_check_cached(str(path), path.stat().st_mtime_ns, str(proto)))


@lru_cache(maxsize=32)
def _check_cached(path: str, _mtime_ns: int, protocol: str) -> dict[str, Any]:
    from safecities.patrols.check import check_plan

    report = check_plan(path, protocol).to_dict()
    report["file"] = Path(path).name
    return report


def calendar(name: str, post: str | None = None) -> dict[str, Any]:
    """The plan of one command post (default: the first post the plan has rows for) as a
    calendar: per local day and hour, the patrol visits (mixed / police-only), FIPA slots, the
    most soldiers present at once in the post's zones, the liaison on duty, and the protocol
    violations touching that hour (from the independent checker: a violation of one of the
    post's zones, or of a city-wide rule such as the cap)."""
    proto, df = _plan_frame(name, post)
    if post is None:
        present = sorted(set(df["command_post"]))
        post = present[0] if present else proto.command_posts[0].id
    zone_ids = [z.id for z in proto.zones if z.command_post == post]
    sub = df[df["command_post"] == post]
    check = check_saved(name)
    units = {
        u for col in ("police_units", "soldier_units") for x in sub[col] for u in x.split(";") if u
    }

    def concerns_post(v: dict[str, Any]) -> bool:
        # a zone's violation belongs to the zone's post; a unit's (rest, shift length) to the
        # posts the unit works for; one with neither (the soldier cap) to every post
        if v.get("zone") is not None:
            return v["zone"] in zone_ids
        return not v.get("units") or bool(units & set(v["units"]))

    mine = [v for v in check["violations"] if concerns_post(v)]
    spans = []
    for v in mine:
        try:
            s = pd.Timestamp(v["start"]).tz_convert(proto.tz) if v.get("start") else None
            e = pd.Timestamp(v["end"]).tz_convert(proto.tz) if v.get("end") else None
        except (ValueError, TypeError):
            s = e = None
        spans.append((s, e))
    days = []
    for day, g in sub.groupby(sub["local"].dt.date, sort=True):
        hours = []
        for hour in range(24):
            h = g[g["local"].dt.hour == hour]
            start = pd.Timestamp(datetime.combine(day, time(hour)), tz=proto.tz)
            end = start + pd.Timedelta(hours=1)
            n_viol = sum(
                1
                for s, e in spans
                if s is not None and s < end and (e if e is not None else s) >= start
            )
            pat = h[h["kind"] == "patrol"]
            per_slot = h.groupby("s")["soldiers"].sum()
            hours.append(
                {
                    "hour": hour,
                    "mixed": int((pat["soldiers"] > 0).sum()),
                    "police_only": int((pat["soldiers"] == 0).sum()),
                    "fipa": int((h["kind"] == "fipa").sum()),
                    "soldiers_max": int(per_slot.max()) if len(per_slot) else 0,
                    "violations": n_viol,
                }
            )
        liaisons = sorted({x for x in g["liaison"] if x})
        days.append({"day": day.isoformat(), "hours": hours, "liaisons": liaisons})
    return {
        "plan": name,
        "post": post,
        "post_name": proto.post(post).name,
        "zones": zone_ids,
        "days": days,
        "check": {k: check[k] for k in ("ok", "violation_count", "counts_by_rule")},
        "violations": mine,
    }


def presence(name: str, at: datetime) -> dict[str, Any]:
    """The plan at one moment, as a map layer: every zone of the plan's protocol with the teams
    present in its 15-minute slot (mixed, police-only, FIPA; police and soldiers), as GeoJSON.
    `at` without a time zone is local time of the protocol."""
    import json

    from safecities.register.reference import zones as reference_zones

    proto, df = _plan_frame(name)
    ts = pd.Timestamp(at)
    ts = ts.tz_localize(proto.tz) if ts.tzinfo is None else ts.tz_convert(proto.tz)
    now = df[(df["s"] <= ts) & (df["e"] > ts)]
    geo = reference_zones(proto.city).set_index("id")
    feats = []
    for z in proto.zones:
        rows = now[now["zone_id"] == z.id]
        pat = rows[rows["kind"] == "patrol"]
        props = {
            "id": z.id,
            "name": z.name,
            "command_post": z.command_post,
            "mixed": int((pat["soldiers"] > 0).sum()),
            "police_only": int((pat["soldiers"] == 0).sum()),
            "fipa": int((rows["kind"] == "fipa").sum()),
            "police": int(rows["police"].sum()),
            "soldiers": int(rows["soldiers"].sum()),
        }
        geometry = (
            json.loads(json.dumps(geo.loc[z.id, "geometry"].__geo_interface__))
            if z.id in geo.index
            else None
        )
        feats.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {
        "type": "FeatureCollection",
        "plan": name,
        "city": proto.city,
        "at": ts.isoformat(),
        "in_plan": bool(len(df)) and df["s"].min() <= ts < df["e"].max(),
        "soldiers_total": int(now["soldiers"].sum()),
        "soldier_cap": proto.soldier_cap,
        "features": feats,
    }
