# ruff: noqa: E501  (messages and reports are built inline)
"""Why a request cannot be met: read the CP-SAT core (sufficient assumptions for infeasibility).

The model tags the soldier cap, each FIPA and each zone minimum with an assumption literal; when a
chunk is infeasible, CP-SAT returns a subset of them that is already infeasible together with the
hard rules (working time, pairing soldiers with police). This module turns that core into
sentences with the numbers, e.g. "FIPA fipa-3 on 2026-05-02 20:00-23:00 needs 30 soldiers; with the
patrol minimum in the railway zones (24 soldiers), the 45-soldier cap leaves 21".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

MSG = {
    "cap_fipa": "FIPA {fipa} on {when} needs {need} soldiers; with the patrol minimum in {zones} "
    "holding {held} soldiers, the {cap}-soldier cap{liaisons} leaves {left}",
    "cap_fipas": "FIPA {fipas} at {when} need {need} soldiers together; with the patrol minimum in "
    "{zones} holding {held} soldiers, the {cap}-soldier cap{liaisons} leaves {left}",
    "fipa_uncovered": "FIPA {fipa} on {when} needs soldiers at {at}, but no Defence shift of the "
    "protocol can be on duty then (shifts start at {starts}; {why})",
    "no_shift": "no shift template covers {at} (police shifts start at {pstarts}, Defence at "
    "{dstarts}), so the patrol minimum in {zones} cannot hold then",
    "rest": "with {rest:g} h of rest between shifts no weekly roster of {L} h shifts is possible "
    "(consecutive days leave {gap:g} h), so the patrol minimum in {zones} cannot hold {at}",
    "unknown": "the request cannot be met for {period}, and the cause could not be isolated: "
    "relaxing the soldier cap, each FIPA, the zone minima or adding units one rule at a time "
    "does not make it feasible",
    "cap_zones": "the patrol minimum in {zones} needs {held} soldiers at once, above the "
    "{cap}-soldier cap{liaisons}",
    # one template per force, so that the force's name is translated with its sentence; `what`
    # last, as it may itself hold " in " ("the patrol minimum in zones ...")
    "staff_defence": "not enough Defence units under the working-time rules ({units} units, at most "
    "{maxh:g} h a week each, rest {rest:g} h) in {period} for {what}",
    "staff_police": "not enough police units under the working-time rules ({units} units, at most "
    "{maxh:g} h a week each, rest {rest:g} h) in {period} for {what}",
    "fipa_staffed": "FIPA {fipas} cannot be staffed with the other rules",
}
#: The phrases put into the messages above (the web translates each, values kept).
PART = {
    "railway_zones": "the railway zones ({zones})",
    "zones": "zones {zones}",
    "no_zone": "no zone",
    "liaisons": " less {n} liaisons on duty",
    "minimum_in": "the patrol minimum in {zones}",
    "fipa": "FIPA {fipas}",
    "pairs": "a police crew with every soldier pair",
    "request": "the request",
    "first_shift": "the plan starts on the protocol's first day, at its first shift",
    "no_template": "no shift template reaches that hour",
    "no_start": "none",
}


def _zones_phrase(zones: list[str]) -> str:
    if zones and all(z.startswith("railway-") for z in zones):
        return PART["railway_zones"].format(zones=", ".join(zones))
    return PART["zones"].format(zones=", ".join(zones)) if zones else PART["no_zone"]


def _from_core(planner, data, days: list[date], core: list[str]) -> list[dict[str, Any]]:
    """The reading of the CP-SAT core (a candidate: `explain` verifies it before it is shown)."""
    p = planner.p
    fipas = [c.split(":", 1)[1] for c in core if c.startswith("fipa:")]
    zones = [c.split(":", 1)[1] for c in core if c.startswith("zone_min:")]
    size = data.soldier_size
    zmin = {z.id: z.min_mixed_patrols for z in p.zones}
    if zones:  # the core names some of them; the protocol holds all minima at once: cite them all
        zones = [z for z, k in zmin.items() if k > 0]
    held_units = sum(zmin[z] for z in zones)
    held = held_units * size
    # the cap in whole units: 45 allows 22 pairs, 44 (less the liaisons when they count in it)
    usable = (p.patrol_cap // size) * size
    k_li = p.soldier_cap - p.patrol_cap  # `defence_liaison.counts_in_cap`: liaisons on duty
    li_txt = PART["liaisons"].format(n=k_li) if k_li else ""
    li_num = {"liaisons": k_li} if k_li else {}
    period = f"{days[0]} - {days[-1]}"
    out: list[dict[str, Any]] = []
    if "cap" in core and fipas:
        by_id = {f.id: f for f in p.fipa}
        # the hour where the named FIPA together ask the most
        need_h = sum(data.fipa_units[f] for f in fipas if f in data.fipa_units)
        h = int(np.argmax(need_h)) if np.ndim(need_h) else 0
        active = [f for f in fipas if f in data.fipa_units and data.fipa_units[f][h] > 0] or fipas
        # soldiers go in units (pairs): a FIPA of 39 takes 20 pairs, 40 soldiers
        need = sum(-(-by_id[f].soldiers // size) * size for f in active)
        if len(active) == 1:
            f = by_id[active[0]]
            s, e = f.window(p.tz)
            when = (
                f"{f.date} {s:%H:%M}-{e:%H:%M}"
                if e.date() == s.date()
                else f"{f.date} {s:%H:%M}-24:00"
            )
            msg = MSG["cap_fipa"].format(
                fipa=f.id,
                when=when,
                need=need,
                zones=_zones_phrase(zones),
                held=held,
                cap=p.soldier_cap,
                liaisons=li_txt,
                left=usable - held,
            )
        else:
            when = planner.grid.local(planner.grid.day_index(days[0]) + h).strftime(
                "%Y-%m-%d %H:%M"
            )
            msg = MSG["cap_fipas"].format(
                fipas=", ".join(active),
                when=when,
                need=need,
                zones=_zones_phrase(zones),
                held=held,
                cap=p.soldier_cap,
                liaisons=li_txt,
                left=usable - held,
            )
        out.append(
            {
                "rule": "soldier_cap",
                "message": msg,
                "fipa": active,
                "zones": zones,
                "numbers": {
                    "fipa_soldiers": need,
                    "zone_minimum_soldiers": held,
                    "cap": p.soldier_cap,
                    "left": usable - held,
                }
                | li_num,
            }
        )
    elif "cap" in core:
        out.append(
            {
                "rule": "soldier_cap",
                "message": MSG["cap_zones"].format(
                    zones=_zones_phrase(zones), held=held, cap=p.soldier_cap, liaisons=li_txt
                ),
                "fipa": [],
                "zones": zones,
                "numbers": {"zone_minimum_soldiers": held, "cap": p.soldier_cap} | li_num,
            }
        )
    else:
        what = []
        if zones:
            what.append(PART["minimum_in"].format(zones=_zones_phrase(zones)))
        if fipas:
            what.append(PART["fipa"].format(fipas=", ".join(fipas)))
        wt = p.working_time["defence"]
        out.append(
            {
                "rule": "working_time",
                "message": MSG["staff_defence"].format(
                    units=len(planner.units["defence"]),
                    maxh=wt.max_hours_per_week,
                    rest=wt.min_rest_hours,
                    what=" and ".join(what) or PART["request"],
                    period=period,
                ),
                "fipa": fipas,
                "zones": zones,
                "numbers": {
                    "units": len(planner.units["defence"]),
                    "max_hours_per_week": wt.max_hours_per_week,
                },
            }
        )
    return out


# --------------------------------------------------------------------------- verified reasons
def _feasible(data, planner) -> bool:
    from safecities.patrols.model import ChunkModel

    sol = ChunkModel(data).solve(
        time_limit=10.0, workers=planner.workers, gap=1.0, seed=planner.seed
    )
    return sol.status in ("OPTIMAL", "FEASIBLE")


def _relaxed(data, **changes):
    """A copy of the chunk data with exactly the named rules relaxed (the rest shared)."""
    import dataclasses

    return dataclasses.replace(data, **changes)


def _covered(data, force: str) -> np.ndarray:
    """Hours of the chunk where some pattern (or a carried-in unit) can have `force` on duty."""
    cov = data.carry[force][: data.n_ext] > 0
    cov = cov.copy()
    for pat in data.patterns[force]:
        for s, e in pat.shifts:
            cov[max(s, 0) : min(e, data.n_ext)] = True
    return cov


def _rebuilt(planner, days: list[date], **rules):
    """The chunk rebuilt with the working-time `rules` of both forces changed (shift patterns
    depend on them); the planner is discarded after an infeasibility, so it is copied shallowly."""
    import copy
    import dataclasses

    other = copy.copy(planner)
    other._keys = {}
    wt = {f: dataclasses.replace(w, **rules) for f, w in planner.p.working_time.items()}
    other.p = dataclasses.replace(planner.p, working_time=wt)
    data, _members, _h0 = other.build_chunk(days)
    return data


def _more_units(data, force: str, extra: int):
    """`extra` fresh units of `force` (no history) that may work any pattern."""
    classes = {f: list(v) for f, v in data.classes.items()}
    compat = {f: [list(c) for c in v] for f, v in data.compatible.items()}
    classes[force].append(extra)
    compat[force].append(list(range(len(data.patterns[force]))))
    return _relaxed(data, classes=classes, compatible=compat)


def _hour_text(planner, h0: int, hours: np.ndarray) -> str:
    a, b = int(hours[0]), int(hours[-1]) + 1
    s, e = planner.grid.local(h0 + a), planner.grid.local(h0 + b)
    return (
        f"{s:%Y-%m-%d %H:%M}-{e:%H:%M}"
        if s.date() == e.date()
        else f"{s:%Y-%m-%d %H:%M}-{e:%Y-%m-%d %H:%M}"
    )


def _runs(mask: np.ndarray) -> list[np.ndarray]:
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return []
    return np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1)


def _candidates(planner, data, days: list[date], core: list[str]):
    """(reason, relaxed data) pairs, most specific first: relaxing exactly what the reason names."""
    p = planner.p
    h0 = planner.grid.day_index(days[0])
    starts = {f: sorted({sh for sh, _L in planner._templates(f)}) for f in ("police", "defence")}
    first_day = planner.first == p.start
    # 1. a FIPA at hours no Defence shift can reach (e.g. 02:00 on the protocol's first day)
    cov_d = _covered(data, "defence")
    for fid, need in data.fipa_units.items():
        bad = (need[: data.n_hours] > 0) & ~cov_d[: data.n_hours]
        for run in _runs(bad)[:1]:
            f = next(x for x in p.fipa if x.id == fid)
            s, e = f.window(p.tz)
            why = PART["first_shift"] if first_day and days[0] <= f.date else PART["no_template"]
            reason = {
                "rule": "fipa_uncovered",
                "message": MSG["fipa_uncovered"].format(
                    fipa=fid,
                    when=f"{f.date} {s:%H:%M}-{e:%H:%M}",
                    at=_hour_text(planner, h0, run),
                    starts=", ".join(f"{x:02d}:00" for x in starts["defence"]) or PART["no_start"],
                    why=why,
                ),
                "fipa": [fid],
                "zones": [],
                "numbers": {"fipa_soldiers": f.soldiers, "uncovered_hours": len(run)},
            }
            rest = {k: v for k, v in data.fipa_units.items() if k != fid}
            yield reason, _relaxed(data, fipa_units=rest)
    # 2. zone minima at hours no shift template covers
    need_min = data.min_active & (data.zone_min.sum() > 0)
    cov_both = _covered(data, "police")[: data.n_hours] & cov_d[: data.n_hours]
    gaps = need_min & ~cov_both
    # hours of the day some template reaches, for each force (is it the templates or the rules?)
    reach = {}
    for f in ("police", "defence"):
        hrs = set()
        for sh, L in planner._templates(f):
            hrs.update((sh + k) % 24 for k in range(L))
        reach[f] = hrs
    if gaps.any():
        zones = [z for z, k in zip(data.zones, data.zone_min, strict=True) if k > 0]
        first = _runs(gaps)[0]
        local_hours = {planner.grid.local(h0 + int(h)).hour for h in np.flatnonzero(gaps)}
        if local_hours <= (reach["police"] & reach["defence"]):
            # the templates reach those hours: the rest rule leaves no roster (patterns)
            wt = p.working_time["defence"]
            lengths = sorted({L for _sh, L in planner._templates("defence")}) or [0]
            reason = {
                "rule": "rest",
                "message": MSG["rest"].format(
                    rest=wt.min_rest_hours,
                    L=lengths[0],
                    gap=24 - lengths[0],
                    zones=_zones_phrase(zones),
                    at=_hour_text(planner, h0, first),
                ),
                "fipa": [],
                "zones": zones,
                "numbers": {"min_rest_hours": wt.min_rest_hours, "shift_hours": lengths[0]},
            }
            yield reason, _rebuilt(planner, days, min_rest_hours=0)
            return
        reason = {
            "rule": "no_shift",
            "message": MSG["no_shift"].format(
                at=_hour_text(planner, h0, first),
                pstarts=", ".join(f"{x:02d}:00" for x in starts["police"]) or PART["no_start"],
                dstarts=", ".join(f"{x:02d}:00" for x in starts["defence"]) or PART["no_start"],
                zones=_zones_phrase(zones),
            ),
            "fipa": [],
            "zones": zones,
            "numbers": {"uncovered_hours": int(gaps.sum())},
        }
        yield reason, _relaxed(data, min_active=data.min_active & ~gaps)
    # 3. the core's reading: the soldier cap (relax the cap), or staff (add units)
    for reason in _from_core(planner, data, days, core):
        if reason["rule"] == "soldier_cap":
            yield reason, _relaxed(data, cap=10**6)
        else:
            break
    # 4. too few units of a force under the working-time rules: add as many again
    for force in ("defence", "police"):
        n = int(sum(data.classes[force]))
        wt = p.working_time[force]
        what = []
        zones = [z for z, k in zip(data.zones, data.zone_min, strict=True) if k > 0]
        if zones and data.min_active.any():
            what.append(PART["minimum_in"].format(zones=_zones_phrase(zones)))
        if data.fipa_units:
            what.append(PART["fipa"].format(fipas=", ".join(sorted(data.fipa_units))))
        if force == "police" and data.approved.any():
            what.append(PART["pairs"])
        reason = {
            "rule": "working_time",
            "message": MSG[f"staff_{force}"].format(
                units=n,
                maxh=wt.max_hours_per_week,
                rest=wt.min_rest_hours,
                what=" and ".join(what) or PART["request"],
                period=f"{max(days[0], planner.first)} - {days[-1]}",
            ),
            "fipa": sorted(data.fipa_units),
            "zones": zones,
            "numbers": {
                "force": force,
                "units": n,
                "max_hours_per_week": wt.max_hours_per_week,
                "min_rest_hours": wt.min_rest_hours,
            },
        }
        # as many units as could possibly help (ten times as many): staff is the binding rule
        yield reason, _more_units(data, force, 10 * n + 20)
    # 5. the FIPA or the zone minima themselves (named by the core)
    fipas = [c.split(":", 1)[1] for c in core if c.startswith("fipa:")]
    if fipas:
        reason = {
            "rule": "fipa",
            "message": MSG["fipa_staffed"].format(fipas=", ".join(fipas)),
            "fipa": fipas,
            "zones": [],
            "numbers": {},
        }
        rest = {k: v for k, v in data.fipa_units.items() if k not in fipas}
        yield reason, _relaxed(data, fipa_units=rest)


def explain(planner, data, days: list[date], core: list[str]) -> list[dict[str, Any]]:
    """The binding rule with its numbers, verified: relaxing exactly what the explanation names
    makes the chunk feasible (`verified` true, `relaxed` says what was relaxed); when no single
    relaxation does, say plainly that the cause could not be isolated."""
    for reason, relaxed in _candidates(planner, data, days, core):
        if _feasible(relaxed, planner):
            return [{**reason, "verified": True}]
    period = f"{max(days[0], planner.first)} - {days[-1]}"
    return [
        {
            "rule": "unknown",
            "message": MSG["unknown"].format(period=period),
            "fipa": [],
            "zones": [],
            "numbers": {},
            "verified": False,
        }
    ]
