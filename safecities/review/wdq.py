"""Weighted displacement quotient (Bowers and Johnson 2003) for buffer rings around treated zones.

Areas: A the treated zones, B a buffer ring around them, C a control area (the rest of the city
beyond the outermost ring). Counts before (0) and after (1) the measure:

    success measure   SM  = A1/C1 - A0/C0          (negative: the treated area improved)
    buffer measure    BDM = B1/C1 - B0/C0
    WDQ               = BDM / SM

Read only when SM < 0: WDQ > 0 means a diffusion of benefits into the ring (WDQ > 1: larger than
the direct effect), WDQ < 0 displacement (WDQ < -1: more displaced than prevented), WDQ near 0
neither. The total net effect (Guerette 2009 form) is
TNE = (A0 C1/C0 - A1) + (B0 C1/C0 - B1), events prevented net of displacement.

Uncertainty: Wheeler and Ratcliffe's (2018) weighted displacement difference,
WDD = (A1 - A0) - kA (C1 - C0) + (B1 - B0) - kB (C1 - C0), with a Poisson variance (the sum of
the counts, the control's scaled by k^2) and a z-test. Their control areas are comparable in
size to the treated ones; ours is the rest of the city, so its change is scaled to each area's
own pre-period count (kA = A0 / C0, kB = B0 / C0); with a control as large as the area (k = 1)
this is their formula. The same test on A alone (the local effect) and on B alone (the ring)
gives the verbal reading: displacement or diffusion is only named when the ring's change is
beyond chance (|z| > 1.96), a reduction only when the treated area's is, and nothing is read
below MIN_EVENTS incidents in the zones and ring together (one extra event is not a finding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from safecities.errors import InputError
from safecities.geo import to_metres
from safecities.review.methods import REFERENCES

MIN_EVENTS = 20  # incidents in the treated zones and the ring (both periods) for a reading
Z95 = 1.959963984540054


def _diff_test(x0: float, x1: float, k: float, c0: float, c1: float) -> dict[str, float]:
    """(x1 - x0) - k (c1 - c0) with its Poisson standard error, z and two-sided p."""
    from scipy import stats

    d = (x1 - x0) - k * (c1 - c0)
    se = float(np.sqrt(x0 + x1 + k**2 * (c0 + c1)))
    z = d / se if se > 0 else 0.0
    return {"difference": d, "se": se, "z": z, "p_value": float(2 * stats.norm.sf(abs(z))),
            "ci_95": [d - Z95 * se, d + Z95 * se]}  # fmt: skip


@dataclass(frozen=True)
class WDQ:
    a0: float
    a1: float
    b0: float
    b1: float
    c0: float
    c1: float

    @property
    def success_measure(self) -> float:
        return self.a1 / self.c1 - self.a0 / self.c0

    @property
    def buffer_measure(self) -> float:
        return self.b1 / self.c1 - self.b0 / self.c0

    @property
    def quotient(self) -> float | None:
        sm = self.success_measure
        return None if sm == 0 else self.buffer_measure / sm

    @property
    def total_net_effect(self) -> float:
        r = self.c1 / self.c0
        return (self.a0 * r - self.a1) + (self.b0 * r - self.b1)

    @property
    def treated_test(self) -> dict[str, float]:
        return _diff_test(self.a0, self.a1, self.a0 / self.c0, self.c0, self.c1)

    @property
    def ring_test(self) -> dict[str, float]:
        return _diff_test(self.b0, self.b1, self.b0 / self.c0, self.c0, self.c1)

    @property
    def wdd(self) -> dict[str, float]:
        """Wheeler and Ratcliffe's WDD (treated plus ring, net of the scaled control change)."""
        from scipy import stats

        k = (self.a0 + self.b0) / self.c0
        d = (self.a1 - self.a0) + (self.b1 - self.b0) - k * (self.c1 - self.c0)
        se = float(np.sqrt(self.a0 + self.a1 + self.b0 + self.b1 + k**2 * (self.c0 + self.c1)))
        z = d / se if se > 0 else 0.0
        return {"wdd": d, "se": se, "z": z, "p_value": float(2 * stats.norm.sf(abs(z))),
                "ci_95": [d - Z95 * se, d + Z95 * se]}  # fmt: skip

    @property
    def reading(self) -> str:
        q = self.quotient
        if self.a0 + self.a1 + self.b0 + self.b1 < MIN_EVENTS:
            return "too_few_events"
        if self.treated_test["z"] > -Z95:
            return "no_clear_success"  # the treated area did not improve beyond chance
        if abs(self.ring_test["z"]) < Z95:
            return "within_noise"
        if self.success_measure >= 0 or q is None:
            return "no_success"  # the WDQ is not interpretable: the treated area did not improve
        if q > 1:
            return "diffusion_larger_than_effect"
        if q > 0.1:
            return "diffusion"
        if q >= -0.1:
            return "neither"
        if q >= -1:
            return "displacement_smaller_than_effect"
        return "displacement_larger_than_effect"

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": {
                "A0": self.a0,
                "A1": self.a1,
                "B0": self.b0,
                "B1": self.b1,
                "C0": self.c0,
                "C1": self.c1,
            },  # fmt: skip
            "success_measure": self.success_measure,
            "buffer_measure": self.buffer_measure,
            "wdq": self.quotient,
            "total_net_effect": self.total_net_effect,
            "wdd_test": {**self.wdd, "reference": REFERENCES["wdd"]},
            "treated_change_test": self.treated_test,
            "ring_change_test": self.ring_test,
            "min_events_for_reading": MIN_EVENTS,
            "reading": self.reading,
        }


