# ruff: noqa: E501  (violation messages are built inline, one rule per block)
"""The independent plan checker: `safecities plan check plan.csv --protocol FILE`.

It reads any plan CSV (from the planner or from anywhere else) and the protocol document, and lists
every violation with its rule, time, zone, units and numbers. On purpose it shares NO code with the
model (`model.py`, `planner.py`): it re-reads the protocol as a plain validated document and
re-derives every rule here, so a model bug cannot vouch for itself.

Plan CSV columns: `start,end,zone_id,patrol_id,police,soldiers,command_post,kind` (kind = patrol or
fipa), optionally followed by `police_units,soldier_units` (unit codes separated by `;`) and
`liaison` (the Defence liaison on duty at the post). Times are ISO 8601; without a UTC offset they
are read in the protocol's time zone.

Rule semantics (documented in the README, Joint police-military patrols):
- moments are 15-minute slots; a row occupies every slot it overlaps;
- a unit's duty periods are its rows merged where they touch; a period is a shift: its length must
  lie in [shift_min, shift_max], the gap between periods must be at least min_rest, and the duty
  hours falling in each ISO week (Monday 00:00 local) at most max_hours_per_week.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from safecities.errors import InputError
from safecities.patrols.protocol import read_document, validate_document
from safecities.patrols.travel import VISIT_MINUTES, duty_gap_minutes, travel_minutes

REQUIRED = ["start", "end", "zone_id", "patrol_id", "police", "soldiers", "command_post", "kind"]
OPTIONAL = ["police_units", "soldier_units", "liaison"]
SLOT = pd.Timedelta(minutes=15)
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")

# User-facing message templates (one place, for later NL/FR translation).
MSG = {
    "soldier_cap": "{n} soldiers deployed {when}, cap {cap}",
    "mixed_police_min": "mixed patrol {patrol} in {zone} {when} has {police} police, minimum {min}",
    "soldiers_max": "patrol {patrol} in {zone} {when} has {soldiers} soldiers, maximum {max}",
    "police_only_min": "police-only patrol {patrol} in {zone} {when} has {police} police, min {min}",
    "approved_area": "{soldiers} soldiers in {zone} {when}: not an approved area for soldiers",
    "period": "row {when} is outside the protocol period {start} - {end}",
    "zone": "unknown zone {zone!r}",
    "command_post": "zone {zone} belongs to command post {expected}, row says {got!r}",
    "fipa_unknown": "FIPA row {patrol} in {zone} {when} matches no FIPA of the protocol",
    "fipa_soldiers": "FIPA {fipa} in {zone} {when}: {n} soldiers, {required} required",
    "fipa_police": "FIPA row {patrol} in {zone} {when} has {police} police, minimum {min}",
    "zone_min_mixed": "{zone} {when}: {n} mixed patrols, protocol minimum {min}",
    "liaison": "{soldiers} soldiers in {zone} ({post}) {when} with no Defence liaison of that post",
    "liaison_double": "liaison {unit} on duty at {posts} at the same time {when}",
    "soldier_cap_liaisons": "{n} soldiers deployed {when} ({k} of them liaisons), cap {cap}",
    "liaison_working_time": "liaison {unit} is on duty {hours:g} h without the Defence rest of "
    "{rest:g} h {when}, shift maximum {max:g} h",
    "liaison_weekly_hours": "liaison {unit} is on duty {hours:g} h in the week of {week}, "
    "Defence maximum {max:g} h",
    "unit_unknown": "unit {unit} in {col} {when} is not a {force} unit of the protocol",
    "unit_count": "patrol {patrol} {when}: {col} says {n} but its units total {total}",
    "unit_double_booked": "unit {unit} is in {k} rows at the same time {when}",
    "shift_length": "unit {unit} works {hours:g} h {when}, allowed {lo:g}-{hi:g} h",
    "rest": "unit {unit} rests {hours:g} h before the shift starting {at}, minimum {min:g} h",
    "weekly_hours": "unit {unit} works {hours:g} h in the week of {week}, maximum {max:g} h",
    "consecutive_days": "unit {unit} works {n} days in a row ({first} to {last}), maximum {max}",
    "consecutive_nights": "unit {unit} works {n} nights in a row ({first} to {last}), maximum {max}",
    "format": "row {row}: {reason}",
    "handover": "{team} leaves {zone} at {at} with {n} mixed patrols there since {since} "
    "({ho} min handover), minimum {min}",
    "travel": "unit {unit} goes from {a} to {b} in {gap:g} min {when}, travel {need:g} min",
    "zone_closed": "{n} visits in {zone} {when}, while the zone is closed",
    "continuity": "{after} plans up to {last}, so {plan} must start on {expected}; it starts on {first}",
}


@dataclass
class Violation:
    rule: str
    message: str
    start: str | None = None
    end: str | None = None
    zone: str | None = None
    units: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckReport:
    file: str
    rows: int
    violations: list[Violation]
    horizon: tuple[str | None, str | None] = (None, None)

    @property
    def ok(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for v in self.violations:
            out[v.rule] += 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "ok": self.ok,
            "horizon": {"start": self.horizon[0], "end": self.horizon[1]},
            "violation_count": len(self.violations),
            "counts_by_rule": self.counts(),
            "violations": [v.to_dict() for v in self.violations],
        }


# --------------------------------------------------------------------------- protocol, read raw
class _Rules:
    """The protocol document as the checker reads it (plain dicts, no model types)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.tz = ZoneInfo(doc["timezone"])
        self.start = pd.Timestamp(datetime.fromisoformat(doc["period"]["start"]), tz=self.tz)
        self.end = pd.Timestamp(datetime.fromisoformat(doc["period"]["end"]), tz=self.tz)
        self.cap = int(doc["soldier_cap"])
        pat = doc["patrol"]
        self.police_min_mixed = int(pat["police_min_per_mixed_patrol"])
        self.soldiers_max = int(pat["soldiers_max_per_patrol"])
        self.police_min_only = int(pat.get("police_min_per_police_only_patrol", 2))
        self.police_min_fipa = int(pat.get("police_min_per_fipa", self.police_min_mixed))
        self.liaison_required = bool(doc["defence_liaison"]["required"])
        self.liaisons_in_cap = bool(doc["defence_liaison"].get("counts_in_cap", False))
        self.liaisons_rostered = bool(doc["defence_liaison"].get("rostered", False))
        self.posts = {p["id"]: set(p.get("liaisons", [])) for p in doc["command_posts"]}
        self.zones = {z["id"]: z for z in doc["zones"]}
        self.fipa = {}
        for f in doc.get("fipa", []):
            day = pd.Timestamp(datetime.fromisoformat(f["date"]))
            h0, m0 = map(int, f["start"].split(":"))
            h1, m1 = map(int, f["end"].split(":"))
            s = (day + pd.Timedelta(hours=h0, minutes=m0)).tz_localize(self.tz)
            e = (day + pd.Timedelta(hours=h1, minutes=m1)).tz_localize(self.tz)
            self.fipa[f["id"]] = (s, e, f["zone"], int(f["soldiers"]))
        self.work = doc["working_time"]
        self.handover = int(doc.get("handover_minutes", 0))
        # travel between zones (protocol data, `travel.py`): rows of a unit apart by no more than
        # the longest journey are one duty period (travel is working time)
        self.travel = travel_minutes(doc)
        self.zone_index = {z["id"]: i for i, z in enumerate(doc["zones"])}
        self.duty_gap = pd.Timedelta(minutes=duty_gap_minutes(self.travel))
        self.units: dict[str, tuple[str, int]] = {}
        for u in doc.get("units", []):
            self.units[u["code"]] = (u["force"], int(u["size"]))
        for s in doc.get("unit_series", []):
            width = max(3, len(str(s["count"])))
            for i in range(1, s["count"] + 1):
                self.units[f"{s['prefix']}-{i:0{width}d}"] = (s["force"], int(s["size"]))


