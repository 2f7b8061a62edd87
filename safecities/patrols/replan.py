# ruff: noqa: E501
"""Re-planning: `plan make --from-plan OLD.csv --changes FILE --from DATE`.

The old plan is kept as it is before DATE (00:00 local). From DATE on, the planner re-plans with
the changes (FIPA added, units dropping out, a new risk table) and changes as little as possible of
what stays feasible: each unit's old shifts carry a large bonus in the objective (and are given to
the solver as hints), and an hour whose units, FIPA demand and optimal coverage are unchanged keeps
its old visits verbatim. Shifts already started before DATE are finished, also by a unit that drops
out (it takes no new shift). The result reports how many visit assignments changed.

Changes file (YAML or JSON), every key optional:
    units_out: [DEF-003, POL-017]          # unavailable from DATE
    add_fipa: [{id, date, start, end, zone, soldiers}]   # announced operations (protocol FIPA format)
    risk: new-risk.csv                      # relative to the changes file
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from safecities.errors import InputError
from safecities.patrols.planner import HEADER, Grid, Q, Shift
from safecities.safeio import load_json, load_yaml

CHANGE_KEYS = {"units_out", "add_fipa", "risk"}


def read_changes(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        doc = load_json(text) if p.suffix.lower() == ".json" else load_yaml(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{p}: cannot read changes: {exc}") from exc
    doc = doc or {}
    if not isinstance(doc, dict) or set(doc) - CHANGE_KEYS:
        raise InputError(
            f"{p}: a changes file is a mapping with keys {', '.join(sorted(CHANGE_KEYS))}"
        )
    for f in doc.get("add_fipa", []) or []:
        for k in ("date",):
            if k in f and not isinstance(f[k], str):
                f[k] = str(f[k])
    if doc.get("risk"):
        doc["risk"] = str((p.parent / doc["risk"]).resolve())
    return doc


def amend_document(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The protocol document with the announced FIPA added (same rules, operational additions)."""
    out = json.loads(json.dumps(doc))
    if changes.get("add_fipa"):
        out.setdefault("fipa", []).extend(changes["add_fipa"])
    return out


def load_old_plan(path: str | Path, grid: Grid) -> dict[str, Any]:
    """Split the old plan at the grid start: rows kept, shift history, old shifts and hours after."""
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"{p}: cannot read old plan: {exc}") from exc
    if not rows or rows[0][: len(HEADER)] != HEADER:
        raise InputError(f"{p}: an old plan for re-planning needs the columns {','.join(HEADER)}")
    body = [r for r in rows[1:] if r]
    if not body:
        raise InputError(f"{p}: the old plan has no rows")
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
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            ha, hb = a // Q, -(-b // Q)  # whole hours (the planner's shifts are whole hours)
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
    after_rows = [tuple(body[i][: len(HEADER)]) for i in range(len(body)) if not before[i]]
    return {
        "kept": kept,
        "history": history,
        "old_shifts": old_shifts,
        "reuse": reuse,
        "after": after_rows,
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
    from datetime import datetime, timedelta

    grid = Grid(protocol, first, last)
    old = load_old_plan(path, grid)
    if old["old_shifts"]:
        unit, spans = next(iter(sorted(old["old_shifts"].items())))
        at = grid.local(spans[0][0]).strftime("%Y-%m-%d %H:%M")
        raise InputError(
            f"{path}: unit {unit} starts a shift at {at}, on or after --from {first}: the "
            "previous plan overlaps this one"
        )
    ends = [s.end for s in old["history"]]
    frozen = max([0, *ends])
    # its last planned day: the last local day whose noon its rows reach
    last_end = grid.utc(max(ends, default=0)).astimezone(protocol.tz)
    noon = datetime.combine(last_end.date(), datetime.min.time(), tzinfo=protocol.tz) + timedelta(
        hours=12
    )
    prev_last = last_end.date() if last_end > noon else last_end.date() - timedelta(days=1)
    if prev_last + timedelta(days=1) != first:
        raise InputError(
            f"{path}: the previous plan ends on {prev_last}, so --from must be "
            f"{prev_last + timedelta(days=1)} (got {first})"
        )
    return {"history": old["history"], "frozen_until": frozen}
