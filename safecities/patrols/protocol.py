"""The patrol protocol as typed, versioned data.

A protocol is a YAML or JSON document (schema `protocol.schema.json`, id
`safecities.patrol-protocol/1`). Every number of the Council of Ministers' decision of 20 March 2026
lives in it (soldier cap, patrol composition, approved zones, FIPA list, working time), so that a
renewal or another city's protocol is a new document, never a code change.

`validate_document` reports every problem with its JSON path (`$.zones[3].command_post`), both the
schema errors and the cross-references a schema cannot express (unknown zone, FIPA outside the
period, ...). `load_protocol` returns a frozen `Protocol` or raises `InputError` carrying them all.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import numpy as np
import yaml

from safecities.errors import InputError
from safecities.patrols.travel import travel_minutes, travel_problems, visits
from safecities.safeio import load_json, load_yaml

SCHEMA_ID = "safecities.patrol-protocol/1"
PROTOCOLS_DIR = Path(__file__).parent / "protocols"
FORCES = ("police", "defence")


@dataclass(frozen=True)
class ProtocolIssue:
    """One problem in a protocol document, located by its JSON path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class CommandPost:
    id: str
    name: str
    liaisons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    command_post: str
    soldiers_allowed: bool = True
    min_mixed_patrols: int = 0
    weight: float = 1.0
    terrain: str | None = None  # railway_station, metro_station, district, other
    soldiers_basis: str | None = None  # why soldiers are (or are not) admitted here

    def soldiers_why(self) -> str:
        """The reason shown with plans: the protocol's own words, else what its flag says."""
        if self.soldiers_basis:
            return self.soldiers_basis
        return (
            "soldiers admitted by the protocol"
            if self.soldiers_allowed
            else "police-only by the protocol"
        )


@dataclass(frozen=True)
class Fipa:
    """A Full Integrated Police Action whose perimeter soldiers secure."""

    id: str
    date: date
    start: time
    end_minutes: int  # minutes after midnight of `date` (1440 = 24:00)
    zone: str
    soldiers: int
    place: str = ""

    def window(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        day = datetime.combine(self.date, time(0), tzinfo=tz)
        s = day + timedelta(hours=self.start.hour, minutes=self.start.minute)
        e = day + timedelta(minutes=self.end_minutes)
        # wall-clock arithmetic: normalise through UTC so DST days are right
        return _wall(s, tz), _wall(e, tz)


@dataclass(frozen=True)
class WorkingTime:
    shift_min_hours: float
    shift_max_hours: float
    min_rest_hours: float
    max_hours_per_week: float
    shift_starts: tuple[int, ...] = (6, 14, 22)
    shift_lengths: tuple[int, ...] = (8,)
    max_consecutive_days: int | None = None
    max_consecutive_nights: int | None = None

    def is_night(self, start_hour: int, length: int) -> bool:
        """At least half the shift's hours between 22:00 and 06:00 local."""
        hours = [(start_hour + k) % 24 for k in range(length)]
        return 2 * sum(h >= 22 or h < 6 for h in hours) >= length


@dataclass(frozen=True)
class Unit:
    code: str
    force: str  # "police" | "defence"
    size: int


@dataclass(frozen=True)
class Planning:
    diminishing_returns: float = 0.5
    max_patrols_per_zone: int = 3
    mixed_patrol_bonus: float = 0.25


@dataclass(frozen=True)
class Protocol:
    city: str
    version: str
    timezone: str
    start: date
    end: date  # exclusive
    soldier_cap: int
    police_min_mixed: int
    soldiers_max_per_patrol: int
    police_min_police_only: int
    liaison_required: bool
    command_posts: tuple[CommandPost, ...]
    zones: tuple[Zone, ...]
    fipa: tuple[Fipa, ...]
    working_time: dict[str, WorkingTime]
    units: tuple[Unit, ...]
    planning: Planning = field(default_factory=Planning)
    sha256: str = ""
    source: str = ""
    # police officers at a FIPA with its soldiers (soldiers have no police powers)
    police_min_fipa: int = 2
    liaison_counts_in_cap: bool = False  # the liaisons on duty are soldiers deployed: in the cap
    liaison_rostered: bool = False  # liaison turns follow Defence working time (checked)
    # minutes the outgoing mixed patrol of a zone with minima stays after the incoming one arrives
    handover_minutes: int = 0
    # minutes between zones ([i][j] in `zones` order; `travel.py`), None without `travel`
    travel: tuple[tuple[float, ...], ...] | None = None

    def travel_visits(self) -> np.ndarray | None:
        """[Z, Z] whole visits a team loses moving between zones (None without `travel`)."""
        if self.travel is None:
            return None
        return np.vectorize(visits, otypes=[int])(np.array(self.travel, dtype=float))

    @property
    def liaisons_on_duty(self) -> int:
        """Liaisons on duty at every moment: one per post with liaisons (the rota runs 24/7)."""
        return sum(1 for p in self.command_posts if p.liaisons)

    @property
    def patrol_cap(self) -> int:
        """Soldiers patrols and FIPA may use: the cap, less the liaisons when they count in it."""
        return self.soldier_cap - (self.liaisons_on_duty if self.liaison_counts_in_cap else 0)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones:
            if z.id == zone_id:
                return z
        raise KeyError(zone_id)

    def post(self, post_id: str) -> CommandPost:
        for p in self.command_posts:
            if p.id == post_id:
                return p
        raise KeyError(post_id)

    def units_of(self, force: str) -> list[Unit]:
        return [u for u in self.units if u.force == force]

    def period_bounds(self) -> tuple[datetime, datetime]:
        tz = self.tz
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end, time(0), tzinfo=tz),
        )