def load_rules(protocol_path: str | Path) -> _Rules:
    doc, _ = read_document(protocol_path)
    issues = validate_document(doc)
    if issues:
        raise InputError(f"{protocol_path}: invalid protocol: {issues[0]} ({len(issues)} problems)")
    return _Rules(doc)


# --------------------------------------------------------------------------- reading the plan
def _parse_times(values: pd.Series, tz: ZoneInfo) -> tuple[pd.Series, pd.Series]:
    """UTC instants of ISO 8601 times, and per value the reason it is refused ("" if none).

    A time must carry a UTC offset, and the offset must be the protocol time zone's at that
    instant (+01:00 in Brussels winter, +02:00 in summer, DST included): a plan relabelled to
    another offset, or written without one, would otherwise be read as a different instant
    without anyone noticing."""
    values = values.astype(str).str.strip()
    has_offset = values.str.contains(_OFFSET)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    why = pd.Series("", index=values.index, dtype=object)
    if has_offset.any():
        out[has_offset] = pd.to_datetime(
            values[has_offset], utc=True, errors="coerce", format="ISO8601"
        )
    why[~has_offset] = "has no UTC offset (write e.g. 2026-04-06T22:00:00+02:00)"
    parsed = has_offset & out.notna()
    if parsed.any():
        written = values[parsed].str.extract(r"(Z|[+-]\d\d:?\d\d)$")[0]
        sign = written.str[0].map({"+": 1, "-": -1}).fillna(0)
        digits = written.str.replace(":", "", regex=False).str[1:]
        minutes = sign * (
            pd.to_numeric(digits.str[:2], errors="coerce").fillna(0) * 60
            + pd.to_numeric(digits.str[2:4], errors="coerce").fillna(0)
        )
        utc = out[parsed]
        local = utc.dt.tz_convert(tz).dt.tz_localize(None)
        expected = (local - utc.dt.tz_localize(None)) // pd.Timedelta(minutes=1)
        wrong = minutes.astype(int) != expected.astype(int)
        for i in wrong[wrong].index:
            e = int(expected[i])
            want = f"{'+' if e >= 0 else '-'}{abs(e) // 60:02d}:{abs(e) % 60:02d}"
            why[i] = f"has offset {written[i]}, but {tz.key} is at {want} at that instant"
        out[wrong[wrong].index] = pd.NaT
    return out, why


def read_plan(
    path: str | Path, rules: _Rules, *, label: str | None = None
) -> tuple[pd.DataFrame, list[Violation]]:
    """The plan's valid rows and a `format` violation per bad row (`label`, if given, names the
    file in those messages: the predecessor of `plan check --after`)."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{p}: cannot read plan CSV: {exc}") from exc
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)} (need {','.join(REQUIRED)})")
    if list(df.columns[: len(REQUIRED)]) != REQUIRED:
        raise InputError(f"{p}: the first columns must be exactly {','.join(REQUIRED)}")
    for c in OPTIONAL:
        if c not in df.columns:
            df[c] = ""
    df["row"] = np.arange(1, len(df) + 1)
    bad: list[Violation] = []
    df["s"], why_s = _parse_times(df["start"], rules.tz)
    df["e"], why_e = _parse_times(df["end"], rules.tz)
    for col in ("police", "soldiers"):
        df[col + "_n"] = pd.to_numeric(df[col], errors="coerce")
    problems = pd.Series("", index=df.index)
    for col, why in (("start", why_s), ("end", why_e)):
        problems[why != ""] += f"field {col!r} " + why[why != ""] + "; "
        problems[df[col[0]].isna() & (why == "")] += f"field {col!r} is not an ISO 8601 time; "
    problems[(df["s"] >= df["e"]).fillna(False)] += "'end' is not after 'start'; "
    for col in ("police", "soldiers"):
        n = df[col + "_n"]
        problems[n.isna() | (n < 0) | (n != n.round())] += f"field {col!r} is not a count >= 0; "
    problems[~df["kind"].isin(["patrol", "fipa"])] += "field 'kind' must be patrol or fipa; "
    for i in np.flatnonzero(problems.to_numpy() != ""):
        r = df.iloc[i]
        reason = problems.iloc[i].rstrip("; ")
        msg = MSG["format"].format(row=r["row"], reason=reason)
        bad.append(
            Violation(
                "format",
                f"{label} {msg}" if label else msg,
                rows=[] if label else [int(r["row"])],
            )
        )
    good = df[problems == ""].copy()
    good["police_n"] = good["police_n"].astype(int)
    good["soldiers_n"] = good["soldiers_n"].astype(int)
    return good, bad


# --------------------------------------------------------------------------- helpers
def _fmt(ts: pd.Timestamp, tz: ZoneInfo) -> str:
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _when(s: pd.Timestamp, e: pd.Timestamp, tz: ZoneInfo) -> str:
    a, b = s.tz_convert(tz), e.tz_convert(tz)
    return (
        f"{a:%Y-%m-%d %H:%M}-{b:%H:%M}"
        if a.date() == b.date()
        else f"{a:%Y-%m-%d %H:%M}-{b:%Y-%m-%d %H:%M}"
    )


def _iso(ts: pd.Timestamp, tz: ZoneInfo) -> str:
    return ts.tz_convert(tz).isoformat()


def _slots(df: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """One line per (row, 15-minute slot overlapped)."""
    first = ((df["s"] - origin) // SLOT).astype(np.int64)
    last = (-((origin - df["e"]) // SLOT)).astype(np.int64)  # ceil
    n = (last - first).clip(lower=1).to_numpy()
    idx = np.repeat(df.index.to_numpy(), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    offs = np.arange(int(n.sum())) - starts
    out = df.loc[idx].copy()
    out["slot"] = np.repeat(first.to_numpy(), n) + offs
    return out


def _runs(slots: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive slot indices, as (first, last+1)."""
    if len(slots) == 0:
        return []
    slots = np.sort(slots)
    breaks = np.flatnonzero(np.diff(slots) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(slots) - 1]])
    return [(int(slots[a]), int(slots[b]) + 1) for a, b in zip(starts, ends, strict=True)]


