# ruff: noqa: E501
"""Re-planning: `plan make --from-plan OLD.csv --changes FILE --from DATE`, and continuing a
plan: `plan make --after PREVIOUS.csv`.

The old plan is kept as it is before DATE (00:00 local). From DATE on, the planner re-plans with
the changes (units out or unavailable for a while, zones closed, a lower cap, a new risk table)
and changes as little as possible of what stays feasible: each unit's old shifts carry a large
bonus in the objective (and are given to the solver as hints), and an hour whose units, FIPA
demand and optimal coverage are unchanged keeps its old visits verbatim. Shifts already started
before DATE are finished, also by a unit that drops out (it takes no new shift). The result
reports how many visit assignments and shifts changed. A new FIPA is a protocol amendment
(approved by both ministries), never a change. The keys are in `read_changes`.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from safecities.errors import InputError
from safecities.patrols.planner import HEADER, Grid, Q, Shift
from safecities.safeio import load_json, load_yaml

CHANGE_KEYS = {"units_out", "unit_unavailable", "close_zone", "cap", "fipa", "add_fipa", "risk"}


def _moment(value: Any, tz) -> datetime | None:
    """An ISO 8601 moment; without an offset it is local time of the protocol."""
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t.replace(tzinfo=tz) if t.tzinfo is None else t


class ChangesInvalid(InputError):
    """Changes with problems: the message names them all; `problems` lists them one by one."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))
        self.source, self.problems = source, problems