def wdq(a0: float, a1: float, b0: float, b1: float, c0: float, c1: float) -> WDQ:
    if c0 <= 0 or c1 <= 0:
        raise InputError("weighted displacement quotient: the control area has no events")
    return WDQ(a0, a1, b0, b1, c0, c1)


@dataclass(frozen=True)
class DisplacementResult:
    rings: tuple[tuple[float, float], ...]
    by_ring: tuple[WDQ | None, ...]
    before: tuple[pd.Timestamp, pd.Timestamp]
    after: tuple[pd.Timestamp, pd.Timestamp]
    note: str = ""
    method: str = field(default=REFERENCES["wdq"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "weighted_displacement_quotient",
            "reference": self.method,
            "before": [t.isoformat() for t in self.before],
            "after": [t.isoformat() for t in self.after],
            "rings": [
                {"from_m": lo, "to_m": hi, **(w.to_dict() if w else {"wdq": None})}
                for (lo, hi), w in zip(self.rings, self.by_ring, strict=True)
            ],
            "note": self.note,
        }


def _metric(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))


def displacement(
    events: pd.DataFrame,
    treated: Sequence[BaseGeometry],
    intervention: Any,
    *,
    city: BaseGeometry | None = None,
    rings: Sequence[float] = (250.0, 500.0),
    before: tuple[Any, Any] | None = None,
    after: tuple[Any, Any] | None = None,
) -> DisplacementResult:
    """WDQ per ring (0-r1, r1-r2, ...) around the union of treated zones (WGS84 geometries).

    The control area is the city (or everything) beyond the outermost ring. Periods default to
    equal lengths either side of the intervention, ending at the last event."""
    if not treated:
        raise InputError("displacement: no treated zone")
    t = pd.to_datetime(events["occurred_at"], utc=True)
    t_int = pd.Timestamp(intervention)
    t_int = t_int.tz_localize("Europe/Brussels") if t_int.tzinfo is None else t_int
    if after is None:
        end = t.max() if len(t) else t_int
        after = (t_int, max(end, t_int))
    if before is None:
        length = after[1] - after[0]
        before = (after[0] - length, after[0])
    b0, b1 = (_ts(x) for x in before)
    a0, a1 = (_ts(x) for x in after)
    x, y = to_metres(events["lon"].to_numpy(float), events["lat"].to_numpy(float))
    pts = shapely.points(x, y)
    core = shapely.union_all([_metric(g) for g in treated])
    edges = [0.0, *sorted(float(r) for r in rings)]
    areas = [core]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        outer = core.buffer(hi)
        inner = core.buffer(lo) if lo > 0 else core
        areas.append(outer.difference(inner))
    outermost = core.buffer(edges[-1])
    control = _metric(city).difference(outermost) if city is not None else None
    pre = ((t >= b0) & (t < b1)).to_numpy()
    post = ((t >= a0) & (t <= a1)).to_numpy()

    def count(area: BaseGeometry | None, mask: np.ndarray) -> float:
        inside = ~shapely.contains(outermost, pts) if area is None else shapely.contains(area, pts)
        return float((inside & mask).sum())

    ca0, ca1 = count(areas[0], pre), count(areas[0], post)
    cc0, cc1 = count(control, pre), count(control, post)
    results: list[WDQ | None] = []
    for ring in areas[1:]:
        if cc0 == 0 or cc1 == 0:
            results.append(None)
            continue
        results.append(wdq(ca0, ca1, count(ring, pre), count(ring, post), cc0, cc1))
    note = "" if cc0 and cc1 else "control area has no events in a period: WDQ undefined"
    return DisplacementResult(
        rings=tuple(zip(edges[:-1], edges[1:], strict=True)),
        by_ring=tuple(results),
        before=(b0, b1),
        after=(a0, a1),
        note=note,
    )


def _ts(x: Any) -> pd.Timestamp:
    t = pd.Timestamp(x)
    return t.tz_localize("Europe/Brussels") if t.tzinfo is None else t