_SPLIT = re.compile(r"[;\s]+")


def _units(cell: str) -> list[str]:
    if not cell:
        return []
    if " " not in cell and "\t" not in cell:
        return [u for u in cell.split(";") if u]
    return [u for u in _SPLIT.split(cell.strip()) if u]


# --------------------------------------------------------------------------- the check
def _wall(d: date, hours: float, tz: ZoneInfo) -> pd.Timestamp:
    """`hours` after 00:00 local of day `d`, on the wall clock (22:00 is 22:00 on DST days too)."""
    return pd.Timestamp(
        datetime.combine(d, datetime.min.time()) + timedelta(hours=hours)
    ).tz_localize(tz, ambiguous=False, nonexistent="shift_forward")


def planned_days(
    s_min: pd.Timestamp, e_max: pd.Timestamp, tz: ZoneInfo
) -> tuple[date, date] | None:
    """The days a plan is for: the local days whose noon its rows span. A plan may start with the
    eve's night shift and end with its last night's morning; those half-days are not planned days."""
    a, b = s_min.tz_convert(tz), e_max.tz_convert(tz)
    d1 = a.date() if a <= _wall(a.date(), 12, tz) else a.date() + timedelta(days=1)
    d2 = b.date() if b > _wall(b.date(), 12, tz) else b.date() - timedelta(days=1)
    return (d1, d2) if d1 <= d2 else None


def coverage_horizon(days: tuple[date, date], rules: _Rules) -> tuple[pd.Timestamp, pd.Timestamp]:
    """When zone minima hold for a plan of `days`: from 00:00 of the first day to 24:00 of the last.
    Only the protocol's first day starts at its first shift start, and its last day ends at the
    last shift end inside the period (no night shift may run past it)."""
    tz = rules.tz
    templates = [
        (int(sh), float(L))
        for wt in rules.work.values()
        for sh in wt.get("shift_starts", [])
        for L in wt.get("shift_lengths", [])
        if float(wt["shift_min_hours"]) <= float(L) <= float(wt["shift_max_hours"])
    ]
    d1, d2 = days
    lo = _wall(d1, 0, tz)
    if d1 == rules.start.date() and templates:
        lo = _wall(d1, min(sh for sh, _ in templates), tz)
    hi = _wall(d2 + timedelta(days=1), 0, tz)
    if d2 + timedelta(days=1) >= rules.end.date() and templates:
        inside = [sh + L for sh, L in templates if sh + L <= 24]
        hi = _wall(d2, max(inside, default=24), tz)
    return lo, hi