def read_changes(path: str | Path, protocol=None) -> dict[str, Any]:
    """The changes file (YAML or JSON), every problem named with its JSON path (all at once,
    `InputError`); a relative `risk` is read from the changes file's folder. The keys are those
    of `parse_changes`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        doc = load_json(text) if p.suffix.lower() == ".json" else load_yaml(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{p}: cannot read changes: {exc}") from exc
    doc = parse_changes(doc, protocol, source=str(p))
    if doc.get("risk"):
        doc["risk"] = str((p.parent / doc["risk"]).resolve())
    return doc


def parse_changes(doc: Any, protocol=None, *, source: str = "changes") -> dict[str, Any]:
    """Changes for a re-plan (a file's document, or the web's and the API's body), every problem
    named with its JSON path (all at once, `InputError`); moments become aware datetimes.

    Keys (all optional): `units_out` [codes] (from --from on); `unit_unavailable` [{unit, from,
    to}]; `close_zone` [{zone, from, to}]; `cap` {value, from} (a lower soldier cap from a
    moment); `fipa` [ids]: FIPA of the protocol to plan - a new FIPA is a protocol amendment,
    approved by Interior and Defence like any version, then given with --protocol; `risk` (CSV,
    relative to the changes file)."""
    import copy

    doc = copy.deepcopy(doc or {})
    if not isinstance(doc, dict) or set(doc) - CHANGE_KEYS:
        raise InputError(
            f"{source}: changes are a mapping with keys {', '.join(sorted(CHANGE_KEYS))}"
        )
    errors: list[str] = []
    tz = protocol.tz if protocol is not None else None
    zones = {z.id for z in protocol.zones} if protocol is not None else None
    units = {u.code for u in protocol.units} if protocol is not None else None
    fipas = {f.id for f in protocol.fipa} if protocol is not None else None
    for key in ("units_out", "fipa"):
        if not isinstance(doc.get(key) or [], list):
            errors.append(f"$.{key}: a list of ids")
            doc[key] = []
    if doc.get("add_fipa"):
        errors.append(
            "$.add_fipa: a new FIPA amends the protocol; request the amended version "
            "(safecities protocol request), have Interior and Defence approve it, and re-plan "
            "with --protocol AMENDED (list its FIPA under `fipa`)"
        )
    for i, f in enumerate(doc.get("fipa") or []):
        if fipas is not None and str(f) not in fipas:
            errors.append(
                f"$.fipa[{i}]: {f!r} is not a FIPA of the protocol: amend the protocol and have "
                "the new version approved by Interior and Defence first"
            )
    for key, field in (("unit_unavailable", "unit"), ("close_zone", "zone")):
        items = doc.get(key) or []
        if not isinstance(items, list):
            errors.append(f"$.{key}: a list of {{{field}, from, to}}")
            continue
        for i, item in enumerate(items):
            where = f"$.{key}[{i}]"
            if not isinstance(item, dict):
                errors.append(f"{where}: a mapping {{{field}, from, to}}")
                continue
            known = units if field == "unit" else zones
            if not isinstance(item.get(field), str):
                errors.append(f"{where}.{field}: a {field} id (text)")
            elif known is not None and item.get(field) not in known:
                errors.append(f"{where}.{field}: {item.get(field)!r} is not in the protocol")
            s, e = (_moment(item.get(k), tz) for k in ("from", "to"))
            if s is None:
                errors.append(f"{where}.from: not an ISO 8601 time")
            if e is None:
                errors.append(f"{where}.to: not an ISO 8601 time")
            if s is not None and e is not None and e <= s:
                errors.append(f"{where}.to: not after from")
            item["from"], item["to"] = s, e
    cap = doc.get("cap")
    if cap is not None:
        if not isinstance(cap, dict):
            errors.append("$.cap: a mapping {value, from}")
        else:
            v = cap.get("value")
            if not isinstance(v, int) or v < 0:
                errors.append("$.cap.value: a number of soldiers >= 0")
            elif protocol is not None and v > protocol.soldier_cap:
                errors.append(
                    f"$.cap.value: {v} is above the protocol's cap {protocol.soldier_cap} "
                    "(only a lower cap is a change; a higher one is a protocol amendment)"
                )
            cap["from"] = _moment(cap.get("from"), tz)
            if cap["from"] is None:
                errors.append("$.cap.from: not an ISO 8601 time")
    for u in doc.get("units_out") or []:
        if not isinstance(u, str) or (units is not None and u not in units):
            errors.append(f"$.units_out: {u!r} is not a unit of the protocol")
    if errors:
        raise ChangesInvalid(source, errors)
    return doc


def duty_gap_q(protocol) -> int:
    """The longest break, in visits, between two visits of a unit in one duty period: the longest
    journey between two zones (`travel.duty_gap_minutes`, as the checker reads duty periods)."""
    from safecities.patrols.travel import VISIT_MINUTES, duty_gap_minutes

    tm = None if protocol.travel is None else np.array(protocol.travel)
    return duty_gap_minutes(tm) // VISIT_MINUTES


def load_old_plan(
    path: str | Path, grid: Grid, handover_q: int = 0, gap_q: int = 0
) -> dict[str, Any]:
    """Split the old plan at the grid start: rows kept, shift history, old shifts and hours after.
    `handover_q`: the protocol's handover in visits; a duty period ending that little past a whole
    hour is a shift ending on that hour plus its handover (rest and weekly hours add it back).
    `gap_q`: `duty_gap_q`, a unit's rows apart by no more are one duty period (it travelled)."""
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"{p}: cannot read old plan: {exc}") from exc
    if not rows or rows[0][: len(HEADER)] != HEADER:
        raise InputError(f"{p}: an old plan for re-planning needs the columns {','.join(HEADER)}")
    body = [r for r in rows[1:] if r]
    if not body:  # a plan of days that needed nothing (no minimum, no FIPA) may have no visit
        return {"kept": [], "history": [], "old_shifts": {}, "reuse": {}, "after": []}
    df = pd.DataFrame(body, columns=rows[0][: len(HEADER)] + rows[0][len(HEADER) :])
    s = pd.to_datetime(df["start"], utc=True, format="ISO8601", errors="coerce")
    e = pd.to_datetime(df["end"], utc=True, format="ISO8601", errors="coerce")
    if s.isna().any() or e.isna().any():
        raise InputError(f"{p}: unparseable start/end (run `safecities plan check` on it)")
    t0 = pd.Timestamp(grid.t0)
    start_q = ((s - t0) / pd.Timedelta(minutes=15)).round().astype(int).to_numpy()  # quarter index
    end_q = ((e - t0) / pd.Timedelta(minutes=15)).round().astype(int).to_numpy()
    before = start_q < 0
    kept = [body[i][: len(HEADER)] for i in range(len(body)) if before[i]]
    # duty periods per unit (rows merged where they touch)
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, r in enumerate(df.itertuples(index=False)):
        for code in [c for c in (r.police_units + ";" + r.soldier_units).split(";") if c]:
            spans[code].append((int(start_q[i]), int(end_q[i])))
    history: list[Shift] = []
    old_shifts: dict[str, list[tuple[int, int]]] = {}
    for code, sp in spans.items():
        sp.sort()
        merged: list[list[int]] = []
        for a, b in sp:
            if merged and a <= merged[-1][1] + gap_q:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            ha, hb = a // Q, -(-b // Q)  # whole hours (the planner's shifts are whole hours)
            if 0 < b % Q <= handover_q:
                hb = b // Q
            if a < 0:
                history.append(Shift(code, ha, hb))
            else:
                old_shifts.setdefault(code, []).append((ha, hb))
    # the old visits of each hour after the start, with who was on duty and the coverage
    reuse: dict[int, dict[str, Any]] = {}
    for i in range(len(body)):
        if before[i]:
            continue
        H = int(start_q[i]) // Q
        r = body[i]
        slot = reuse.setdefault(
            H,
            {
                "police": set(),
                "soldiers": set(),
                "counts": defaultdict(lambda: [0, 0]),
                "rows": [],
                "pairs": {},
                "fipa": {},
                "fipa_police": {},
            },
        )
        row = dict(zip(HEADER, r[: len(HEADER)], strict=True))
        pol = [c for c in row["police_units"].split(";") if c]
        sol = [c for c in row["soldier_units"].split(";") if c]
        slot["police"].update(pol)
        slot["soldiers"].update(sol)
        slot["rows"].append(r[: len(HEADER)])
        if row["kind"] == "fipa":
            slot["fipa"][row["patrol_id"]] = sol
            slot["fipa_police"][row["patrol_id"]] = pol
        else:
            c = slot["counts"][row["zone_id"]]
            c[1] += 1
            if sol:
                c[0] += 1
                for su in sol:
                    slot["pairs"][su] = pol[0] if pol else ""
    for slot in reuse.values():
        slot["police"] = frozenset(slot["police"])
        slot["soldiers"] = frozenset(slot["soldiers"])
        slot["counts"] = {z: (m, t) for z, (m, t) in slot["counts"].items()}
        slot["fipa"] = {f: sorted(set(u)) for f, u in slot["fipa"].items()}
        slot["fipa_police"] = {f: sorted(set(u)) for f, u in slot["fipa_police"].items()}
    after_rows = [tuple(body[i][: len(HEADER)]) for i in range(len(body)) if not before[i]]
    return {
        "kept": kept,
        "history": history,
        "old_shifts": old_shifts,
        "reuse": reuse,
        "after": after_rows,
    }