def _wall(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.replace(tzinfo=None).replace(tzinfo=tz)


class _StringDateLoader(yaml.SafeLoader):
    """YAML loader that keeps dates as strings, so the schema sees what the author wrote."""


_StringDateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("safecities.patrols").joinpath("protocol.schema.json").read_text("utf-8")
    return json.loads(text)


def read_document(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Parse a YAML or JSON protocol file (no validation); errors name the file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read protocol: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    try:
        is_json = p.suffix.lower() == ".json"
        doc = load_json(text) if is_json else load_yaml(text, _StringDateLoader)
    except (ValueError, yaml.YAMLError) as exc:  # JSONDecodeError, UnsafeJSON: ValueErrors
        line = (
            getattr(exc, "lineno", None)
            or getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        )
        raise InputError(
            f"{p}: line {line}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}"
        ) from exc
    if not isinstance(doc, dict):
        raise InputError(f"{p}: a protocol is a mapping at the top level")
    return doc, data


def _path(parts) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _parse_date(s: Any) -> date | None:
    try:
        return date.fromisoformat(str(s))
    except ValueError:
        return None


def validate_document(doc: dict[str, Any]) -> list[ProtocolIssue]:
    """Every schema and cross-reference problem, each with its JSON path; [] when valid."""
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    issues = [
        ProtocolIssue(_path(e.absolute_path), e.message)
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    issues.extend(_semantic_issues(doc))
    return issues


def _semantic_issues(doc: dict[str, Any]) -> list[ProtocolIssue]:  # noqa: C901 - a flat list of rules
    out: list[ProtocolIssue] = []

    def add(parts, msg: str) -> None:
        out.append(ProtocolIssue(_path(parts), msg))

    tz = doc.get("timezone")
    if isinstance(tz, str):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            add(["timezone"], f"unknown time zone {tz!r}")
    period = doc.get("period") if isinstance(doc.get("period"), dict) else {}
    start, end = _parse_date(period.get("start")), _parse_date(period.get("end"))
    if start and end and end <= start:
        add(["period", "end"], f"end {end} is not after start {start}")

    def ids(key: str) -> list[tuple[int, Any]]:
        items = doc.get(key) if isinstance(doc.get(key), list) else []
        return [(i, it.get("id")) for i, it in enumerate(items) if isinstance(it, dict)]

    for key in ("command_posts", "zones", "fipa"):
        seen: set = set()
        for i, ident in ids(key):
            if ident in seen:
                add([key, i, "id"], f"duplicate id {ident!r}")
            seen.add(ident)
    posts = {ident for _, ident in ids("command_posts")}
    zones = doc.get("zones") if isinstance(doc.get("zones"), list) else []
    zone_ids = {z.get("id") for z in zones if isinstance(z, dict)}
    for i, z in enumerate(zones):
        if isinstance(z, dict) and "command_post" in z and z["command_post"] not in posts:
            add(["zones", i, "command_post"], f"unknown command post {z['command_post']!r}")
        if (
            isinstance(z, dict)
            and z.get("min_mixed_patrols", 0)
            and z.get("soldiers_allowed") is False
        ):
            add(
                ["zones", i, "min_mixed_patrols"],
                "a zone closed to soldiers cannot require mixed patrols",
            )
    for i, f in enumerate(doc.get("fipa") or [] if isinstance(doc.get("fipa"), list) else []):
        if not isinstance(f, dict):
            continue
        if "zone" in f and f["zone"] not in zone_ids:
            add(["fipa", i, "zone"], f"unknown zone {f['zone']!r}")
        d = _parse_date(f.get("date"))
        if d and start and end and not (start <= d < end):
            add(["fipa", i, "date"], f"{d} is outside the protocol period {start} - {end}")
        s, e = f.get("start"), f.get("end")
        if isinstance(s, str) and isinstance(e, str) and e <= s:
            add(
                ["fipa", i, "end"],
                f"end {e} is not after start {s} (split a FIPA over midnight in two)",
            )
        cap = doc.get("soldier_cap")
        if (
            isinstance(cap, int)
            and cap >= 0
            and isinstance(f.get("soldiers"), int)
            and f["soldiers"] > cap
        ):
            add(["fipa", i, "soldiers"], f"{f['soldiers']} soldiers exceed the cap of {cap}")
    wt = doc.get("working_time") if isinstance(doc.get("working_time"), dict) else {}
    for force, rules in wt.items():
        if not isinstance(rules, dict):
            continue
        lo, hi = rules.get("shift_min_hours"), rules.get("shift_max_hours")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            add(
                ["working_time", force, "shift_min_hours"],
                f"{lo} h is more than shift_max_hours {hi} h",
            )
        for j, length in enumerate(rules.get("shift_lengths") or []):
            if (
                isinstance(length, int)
                and isinstance(lo, int | float)
                and isinstance(hi, int | float)
            ) and not lo <= length <= hi:
                add(
                    ["working_time", force, "shift_lengths", j],
                    f"{length} h is outside [{lo}, {hi}] h",
                )
    codes: set[str] = set()
    units = doc.get("units") if isinstance(doc.get("units"), list) else []
    for i, u in enumerate(units):
        if isinstance(u, dict) and "code" in u:
            if u["code"] in codes:
                add(["units", i, "code"], f"duplicate unit code {u['code']!r}")
            codes.add(u["code"])
    series = doc.get("unit_series") if isinstance(doc.get("unit_series"), list) else []
    for i, s in enumerate(series):
        if (
            isinstance(s, dict)
            and isinstance(s.get("count"), int)
            and isinstance(s.get("prefix"), str)
        ):
            for code in _series_codes(s["prefix"], s["count"]):
                if code in codes:
                    add(["unit_series", i, "prefix"], f"unit code {code!r} already defined")
                    break
                codes.add(code)
    if not units and not series:
        add(["units"], "no units: give `units` or `unit_series`")
    if doc.get("defence_liaison", {}).get("required") is True:
        liaised = {
            p.get("id")
            for p in doc.get("command_posts") or []
            if isinstance(p, dict) and p.get("liaisons")
        }
        for i, z in enumerate(zones):
            if (
                isinstance(z, dict)
                and z.get("soldiers_allowed", True)
                and z.get("command_post") in posts - liaised
            ):
                add(
                    ["zones", i, "command_post"],
                    f"soldiers allowed but post {z['command_post']!r} lists no Defence liaison",
                )
    out.extend(_handover_issues(doc, wt))
    out.extend(ProtocolIssue(_path(parts), msg) for parts, msg in travel_problems(doc))
    dl = doc.get("defence_liaison") or {}
    wt = (doc.get("working_time") or {}).get("defence")
    if isinstance(dl, dict) and dl.get("rostered") is True and isinstance(wt, dict):
        try:
            turn, _offset = liaison_turn(wt)
            for i, p in enumerate(doc.get("command_posts") or []):
                n = len(p.get("liaisons") or []) if isinstance(p, dict) else 0
                for reason in liaison_rota_problems(n, turn, wt):
                    add(["command_posts", i, "liaisons"], reason)
        except ValueError as exc:
            add(["defence_liaison", "rostered"], str(exc))
        except (KeyError, TypeError):
            pass  # a malformed working time: the schema errors name it
    return out


def _handover_issues(doc: dict[str, Any], wt: dict[str, Any]) -> list[ProtocolIssue]:
    """A handover lengthens the outgoing shift: every shift length plus the handover must stay
    within `shift_max_hours` (the teams holding a minimum work it, and either force leads them)."""
    ho = doc.get("handover_minutes")
    if not isinstance(ho, int) or ho <= 0:
        return []
    out = []
    for force, rules in wt.items():
        if not isinstance(rules, dict) or not isinstance(rules.get("shift_max_hours"), int | float):
            continue
        for length in rules.get("shift_lengths") or [8]:
            if isinstance(length, int) and length + ho / 60 > rules["shift_max_hours"]:
                out.append(
                    ProtocolIssue(
                        "$.handover_minutes",
                        f"{length}-hour {force} shifts plus a {ho}-minute handover exceed "
                        f"shift_max_hours {rules['shift_max_hours']:g} h",
                    )
                )
    return out


def liaison_turn(wt: dict[str, Any]) -> tuple[int, int]:
    """(turn length, first turn start hour) of a liaison rota under Defence working time: the
    first Defence shift length within the shift limits that divides the day, starting with the
    earliest Defence shift start. Raises ValueError when no length fits."""
    lo, hi = float(wt["shift_min_hours"]), float(wt["shift_max_hours"])
    for length in wt.get("shift_lengths", [8]):
        if lo <= length <= hi and 24 % length == 0:
            return int(length), int(min(wt.get("shift_starts", [6]))) % int(length)
    raise ValueError(
        "no Defence shift length within the shift limits divides the day: "
        "liaisons cannot be rostered"
    )


def liaison_rota_problems(n: int, turn: int, wt: dict[str, Any]) -> list[str]:
    """Why n liaisons taking `turn`-hour turns in rotation around the clock break Defence working
    time (empty if they do not). A week may have 169 hours (DST) and turns straddle its edges, so
    the weekly figure is an upper bound."""
    if n == 0:
        return []
    out = []
    rest = (n - 1) * turn
    if rest < float(wt["min_rest_hours"]):
        out.append(
            f"{n} liaisons on {turn}-hour turns rest {rest} h between turns, "
            f"Defence minimum {wt['min_rest_hours']:g} h"
        )
    week = math.ceil(math.ceil(169 / turn) / n) * turn  # turns a liaison starts in 169 h
    if week > float(wt["max_hours_per_week"]):
        out.append(
            f"{n} liaisons on {turn}-hour turns work up to {week} h in an ISO week, "
            f"Defence maximum {wt['max_hours_per_week']:g} h"
        )
    return out


def _series_codes(prefix: str, count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, count + 1)]


def _hhmm(s: str) -> int:
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def from_document(doc: dict[str, Any], *, sha256: str = "", source: str = "") -> Protocol:
    """Build a Protocol from a document that `validate_document` accepted."""
    pat = doc["patrol"]
    plan = doc.get("planning", {})
    units = [Unit(u["code"], u["force"], int(u["size"])) for u in doc.get("units", [])]
    for s in doc.get("unit_series", []):
        units += [
            Unit(c, s["force"], int(s["size"])) for c in _series_codes(s["prefix"], s["count"])
        ]
    wt = {
        force: WorkingTime(
            shift_min_hours=float(r["shift_min_hours"]),
            shift_max_hours=float(r["shift_max_hours"]),
            min_rest_hours=float(r["min_rest_hours"]),
            max_hours_per_week=float(r["max_hours_per_week"]),
            shift_starts=tuple(r.get("shift_starts", (6, 14, 22))),
            shift_lengths=tuple(r.get("shift_lengths", (8,))),
            max_consecutive_days=r.get("max_consecutive_days"),
            max_consecutive_nights=r.get("max_consecutive_nights"),
        )
        for force, r in doc["working_time"].items()
    }
    return Protocol(
        city=doc["city"],
        version=str(doc["version"]),
        timezone=doc["timezone"],
        start=date.fromisoformat(doc["period"]["start"]),
        end=date.fromisoformat(doc["period"]["end"]),
        soldier_cap=int(doc["soldier_cap"]),
        police_min_mixed=int(pat["police_min_per_mixed_patrol"]),
        soldiers_max_per_patrol=int(pat["soldiers_max_per_patrol"]),
        police_min_police_only=int(pat.get("police_min_per_police_only_patrol", 2)),
        police_min_fipa=int(pat.get("police_min_per_fipa", pat["police_min_per_mixed_patrol"])),
        liaison_required=bool(doc["defence_liaison"]["required"]),
        liaison_counts_in_cap=bool(doc["defence_liaison"].get("counts_in_cap", False)),
        liaison_rostered=bool(doc["defence_liaison"].get("rostered", False)),
        handover_minutes=int(doc.get("handover_minutes", 0)),
        travel=_travel(doc),
        command_posts=tuple(
            CommandPost(p["id"], p["name"], tuple(p.get("liaisons", ())))
            for p in doc["command_posts"]
        ),
        zones=tuple(
            Zone(
                z["id"],
                z.get("name", z["id"]),
                z["command_post"],
                bool(z.get("soldiers_allowed", True)),
                int(z.get("min_mixed_patrols", 0)),
                float(z.get("weight", 1.0)),
                z.get("terrain"),
                z.get("soldiers_basis"),
            )
            for z in doc["zones"]
        ),
        fipa=tuple(
            Fipa(
                f["id"],
                date.fromisoformat(f["date"]),
                time.fromisoformat(f["start"]),
                _hhmm(f["end"]),
                f["zone"],
                int(f["soldiers"]),
                f.get("place", ""),
            )
            for f in doc.get("fipa", [])
        ),
        working_time=wt,
        units=tuple(units),
        planning=Planning(
            diminishing_returns=float(plan.get("diminishing_returns", 0.5)),
            max_patrols_per_zone=int(plan.get("max_patrols_per_zone", 3)),
            mixed_patrol_bonus=float(plan.get("mixed_patrol_bonus", 0.25)),
        ),
        sha256=sha256,
        source=source,
    )


def _travel(doc: dict[str, Any]) -> tuple[tuple[float, ...], ...] | None:
    m = travel_minutes(doc)
    return None if m is None else tuple(tuple(float(x) for x in row) for row in m)


def load_protocol_document(doc: dict[str, Any], *, source: str = "<document>") -> Protocol:
    issues = validate_document(doc)
    if issues:
        raise InputError(f"{source}: invalid protocol ({len(issues)} problems; first: {issues[0]})")
    raw = json.dumps(doc, sort_keys=True).encode()
    return from_document(doc, sha256=hashlib.sha256(raw).hexdigest(), source=source)


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol file; `InputError` names the first problem, counts all.
    Parsed once per version of the file (path, size, modification time): pages list many plans
    made under the same protocol, and a `Protocol` is frozen, so one copy serves them all."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return _load_protocol(str(path), -1, -1)  # read_document names the missing file
    return _load_protocol(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _load_protocol(path: str, _size: int, _mtime_ns: int) -> Protocol:
    doc, data = read_document(path)
    issues = validate_document(doc)
    if issues:
        raise InputError(
            f"{path}: invalid protocol ({len(issues)} problems; first: {issues[0]}); "
            f"run `safecities protocol validate {path}` for all of them"
        )
    return from_document(doc, sha256=hashlib.sha256(data).hexdigest(), source=str(path))


def bundled_protocol_path(name: str = "brussels-2026") -> Path:
    return PROTOCOLS_DIR / f"{name}.yaml"
