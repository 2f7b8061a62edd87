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
    "holding {held} soldiers, the {cap}-soldier cap leaves {left}",
    "cap_fipas": "FIPA {fipas} at {when} need {need} soldiers together; with the patrol minimum in "
    "{zones} holding {held} soldiers, the {cap}-soldier cap leaves {left}",
    "cap_zones": "the patrol minimum in {zones} needs {held} soldiers at once, above the {cap}-soldier cap",
    "staff": "not enough {force} units under the working-time rules ({units} units, at most {maxh:g} h "
    "a week each, rest {rest:g} h) for {what} in {period}",
}


def _zones_phrase(zones: list[str]) -> str:
    if zones and all(z.startswith("railway-") for z in zones):
        return "the railway zones (" + ", ".join(zones) + ")"
    return "zones " + ", ".join(zones) if zones else "no zone"


def explain(planner, data, days: list[date], core: list[str]) -> list[dict[str, Any]]:
    p = planner.p
    fipas = [c.split(":", 1)[1] for c in core if c.startswith("fipa:")]
    zones = [c.split(":", 1)[1] for c in core if c.startswith("zone_min:")]
    size = data.soldier_size
    zmin = {z.id: z.min_mixed_patrols for z in p.zones}
    if zones:  # the core names some of them; the protocol holds all minima at once: cite them all
        zones = [z for z, k in zmin.items() if k > 0]
    held_units = sum(zmin[z] for z in zones)
    held = held_units * size
    period = f"{days[0]} - {days[-1]}"
    out: list[dict[str, Any]] = []
    if "cap" in core and fipas:
        by_id = {f.id: f for f in p.fipa}
        # the hour where the named FIPA together ask the most
        need_h = sum(data.fipa_units[f] for f in fipas if f in data.fipa_units)
        h = int(np.argmax(need_h)) if np.ndim(need_h) else 0
        active = [f for f in fipas if f in data.fipa_units and data.fipa_units[f][h] > 0] or fipas
        need = sum(by_id[f].soldiers for f in active)
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
                left=p.soldier_cap - held,
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
                left=p.soldier_cap - held,
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
                    "left": p.soldier_cap - held,
                },
            }
        )
    elif "cap" in core:
        out.append(
            {
                "rule": "soldier_cap",
                "message": MSG["cap_zones"].format(
                    zones=_zones_phrase(zones), held=held, cap=p.soldier_cap
                ),
                "fipa": [],
                "zones": zones,
                "numbers": {"zone_minimum_soldiers": held, "cap": p.soldier_cap},
            }
        )
    else:
        what = []
        if zones:
            what.append(f"the patrol minimum in {_zones_phrase(zones)}")
        if fipas:
            what.append("FIPA " + ", ".join(fipas))
        wt = p.working_time["defence"]
        out.append(
            {
                "rule": "working_time",
                "message": MSG["staff"].format(
                    force="Defence",
                    units=len(planner.units["defence"]),
                    maxh=wt.max_hours_per_week,
                    rest=wt.min_rest_hours,
                    what=" and ".join(what) or "the request",
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
