# ruff: noqa: E501  (messages are kept on one line)
"""Saved plans (API and web): plans made with the bundled (or a stored, approved) protocol, kept
as CSV under <var_dir>/plans/, and what is read from them (check, calendar, map layer, iCalendar,
briefings). Cost bounds of the web (days per plan, solver seconds) are parameters here."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
#: The keys of `plan_payload` a saved plan's answer (made or re-planned) carries.
SAVED_KEYS = ("city", "protocol_id", "protocol_version", "from", "to", "rows", "status",
              "objective", "gap", "check")  # fmt: skip
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
    """Saved plans, newest first by their first day (then by when they were made), each with the
    city, protocol and command posts of its own protocol (another city's plan never lists
    Brussels posts)."""
    import re

    from safecities.patrols.protocol import load_protocol

    out = []
    for p in plans_dir().glob("plan-*.csv"):
        days = re.findall(r"\d{4}-\d{2}-\d{2}", p.name)
        pid = re.search(r"-p(\d+)-\d{4}-", p.name)
        try:
            proto = load_protocol(plan_protocol_path(p.name))
            city, version, posts = proto.city, proto.version, [c.id for c in proto.command_posts]
        except InputError:  # a sidecar that no longer validates: list the plan, without posts
            city, version, posts = None, None, []
        out.append(
            {
                "name": p.name,
                "city": city,
                "protocol_id": int(pid.group(1)) if pid else None,
                "protocol_version": version,
                "from": days[0] if days else None,
                "to": days[1] if len(days) > 1 else None,
                "command_posts": posts,
                "bytes": p.stat().st_size,
                "created_at": datetime.fromtimestamp(p.stat().st_mtime).isoformat(),
            }
        )
    out.sort(key=lambda x: (x["from"] or "", x["created_at"]), reverse=True)
    return out


def plan_protocol_path(name: str) -> Path:
    """The protocol a saved plan was made under: its sidecar document (plans made under a stored
    protocol, e.g. another city's), else the bundled protocol."""
    side = plans_dir() / f"{name}.protocol.json"
    return side if side.exists() else protocol_path()


_PLAN_NAME = re.compile(
    r"^plan-(?P<city>[a-z]+)(?:-p(?P<pid>\d+))?-(?P<first>\d{4}-\d{2}-\d{2})-"
    r"(?P<last>\d{4}-\d{2}-\d{2})-s(?P<seed>\d+)(?:-r(?P<rev>\d+))?\.csv$"
)


def plan_after(name: str) -> str | None:
    """The saved plan that `name` continues (recorded when it was made), if any."""
    side = plans_dir() / f"{name}.after"
    return side.read_text(encoding="utf-8").strip() or None if side.exists() else None


def latest_before(first: date, city: str, protocol_id: int | None) -> str | None:
    """The newest saved plan of the same protocol (the bundled one, or stored #id) that ends on
    the day before `first`: the plan a new web plan continues by default."""
    from datetime import timedelta

    best = None
    for p in plans_dir().glob("plan-*.csv"):
        m = _PLAN_NAME.match(p.name)
        if m is None or m["city"] != city:
            continue
        if (None if m["pid"] is None else int(m["pid"])) != protocol_id:
            continue
        if date.fromisoformat(m["last"]) + timedelta(days=1) != first:
            continue
        if best is None or p.stat().st_mtime_ns > best.stat().st_mtime_ns:
            best = p
    return None if best is None else best.name


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


@dataclass
class SavedPlanOptions:
    """A plan to make from the API or the web (`POST /api/patrols/plans`)."""

    first: date
    last: date
    seed: int = 0
    time_limit: float = 30.0
    protocol_id: int | None = None
    risk: str = "register"  # "register": the register's hotspot profile; "default": built-in
    max_days: int = MAX_DAYS
    max_time_limit: float = MAX_TIME_LIMIT
    workers: int = 1
    # continue the newest saved plan of the same protocol that ends the day before `first`
    # (`plan make --after`); False: a fresh plan
    continue_latest: bool = True


def make_saved(engine: Engine, opts: SavedPlanOptions) -> dict[str, Any]:
    """Plan [first, last] under the bundled protocol, or under the stored protocol `protocol_id`
    (another city's); either must be active (approved by Interior and by Defence). `risk`
    "register" weighs zones and hours by the hotspot profile of the register's incidents (the
    protocol's default profile when the city has none); "default" uses that default profile."""
    import json
    import tempfile

    from safecities.patrols.governance import require_active
    from safecities.patrols.models import PatrolProtocol
    from safecities.patrols.protocol import load_protocol, load_protocol_document, read_document
    from safecities.patrols.service.plans import make_plan, plan_payload
    from safecities.store.db import session_scope

    first, last = opts.first, opts.last
    if last < first:
        raise InputError("to: must not be before from")
    if (last - first).days + 1 > opts.max_days:
        raise InputError(f"plan at most {opts.max_days} days from the web (use the CLI for more)")
    side = None
    if opts.protocol_id is None:
        path = protocol_path()
        proto = load_protocol(path)
        doc = read_document(path)[0]
    else:
        with session_scope(engine) as s:
            row = s.get(PatrolProtocol, opts.protocol_id)
            if row is None:
                raise NotFound(f"no protocol request with id {opts.protocol_id}")
            doc = dict(row.document)
        proto = load_protocol_document(doc, source=f"protocol #{opts.protocol_id}")
    with session_scope(engine) as s:
        active = require_active(s, doc)
    seed = opts.seed
    if opts.protocol_id is None:
        name = f"plan-{proto.city}-{first.isoformat()}-{last.isoformat()}-s{seed}.csv"
    else:
        name = f"plan-{proto.city}-p{opts.protocol_id}-{first.isoformat()}-{last.isoformat()}-s{seed}.csv"
        side = plans_dir() / f"{name}.protocol.json"
        side.write_text(json.dumps(doc, default=str, indent=1), encoding="utf-8")
        path = side
    out = plans_dir() / name
    after = latest_before(first, proto.city, opts.protocol_id) if opts.continue_latest else None
    planner_kwargs = {}
    if after is not None:
        from safecities.patrols.replan import load_previous_plan

        prev = load_previous_plan(plans_dir() / after, proto, first, last)
        planner_kwargs = {"history": prev["history"], "frozen_until": prev["frozen_until"]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            risk_path = None
            if opts.risk == "register":
                risk_path = register_risk(engine, proto.city, Path(tmp) / "risk.csv")
            result, check = make_plan(
                proto,
                path,
                first,
                last,
                out,
                risk_path=risk_path,
                seed=seed,
                time_limit=min(opts.time_limit, opts.max_time_limit),
                workers=opts.workers,
                planner_kwargs=planner_kwargs,
                after=None if after is None else plans_dir() / after,
            )
        side_after = plans_dir() / f"{name}.after"
        if after is not None:
            side_after.write_text(after, encoding="utf-8")
        else:
            side_after.unlink(missing_ok=True)
    except BaseException:
        if side is not None and not out.exists():
            side.unlink(missing_ok=True)
        raise
    notes = [n.replace(str(risk_path), "the register's hotspot profile") for n in result.notes]
    if opts.risk == "register" and risk_path is None:
        notes.append(f"no incidents recorded for {proto.city}: the default profile was used")
    base = plan_payload(proto, first, last, result, check, active["id"])
    return {
        "name": name,
        **{k: base[k] for k in SAVED_KEYS},
        "risk": "register" if opts.risk == "register" and risk_path is not None else "default",
        "after": after,
        "notes": notes,
        "command_posts": [p.id for p in proto.command_posts],
        "soldier_zones": base["soldier_zones"],
    }


@dataclass
class SavedReplanOptions:
    """A re-plan of a saved plan from the API or the web (`POST /api/patrols/plans/{name}/replan`):
    the plan is kept before `first` 00:00 local and re-planned from there to its last day with
    `changes` (the keys of a changes file: `close_zone`, `unit_unavailable`, `cap`, `units_out`,
    `fipa`; see `replan.parse_changes`)."""

    name: str
    first: date
    changes: dict[str, Any]
    seed: int = 0
    time_limit: float = 30.0
    risk: str = "register"
    max_time_limit: float = MAX_TIME_LIMIT
    workers: int = 1


def replan_saved(engine: Engine, opts: SavedReplanOptions) -> dict[str, Any]:
    """Re-plan a saved plan (`plan make --from-plan --changes` for the web): a new saved plan
    `<name>-rN.csv` (the old one stays), under the old plan's protocol, which must still be active;
    it continues the plan the old one continued. The answer is `make_saved`'s with `from_plan`,
    `changes` (as parsed) and `replan` (`plan make --json`'s: changed visits and shifts,
    `fallback`)."""
    import shutil
    import tempfile

    from safecities.patrols.governance import require_active
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.replan import parse_changes
    from safecities.patrols.service.plans import Replan, plan_payload, plan_with_fallback
    from safecities.store.db import session_scope

    old_path = plan_file(opts.name)
    m = _PLAN_NAME.match(opts.name)
    if m is None:
        raise InputError(
            f"{opts.name}: not a plan made by safecities (its days are not in its name)"
        )
    plan_first, last = date.fromisoformat(m["first"]), date.fromisoformat(m["last"])
    first = opts.first
    if not plan_first <= first <= last:
        raise InputError(
            f"from: re-plan from a day of the plan ({plan_first} to {last}), not {first}"
        )
    if "risk" in (opts.changes or {}):
        raise InputError("changes.risk: the web re-plans with the register's hotspot profile")
    path = plan_protocol_path(opts.name)
    proto = load_protocol(path)
    with session_scope(engine) as s:
        active = require_active(s, read_document(path)[0])
    ch = parse_changes(opts.changes, proto, source="changes")
    after = plan_after(opts.name)
    prev = None if after is None else plans_dir() / after
    rp = Replan.of(proto, old_path, first, last, ch, prev)
    # the next free revision of the plan the old one is (or was re-planned from)
    stem = f"plan-{m['city']}{'' if m['pid'] is None else '-p' + m['pid']}-{m['first']}-{m['last']}-s{m['seed']}"
    revs = [_PLAN_NAME.match(f.name) for f in plans_dir().glob(f"{stem}*.csv")]
    name = f"{stem}-r{1 + max((int(r['rev'] or 0) for r in revs if r), default=0)}.csv"
    out = plans_dir() / name
    sidecars = [
        (plans_dir() / f"{opts.name}{ext}", plans_dir() / f"{name}{ext}")
        for ext in (".protocol.json", ".after")
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            risk_path = (
                register_risk(engine, proto.city, Path(tmp) / "risk.csv")
                if opts.risk == "register"
                else None
            )
            result, check, fallback = plan_with_fallback(
                rp, proto, path, first, last, out,
                risk_path=risk_path, seed=opts.seed,
                time_limit=min(opts.time_limit, opts.max_time_limit), workers=opts.workers,
                planner_kwargs=rp.planner_kwargs, after=prev,
            )  # fmt: skip
        for src, dst in sidecars:
            if src.exists():
                shutil.copyfile(src, dst)
    except BaseException:
        if not out.exists():
            for _, dst in sidecars:
                dst.unlink(missing_ok=True)
        raise
    base = plan_payload(proto, first, last, result, check, active["id"])
    notes = [n.replace(str(risk_path), "the register's hotspot profile") for n in result.notes]
    return {
        "name": name,
        **{k: base[k] for k in SAVED_KEYS},
        "from_plan": opts.name,
        "changes": _jsonable(ch),
        "replan": rp.report(result, fallback),
        "risk": "register" if risk_path is not None else "default",
        "after": after,
        "notes": notes,
        "command_posts": [p.id for p in proto.command_posts],
        "soldier_zones": base["soldier_zones"],
    }  # fmt: skip


def _jsonable(value: Any) -> Any:
    """Parsed changes for an answer and the audit log (moments as ISO 8601 with their offset)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, datetime | date) else value


def audit_replan(engine: Engine, plan: dict[str, Any], *, actor: str, seed: int) -> dict[str, Any]:
    """One `patrol_plan.replan` entry for a plan `replan_saved` wrote: `audit_saved`'s keys, the
    plan it re-plans, the changes and whether it was planned afresh."""
    more = {k: plan[k] for k in ("from_plan", "changes")} | {"fallback": plan["replan"]["fallback"]}
    return audit_saved(engine, plan, actor=actor, seed=seed, action="patrol_plan.replan", more=more)


def audit_saved(
    engine: Engine,
    plan: dict[str, Any],
    *,
    actor: str,
    seed: int,
    action: str = "patrol_plan.create",
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Audit a plan `make_saved` wrote (the file is served to everyone reading plans, and a plan of
    the same name replaces it): one `patrol_plan.create` entry with the file's SHA-256."""
    from safecities.store import audit

    keep = ("city", "protocol_id", "protocol_version", "from", "to", "rows", "status", "check")
    after = {k: plan[k] for k in keep} | (more or {}) | {"seed": seed}
    return audit.append_file(engine, plans_dir() / plan["name"], actor=actor, action=action,
                             entity="patrol_plan", after=after)  # fmt: skip


def briefing(name: str, post: str, day: date, lang: str = "en") -> str:
    """The printable daily briefing of one command post (HTML) in NL, FR or EN."""
    from safecities.patrols.export import briefing_html

    proto, df = _plan_frame(name, post)
    return briefing_html(df, post, day, proto, name, lang)


def check_upload(data: bytes, filename: str) -> dict[str, Any]:
    """Check an uploaded plan CSV against the bundled protocol: every violation, or ok."""
    from safecities.patrols.service.plans import check_upload as check

    path = protocol_path()
    return check(data, filename, path, path.name).to_dict()


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


def calendar_ics(
    name: str, post: str | None = None, team: str | None = None, lang: str = "en"
) -> str:
    """The plan of one command post, or of one team (police crew or Defence unit), as iCalendar
    (RFC 5545): one event per team shift, as `plan export` writes it, its texts in `lang`."""
    from safecities.patrols.export import ics_for_post, ics_for_team

    if (post is None) == (team is None):
        raise InputError("give either post or team")
    proto, df = _plan_frame(name, post)
    if team is not None:
        return ics_for_team(df, team, proto, name, lang)
    return ics_for_post(df, post, proto, name, lang)


def briefing_pdf(name: str, post: str, day: date, lang: str = "en") -> bytes:
    """The printable daily briefing of one command post as PDF (WeasyPrint, from the HTML), as
    `plan export` writes it (cached per plan file version: rendering takes seconds)."""
    from safecities.patrols.export import texts

    texts(lang)  # 400 for an unknown language, before the cache
    _plan_protocol(name, post)  # 404 for an unknown plan or post, before the cache
    path = plan_file(name)
    return _pdf_cached(str(path), path.stat().st_mtime_ns, post, day, lang)


@lru_cache(maxsize=16)
def _pdf_cached(path: str, _mtime_ns: int, post: str, day: date, lang: str) -> bytes:
    from safecities.patrols.export import render_pdf

    return render_pdf(briefing(Path(path).name, post, day, lang))


def export_index(name: str) -> dict[str, Any]:
    """What `plan export` would write for this plan, as download links (one iCalendar per
    command post; an HTML and a PDF briefing per post and day)."""
    from urllib.parse import quote

    from safecities.patrols.export import plan_days, plan_teams

    proto, df = _plan_frame(name)
    posts = sorted(set(df["command_post"]))
    days = plan_days(df, proto)
    base = f"/api/patrols/plans/{quote(name)}"
    return {
        "plan": name,
        "command_posts": posts,
        "days": [d.isoformat() for d in days],
        "files": {
            "ics": [f"{base}/calendar.ics?post={quote(p)}" for p in posts],
            "ics_team": [f"{base}/calendar.ics?team={quote(t)}" for t in plan_teams(df)],
            "html": [f"{base}/briefing?post={quote(p)}&day={d}" for d in days for p in posts],
            "pdf": [f"{base}/briefing.pdf?post={quote(p)}&day={d}" for d in days for p in posts],
        },
    }


def check_saved(name: str) -> dict[str, Any]:
    """Independent check of a saved plan against the bundled protocol (cached per file version)."""
    path = plan_file(name)
    proto = plan_protocol_path(name)
    after = plan_after(name)
    prev = None if after is None else plans_dir() / after
    if prev is not None and not prev.exists():
        prev = None  # the predecessor was removed: judged alone
    return dict(
        _check_cached(
            str(path),
            path.stat().st_mtime_ns,
            str(proto),
            None if prev is None else str(prev),
            None if prev is None else prev.stat().st_mtime_ns,
        )
    )


@lru_cache(maxsize=32)
def _check_cached(
    path: str, _mtime_ns: int, protocol: str, after: str | None, _after_mtime: int | None
) -> dict[str, Any]:
    from safecities.patrols.service.plans import check

    out = check(
        Path(path),
        Path(protocol),
        file=Path(path).name,
        protocol_name=Path(protocol).name,
        after=None if after is None else Path(after),
    ).to_dict()
    out["after"] = None if after is None else Path(after).name
    return out


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
    from safecities.patrols.export import plan_days

    planned = set(plan_days(df, proto))  # not the eve's night nor the last night's morning
    days = []
    for day, g in sub.groupby(sub["local"].dt.date, sort=True):
        if day not in planned:
            continue
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
        "teams": sorted(units),  # police crews and Defence units working in the post's zones
        "days": days,
        "check": {k: check[k] for k in ("ok", "violation_count", "counts_by_rule")},
        "violations": mine,
    }


def presence(name: str, at: datetime) -> dict[str, Any]:
    """The plan at one moment, as a map layer: every zone of the plan's protocol with the teams
    present in its 15-minute slot (mixed, police-only, FIPA; police and soldiers), as GeoJSON.
    `at` without a time zone is local time of the protocol."""

    from safecities.patrols.governance import zone_outlines
    from safecities.patrols.protocol import read_document

    proto, df = _plan_frame(name)
    ts = pd.Timestamp(at)
    ts = ts.tz_localize(proto.tz) if ts.tzinfo is None else ts.tz_convert(proto.tz)
    now = df[(df["s"] <= ts) & (df["e"] > ts)]
    outlines = zone_outlines(read_document(plan_protocol_path(name))[0])
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
        geometry = outlines.get(z.id)
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
