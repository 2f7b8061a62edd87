"""Pre-registered analysis plans: outcome, units, dates and method, fixed before the post-period.

A plan is a small YAML file. Registering it stores its canonical form and SHA-256 in the
hash-chained audit log (action `review.plan.register`, entity `review_plan`, entity id = the hash),
so a later report can show that the plan existed, unchanged, before the results were known, and
list every way the analysis departed from it. No separate table: the audit log is the record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select

from safecities.errors import InputError
from safecities.safeio import load_yaml

METHODS = ("its", "did", "scm")
FREQS = ("week", "month")
REQUIRED = ("title", "outcome", "units", "intervention", "post_period", "method")
ACTION = "review.plan.register"
ENTITY = "review_plan"


@dataclass(frozen=True)
class Plan:
    title: str
    outcome: str  # e.g. "shootings": which incident kinds are counted
    kinds: tuple[str, ...]  # incident kinds counted (empty: all)
    units: tuple[str, ...]  # treated zone names
    controls: str | tuple[str, ...]  # "auto" or zone names
    intervention: date
    pre_period: tuple[date, date] | None
    post_period: tuple[date, date]
    method: str  # primary method
    freq: str
    rings_m: tuple[float, ...]
    city: str
    raw: dict[str, Any]

    def canonical(self) -> dict[str, Any]:
        return {
            "title": self.title, "outcome": self.outcome, "kinds": list(self.kinds),
            "units": list(self.units),
            "controls": self.controls if isinstance(self.controls, str) else list(self.controls),
            "intervention": self.intervention.isoformat(),
            "pre_period": [d.isoformat() for d in self.pre_period] if self.pre_period else None,
            "post_period": [d.isoformat() for d in self.post_period],
            "method": self.method, "freq": self.freq, "rings_m": list(self.rings_m),
            "city": self.city,
        }  # fmt: skip

    @property
    def sha256(self) -> str:
        body = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def _date(value: Any, path: str, key: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{path}: field {key}: {value!r} is not a date (YYYY-MM-DD)") from None


def _period(value: Any, path: str, key: str) -> tuple[date, date]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(f"{path}: field {key}: expected [FROM, TO]")
    a, b = _date(value[0], path, key), _date(value[1], path, key)
    if b < a:
        raise InputError(f"{path}: field {key}: ends before it starts")
    return a, b


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a plan is a YAML mapping")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise InputError(f"{path}: missing field(s) {', '.join(missing)}")
    p = str(path)
    method = str(raw["method"]).lower()
    if method not in METHODS:
        raise InputError(f"{p}: field method: {method!r} must be one of {', '.join(METHODS)}")
    freq = str(raw.get("freq", "week")).lower()
    if freq not in FREQS:
        raise InputError(f"{p}: field freq: {freq!r} must be week or month")
    units = raw["units"]
    if isinstance(units, str):
        units = [units]
    if not units or not all(isinstance(u, str) for u in units):
        raise InputError(f"{p}: field units: a list of zone names")
    controls = raw.get("controls", "auto")
    if not (controls == "auto" or isinstance(controls, list)):
        raise InputError(f"{p}: field controls: 'auto' or a list of zone names")
    kinds = raw.get("kinds", [])
    if isinstance(kinds, str):
        kinds = [kinds]
    rings = raw.get("rings_m", [250, 500])
    try:
        rings_t = tuple(float(r) for r in rings)
    except (TypeError, ValueError):
        raise InputError(f"{p}: field rings_m: a list of distances in metres") from None
    intervention = _date(raw["intervention"], p, "intervention")
    post = _period(raw["post_period"], p, "post_period")
    pre = _period(raw["pre_period"], p, "pre_period") if raw.get("pre_period") else None
    if post[0] < intervention:
        raise InputError(f"{p}: field post_period: starts before the intervention")
    return Plan(
        title=str(raw["title"]), outcome=str(raw["outcome"]), kinds=tuple(map(str, kinds)),
        units=tuple(units), controls=controls if controls == "auto" else tuple(controls),
        intervention=intervention, pre_period=pre, post_period=post, method=method, freq=freq,
        rings_m=rings_t, city=str(raw.get("city", "brussels")), raw=raw,
    )  # fmt: skip


def register_plan(engine: Engine, plan: Plan, *, actor: str = "cli") -> dict[str, Any]:
    """Record the plan and its hash in the audit log (idempotent for an unchanged plan)."""
    from safecities.store import audit
    from safecities.store.db import session_scope

    existing = find_registration(engine, plan)
    if existing:
        return {**existing, "already_registered": True}
    now = datetime.now(UTC)
    before_post = now.date() < plan.post_period[0]
    after = {
        "sha256": plan.sha256,
        "plan": plan.canonical(),
        "registered_at": now.isoformat(timespec="seconds"),
        "registered_before_post_period": before_post,
    }
    with session_scope(engine) as s:
        ev = audit.record(
            s, actor=actor, action=ACTION, entity=ENTITY, entity_id=plan.sha256, after=after
        )
        audit_id = ev.id
    return {**after, "audit_event_id": audit_id, "already_registered": False}


def find_registration(engine: Engine, plan: Plan) -> dict[str, Any] | None:
    from safecities.store.db import session_scope
    from safecities.store.models import AuditEvent

    with session_scope(engine) as s:
        ev = s.execute(
            select(AuditEvent)
            .where(AuditEvent.entity == ENTITY, AuditEvent.entity_id == plan.sha256)
            .order_by(AuditEvent.id)
            .limit(1)
        ).scalar_one_or_none()
        if ev is None:
            return None
        return {**(ev.after or {}), "audit_event_id": ev.id}


def adherence(engine: Engine, plan: Plan, used: dict[str, Any]) -> dict[str, Any]:
    """Was the plan registered (unchanged, before the post-period) and did the analysis follow it?

    `used` holds what the analysis actually did, with the plan's canonical keys."""
    reg = find_registration(engine, plan)
    planned = plan.canonical()
    deviations = [
        {"field": k, "planned": planned[k], "used": used[k]}
        for k in planned
        if k in used and used[k] != planned[k]
    ]
    registered = reg is not None
    before = bool(reg and reg.get("registered_before_post_period"))
    return {
        "plan_sha256": plan.sha256,
        "registered": registered,
        "registered_at": reg.get("registered_at") if reg else None,
        "registered_before_post_period": before,
        "deviations": deviations,
        "followed": registered and before and not deviations,
    }