def check_plan(
    plan_path: str | Path,
    protocol_path: str | Path,
    *,
    horizon: tuple[datetime, datetime] | None = None,
    after: str | Path | None = None,
    changes: dict[str, Any] | None = None,
) -> CheckReport:
    """Every violation of the protocol in the plan (an empty list means the plan is compliant).

    The zone minima and FIPA hold over the plan's days (`planned_days`, `coverage_horizon`), or
    over `horizon` if given. `after`: the plan this one continues (`plan check --after`); both are
    judged as one (rest, weekly hours, double booking and coverage across the seam), the previous
    plan's rows shown with negative row numbers dropped, and only what touches this plan reported.
    """
    rules = load_rules(protocol_path)
    df, out = read_plan(plan_path, rules)
    nrows = len(df) + len(out)
    tz = rules.tz
    seam = None
    if after is not None:
        prev, prev_bad = read_plan(after, rules, label=Path(after).name)
        own = planned_days(df["s"].min(), df["e"].max(), tz) if not df.empty else None
        before = planned_days(prev["s"].min(), prev["e"].max(), tz) if not prev.empty else None
        last_start = _last_shift_day(prev, tz, rules.duty_gap)
        if before is not None and last_start is not None:
            before = (before[0], last_start)  # its last day: the day its last shift starts
        if own is not None:
            seam = _wall(own[0], 0, tz)
        # the continuation's first day is the day after its predecessor's last: its first row
        # lies on that day (after the predecessor's last night), neither earlier nor a day later
        expected = None if before is None else before[1] + timedelta(days=1)
        if expected is not None and not df.empty:
            first_row = df["s"].min()
            # days after the predecessor's last shift that needed nothing (no minimum, no FIPA)
            # may be its own, left empty: the rows cannot tell, and no rule can be broken there
            first_day = first_row.tz_convert(tz).date()
            if first_day > expected and not _needs_planning(
                rules, expected, first_day - timedelta(days=1)
            ):
                before, expected = (before[0], first_day - timedelta(days=1)), first_day
            seam = _wall(expected, 0, tz)
            if seam <= first_row < _wall(expected + timedelta(days=1), 0, tz):
                own = (expected, own[1] if own is not None else expected)
        if own is not None and before is not None and before[1] + timedelta(days=1) != own[0]:
            out.append(
                Violation(
                    "continuity",
                    MSG["continuity"].format(
                        after=Path(after).name,
                        last=before[1],
                        plan=Path(plan_path).name,
                        expected=before[1] + timedelta(days=1),
                        first=own[0],
                    ),
                    numbers={"after_last_day": str(before[1]), "first_day": str(own[0])},
                )
            )
        prev = prev.assign(row=-prev["row"])
        df = pd.concat([prev, df], ignore_index=True) if not prev.empty else df
        out = prev_bad + out
    if df.empty:
        return CheckReport(str(plan_path), nrows, out)
    days = planned_days(df["s"].min(), df["e"].max(), tz)
    if horizon is None and days is not None:
        horizon = coverage_horizon(days, rules)
    origin = min(df["s"].min(), rules.start.tz_convert(UTC)).floor("D")

    def slot_time(k: int) -> pd.Timestamp:
        return origin + k * SLOT

    # --- row-level rules (vectorised masks; a Python loop only over the violating rows)
    out.extend(_row_rules(df, rules))

    sl = _slots(df, origin)

    # --- soldier cap, per slot, reported per run of consecutive slots
    # re-planning changes (`changes`): a lower cap from a moment, zones closed for a while
    changes = changes or {}
    per_slot = sl.groupby("slot")["soldiers_n"].sum()
    if rules.travel is not None:  # soldiers travelling between two visits are deployed too
        per_slot = per_slot.add(_travelling_soldiers(df, rules, origin), fill_value=0).astype(int)
    li_slot = pd.Series(0, index=per_slot.index)
    if rules.liaisons_in_cap:  # every liaison the plan shows on duty is a soldier deployed
        li_slot = (
            (sl[sl["liaison"] != ""].groupby("slot")["liaison"].nunique().reindex(per_slot.index))
            .fillna(0)
            .astype(int)
        )
        per_slot = per_slot + li_slot
    caps = pd.Series(rules.cap, index=per_slot.index)
    if changes.get("cap"):
        k0 = (pd.Timestamp(changes["cap"]["from"]).tz_convert(UTC) - origin) // SLOT
        caps[caps.index >= k0] = min(rules.cap, int(changes["cap"]["value"]))
    over = per_slot[per_slot > caps]
    for a, b in _runs(over.index.to_numpy()):
        n = int(per_slot.loc[a : b - 1].max())
        cap = int(caps.loc[a])
        k = int(li_slot.loc[a : b - 1].max())
        s, e = slot_time(a), slot_time(b)
        msg = (
            MSG["soldier_cap_liaisons"].format(n=n, k=k, when=_when(s, e, tz), cap=cap)
            if k
            else MSG["soldier_cap"].format(n=n, when=_when(s, e, tz), cap=cap)
        )
        numbers = {"soldiers": n, "cap": cap} | ({"liaisons": k} if k else {})
        out.append(Violation("soldier_cap", msg, _iso(s, tz), _iso(e, tz), numbers=numbers))
    closed: dict[str, set[int]] = defaultdict(set)
    for c in changes.get("close_zone") or []:
        a = int((pd.Timestamp(c["from"]).tz_convert(UTC) - origin) // SLOT)
        b = int(-((origin - pd.Timestamp(c["to"]).tz_convert(UTC)) // SLOT))
        closed[c["zone"]].update(range(a, b))
    for zid, ks in closed.items():
        # this plan's rows only: the previous plan's (--after) stand as they were made
        there = sl[(sl["zone_id"] == zid) & sl["slot"].isin(ks) & (sl["row"] > 0)]
        for a, b in _runs(np.unique(there["slot"].to_numpy())):
            s, e = slot_time(a), slot_time(b)
            n = int(there["slot"].between(a, b - 1).sum())
            out.append(
                Violation(
                    "zone_closed",
                    MSG["zone_closed"].format(n=n, zone=zid, when=_when(s, e, tz)),
                    _iso(s, tz),
                    _iso(e, tz),
                    zid,
                    numbers={"visits": n},
                )
            )

    # --- FIPA staffing: every slot of each FIPA window has the required soldiers
    fipa_rows = sl[sl["kind"] == "fipa"]
    lo_h = df["s"].min() if horizon is None else pd.Timestamp(horizon[0]).tz_convert(UTC)
    hi_h = df["e"].max() if horizon is None else pd.Timestamp(horizon[1]).tz_convert(UTC)
    # a FIPA is staffed over the whole planned days (from 00:00 even on the protocol's first
    # day) and wherever the plan has rows (its eve's night)
    lo_f, hi_f = min(lo_h, df["s"].min()), max(hi_h, df["e"].max())
    if days is not None:
        lo_f = min(lo_f, _wall(days[0], 0, tz).tz_convert(UTC))
    for fid, (fs, fe, fz, need) in rules.fipa.items():
        fs_u, fe_u = max(fs.tz_convert(UTC), lo_f), min(fe.tz_convert(UTC), hi_f)
        if fs_u >= fe_u:
            continue
        a, b = int((fs_u - origin) // SLOT), int(-((origin - fe_u) // SLOT))
        have = fipa_rows[fipa_rows["patrol_id"] == fid].groupby("slot")["soldiers_n"].sum()
        counts = np.array([int(have.get(k, 0)) for k in range(a, b)])
        short = np.flatnonzero(counts < need) + a
        for ra, rb in _runs(short):
            n = int(counts[ra - a : rb - a].min())
            s, e = slot_time(ra), slot_time(rb)
            out.append(
                Violation(
                    "fipa_soldiers",
                    MSG["fipa_soldiers"].format(
                        fipa=fid, zone=fz, when=_when(s, e, tz), n=n, required=need
                    ),
                    _iso(s, tz),
                    _iso(e, tz),
                    fz,
                    numbers={"soldiers": n, "required": need},
                )
            )

    # --- zone minima of mixed patrols, over the horizon
    a_all, b_all = int((lo_h - origin) // SLOT), int(-((origin - hi_h) // SLOT))
    mixed = (
        sl[(sl["kind"] == "patrol") & (sl["soldiers_n"] > 0)].groupby(["zone_id", "slot"]).size()
    )
    for zid, z in rules.zones.items():
        k = int(z.get("min_mixed_patrols", 0))
        if k <= 0:
            continue
        zs = mixed.loc[zid] if zid in mixed.index.get_level_values(0) else pd.Series(dtype=int)
        counts = zs.reindex(range(a_all, b_all), fill_value=0).to_numpy()
        short = np.flatnonzero(counts < k) + a_all
        short = short[~np.isin(short, list(closed.get(zid, ())))]  # no minimum while closed
        for ra, rb in _runs(short):
            n = int(counts[ra - a_all : rb - a_all].min())
            s, e = slot_time(ra), slot_time(rb)
            out.append(
                Violation(
                    "zone_min_mixed",
                    MSG["zone_min_mixed"].format(zone=zid, when=_when(s, e, tz), n=n, min=k),
                    _iso(s, tz),
                    _iso(e, tz),
                    zid,
                    numbers={"mixed_patrols": n, "minimum": k},
                )
            )

    if rules.handover:
        out.extend(_check_handover(sl, rules, origin, a_all, b_all, closed))

    # --- liaison at two posts at once
    li = sl[(sl["liaison"] != "") & (sl["soldiers_n"] > 0)]
    if not li.empty:
        li = li.assign(
            post=li["zone_id"].map(lambda z: rules.zones.get(z, {}).get("command_post", ""))
        )
        posts = li.groupby(["liaison", "slot"])["post"].nunique()
        for unit in posts[posts > 1].index.get_level_values(0).unique():
            bad = posts.loc[unit]
            for ra, rb in _runs(bad[bad > 1].index.to_numpy()):
                s, e = slot_time(ra), slot_time(rb)
                names = sorted(
                    set(li[(li["liaison"] == unit) & li["slot"].between(ra, rb - 1)]["post"])
                )
                out.append(
                    Violation(
                        "liaison_double",
                        MSG["liaison_double"].format(
                            unit=unit, posts=", ".join(names), when=_when(s, e, tz)
                        ),
                        _iso(s, tz),
                        _iso(e, tz),
                        units=[unit],
                    )
                )

    # --- units: double booking and working time
    out.extend(_check_units(df, sl, rules, origin))
    if rules.liaisons_rostered:
        out.extend(_check_liaisons(df, rules))
    if seam is not None:  # with --after: what touches this plan (its rows or its time)
        out = [v for v in out if _touches(v, seam)]
        for v in out:
            v.rows = [r for r in v.rows if r > 0]
    out.sort(key=lambda v: (v.start or "", v.rule))
    return CheckReport(str(plan_path), nrows, out, (_iso(lo_h, tz), _iso(hi_h, tz)))


def _check_handover(
    sl: pd.DataFrame,
    rules: _Rules,
    origin: pd.Timestamp,
    a_all: int,
    b_all: int,
    closed: dict[str, set[int]],
) -> list[Violation]:
    """`handover_minutes`: a mixed patrol leaving a zone with a minimum (a stay = its consecutive
    slots there) while the minimum holds must leave at least the minimum of other mixed patrols
    that have been there since `handover_minutes` before and stay on: the incoming patrol arrives
    before the outgoing one leaves."""
    tz, out = rules.tz, []
    ho = rules.handover // 15
    mixed = sl[(sl["kind"] == "patrol") & (sl["soldiers_n"] > 0)]
    for zid, z in rules.zones.items():
        k = int(z.get("min_mixed_patrols", 0))
        there = mixed[mixed["zone_id"] == zid]
        if k <= 0 or there.empty:
            continue
        stays = [
            (team, a, b)
            for team, g in there.groupby("patrol_id")
            for a, b in _runs(np.unique(g["slot"].to_numpy()))
        ]
        lo = min(a for _, a, _ in stays)
        hi = max(b for _, _, b in stays) + 1
        # relief[b]: patrols present in every slot from b - ho to b (each stay covers those b)
        diff = np.zeros(hi - lo + 1, dtype=int)
        for _, a, b in stays:
            if b - a > ho:
                diff[a + ho - lo] += 1
                diff[b - lo] -= 1
        relief = np.cumsum(diff)
        for team, _a, b in stays:
            if not a_all <= b < b_all or b in closed.get(zid, ()) or relief[b - lo] >= k:
                continue
            at, since = origin + b * SLOT, origin + (b - ho) * SLOT
            n = int(relief[b - lo])
            out.append(
                Violation(
                    "handover",
                    MSG["handover"].format(
                        team=team, zone=zid, at=_fmt(at, tz), n=n, since=_fmt(since, tz)[-5:],
                        ho=rules.handover, min=k,
                    ),
                    _iso(since, tz),
                    _iso(at, tz),
                    zid,
                    units=[u for u in str(team).split("+") if u],
                    numbers={"relief": n, "minimum": k, "handover_minutes": rules.handover},
                )
            )  # fmt: skip
    return out


def _touches(v: Violation, seam: pd.Timestamp) -> bool:
    if any(r > 0 for r in v.rows) or (v.start is None and v.end is None):
        return True
    end = pd.Timestamp(v.end or v.start)
    return end > seam


def _row_rules(df: pd.DataFrame, rules: _Rules) -> list[Violation]:
    tz = rules.tz
    out: list[Violation] = []
    pol, sol = df["police_n"], df["soldiers_n"]
    patrol = df["kind"] == "patrol"
    zone_known = df["zone_id"].isin(list(rules.zones))
    zpost = df["zone_id"].map({z: v["command_post"] for z, v in rules.zones.items()})
    allowed = df["zone_id"].map(
        {z: bool(v.get("soldiers_allowed", True)) for z, v in rules.zones.items()}
    )

    def emit(mask: pd.Series, rule: str, make) -> None:
        for r in df[mask].itertuples(index=False):
            when = _when(r.s, r.e, tz)
            units = _units(r.police_units) + _units(r.soldier_units)
            msg, numbers = make(r, when)
            out.append(
                Violation(
                    rule, msg, _iso(r.s, tz), _iso(r.e, tz), r.zone_id, units, numbers, [int(r.row)]
                )
            )

    emit(
        (df["s"] < rules.start) | (df["e"] > rules.end),
        "period",
        lambda r, w: (
            MSG["period"].format(when=w, start=rules.start.date(), end=rules.end.date()),
            {},
        ),
    )
    emit(~zone_known, "zone", lambda r, w: (MSG["zone"].format(zone=r.zone_id), {}))
    emit(
        zone_known & (zpost != df["command_post"]),
        "command_post",
        lambda r, w: (
            MSG["command_post"].format(
                zone=r.zone_id, expected=rules.zones[r.zone_id]["command_post"], got=r.command_post
            ),
            {},
        ),
    )

    def police_below(mask: pd.Series, rule: str, minimum: int) -> None:
        """Rows of `mask` with fewer police than `minimum` (messages of the same shape)."""
        emit(
            mask & (pol < minimum),
            rule,
            lambda r, w: (
                MSG[rule].format(
                    patrol=r.patrol_id, zone=r.zone_id, when=w, police=r.police_n, min=minimum
                ),
                {"police": r.police_n, "minimum": minimum},
            ),
        )

    police_below(patrol & (sol > 0), "mixed_police_min", rules.police_min_mixed)
    emit(
        patrol & (sol > rules.soldiers_max),
        "soldiers_max",
        lambda r, w: (
            MSG["soldiers_max"].format(
                patrol=r.patrol_id,
                zone=r.zone_id,
                when=w,
                soldiers=r.soldiers_n,
                max=rules.soldiers_max,
            ),
            {"soldiers": r.soldiers_n, "maximum": rules.soldiers_max},
        ),
    )
    police_below(patrol & (sol == 0), "police_only_min", rules.police_min_only)
    emit(
        patrol & (sol > 0) & zone_known & allowed.eq(False),
        "approved_area",
        lambda r, w: (
            MSG["approved_area"].format(soldiers=r.soldiers_n, zone=r.zone_id, when=w),
            {"soldiers": r.soldiers_n},
        ),
    )
    # FIPA rows must sit inside a FIPA of the protocol, in its zone
    fipa = df["kind"] == "fipa"
    known = pd.Series(False, index=df.index)
    for fid, (fs, fe, fz, _need) in rules.fipa.items():
        known |= (
            fipa
            & (df["patrol_id"] == fid)
            & (df["s"] >= fs)
            & (df["e"] <= fe)
            & (df["zone_id"] == fz)
        )
    emit(
        fipa & ~known,
        "fipa_unknown",
        lambda r, w: (MSG["fipa_unknown"].format(patrol=r.patrol_id, zone=r.zone_id, when=w), {}),
    )
    # soldiers have no police powers: a FIPA's soldiers secure with police at every moment
    police_below(fipa, "fipa_police", rules.police_min_fipa)
    # Defence liaison of the zone's own post whenever soldiers are there
    if rules.liaison_required:
        pairs = {(post, code) for post, codes in rules.posts.items() for code in codes}
        ok = pd.Series(
            [(p, c) in pairs for p, c in zip(zpost.fillna(""), df["liaison"], strict=True)],
            index=df.index,
        )
        emit(
            (sol > 0) & zone_known & ~ok,
            "liaison",
            lambda r, w: (
                MSG["liaison"].format(
                    soldiers=r.soldiers_n,
                    zone=r.zone_id,
                    post=rules.zones[r.zone_id]["command_post"],
                    when=w,
                ),
                {"soldiers": r.soldiers_n, "liaison": r.liaison or None},
            ),
        )
    # unit codes: known, of the right force, and adding up to the stated numbers
    for col, force, count in (
        ("police_units", "police", "police_n"),
        ("soldier_units", "defence", "soldiers_n"),
    ):
        has = df[col] != ""
        if not has.any():
            continue
        sub = df[has]
        codes = sub[col].map(_units)
        bad_rows, totals = [], []
        stated = sub[count].to_numpy()
        for idx, cs, n in zip(sub.index, codes, stated, strict=True):
            info = [rules.units.get(c) for c in cs]
            wrong = [c for c, i in zip(cs, info, strict=True) if i is None or i[0] != force]
            total = None if wrong else sum(i[1] for i in info)
            if wrong or total != n:  # only rows with a problem go on (the rest is the fast path)
                bad_rows.append((idx, wrong))
                totals.append(total)
        for (idx, wrong), total in zip(bad_rows, totals, strict=True):
            r = df.loc[idx]
            when = _when(r.s, r.e, tz)
            common = dict(start=_iso(r.s, tz), end=_iso(r.e, tz), zone=r.zone_id, rows=[int(r.row)])
            for c in wrong:
                out.append(
                    Violation(
                        "unit_unknown",
                        MSG["unit_unknown"].format(unit=c, col=col, when=when, force=force),
                        units=[c],
                        **common,
                    )
                )
            if total is not None and total != r[count]:
                out.append(
                    Violation(
                        "unit_count",
                        MSG["unit_count"].format(
                            patrol=r.patrol_id,
                            when=when,
                            col=col.split("_")[0],
                            n=r[count],
                            total=total,
                        ),
                        units=_units(r[col]),
                        numbers={"stated": int(r[count]), "units_total": int(total)},
                        **common,
                    )
                )
    return out


def _check_units(
    df: pd.DataFrame, sl: pd.DataFrame, rules: _Rules, origin: pd.Timestamp
) -> list[Violation]:
    tz = rules.tz
    out: list[Violation] = []
    pairs = []
    for col, force in (("police_units", "police"), ("soldier_units", "defence")):
        sub = df[df[col] != ""]
        if sub.empty:
            continue
        ex = sub.assign(unit=sub[col].map(_units)).explode("unit")
        ex = ex[ex["unit"].notna()]
        pairs.append(ex.assign(force=force)[["unit", "force", "s", "e", "row", "zone_id"]])
    if not pairs:
        return out
    u = pd.concat(pairs, ignore_index=True)
    # double booking: a unit in two rows over the same slot
    us = _slots(u, origin)
    dup = us.groupby(["unit", "slot"]).size()
    dup = dup[dup > 1]
    for unit in dup.index.get_level_values(0).unique():
        d = dup.loc[unit]
        for a, b in _runs(d.index.to_numpy()):
            s, e = origin + a * SLOT, origin + b * SLOT
            out.append(
                Violation(
                    "unit_double_booked",
                    MSG["unit_double_booked"].format(
                        unit=unit, k=int(d.loc[a : b - 1].max()), when=_when(s, e, tz)
                    ),
                    _iso(s, tz),
                    _iso(e, tz),
                    units=[unit],
                )
            )
    # duty periods: rows of a unit merged where they touch or overlap
    u = u.sort_values(["unit", "s", "e"], kind="stable").reset_index(drop=True)
    prev_end = u.groupby("unit")["e"].cummax().groupby(u["unit"]).shift()
    new = prev_end.isna() | (u["s"] > prev_end + rules.duty_gap)
    u["pid"] = new.cumsum()
    per = u.groupby("pid").agg(
        unit=("unit", "first"), force=("force", "first"), s=("s", "min"), e=("e", "max")
    )
    if rules.travel is not None:
        out.extend(_check_travel(u, rules))
    per["hours"] = (per["e"] - per["s"]).dt.total_seconds() / 3600.0
    per["rest"] = (per["s"] - per.groupby("unit")["e"].shift()).dt.total_seconds() / 3600.0
    for force, wt in rules.work.items():
        lo, hi = float(wt["shift_min_hours"]), float(wt["shift_max_hours"])
        rest, week_max = float(wt["min_rest_hours"]), float(wt["max_hours_per_week"])
        f = per[per["force"] == force]
        for r in f[(f["hours"] < lo - 1e-9) | (f["hours"] > hi + 1e-9)].itertuples():
            out.append(
                Violation(
                    "shift_length",
                    MSG["shift_length"].format(
                        unit=r.unit, hours=round(r.hours, 2), when=_when(r.s, r.e, tz), lo=lo, hi=hi
                    ),
                    _iso(r.s, tz),
                    _iso(r.e, tz),
                    units=[r.unit],
                    numbers={"hours": round(r.hours, 2), "min": lo, "max": hi},
                )
            )
        for r in f[f["rest"] < rest - 1e-9].itertuples():
            out.append(
                Violation(
                    "rest",
                    MSG["rest"].format(
                        unit=r.unit, hours=round(r.rest, 2), at=_fmt(r.s, tz), min=rest
                    ),
                    _iso(r.s - pd.Timedelta(hours=r.rest), tz),
                    _iso(r.s, tz),
                    units=[r.unit],
                    numbers={"rest_hours": round(r.rest, 2), "min": rest},
                )
            )
        # days and nights in a row: a duty period counts for the local day it starts on; it is a
        # night when at least half its quarters fall between 22:00 and 06:00 local
        for key, label in (("max_consecutive_days", "days"), ("max_consecutive_nights", "nights")):
            limit = wt.get(key)
            if not limit:
                continue
            for unit, g in f.groupby("unit"):
                days_worked = []
                for s, e in zip(g["s"], g["e"], strict=True):
                    if label == "nights":
                        quarters = pd.date_range(s, e, freq="15min", inclusive="left").tz_convert(
                            tz
                        )
                        hours = quarters.hour
                        if 2 * int(((hours >= 22) | (hours < 6)).sum()) < len(quarters):
                            continue
                    days_worked.append(s.tz_convert(tz).date())
                for run in _day_runs(sorted(set(days_worked))):
                    if len(run) > int(limit):
                        a, b = run[0], run[-1]
                        out.append(
                            Violation(
                                f"consecutive_{label}",
                                MSG[f"consecutive_{label}"].format(
                                    unit=unit, n=len(run), first=a, last=b, max=int(limit)
                                ),
                                _iso(_wall(a, 0, tz), tz),
                                _iso(_wall(b + timedelta(days=1), 0, tz), tz),
                                units=[unit],
                                numbers={label: len(run), "max": int(limit)},
                            )
                        )
        # hours per ISO week (Monday 00:00 local): split periods at week boundaries
        periods = zip(f["unit"], f["s"], f["e"], strict=True)
        out.extend(_weekly_violations(periods, tz, week_max, "weekly_hours"))
    return out


def _journeys(u: pd.DataFrame, rules: _Rules) -> pd.DataFrame:
    """Consecutive rows of each unit (sorted by unit and start) in two known zones, not
    overlapping: from `a` to `b`, `gap` minutes apart, the protocol's journey `need` minutes
    rounded up to whole visits."""
    prev = u.shift()
    same = u["unit"].eq(prev["unit"]) & (u["s"] >= prev["e"])
    zi, pzi = u["zone_id"].map(rules.zone_index), prev["zone_id"].map(rules.zone_index)
    j = u[same & zi.notna() & pzi.notna() & (zi != pzi)].copy()
    if j.empty:
        return j.assign(a="", gap=0.0, need=0.0, pe=j["s"])
    a_i, b_i = pzi[j.index].astype(int).to_numpy(), zi[j.index].astype(int).to_numpy()
    minutes = rules.travel[a_i, b_i]
    j["need"] = np.ceil(minutes / VISIT_MINUTES - 1e-9) * VISIT_MINUTES
    j["a"] = prev.loc[j.index, "zone_id"]
    j["pe"] = prev.loc[j.index, "e"]
    j["gap"] = (j["s"] - j["pe"]).dt.total_seconds() / 60.0
    return j


def _check_travel(u: pd.DataFrame, rules: _Rules) -> list[Violation]:
    """`travel`: a unit's consecutive visits in different zones are at least the journey apart."""
    tz = rules.tz
    j = _journeys(u, rules)
    out = []
    for r in j[j["gap"] < j["need"] - 1e-9].itertuples():
        out.append(
            Violation(
                "travel",
                MSG["travel"].format(
                    unit=r.unit, a=r.a, b=r.zone_id, gap=round(r.gap, 1),
                    when=_when(r.pe, r.s, tz) if r.s > r.pe else _fmt(r.s, tz), need=r.need,
                ),
                _iso(r.pe, tz),
                _iso(r.s, tz),
                r.zone_id,
                units=[r.unit],
                numbers={"gap_minutes": round(r.gap, 1), "travel_minutes": float(r.need)},
                rows=[int(r.row)],
            )
        )  # fmt: skip
    return out


def _travelling_soldiers(df: pd.DataFrame, rules: _Rules, origin: pd.Timestamp) -> pd.Series:
    """Soldiers per slot between two visits of a duty period (on their way): slot -> soldiers."""
    sub = df[df["soldier_units"] != ""]
    if sub.empty:
        return pd.Series(dtype=int)
    ex = sub.assign(unit=sub["soldier_units"].map(_units)).explode("unit")
    ex = ex[ex["unit"].notna()].sort_values(["unit", "s", "e"], kind="stable")
    ex = ex.reset_index(drop=True)
    prev_end = ex.groupby("unit")["e"].cummax().groupby(ex["unit"]).shift()
    gap = ex["s"] - prev_end
    way = ex[(gap > pd.Timedelta(0)) & (gap <= rules.duty_gap)]
    if way.empty:
        return pd.Series(dtype=int)
    size = way["unit"].map(lambda c: rules.units.get(c, ("defence", 0))[1]).to_numpy()
    a = ((prev_end[way.index] - origin) // SLOT).astype(np.int64).to_numpy()
    b = ((way["s"] - origin) // SLOT).astype(np.int64).to_numpy()
    n = b - a
    slots = np.repeat(a, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    return pd.Series(np.repeat(size, n)).groupby(slots).sum()


def _weekly_violations(periods, tz: ZoneInfo, week_max: float, rule: str) -> list[Violation]:
    """Hours per unit and ISO week (Monday 00:00 local; periods split at the week boundary)
    above `week_max`, as violations of `rule` (`weekly_hours`, `liaison_weekly_hours`)."""
    weekly: dict[tuple[str, date], float] = defaultdict(float)
    for unit, s, e in periods:
        cur, end_local = s.tz_convert(tz), e.tz_convert(tz)
        while cur < end_local:
            monday = (cur - pd.Timedelta(days=cur.weekday())).normalize()
            nxt = (monday.tz_localize(None) + pd.Timedelta(days=7)).tz_localize(tz)
            seg_end = min(end_local, nxt)
            weekly[str(unit), monday.date()] += (seg_end - cur).total_seconds() / 3600.0
            cur = seg_end
    out = []
    for (unit, week), hours in sorted(weekly.items()):
        if hours > week_max + 1e-9:
            ws = pd.Timestamp(week).tz_localize(tz)
            out.append(
                Violation(
                    rule,
                    MSG[rule].format(unit=unit, hours=round(hours, 2), week=week, max=week_max),
                    _iso(ws, tz),
                    _iso(ws + pd.Timedelta(days=7), tz),
                    units=[unit],
                    numbers={"hours": round(hours, 2), "max": week_max},
                )
            )
    return out


def _check_liaisons(df: pd.DataFrame, rules: _Rules) -> list[Violation]:
    """Liaisons rostered against Defence working time (`defence_liaison.rostered`).

    A plan shows a liaison only where its post has soldiers, so a liaison's turn can appear with
    holes: the rows are merged into duty periods wherever the break is shorter than the Defence
    minimum rest (a shorter break is no rest). A period longer than the Defence shift maximum then
    means too long a turn or too short a rest; the minimum shift length cannot be judged."""
    tz, out = rules.tz, []
    wt = rules.work["defence"]
    rest, hi = float(wt["min_rest_hours"]), float(wt["shift_max_hours"])
    week_max = float(wt["max_hours_per_week"])
    li = df[df["liaison"] != ""].sort_values(["liaison", "s"], kind="stable")
    all_periods: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    for unit, rows in li.groupby("liaison"):
        periods: list[list[pd.Timestamp]] = []
        for s, e in zip(rows["s"], rows["e"], strict=True):
            if periods and (s - periods[-1][1]).total_seconds() < rest * 3600:
                periods[-1][1] = max(periods[-1][1], e)
            else:
                periods.append([s, e])
        for s, e in periods:
            hours = (e - s).total_seconds() / 3600.0
            if hours > hi + 1e-9:
                out.append(
                    Violation(
                        "liaison_working_time",
                        MSG["liaison_working_time"].format(
                            unit=unit,
                            hours=round(hours, 2),
                            rest=rest,
                            when=_when(s, e, tz),
                            max=hi,
                        ),
                        _iso(s, tz),
                        _iso(e, tz),
                        units=[unit],
                        numbers={"hours": round(hours, 2), "max": hi, "min_rest": rest},
                    )
                )
            all_periods.append((str(unit), s, e))
    out.extend(_weekly_violations(all_periods, tz, week_max, "liaison_weekly_hours"))
    return out


def _needs_planning(rules: _Rules, d1: date, d2: date) -> bool:
    """Whether the local days d1..d2 need patrols: a zone minimum (they hold every day) or a FIPA
    on those days."""
    if any(int(z.get("min_mixed_patrols", 0)) > 0 for z in rules.zones.values()):
        return True
    lo, hi = _wall(d1, 0, rules.tz), _wall(d2 + timedelta(days=1), 0, rules.tz)
    return any(s < hi and lo < e for s, e, _z, _n in rules.fipa.values())


def _last_shift_day(
    df: pd.DataFrame, tz: ZoneInfo, gap: pd.Timedelta = pd.Timedelta(0)
) -> date | None:
    """The local day the plan's last duty period (a unit's rows merged where they touch) starts."""
    best = None
    for col in ("police_units", "soldier_units"):
        sub = df[df[col] != ""]
        if sub.empty:
            continue
        ex = sub.assign(unit=sub[col].map(_units)).explode("unit").sort_values(["unit", "s"])
        prev_end = ex.groupby("unit")["e"].shift()
        starts = ex.loc[prev_end.isna() | (ex["s"] > prev_end + gap), "s"]
        if len(starts):
            m = starts.max()
            best = m if best is None or m > best else best
    return None if best is None else best.tz_convert(tz).date()


def _day_runs(days: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for d in days:
        if runs and d - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def summary_line(report: CheckReport) -> str:
    if report.ok:
        return f"{report.file}: {report.rows} rows, no violation"
    return f"{report.file}: {report.rows} rows, {len(report.violations)} violations " + ", ".join(
        f"{k}={v}" for k, v in report.counts().items()
    )


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


_ = timedelta  # (kept for callers that pass horizons built with timedelta)