def changed_shifts(
    old_shifts: dict[str, list[tuple[int, int]]], shifts: list[Shift]
) -> dict[str, int]:
    """Shifts (unit, start, end) of the old plan after the re-plan start that the new plan no
    longer has, and the new plan's shifts the old one did not have."""
    old = {(u, a, b) for u, spans in old_shifts.items() for a, b in spans}
    new = {(s.unit, s.start, s.end) for s in shifts if s.start >= 0}
    return {
        "old_shifts": len(old),
        "changed_shifts": len(old - new),
        "new_shifts": len(new - old),
    }


def changed_assignments(old_after: list[tuple], new_rows: list[list[Any]]) -> dict[str, int]:
    """Visit assignments (time, zone, kind, units) of the old plan that the new plan no longer has."""

    def key(r) -> tuple:
        return (r[0], r[2], r[7], r[8], r[9])

    old = {key(r) for r in old_after}
    new = {key([str(x) for x in r]) for r in new_rows}
    return {
        "old_assignments": len(old),
        "changed_assignments": len(old - new),
        "new_assignments": len(new - old),
    }


def load_previous_plan(path: str | Path, protocol, first, last) -> dict[str, Any]:
    """`plan make --after PREVIOUS.csv`: the shifts of the plan this one continues, as history in
    the new plan's hours (rest, weekly hours and the units still on duty after the seam carry
    over), and the hour until which the previous plan's own visits stand (its last night shift,
    planned once, by it). The previous plan must end on the day before `first`."""
    grid = Grid(protocol, first, last)
    old = load_old_plan(path, grid, protocol.handover_minutes // 15, duty_gap_q(protocol))
    return continued(old, path, protocol, grid, first)


def continued(old: dict[str, Any], path, protocol, grid: Grid, first) -> dict[str, Any]:
    """`load_previous_plan` of a plan already read with `load_old_plan` on `grid`."""
    from datetime import timedelta

    if old["old_shifts"]:
        unit, spans = next(iter(sorted(old["old_shifts"].items())))
        at = grid.local(spans[0][0]).strftime("%Y-%m-%d %H:%M")
        raise InputError(
            f"{path}: unit {unit} starts a shift at {at}, on or after --from {first}: the "
            "previous plan overlaps this one"
        )
    if not old["history"]:  # an empty predecessor (its days needed nothing): nothing carries over
        return {"history": [], "frozen_until": 0}
    frozen = max(0, *(s.end for s in old["history"]))
    # its last planned day: at least the day its last shift starts on (its last night runs past
    # midnight); the rows cannot tell days of its own left empty after it, which is right only
    # when those days needed nothing (no zone minimum, no FIPA): then `first` may come later
    prev_last = grid.utc(max(s.start for s in old["history"])).astimezone(protocol.tz).date()
    gap = (prev_last + timedelta(days=1), first - timedelta(days=1))
    if first <= prev_last or (gap[0] <= gap[1] and needs_planning(protocol, *gap)):
        why = "" if first <= prev_last else (
            f"; {gap[0]} to {gap[1]} need zone minima or a FIPA, no plan may leave them empty")  # fmt: skip
        raise InputError(
            f"{path}: the previous plan ends on {prev_last}, so --from must be "
            f"{prev_last + timedelta(days=1)} (got {first}){why}"
        )
    return {"history": old["history"], "frozen_until": frozen}


def needs_planning(protocol, d1, d2) -> bool:
    """Whether the local days d1..d2 need patrols: a zone minimum (they hold every day) or a FIPA
    on those days."""
    from datetime import timedelta

    if any(z.min_mixed_patrols > 0 for z in protocol.zones):
        return True
    lo = datetime.combine(d1, datetime.min.time(), tzinfo=protocol.tz)
    hi = datetime.combine(d2 + timedelta(days=1), datetime.min.time(), tzinfo=protocol.tz)
    return any(lo < e and s < hi for s, e in (f.window(protocol.tz) for f in protocol.fipa))
