"""Thin adapters to safecities.patrols for the API and web: protocol governance and plans made
with the bundled (or an approved) protocol, stored as CSV under <var_dir>/plans/."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from safecities.errors import InputError, NotFound

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


def make(
    engine: Engine, *, first: date, last: date, seed: int = 0, time_limit: float = 30.0
) -> dict[str, Any]:
    """Plan [first, last] under the bundled protocol, which must be active (approved)."""
    from safecities.patrols.governance import require_active
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.service import make_plan
    from safecities.store.db import session_scope

    if last < first:
        raise InputError("to: must not be before from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(f"plan at most {MAX_DAYS} days from the web (use the CLI for more)")
    path = protocol_path()
    proto = load_protocol(path)
    with session_scope(engine) as s:
        active = require_active(s, read_document(path)[0])
    name = f"plan-{proto.city}-{first.isoformat()}-{last.isoformat()}-s{seed}.csv"
    out = plans_dir() / name
    result, check = make_plan(
        proto,
        path,
        first,
        last,
        out,
        seed=seed,
        time_limit=min(time_limit, MAX_TIME_LIMIT),
        workers=1,
    )
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
        "notes": result.notes,
        "command_posts": [p.id for p in proto.command_posts],
    }


def briefing(name: str, post: str, day: date) -> str:
    from safecities.patrols.export import briefing_html, read_plan_rows
    from safecities.patrols.protocol import load_protocol

    proto = load_protocol(protocol_path())
    df = read_plan_rows(plan_file(name), proto)
    if post not in {p.id for p in proto.command_posts}:
        raise NotFound(f"no command post {post!r}")
    return briefing_html(df, post, day, proto, name)


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
