# ruff: noqa: E501  (messages and reports are built inline)
"""The planner: `safecities plan make`. Chunks, carry-over, CP-SAT, the randomised draw, the check.

1. The horizon is cut at Mondays 00:00 local (ISO weeks), so that the weekly-hours rule lives
   inside one chunk; the state of every unit (end of its last shift, hours already worked in the
   week) carries over to the next chunk, as do shifts that run past midnight on Sunday.
2. Each chunk is one CP-SAT model (`model.py`): how many units of each carry-over class work each
   shift pattern, and the optimal number of patrol-quarters per zone and hour (the coverage).
3. Stackelberg-style mixed strategy: the optimum fixes coverage per zone-hour; the concrete
   15-minute visits (which team, which quarter of the hour) are drawn at random from the plans
   with exactly that coverage, reproducible by `seed`. Short visits at random moments, not
   continuous presence.
4. Units get their patterns at random within their class; soldiers pair with police at random each
   hour (mixed patrols led by police); FIPA keeps the same soldier units while they are on duty.
5. The plan is written only after the independent checker (`check.py`) finds no violation.
"""

from __future__ import annotations

import csv
import itertools
import math
import time as _time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from safecities.errors import InputError, SafecitiesError
from safecities.patrols.model import ChunkData, ChunkModel, Pattern, place_patrols
from safecities.patrols.protocol import Protocol, liaison_turn
from safecities.safeio import safe_row

Q = 4  # 15-minute visits per hour
MIN_CHUNK_SECONDS = 5.0  # solver seconds a week may take whatever the horizon's time limit
KEEP_BONUS = 10**7  # per old shift a unit keeps when re-planning (dominates presence gains)
HEADER = [
    "start",
    "end",
    "zone_id",
    "patrol_id",
    "police",
    "soldiers",
    "command_post",
    "kind",
    "police_units",
    "soldier_units",
    "liaison",
]


class InfeasiblePlan(SafecitiesError):
    """The request cannot be met inside the protocol; `reasons` says which rules clash."""

    def __init__(self, message: str, reasons: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.reasons = reasons


class NoPlanInTime(SafecitiesError):
    """The solver found no plan within the time limit (neither a plan nor a proof there is none)."""


@dataclass
class Shift:
    unit: str
    start: int  # hour index from the horizon origin (UTC hours)
    end: int


@dataclass
class PlanResult:
    rows: list[list[Any]]
    status: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    chunks: list[dict[str, Any]]
    shifts: list[Shift]
    horizon: tuple[datetime, datetime]
    notes: list[str] = field(default_factory=list)
    solver_name: str = "HiGHS (model built with OR-Tools CP-SAT)"
    changed_assignments: int | None = None

    def solver_dict(self, time_limit: float) -> dict[str, Any]:
        return {
            "name": "OR-Tools CP-SAT",
            "status": self.status,
            "objective": round(self.objective, 4),
            "bound": round(self.bound, 4),
            "gap": round(self.gap, 6),
            "seconds": round(self.solve_seconds, 3),
            "time_limit": time_limit,
            "chunks": len(self.chunks),
        }


# --------------------------------------------------------------------------- time grid
class Grid:
    """Whole UTC hours from the horizon start; local calendar facts for each.

    The origin is 00:00 local of the first planned day, or of the eve (`eve=True`) when the plan
    starts the eve's night shift so that it covers its first day from 00:00. `n` counts the hours
    to the end of the last day (24:00 local); `n_tail` one day more, for the last day's night shift
    that ends the morning after."""

    def __init__(self, protocol: Protocol, first: date, last: date, *, eve: bool = False) -> None:
        self.tz = protocol.tz
        self.first, self.last = first, last
        origin = first - timedelta(days=1) if eve else first
        self.t0 = datetime.combine(origin, datetime.min.time(), tzinfo=self.tz).astimezone(UTC)
        self.t_end = datetime.combine(
            last + timedelta(days=1), datetime.min.time(), tzinfo=self.tz
        ).astimezone(UTC)
        self.n = int((self.t_end - self.t0).total_seconds() // 3600)
        tail = datetime.combine(last + timedelta(days=2), datetime.min.time(), tzinfo=self.tz)
        self.n_tail = int((tail.astimezone(UTC) - self.t0).total_seconds() // 3600)

    def index(self, local: datetime) -> int:
        return int((local.astimezone(UTC) - self.t0).total_seconds() // 3600)

    def day_index(self, d: date, hour: int = 0) -> int:
        return self.index(
            datetime.combine(d, datetime.min.time(), tzinfo=self.tz) + timedelta(hours=hour)
        )

    def utc(self, h: int) -> datetime:
        return self.t0 + timedelta(hours=h)

    def local(self, h: int) -> datetime:
        return self.utc(h).astimezone(self.tz)


def _longest_run(combo: tuple[int, ...]) -> int:
    best = cur = 0
    prev = None
    for i in combo:
        cur = cur + 1 if prev is not None and i == prev + 1 else 1
        best, prev = max(best, cur), i
    return best


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def chunks_of(first: date, last: date) -> list[list[date]]:
    out: list[list[date]] = []
    d = first
    while d <= last:
        if not out or d.weekday() == 0:
            out.append([])
        out[-1].append(d)
        d += timedelta(days=1)
    return out


# --------------------------------------------------------------------------- the planner
class _Hour(NamedTuple):
    """One hour of a chunk to draw: grid hour H (chunk hour h), the units on duty, the chunk, the
    model's coverage (mixed and all visits per zone and hour) and the model."""

    H: int
    h: int
    police: list[str]
    soldiers: list[str]
    data: ChunkData
    mixed_q: np.ndarray
    total_q: np.ndarray
    model: ChunkModel | None


class Planner:
    def __init__(
        self,
        protocol: Protocol,
        first: date,
        last: date,
        risk: dict[str, np.ndarray],
        *,
        seed: int = 0,
        time_limit: float = 60.0,
        workers: int = 2,
        gap: float = 0.008,
        history: list[Shift] | None = None,
        unavailable: set[str] | None = None,
        backend: str = "cpsat",
        frozen_until: int = 0,
        closures: list[tuple[str, datetime, datetime]] | None = None,
        blocked: dict[str, list[tuple[datetime, datetime]]] | None = None,
        cap_from: tuple[datetime, int] | None = None,
        before: list[list[Any]] | None = None,
    ) -> None:
        """`history`: shifts worked before (a previous plan's or an old plan's), in hours of this
        plan's grid; they carry rest, weekly hours and the units still on duty. `frozen_until`:
        hours before it belong to the previous plan (`plan make --after`): its visits stand, no
        shift of this plan starts before it, and its zone minima are that plan's to meet.
        `before`: re-planning, the old plan's rows kept before the first day (its teams, FIPA
        and minimum holders carry on from them, and with travel its units from where they are)."""
        self.p = protocol
        self.first, self.last = first, last
        # a fresh plan that does not start on the protocol's first day begins with the eve's night
        # shift, so that its first day is covered from 00:00 like every other day
        self.eve = not history and first > protocol.start
        self.grid = Grid(protocol, first, last, eve=self.eve)
        # the protocol's last day ends at 24:00 with the period: no night shift may run past it
        self.tail = last < protocol.end - timedelta(days=1)
        self.frozen_until = frozen_until
        # re-planning changes, in this grid's hours (a partly affected hour counts whole)
        self.closures = [
            (z, self._hour_floor(s), self._hour_ceil(e)) for z, s, e in (closures or [])
        ]
        self.blocked = {
            u: [(self._hour_floor(s), self._hour_ceil(e)) for s, e in spans]
            for u, spans in (blocked or {}).items()
        }
        self.cap_from = None if cap_from is None else (self._hour_floor(cap_from[0]), cap_from[1])
        self.risk = risk
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.time_limit = time_limit
        self.workers = workers
        self.gap = gap
        self.unavailable = unavailable or set()
        self.pattern_slack = 1
        if backend not in ("highs", "cpsat"):
            raise InputError(f"--solver: {backend!r} is not highs or cpsat")
        self.backend = backend
        self._check_inputs()
        self.units = {
            f: [u for u in protocol.units_of(f) if u.code not in self.unavailable]
            for f in ("police", "defence")
        }
        self.psize = self.units["police"][0].size if self.units["police"] else 2
        # police units each FIPA holds while it runs (the protocol's minimum in officers)
        self.fipa_police = -(-protocol.police_min_fipa // self.psize)
        self.ssize = self.units["defence"][0].size if self.units["defence"] else 2
        self.shifts: dict[str, list[Shift]] = defaultdict(list)
        for s in history or []:
            self.shifts[s.unit].append(s)
        self.old_shifts: dict[str, list[tuple[int, int]]] = {}  # re-planning: the old plan's shifts
        self.reuse: dict[int, dict[str, Any]] = {}  # re-planning: the old plan's visits per hour
        # re-planning with routes under a new risk table: an old hour is redrawn where a fresh draw
        # is worth more. Without one, an hour with the same units, FIPA and open zones that hangs
        # together is the very problem the old plan drew: a fresh draw beats it only by chance,
        # and taking it would redraw the rest of the shift too (an unchanged re-plan changed 88
        # of 797 visits for +0.6 % in one hour and -6 % in the next)
        self.reuse_compare = False
        self._duty: dict[int, set[str]] = defaultdict(set)  # hour -> unit codes on duty
        self._prev_n: dict[tuple, int] = {}  # previous chunk's solution, for a warm start
        self._keys: dict[str, list[tuple]] = {}
        for s in history or []:
            for h in range(s.start, s.end):
                self._duty[h].add(s.unit)
        self.zones = [z.id for z in protocol.zones]
        self.zone_post = {z.id: z.command_post for z in protocol.zones}
        self.approved = np.array([z.soldiers_allowed for z in protocol.zones])
        self.zone_min = np.array([z.min_mixed_patrols for z in protocol.zones])
        # handover at shift changes in zones with minima, in visits: the outgoing mixed patrol
        # stays that long after the incoming one arrives; working time where it is worked (units
        # on rosters with room for it hold the minima: `ChunkModel.add_handover`)
        self.ho_q = protocol.handover_minutes // 15 if self.zone_min.any() else 0
        self.ho_h = self.ho_q / Q
        self._holders: dict[str, list[tuple[str, str]]] = {}  # zone -> teams holding its minimum
        # travel between zones in whole visits, and where each unit on duty last was
        self.tq = protocol.travel_visits()
        self._loc: dict[str, tuple[int, int]] = {}  # unit -> (zone, quarter its last visit ended)
        self._succ: dict[str, list[tuple[str, str]]] = {}  # zone -> teams taking over next hour
        # zone -> mixed patrols there at the end of an hour before its minimum starts (no travel)
        self._arriving: dict[str, list[tuple[str, str]]] = {}
        # hours hang together (travel, handovers, minimum holders): re-planning keeps an old hour
        # only after a kept one or where every unit is new (`_route_or_keep`)
        self._routes = self.tq is not None or self.ho_q > 0
        self._kept_prev = True  # the hour before the first drawn one is the old plan's (or frozen)
        self._nocap: dict[int, set[str]] = defaultdict(set)  # hour -> units that cannot hand over
        # zone minima apply from 00:00 of the first day (the protocol's first day: from its first
        # shift start) to the first shift start of the day after the last (the next plan's shifts
        # cannot begin earlier, so this plan's last night covers the seam); on the protocol's last
        # day, to the last shift end inside the period
        starts = [sh for f in ("police", "defence") for sh, _L in self._templates(f)] or [0]
        lo = self.grid.day_index(first, min(starts) if first == protocol.start else 0)
        if self.tail:
            hi = self.grid.day_index(last + timedelta(days=1), min(starts))
        else:
            ends = [
                self.grid.day_index(last, sh) + L
                for f in ("police", "defence")
                for sh, L in self._templates(f)
                if self.grid.day_index(last, sh) + L <= self.grid.n
            ]
            hi = max(ends, default=self.grid.n)
        self.cover = (max(lo, frozen_until), hi)
        self._minima_from = lo  # minima hold from here (with --after, in the previous plan too)
        # the liaison rota runs from the protocol's first day, whatever day a plan starts on
        p0 = datetime.combine(protocol.start, datetime.min.time(), tzinfo=protocol.tz)
        self._rota0 = int((self.grid.t0 - p0.astimezone(UTC)).total_seconds() // 3600)
        self._turn = (
            liaison_turn(asdict(protocol.working_time["defence"]))
            if protocol.liaison_rostered
            else (8, 0)
        )
        self._fipa_prev: dict[str, list[str]] = {}
        self._fipa_pol_prev: dict[str, list[str]] = {}
        self._pairs: dict[str, str] = {}
        self._kept_before = bool(before)
        if before:
            self._continue_from(before)

    def _hour_floor(self, t: datetime) -> int:
        return math.floor((t.astimezone(UTC) - self.grid.t0).total_seconds() / 3600)

    def _hour_ceil(self, t: datetime) -> int:
        return math.ceil((t.astimezone(UTC) - self.grid.t0).total_seconds() / 3600)

    def _check_inputs(self) -> None:
        p = self.p
        lo, hi = p.start, p.end - timedelta(days=1)
        if self.first > self.last:
            raise InputError(f"--from {self.first} is after --to {self.last}")
        if self.first < lo or self.last > hi:
            raise InputError(
                f"the plan {self.first} - {self.last} must lie inside the protocol period {lo} - {hi}"
            )
        for force in ("police", "defence"):
            sizes = {u.size for u in p.units_of(force)}
            if len(sizes) > 1:
                raise InputError(
                    f"the planner needs one unit size per force; {force} units have sizes {sorted(sizes)}"
                )
        if not p.units_of("police"):
            raise InputError("the protocol lists no police units")
        ps = p.units_of("police")[0].size
        if ps < p.police_min_police_only or ps < p.police_min_mixed:
            raise InputError(
                f"police units of {ps} cannot form a patrol (minimum {max(p.police_min_mixed, p.police_min_police_only)})"
            )
        if p.units_of("defence") and p.units_of("defence")[0].size > p.soldiers_max_per_patrol:
            raise InputError(
                f"soldier units of {p.units_of('defence')[0].size} exceed {p.soldiers_max_per_patrol} per patrol"
            )

    # -- data for one chunk
    def _templates(self, force: str) -> list[tuple[int, int]]:
        wt = self.p.working_time[force]
        return [
            (s, L)
            for s in wt.shift_starts
            for L in wt.shift_lengths
            if wt.shift_min_hours <= L <= wt.shift_max_hours
        ]

    def _patterns(
        self, force: str, days: list[date], h0: int, wk: tuple[int, int], shortest: int = 0
    ) -> list[Pattern]:
        """`shortest`: re-planning, the fewest old shifts a unit has in the chunk; rosters that
        short are enumerated too, so that a unit with few hours left in its week can keep its
        old roster (an unchanged re-plan from a Wednesday dropped a soldier's one shift left:
        only rosters of 3 or 4 days existed, all above its remaining 12 hours)."""
        wt = self.p.working_time[force]
        out = []
        limit = self.grid.n_tail if self.tail else self.grid.n
        for t, (sh, L) in enumerate(self._templates(force)):
            starts = [self.grid.day_index(d, sh) - h0 for d in days]
            # the eve (before the first day) only for its night shift, which reaches the first day
            eve = {i for i, d in enumerate(days) if d < self.first and sh + L <= 24}
            # near-full-time patterns only (units may also stay off the whole chunk): the rosters
            # police and Defence use, and a model 3x smaller than all 2^7 day subsets
            most = min(len(days), int(wt.max_hours_per_week // L))
            lo = max(1, most - self.pattern_slack)
            for r in range(min(lo, shortest) if shortest else lo, len(days) + 1):
                for combo in itertools.combinations(range(len(days)), r):
                    if eve.intersection(combo):
                        continue
                    if _longest_run(combo) > self._run_limit(wt, sh, L):
                        continue  # too many days (or nights) in a row
                    shifts = [(starts[i], starts[i] + L) for i in combo]
                    if shifts[-1][1] + h0 > limit or shifts[0][0] + h0 < self.frozen_until:
                        continue
                    rests = [b[0] - a[1] for a, b in itertools.pairwise(shifts)]
                    if any(r < wt.min_rest_hours for r in rests):
                        continue
                    wh = sum(max(0, min(e + h0, wk[1]) - max(s + h0, wk[0])) for s, e in shifts)
                    if wh > wt.max_hours_per_week:
                        continue
                    # the same with a handover after every shift (units that may hold a minimum)
                    ho = self.ho_h
                    wh_ho = sum(
                        max(0, min(e + ho + h0, wk[1]) - max(s + h0, wk[0])) for s, e in shifts
                    )
                    rest_ho = all(r >= wt.min_rest_hours + ho for r in rests)
                    out.append(Pattern(t, combo, shifts, wh, wh_ho, rest_ho))
        return out

    def _run_limit(self, wt, sh: int, L: int) -> int:
        """Most days in a row a pattern of this template may have (days, and nights if it is a
        night shift); no limit when the protocol sets none."""
        lim = [wt.max_consecutive_days or 10**6]
        if wt.max_consecutive_nights and wt.is_night(sh, L):
            lim.append(wt.max_consecutive_nights)
        return min(lim)

    def _runs_before(self, unit: str, day0: date) -> tuple[int, int]:
        """Days and nights in a row the unit worked up to the day before `day0` (history)."""
        wt = self.p.working_time[self._force_of(unit)]
        days, nights = set(), set()
        for s in self.shifts.get(unit, []):
            loc = self.grid.local(s.start)
            if loc.date() >= day0:
                continue
            days.add(loc.date())
            if wt.is_night(loc.hour, s.end - s.start):
                nights.add(loc.date())
        out = []
        for got in (days, nights):
            n, d = 0, day0 - timedelta(days=1)
            while d in got:
                n, d = n + 1, d - timedelta(days=1)
            out.append(n)
        return out[0], out[1]

    def _carried_ok(self, force: str, pat: Pattern, runs: tuple[int, int]) -> bool:
        if not any(runs) or 0 not in pat.days:
            return True
        wt = self.p.working_time[force]
        sh, L = self._templates(force)[pat.template]
        lead = 1
        while lead in pat.days:
            lead += 1
        ok = runs[0] + lead <= (wt.max_consecutive_days or 10**6)
        if wt.max_consecutive_nights and wt.is_night(sh, L):
            ok = ok and runs[1] + lead <= wt.max_consecutive_nights
        return ok

    def _force_of(self, unit: str) -> str:
        if not hasattr(self, "_forces"):
            self._forces = {u.code: u.force for u in self.p.units}
        return self._forces.get(unit, "police")

    def _state(
        self, unit: str, h0: int, wk: tuple[int, int], rest: float
    ) -> tuple[float | None, float]:
        last_end, used = None, 0.0
        for s in self.shifts.get(unit, []):
            if s.start < h0:
                # the handover, if the unit held a minimum then (counted for every unit: only a
                # shift ending at the chunk start reaches into its week, and a handover is not
                # known until that hour is drawn; one state per unit keeps the classes few)
                end = s.end + self.ho_h
                last_end = end if last_end is None else max(last_end, end)
                used += max(0, min(end, wk[1]) - max(s.start, wk[0]))
        if last_end is not None and last_end + rest <= h0:
            last_end = None  # rested whatever comes next
        return last_end, used

    def _risk_hours(self, h0: int, n: int) -> np.ndarray:
        out = np.zeros((len(self.zones), n))
        for h in range(n):
            loc = self.grid.local(h0 + h)
            for z, zid in enumerate(self.zones):
                out[z, h] = self.risk[zid][loc.weekday(), loc.hour]
        return out

    def _fipa_hours(self, h0: int, n_ext: int) -> dict[str, np.ndarray]:
        out = {}
        # FIPA are staffed from the first moment this plan can have soldiers: its eve's night shift,
        # or the end of the previous plan's last night (which staffs what comes before)
        eve = [sh for sh, L in self._templates("defence") if sh + L > 24] if self.eve else []
        lo = (
            self.grid.day_index(self.first - timedelta(days=1), min(eve))
            if eve
            else max(self.grid.day_index(self.first), self.frozen_until)
        )
        for f in self.p.fipa:
            s, e = f.window(self.p.tz)
            a = max(self.grid.index(s), lo) - h0
            b = self.grid.index(e) - h0
            if b <= 0 or a >= n_ext:
                continue
            arr = np.zeros(n_ext, dtype=int)
            arr[max(a, 0) : min(b, n_ext)] = math.ceil(f.soldiers / self.ssize)
            out[f.id] = arr
        return out

    def _on_duty(self, force: str, h: int) -> list[str]:
        if not hasattr(
            self, "_codes"
        ):  # all units: a unit dropping out still finishes a started shift
            self._codes = {f: {u.code for u in self.p.units_of(f)} for f in ("police", "defence")}
        return sorted(self._duty.get(h, set()) & self._codes[force])

    def build_chunk(self, days: list[date]) -> tuple[ChunkData, dict[str, list[list[str]]], int]:
        h0 = self.grid.day_index(days[0])
        h1 = self.grid.day_index(days[-1] + timedelta(days=1))
        mon = _monday(max(days[0], self.first))  # the eve's 2 hours count in its own week
        wk = (self.grid.day_index(mon), self.grid.day_index(mon + timedelta(days=7)))
        pats, classes, compat, members, carry = {}, {}, {}, {}, {}
        keep_bonus: dict[str, dict] = {"police": {}, "defence": {}}
        ho_ok: dict[str, set[tuple[int, int]]] = {"police": set(), "defence": set()}
        hints: dict[str, dict] = {"police": {}, "defence": {}}
        max_end = h1 - h0
        for force in ("police", "defence"):
            wt = self.p.working_time[force]
            olds = [
                sum(1 for a, _b in self.old_shifts.get(u.code, ()) if h0 <= a < h1)
                for u in self.units[force]
            ]
            pats[force] = self._patterns(
                force, days, h0, wk, min([k for k in olds if k], default=0)
            )
            if pats[force]:
                max_end = max(max_end, max(p.shifts[-1][1] for p in pats[force]))
            groups: dict[tuple, list[str]] = defaultdict(list)
            for u in self.units[force]:
                old = tuple(
                    (a - h0, b - h0) for a, b in self.old_shifts.get(u.code, ()) if h0 <= a < h1
                )
                blocked = tuple(
                    (a - h0, b - h0) for a, b in self.blocked.get(u.code, ()) if b > h0 and a < h1
                )
                state = self._state(u.code, h0, wk, wt.min_rest_hours)
                runs = self._runs_before(u.code, days[0]) if self.shifts.get(u.code) else (0, 0)
                groups[(*state, old, (blocked, runs))].append(u.code)
            keys = sorted(groups, key=lambda k: (k[0] is not None, k[0] or 0, k[1], k[2], k[3]))
            classes[force] = [len(groups[k]) for k in keys]
            members[force] = [sorted(groups[k]) for k in keys]
            compat[force] = []
            for c, (last_end, used, old, (blocked, runs)) in enumerate(keys):
                ok = [
                    i
                    for i, p in enumerate(pats[force])
                    if (last_end is None or p.shifts[0][0] + h0 >= last_end + wt.min_rest_hours)
                    and used + p.week_hours <= wt.max_hours_per_week + 1e-9
                    # unavailable units take no shift overlapping their unavailability
                    and not any(s < b and a < e for s, e in p.shifts for a, b in blocked)
                    # days (nights) in a row carried in from before the chunk
                    and self._carried_ok(force, p, runs)
                ]
                compat[force].append(ok)
                if old:  # re-planning: each of a unit's old shifts it keeps is worth a lot
                    same = [i for i in ok if tuple(pats[force][i].shifts) == old]
                    mine = set(old)
                    # all of them where it can; else (a change hits the unit) as many as it can
                    # (less each shift it did not have)
                    kept = {i: len(mine) for i in same} or {
                        i: k - len(set(pats[force][i].shifts) - mine)
                        for i in ok
                        if (k := len(mine & set(pats[force][i].shifts)))
                    }
                    for i, k in kept.items():
                        keep_bonus[force][(c, i)] = KEEP_BONUS * k
                    if kept:  # the solver starts from the most kept
                        hints[force][(c, max(kept, key=kept.__getitem__))] = len(groups[keys[c]])
                elif self.old_shifts:
                    # re-planning: a unit off duty in the old plan's days stays off unless a new
                    # shift is needed (each costs as much as an old shift lost): without this, an
                    # unchanged re-plan gave idle units shifts that pushed others' old ones out
                    for i in ok:
                        keep_bonus[force][(c, i)] = -KEEP_BONUS * len(pats[force][i].shifts)
                # the patterns on which this class's units can also work every handover
                ho_ok[force] |= {
                    (c, i)
                    for i in ok
                    if pats[force][i].rest_ho
                    and used + pats[force][i].week_hours_ho <= wt.max_hours_per_week + 1e-9
                }
                # warm start from the previous chunk: same relative state and same pattern shape
                if not old and self._prev_n and not self.old_shifts:
                    rel = (None if last_end is None else last_end - h0, used)
                    size = len(groups[keys[c]])
                    for i in ok:
                        pk = (force, rel, pats[force][i].template, pats[force][i].days, len(days))
                        k = min(self._prev_n.get(pk, 0), size)
                        if k:
                            hints[force][(c, i)] = k
                            size -= k
            self._keys[force] = keys
        n_ext = max_end
        if days[-1] == self.last:  # the last chunk plans its night shift's morning too
            h1 = h0 + n_ext
        for force in ("police", "defence"):
            carry[force] = np.array(
                [
                    len(self._on_duty(force, h0 + h)) if h0 + h < self.grid.n_tail else 0
                    for h in range(n_ext)
                ]
            )
        pl = self.p.planning
        data = ChunkData(
            n_hours=h1 - h0,
            n_ext=n_ext,
            q=Q,
            patterns=pats,
            classes=classes,
            compatible=compat,
            carry=carry,
            fipa_units=self._fipa_hours(h0, n_ext),
            fipa_police=self.fipa_police,
            zones=self.zones,
            approved=self.approved,
            zone_min=self.zone_min,
            min_active=np.array([self.cover[0] <= h0 + h < self.cover[1] for h in range(h1 - h0)]),
            risk=self._risk_hours(h0, h1 - h0),
            soldier_size=self.ssize,
            cap=self.p.patrol_cap,  # less the liaisons on duty when they count in the cap
            max_patrols=pl.max_patrols_per_zone,
            decay=pl.diminishing_returns,
            bonus=pl.mixed_patrol_bonus,
            hints=hints,
            keep_bonus=keep_bonus,
            zone_open=self._zone_open(h0, h1 - h0),
            cap_hours=self._cap_hours(h0, n_ext),
            handover=self._handover_reserve(h0, n_ext, pats),
            handover_ok=ho_ok,
            carry_end=self._carry_end(h0, n_ext),
        )
        return data, members, h0

    def _fresh_chunk(self, days: list[date]) -> ChunkData:
        """The chunk without the old plan's shifts (no stability bonus, no kept-unit classes)."""
        old, keys = self.old_shifts, dict(self._keys)
        self.old_shifts = {}
        try:
            return self.build_chunk(days)[0]
        finally:
            self.old_shifts, self._keys = old, keys

    def _carry_end(self, h0: int, n: int) -> dict[str, np.ndarray]:
        """force -> [n] units carried into the chunk (on duty before it) whose shift ends then."""
        out = {f: np.zeros(n, dtype=int) for f in ("police", "defence")}
        for code, shifts in self.shifts.items():
            for s in shifts:
                if s.start < h0 <= s.end < h0 + n:
                    out[self._force_of(code)][s.end - h0] += 1
        return out

    def _handover_zones(self, H: int) -> list[int]:
        """Zones where the outgoing mixed patrols holding the minimum stay `ho_q` visits into hour
        H if their shift ends at H: the minimum held in hour H-1 (also by the previous plan, with
        --after) and in hour H (also by the next plan: the seam after this plan's last night), the
        zone open in both."""
        if not self.ho_q:
            return []
        lo, hi = self._minima_from, self.cover[1]
        # a re-plan's first hour: the kept rows before it are this plan's past, minima included
        held_before = lo <= H - 1 or (self._kept_before and lo == H)
        if not (held_before and hi > H - 1 and (lo <= H < hi or (self.tail and hi == H))):
            return []
        shut = {
            self.zones.index(zid) for zid, a, b in self.closures if a < H + 1 and b > H - 1
        }  # closed in hour H-1 or H
        return [z for z in np.flatnonzero(self.zone_min) if z not in shut]

    def _handover_reserve(
        self, h0: int, n_ext: int, pats: dict[str, list[Pattern]]
    ) -> np.ndarray | None:
        """Soldier units the cap keeps free in each hour for the outgoing handover patrols: at each
        hour where a shift of this chunk or an earlier one ends (one per minimum; conservative
        where a minimum holder's shift runs on)."""
        if not self.ho_q:
            return None
        ends = {e for ps in pats.values() for p in ps for _s, e in p.shifts}
        ends |= {s.end - h0 for v in self.shifts.values() for s in v}
        out = np.zeros(n_ext, dtype=int)
        for h in range(n_ext):
            if h in ends:
                out[h] = sum(int(self.zone_min[z]) for z in self._handover_zones(h0 + h))
        return out

    def _zone_open(self, h0: int, n: int) -> np.ndarray | None:
        if not self.closures:
            return None
        out = np.ones((len(self.zones), n), dtype=bool)
        for zid, a, b in self.closures:
            out[self.zones.index(zid), max(a - h0, 0) : max(min(b - h0, n), 0)] = False
        return out

    def _cap_hours(self, h0: int, n: int) -> np.ndarray | None:
        if self.cap_from is None:
            return None
        liaisons = self.p.soldier_cap - self.p.patrol_cap  # liaisons in the cap, if they count
        out = np.full(n, self.p.patrol_cap)
        out[max(self.cap_from[0] - h0, 0) :] = min(self.cap_from[1], self.p.soldier_cap) - liaisons
        return out

    # -- the run
    def run(self, progress=None) -> PlanResult:
        rows: list[list[Any]] = []
        info = []
        obj = bound = secs = 0.0
        worst = "OPTIMAL"
        chunks = chunks_of(self.first, self.last)
        if self.eve:
            chunks[0].insert(0, self.first - timedelta(days=1))
        t_start = _time.perf_counter()
        for i, days in enumerate(chunks):
            data, members, h0 = self.build_chunk(days)
            remaining = self.time_limit - (_time.perf_counter() - t_start)
            # a chunk without a warm start (the first of its shape) gets a triple share
            cold = not any(data.hints.values())
            shares = (3 if cold else 1) + (len(chunks) - i - 1)
            # at least MIN_CHUNK_SECONDS a week: a long horizon under a short limit would leave each
            # week too little to find a good plan (six months with travel and handovers in 60 s:
            # weeks at 2.3 s ended with 50 % gaps; they need about 2.5 s), so it overruns instead
            budget = max(
                min(MIN_CHUNK_SECONDS, self.time_limit), remaining * (3 if cold else 1) / shares
            )
            model = ChunkModel(data)
            sol = model.solve(
                time_limit=budget,
                workers=self.workers,
                gap=self.gap,
                seed=self.seed,
                backend=self.backend,
            )
            for extra in (10.0, 30.0, 90.0):  # no solution yet within the budget: longer tries
                if sol.status != "UNKNOWN":
                    break
                sol = model.solve(
                    time_limit=max(extra, 3 * budget),
                    workers=self.workers,
                    gap=self.gap,
                    seed=self.seed,
                    backend=self.backend,
                )
            if sol.status not in ("OPTIMAL", "FEASIBLE"):
                self._explain(data, days, budget, sol.status)
            if sol.status == "FEASIBLE":
                worst = "FEASIBLE"
            mixed, total, value = place_patrols(model, sol)
            if any(data.keep_bonus.values()):
                # re-planning: the gap is on the plan's own objective, not the stability bonus,
                # so the bound comes from the same chunk as a fresh plan solves it (units in
                # classes by their state only: one class per kept unit makes it much harder)
                own = ChunkModel(self._fresh_chunk(days)).solve(
                    time_limit=max(2.0, budget / 2),
                    workers=self.workers,
                    gap=self.gap,
                    seed=self.seed,
                    backend=self.backend,
                )
                if own.status in ("OPTIMAL", "FEASIBLE"):
                    sol.bound = max(own.bound, value)
                    sol.seconds += own.seconds
            self._assign(data, members, sol.n, h0)
            self._prev_n = {}
            for force, counts in sol.n.items():
                for (c, pi), k in counts.items():
                    last_end, used, _old, _blocked = self._keys[force][c]
                    pat = data.patterns[force][pi]
                    rel = (None if last_end is None else last_end - h0, used)
                    key = (force, rel, pat.template, pat.days, len(days))
                    self._prev_n[key] = self._prev_n.get(key, 0) + k
            drawn, placed = self._draw(data, mixed, total, h0, model)
            rows.extend(drawn)
            if self.tq is not None:  # what the routes place, travel losses included
                value = float(placed)
            if sol.bound < value <= sol.bound + 1e-6 * abs(sol.bound):
                value = sol.bound  # same number, floating-point noise between solver and placement
            sol.objective = value
            obj += sol.objective
            bound += sol.bound
            secs += sol.seconds
            info.append(
                {
                    "from": days[0].isoformat(),
                    "to": days[-1].isoformat(),
                    "status": sol.status,
                    "objective": round(sol.objective, 4),
                    "bound": round(sol.bound, 4),
                    "seconds": round(sol.seconds, 3),
                }
            )
            if i == len(chunks) - 1:  # the seam after the last night: hand over to the next plan
                end = h0 + data.n_hours
                old = self.reuse.get(end) if self._routes and self._kept_prev else None
                rows.extend(self._handover_rows(end) if old is None else self._split(old, end)[1])
            if progress is not None:
                progress.advance()
        gap = (
            (bound - obj) / abs(bound)
            if bound and np.isfinite(bound)
            else (0.0 if not bound else float("inf"))
        )
        all_shifts = [s for v in self.shifts.values() for s in v]
        name = (
            "HiGHS MIP (model built with OR-Tools CP-SAT)"
            if self.backend == "highs"
            else "OR-Tools CP-SAT"
        )
        return PlanResult(
            rows,
            worst,
            obj,
            bound,
            max(gap, 0.0),
            secs,
            info,
            all_shifts,
            (self.grid.t0, self.grid.t_end),
            solver_name=name,
        )

    def _assign(
        self, data: ChunkData, members: dict[str, list[list[str]]], n: dict, h0: int
    ) -> None:
        for force, cls in members.items():
            for c, codes in enumerate(cls):
                order = list(self.rng.permutation(codes)) if codes else []
                for (cc, p), k in sorted(n.get(force, {}).items()):
                    if cc != c:
                        continue
                    capable = (cc, p) in data.handover_ok.get(force, ())
                    for _ in range(k):
                        code = order.pop()
                        for s, e in data.patterns[force][p].shifts:
                            self.shifts[code].append(Shift(code, s + h0, e + h0))
                            for hh in range(s + h0, e + h0):
                                self._duty[hh].add(code)
                                if not capable:
                                    self._nocap[hh].add(code)

    def _draw(
        self,
        data: ChunkData,
        mixed_q: np.ndarray,
        total_q: np.ndarray,
        h0: int,
        model: ChunkModel | None = None,
    ) -> tuple[list[list[Any]], float]:
        """The visits of each hour of the chunk, and (with travel) the value of what is placed,
        in the model's units (the placement's value otherwise: `place_patrols`)."""
        rows = []
        value = 0.0
        for h in range(data.n_hours):
            H = h0 + h
            if self.frozen_until > H:
                if self.tq is not None and model is not None:  # counted as without travel
                    K = self.p.planning.max_patrols_per_zone
                    cum = np.concatenate([[0], np.cumsum(model.w[:K])])
                    v = float((model.r[:, h] * cum[np.minimum(total_q[:, h] // Q, K)]).sum())
                    value += (v + float(model.rho[h]) * mixed_q[:, h].sum() / Q) * model.scale
                continue  # the previous plan's visits (plan make --after)
            police = self._on_duty("police", H)
            soldiers = self._on_duty("defence", H)
            if self.tq is not None:  # units off duty start their next shift where they are sent
                on = set(police) | set(soldiers)
                self._loc = {u: loc for u, loc in self._loc.items() if u in on}
            old = self.reuse.get(H)
            if (
                old is not None
                and not self._routes
                and self._same_hour(old, police, soldiers, data, h, mixed_q, total_q)
            ):
                rows.extend(old["rows"])  # nothing changed in this hour: keep the old visits
                self._resume(old, old["rows"], data.mins_at(h))
                continue
            hr = _Hour(H, h, police, soldiers, data, mixed_q, total_q, model)
            if old is not None and self._routes:
                hour_rows, v = self._route_or_keep(old, hr)
                rows.extend(hour_rows)
                value += v
                continue
            # an hour nobody works breaks no route: kept hours may go on after it
            self._kept_prev = self._kept_prev and not police and not soldiers and old is None
            hour_rows, v = self._fresh_hour(hr)
            rows.extend(hour_rows)
            value += v
        return rows, value

    def _fresh_hour(self, hr: _Hour) -> tuple[list[list[Any]], float]:
        """Hour H drawn afresh: its rows (the handover rows of the teams going off first) and,
        with travel, the value of its patrol visits."""
        H, h, police, soldiers, data, mixed_q, total_q, model = hr
        rng, p = self.rng, self.p
        rows: list[list[Any]] = []
        # FIPA: keep the same soldier units where possible
        free = set(soldiers)
        need = {fid: int(arr[h]) for fid, arr in data.fipa_units.items() if arr[h] > 0}
        fipa_units = self._hold(need, self._fipa_prev, free, H)
        self._fipa_prev = fipa_units
        # each FIPA holds its police units (the same ones hour to hour where possible)
        free_police = set(police)
        fipa_pol = self._hold(
            dict.fromkeys(fipa_units, self.fipa_police), self._fipa_pol_prev, free_police, H
        )
        self._fipa_pol_prev = fipa_pol
        # pair the remaining soldiers with police (keep last hour's pairs where possible)
        pairs: dict[str, str] = {}
        for s in sorted(free):
            q = self._pairs.get(s)
            if q in free_police:
                pairs[s] = q
                free_police.discard(q)
        cannot = self._nocap.get(H, set())
        on_next = set(self._on_duty("police", H + 1)) if self.tq is not None else set()
        next_soldiers = set(self._on_duty("defence", H + 1)) if self.tq is not None else set()
        ok = np.flatnonzero(data.approved & data.open_at(h))  # where soldiers may patrol now
        # soldiers who can work a handover choose first, so that they find such crews
        for s in sorted(set(free) - set(pairs), key=lambda s: (s in cannot, s)):
            cands = sorted(free_police)
            if self.tq is not None:  # the crew nearest to the soldiers (random among equals)
                cands = [cands[i] for i in rng.permutation(len(cands))]
                # a crew whose shift runs on as long as the soldiers' first: teams that
                # outlast the hour can take over a zone minimum (the DST night, below)
                stays = s in next_soldiers
                q = min(
                    cands,
                    key=lambda c, s=s: (
                        stays and c not in on_next,
                        (c in cannot) != (s in cannot),
                        self._apart(c, s, H, ok),
                    ),
                )
            else:  # with a crew that can hand over as the soldiers can (or cannot)
                same = [c for c in cands if (c in cannot) == (s in cannot)]
                q = rng.choice(same or cands)
            pairs[s] = q
            free_police.discard(q)
        self._pairs = pairs
        mixed_teams = [(q, s) for s, q in sorted(pairs.items())]
        police_teams = [(q, None) for q in sorted(free_police)]
        rows.extend(self._handover_rows(H))
        if self.tq is not None:
            hour_rows = self._route_hour(
                H, h, data, mixed_teams, [q for q, _ in police_teams], fipa_units, fipa_pol
            )
            return rows + hour_rows, self._value(hour_rows, H, h, model)
        # the teams holding each zone minimum stay in the zone: last hour's where still paired
        mins_h = data.mins_at(h)
        holders: dict[str, list[tuple[str, str]]] = {}
        spare = set(mixed_teams)
        for z in np.flatnonzero(mins_h):
            zid = self.zones[z]
            # where the minimum starts: the teams there at the end of the hour before stay on
            there = self._holders.get(zid, []) + self._arriving.get(zid, [])
            keep = [t for t in there if t in spare][: int(mins_h[z])]
            spare -= set(keep)
            holders[zid] = keep
        for z in np.flatnonzero(mins_h):
            zid = self.zones[z]
            while len(holders[zid]) < int(mins_h[z]):
                # a team whose working time allows the handover at the end of its shift
                pool = sorted(t for t in spare if self._can_hand_over(t, H)) or sorted(spare)
                t = pool[int(rng.integers(len(pool)))]
                spare.discard(t)
                holders[zid].append(t)
        self._holders = holders
        movers = sorted(spare)
        n_mix, n_po = len(movers), len(police_teams)
        # zone labels for each quarter of the other teams, shuffled
        rest_mix: list[int] = []
        po_rest: list[int] = []
        for z in range(len(self.zones)):
            mz = int(mixed_q[z, h])
            rest_mix.extend([z] * (mz - Q * int(mins_h[z])))
            po_rest.extend([z] * int(total_q[z, h] - mz))
        rest_mix = list(rng.permutation(rest_mix))
        po_rest = list(rng.permutation(po_rest))
        per_m = n_mix
        assert len(rest_mix) == Q * per_m and len(po_rest) == Q * n_po, (
            len(rest_mix),
            per_m,
            len(po_rest),
            n_po,
        )
        t = self.grid.utc(H)
        fixed = [(team, self.zones.index(zid)) for zid, ts in holders.items() for team in ts]
        # a zone whose minimum starts next hour (a fresh plan's first midnight): the mixed
        # patrols there in the last visit become its holders (`_arriving`), else they would leave
        # as the minimum starts with no relief there since a handover before (rule `handover`);
        # so crews whose working time allows the handover at their shift's end take those visits
        starts = set(
            np.flatnonzero((data.mins_at(h + 1) > 0) & (mins_h == 0))
            if self.ho_q and h + 1 < data.n_hours
            else []
        )
        for qq in range(Q):
            s = (t + timedelta(minutes=15 * qq)).astimezone(p.tz).isoformat()
            e = (t + timedelta(minutes=15 * (qq + 1))).astimezone(p.tz).isoformat()
            labels_m = rest_mix[qq * per_m : (qq + 1) * per_m]
            labels_o = po_rest[qq * n_po : (qq + 1) * n_po]
            shuffled = [movers[i] for i in rng.permutation(n_mix)]
            if qq == Q - 1 and starts:
                slots = sorted(range(n_mix), key=lambda k: labels_m[k] not in starts)
                able = sorted(shuffled, key=lambda t: not self._can_hand_over(t, H))
                for k, team in zip(slots, able, strict=True):
                    shuffled[k] = team
            placed = fixed + list(zip(shuffled, labels_m, strict=True))
            for (pu, su), z in placed:
                zid = self.zones[z]
                rows.append(self._row(s, e, zid, f"{pu}+{su}", self.psize, self.ssize, pu, su, H))
            for (pu, _), z in zip(
                [police_teams[i] for i in rng.permutation(n_po)], labels_o, strict=True
            ):
                rows.append(self._row(s, e, self.zones[z], pu, self.psize, 0, pu, "", H))
            rows.extend(self._fipa_rows(s, e, fipa_units, fipa_pol, H))
        self._arriving = {
            self.zones[z]: [(pu, su) for (pu, su), zz in placed if zz == z] for z in starts
        }
        return rows, 0.0

    def _fipa_rows(
        self,
        s: str,
        e: str,
        fipa_units: dict[str, list[str]],
        fipa_pol: dict[str, list[str]],
        H: int,
    ) -> list[list[Any]]:
        out = []
        for fid, units in fipa_units.items():
            f = next(f for f in self.p.fipa if f.id == fid)
            out.append(
                [
                    s,
                    e,
                    f.zone,
                    fid,
                    self.psize * len(fipa_pol[fid]),
                    self.ssize * len(units),
                    self.zone_post[f.zone],
                    "fipa",
                    ";".join(sorted(fipa_pol[fid])),
                    ";".join(sorted(units)),
                    self._liaison(self.zone_post[f.zone], H),
                ]
            )
        return out

    # -- routes (with `travel`): teams stay where they are unless moving gains
    def _apart(self, a: str, b: str, H: int, ok: np.ndarray) -> int:
        """Visits between where units a and b are. When one of them starts its shift (not placed
        yet), the visits until the other can be in a zone of `ok` (the soldiers' open zones): the
        one starting would wait for it, and a unit's first visit starts its duty period as the
        checker reads it (DEF-001 waiting 15 minutes for its crew worked 5.75 h of a 6 h shift)."""
        la, lb = self._loc.get(a), self._loc.get(b)
        if la is not None and lb is not None:
            return int(self.tq[la[0], lb[0]])
        placed = la if la is not None else lb
        if placed is None or not len(ok):
            return 0
        return int(max(0, int(self.tq[placed[0], ok].min()) + placed[1] - H * Q))

    def _late(self, team: tuple[str, ...], H: int) -> np.ndarray:
        """[Z] visits of hour H the team loses reaching each zone (its units' last visits, where
        they were, plus the journey; 0 for units just starting their shift)."""
        out = np.zeros(len(self.zones), dtype=int)
        for u in team:
            loc = self._loc.get(u)
            if loc is not None:
                out = np.maximum(out, self.tq[loc[0]] + loc[1] - H * Q)
        return np.clip(out, 0, Q)

    def _meet_soldiers(
        self,
        H: int,
        h: int,
        data: ChunkData,
        holders: dict[str, list[tuple[str, str]]],
        succ: dict[str, list[tuple[str, str]]],
        mixed_teams: list[tuple[str, str]],
        police_teams: list[str],
        going: dict[str, int],
        leave: dict[tuple, np.ndarray],
    ) -> None:
        """A zone whose minimum at H+1 no team on duty then holds (nor joins, `succ`) needs soldiers
        staying on whose crew goes off at H+1: those there first, then the nearest not holding
        another minimum; their team leaves its patrol in time to be there. Their crew at H+1: one
        starting then (it comes at once), else one patrolling alone now and on duty then, which
        leaves its patrol in time too and is their pair next hour (`_pairs`). Paired at the shift
        change with the nearest crew instead, the minimum lapsed for that crew's journey (45
        minutes at 5 km/h)."""
        if h + 1 >= data.n_hours:
            return
        police1 = set(self._on_duty("police", H + 1))
        soldiers1 = set(self._on_duty("defence", H + 1))
        fresh = len(police1 - set(self._on_duty("police", H)))
        mins1 = data.mins_at(h + 1)
        free = [c for c in police_teams if c in police1 and c not in going]
        held = {t for ts in holders.values() for t in ts}
        used: set[tuple[str, str]] = set()
        for z in np.flatnonzero(mins1):
            zid = self.zones[z]
            on = [
                t
                for t in holders.get(zid, []) + succ.get(zid, [])
                if t[0] in police1 and t[1] in soldiers1
            ]
            need = int(mins1[z]) - len(on)
            cands = sorted(
                (
                    t
                    for t in mixed_teams
                    if t[1] in soldiers1
                    and t[0] not in police1
                    and t[1] not in going
                    and t not in used
                    and (t not in held or t in holders.get(zid, []))
                ),
                key=lambda t, z=z: (
                    self._loc.get(t[1], (-1,))[0] != z,
                    int(self._late(t, H + 1)[z]),
                    t,
                ),
            )
            for t in cands[: max(0, need)]:
                used.add(t)
                leave[t] = np.maximum(leave[t], self.tq[:, z])
                if fresh:
                    fresh -= 1
                    continue
                if not free:
                    continue
                c = min(free, key=lambda c, z=z: (int(self._late((c,), H + 1)[z]), c))
                free.remove(c)
                leave[(c,)] = np.maximum(leave[(c,)], self.tq[:, z])
                self._pairs[t[1]] = c

    def _fipa_ahead(
        self,
        H: int,
        h: int,
        data: ChunkData,
        fipa_units: dict,
        fipa_pol: dict,
        patrolling: set[str],
    ) -> dict[str, int]:
        """Units that go to a FIPA in hour H+1 leave their patrol in time: the FIPA's units of
        hour H stay, then units starting their shift at H+1 (no journey), then the patrolling units
        nearest to it (not those holding a zone minimum). Returns unit -> FIPA zone index; the
        choice is what `_hold` keeps at H+1."""
        going: dict[str, int] = {}
        if h + 1 >= data.n_ext:
            return going
        holding = self._holding()
        for force, held, size in (
            ("defence", fipa_units, None),
            ("police", fipa_pol, self.fipa_police),
        ):
            # units that cannot work a handover first (the others may hold a zone minimum)
            cannot = self._nocap.get(H + 1, set())
            fresh = sorted(
                set(self._on_duty(force, H + 1)) - set(self._on_duty(force, H)),
                key=lambda u: (u not in cannot, u),
            )
            staying = set(self._on_duty(force, H + 1))
            nxt: dict[str, list[str]] = {}
            for fid, arr in data.fipa_units.items():
                need = int(arr[h + 1]) if size is None else (size if arr[h + 1] > 0 else 0)
                if not need:
                    continue
                z = self.zones.index(next(f.zone for f in self.p.fipa if f.id == fid))
                chosen = [u for u in held.get(fid, []) if u in staying][:need]
                taken = {u for us in nxt.values() for u in us} | set(going)
                for u in fresh:
                    if len(chosen) < need and u not in taken and u not in chosen:
                        chosen.append(u)
                # police: the crews of the soldiers going there first, then crews patrolling
                # alone; a crew taken from another soldier left it alone until a crew came (a
                # soldier without a visit for 1.5 h read as two duty periods, 0.25 h apart)
                crews = {q: sq for sq, q in self._pairs.items()} if size is not None else {}
                cands = sorted(
                    (u for u in patrolling & staying if u not in taken and u not in holding),
                    key=lambda u, z=z, crews=crews: (
                        0 if going.get(crews.get(u, "")) == z else 1 if u not in crews else 2,
                        u not in cannot,
                        int(self.tq[self._loc[u][0], z]) if u in self._loc else 0,
                        u,
                    ),
                )
                for u in cands[: max(0, need - len(chosen))]:
                    chosen.append(u)
                    going[u] = z
                nxt[fid] = chosen
            if force == "defence":
                self._fipa_prev = nxt
            else:
                self._fipa_pol_prev = nxt
        return going

    def _route_hour(
        self,
        H: int,
        h: int,
        data: ChunkData,
        mixed_teams: list[tuple[str, str]],
        police_teams: list[str],
        fipa_units: dict[str, list[str]],
        fipa_pol: dict[str, list[str]],
    ) -> list[list[Any]]:
        """Hour H of the teams' routes. Teams holding a zone minimum stay in it; every other team
        takes a patrol place (zone, k-th patrol there) by `linear_sum_assignment` maximising the
        presence value r_z * w_k over the visits it is there: a team loses the visits its journey
        takes (from where its units last were) and, if it goes to a FIPA next hour, the visits of
        the journey there. Mixed teams first (approved zones), then police-only (all open zones),
        as in `allocate`. The visits spent travelling are not written."""
        from scipy.optimize import linear_sum_assignment

        rng, K = self.rng, self.p.planning.max_patrols_per_zone
        patrolling = {u for t in mixed_teams for u in t} | set(police_teams)
        going = self._fipa_ahead(H, h, data, fipa_units, fipa_pol, patrolling)
        r = data.risk[:, h]
        w = [self.p.planning.diminishing_returns**k for k in range(K)]
        open_h, mins = data.open_at(h), data.mins_at(h)
        late = {t: self._late(t, H) for t in mixed_teams + [(q,) for q in police_teams]}
        zeros = np.zeros(len(self.zones), dtype=int)
        leave = {
            t: np.max([self.tq[:, going[u]] for u in t if u in going] or [zeros], axis=0)
            for t in late
        }
        # minima: last hour's holders where still paired, then teams already there (or fresh)
        holders: dict[str, list[tuple[str, str]]] = {}
        spare = [t for t in mixed_teams if not any(u in going for u in t)]
        for z in np.flatnonzero(mins):
            zid = self.zones[z]
            keep = [t for t in self._holders.get(zid, []) + self._succ.get(zid, []) if t in spare]
            holders[zid] = keep[: int(mins[z])]
            spare = [t for t in spare if t not in holders[zid]]
        for z in np.flatnonzero(mins):
            zid = self.zones[z]
            while len(holders[zid]) < int(mins[z]):
                pool = spare or [
                    t for t in mixed_teams if t not in {x for v in holders.values() for x in v}
                ]
                order = [pool[i] for i in rng.permutation(len(pool))]
                t = min(
                    order,
                    key=lambda t, z=z: (
                        int(late[t][z] + leave[t][z]) > 0,
                        not self._can_hand_over(t, H),
                        int(late[t][z] + leave[t][z]),
                    ),
                )
                spare = [x for x in spare if x != t]
                holders[zid].append(t)
        self._holders = holders
        # teams that will hold a zone minimum next hour and are on duty now join the zone this
        # hour: where the minimum starts (a fresh plan's first midnight, its night teams under way)
        # and where a holder's shift ends while the next shift is already out (the DST night, 8
        # hours to 07:00, overlaps the 06:00 shift); teams that can work the handover first
        succ: dict[str, list[tuple[str, str]]] = {}
        if h + 1 < data.n_hours:
            police1, soldiers1 = (
                set(self._on_duty("police", H + 1)),
                set(self._on_duty("defence", H + 1)),
            )
            mins1 = data.mins_at(h + 1)
            for z in np.flatnonzero(mins1):
                zid = self.zones[z]
                staying = [t for t in holders.get(zid, []) if t[0] in police1 and t[1] in soldiers1]
                ready = [t for t in spare if t[0] in police1 and t[1] in soldiers1]
                for _ in range(int(mins1[z]) - len(staying)):
                    if not ready:
                        break
                    t = min(
                        ready,
                        key=lambda t, z=z: (
                            int(late[t][z]) >= Q,
                            not self._can_hand_over(t, H + 1),
                            int(late[t][z]),
                            t,
                        ),
                    )
                    ready.remove(t)
                    spare = [x for x in spare if x != t]
                    succ.setdefault(zid, []).append(t)
                    if not open_h[z]:  # it reopens at H+1: patrol elsewhere, leave in time
                        leave[t] = np.maximum(leave[t], self.tq[:, z])
        self._succ = succ
        self._meet_soldiers(H, h, data, holders, succ, mixed_teams, police_teams, going, leave)
        placed: list[tuple[tuple[str, ...], int]] = [
            (t, self.zones.index(zid))
            for zid, ts in [*holders.items(), *succ.items()]
            for t in ts
            if open_h[self.zones.index(zid)]
        ]
        used = np.zeros(len(self.zones), dtype=int)
        for _, z in placed:
            used[z] += 1
        fixed = {t for t, _ in placed}
        stage = [
            ([t for t in mixed_teams if t not in fixed], data.approved & open_h),
            ([(q,) for q in police_teams], open_h),
        ]
        for teams, ok in stage:
            if not teams:
                continue
            slots = [(z, k) for z in np.flatnonzero(ok) for k in range(int(used[z]), K)]
            if len(slots) < len(teams):
                raise RuntimeError("zone capacity exhausted: raise planning.max_patrols_per_zone")
            sz = np.array([z for z, _ in slots])
            base = np.array([r[z] * w[k] for z, k in slots])
            there = np.array([np.clip(Q - late[t][sz] - leave[t][sz], 0, Q) for t in teams])
            gain = base[None, :] * there / Q + rng.random((len(teams), len(slots))) * 1e-9
            rows_i, cols = linear_sum_assignment(gain, maximize=True)
            for i, j in zip(rows_i, cols, strict=True):
                placed.append((teams[i], int(sz[j])))
                used[sz[j]] += 1
        # the visits: each team from its arrival to its departure for the FIPA
        out = []
        t0 = self.grid.utc(H)
        stamps = [
            (t0 + timedelta(minutes=15 * qq)).astimezone(self.p.tz).isoformat()
            for qq in range(Q + 1)
        ]
        for team, z in placed:
            a, b = int(late[team][z]), Q - int(leave[team][z])
            zid = self.zones[z]
            pu, su = team[0], (team[1] if len(team) > 1 else "")
            for qq in range(a, b):
                if su:
                    out.append(
                        self._row(
                            stamps[qq],
                            stamps[qq + 1],
                            zid,
                            f"{pu}+{su}",
                            self.psize,
                            self.ssize,
                            pu,
                            su,
                            H,
                        )
                    )
                else:
                    out.append(
                        self._row(stamps[qq], stamps[qq + 1], zid, pu, self.psize, 0, pu, "", H)
                    )
            if b > a:
                for u in team:
                    self._loc[u] = (z, H * Q + b)
        for qq in range(Q):
            out.extend(self._fipa_rows(stamps[qq], stamps[qq + 1], fipa_units, fipa_pol, H))
        for fid, units in fipa_units.items():
            z = self.zones.index(next(f.zone for f in self.p.fipa if f.id == fid))
            for u in [*units, *fipa_pol.get(fid, [])]:
                self._loc[u] = (z, (H + 1) * Q)
        return out

    def _locate(self, rows: list[list[Any]]) -> None:
        """Where the units of kept (re-planning) visits are after them."""
        for r in rows:
            end = datetime.fromisoformat(r[1]).astimezone(UTC)
            q = int((end - self.grid.t0).total_seconds() // 900)
            for u in [c for c in f"{r[8]};{r[9]}".split(";") if c]:
                if u not in self._loc or self._loc[u][1] <= q:
                    self._loc[u] = (self.zones.index(r[2]), q)

    def _value(self, rows: list[list[Any]], H: int, h: int, model: ChunkModel | None) -> float:
        """The value of hour H's patrol visits in the model's objective (risk units): in each
        quarter, the k-th patrol present in a zone is worth r_z * w_k, a mixed one adds the hour's
        bonus; the outgoing handover visits are extra presence and not counted."""
        if model is None:
            return 0.0
        K = self.p.planning.max_patrols_per_zone
        n = np.zeros((len(self.zones), Q), dtype=int)
        mixed = 0
        t0 = self.grid.utc(H)
        for r in rows:
            if r[7] != "patrol" or (self.ho_q and r[8] not in self._duty.get(H, ())):
                continue
            qq = int((datetime.fromisoformat(r[0]).astimezone(UTC) - t0).total_seconds() // 900)
            if 0 <= qq < Q:
                n[self.zones.index(r[2]), qq] += 1
                mixed += bool(r[9])
        cum = np.concatenate([[0], np.cumsum(model.w[:K])])
        v = float((model.r[:, h][:, None] * cum[np.minimum(n, K)]).sum()) / Q
        return (v + float(model.rho[h]) * mixed / Q) * model.scale

    def _handover_rows(self, H: int) -> list[list[Any]]:
        """The first `ho_q` visits of hour H for the outgoing patrols that held a zone minimum in
        hour H-1 and whose shift ends at H: they stay until the incoming patrol has been there
        `handover_minutes` (the cap keeps room for them, `_handover_reserve`)."""
        zones = {self.zones[z] for z in self._handover_zones(H)}
        police, soldiers = set(self._on_duty("police", H)), set(self._on_duty("defence", H))
        out = []
        t = self.grid.utc(H)
        for zid, teams in sorted(self._holders.items()):
            for pu, su in teams:
                if zid not in zones or pu in police or su in soldiers:
                    continue
                for qq in range(self.ho_q):
                    s = (t + timedelta(minutes=15 * qq)).astimezone(self.p.tz).isoformat()
                    e = (t + timedelta(minutes=15 * (qq + 1))).astimezone(self.p.tz).isoformat()
                    out.append(
                        self._row(s, e, zid, f"{pu}+{su}", self.psize, self.ssize, pu, su, H)
                    )
        return out

    def _holders_in(
        self, rows: list[list[Any]], mins: np.ndarray
    ) -> dict[str, list[tuple[str, str]]]:
        """The teams holding each zone minimum in an hour kept from the old plan: the mixed
        patrols there in its last quarter, those there the most quarters of the hour first
        (holders stay in the zone; other teams may pass through)."""
        last = max((r[0] for r in rows), default="")
        out: dict[str, list[tuple[str, str]]] = {}
        for z in np.flatnonzero(mins):
            zid = self.zones[z]
            mixed = [r for r in rows if r[2] == zid and r[7] == "patrol" and r[9]]
            quarters: dict[tuple[str, str], int] = defaultdict(int)
            for r in mixed:
                quarters[(r[8], r[9])] += 1
            there = sorted(
                {(r[8], r[9]) for r in mixed if r[0] == last}, key=lambda t: (-quarters[t], t)
            )
            out[zid] = there[: int(mins[z])]
        return out

    def _continue_from(self, rows: list[list[Any]]) -> None:
        """Pairs, FIPA units and minimum holders of the last quarter of the rows kept before the
        plan (re-planning), so that a shift under way goes on as it was; and where units are."""
        last = max(r[0] for r in rows)
        tail = [r for r in rows if r[0] == last]
        for r in tail:
            if r[7] == "patrol" and r[9]:
                self._pairs[r[9]] = r[8]
            elif r[7] == "fipa":
                self._fipa_prev[r[3]] = [u for u in r[9].split(";") if u]
                self._fipa_pol_prev[r[3]] = [u for u in r[8].split(";") if u]
        for z in np.flatnonzero(self.zone_min):
            zid = self.zones[z]
            there = sorted((r[8], r[9]) for r in tail if r[7] == "patrol" and r[2] == zid and r[9])
            self._holders[zid] = there[: int(self.zone_min[z])]
        if self.tq is not None:
            self._locate(rows)

    def _holding(self) -> set[str]:
        """Units of the teams holding a zone minimum (FIPA take others where they can)."""
        return {u for teams in self._holders.values() for t in teams for u in t}

    def _can_hand_over(self, team: tuple[str, ...], H: int) -> bool:
        """The team's units may work a handover after the shift they are on at hour H."""
        cannot = self._nocap.get(H, ())
        return not any(u in cannot for u in team)

    def _hold(
        self,
        need: dict[str, int],
        prev: dict[str, list[str]],
        free: set[str],
        H: int | None = None,
    ) -> dict[str, list[str]]:
        """`need[fid]` units of `free` for each FIPA: last hour's where still free, the rest drawn
        at random, units holding a zone minimum last; the units taken leave `free`."""
        out: dict[str, list[str]] = {}
        holding = self._holding()
        cannot = self._nocap.get(H, set()) if H is not None else set()
        for fid, k in need.items():
            keep = [u for u in prev.get(fid, []) if u in free][:k]
            rest = sorted(free - set(keep) - holding)
            # units that cannot work a handover first: the others may hold a zone minimum
            first = [u for u in rest if u in cannot]
            second = [u for u in rest if u not in cannot]
            extra: list[str] = []
            short = k - len(keep)
            if 0 < short <= len(first):
                extra = list(self.rng.choice(first, size=short, replace=False))
            elif 0 < short <= len(rest):
                extra = first + list(
                    self.rng.choice(second, size=short - len(first), replace=False)
                )
            elif short > 0:
                extra = rest + sorted(free & holding)[: short - len(rest)]
            out[fid] = keep + extra
            free -= set(out[fid])
        return out

    def _same_hour(
        self, old: dict, police, soldiers, data: ChunkData, h: int, mixed_q, total_q
    ) -> bool:
        return (
            old["police"] == frozenset(police)
            and old["soldiers"] == frozenset(soldiers)
            and self._same_fipa(old, data, h)
            and self._same_coverage(old["counts"], h, mixed_q, total_q)
        )

    @staticmethod
    def _same_fipa(old: dict, data: ChunkData, h: int) -> bool:
        """The old hour's FIPA hold as many soldier units as the chunk's FIPA need at hour h."""
        need = {fid: int(arr[h]) for fid, arr in data.fipa_units.items() if arr[h] > 0}
        return need == {fid: len(units) for fid, units in old["fipa"].items()}

    def _same_coverage(self, counts: dict, h: int, mixed_q, total_q) -> bool:
        """`counts` (zone -> (mixed, all) visits of an old hour) is the model's coverage at h."""
        return all(
            tuple(counts.get(zid, (0, 0))) == (int(mixed_q[z, h]), int(total_q[z, h]))
            for z, zid in enumerate(self.zones)
        )

    def _resume(self, old: dict, rows: list[list[Any]], mins: np.ndarray) -> None:
        """The draw goes on after an old hour kept: its pairs, FIPA units and minimum holders
        (`rows`: the hour's own rows, its handover rows left out)."""
        self._pairs = dict(old["pairs"])
        self._fipa_prev = dict(old["fipa"])
        self._fipa_pol_prev = dict(old.get("fipa_police", {}))
        self._holders = self._holders_in(rows, mins)

    def _split(self, old: dict, H: int) -> tuple[list[list[Any]], list[list[Any]]]:
        """An old hour's rows: its own, and the handover rows of the teams that went off at H
        (their first `ho_q` visits, of crews on duty at H-1 in this plan). Any other row of a
        unit off duty is the hour's own, so that the hour is redrawn: a unit whose old shift the
        re-plan dropped kept its old visits as if handing over (5 h of an 8 h shift)."""
        duty, before = self._duty.get(H, set()), self._duty.get(H - 1, set())
        t0 = self.grid.utc(H)
        mine, ho = [], []
        for r in old["rows"]:
            handover = (
                r[7] == "patrol"
                and r[8] not in duty
                and r[8] in before
                and datetime.fromisoformat(r[0]).astimezone(UTC) - t0
                < timedelta(minutes=15 * self.ho_q)
            )
            (ho if handover else mine).append(r)
        return mine, ho

    def _route_or_keep(self, old: dict, hr: _Hour) -> tuple[list[list[Any]], float]:
        """Re-planning with routes (travel) or handovers: hour H keeps its old visits when the
        same units are on duty, the same FIPA run, every zone visited is open, the hour hangs
        together with the one before (that was kept too, or every unit on duty is new: then the
        outgoing teams' handover rows are this plan's), and the old visits are worth at least a
        fresh draw (with travel and a new risk table, `reuse_compare`: the draw is made and
        compared; without travel: the coverage is the optimal one). Otherwise the fresh draw is
        the hour."""
        H, h, police, soldiers, data, mixed_q, total_q, model = hr
        mine, ho_rows = self._split(old, H)
        units = [c for r in mine for c in f"{r[8]};{r[9]}".split(";") if c]
        open_h = data.open_at(h)
        here = set(police) | set(soldiers)
        fresh_units = not here & (
            set(self._on_duty("police", H - 1)) | set(self._on_duty("defence", H - 1))
        )
        ok = (
            set(units) == here
            and self._same_fipa(old, data, h)
            and all(open_h[self.zones.index(r[2])] for r in mine if r[7] == "patrol")
            and (self._kept_prev or fresh_units)
        )
        if ok and self.tq is None:  # the coverage of a handover-only plan is the model's
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for r in mine:  # the old hour's own visits, its handover rows left out
                if r[7] == "patrol":
                    counts[r[2]][1] += 1
                    counts[r[2]][0] += bool(r[9])
            ok = self._same_coverage(counts, h, mixed_q, total_q)
        if not ok:
            self._kept_prev = False
            return self._fresh_hour(hr)
        # the hand-over rows: the old ones after a kept hour, this plan's after a drawn one
        keep = mine + (ho_rows if self._kept_prev else self._handover_rows(H))
        kept_value = self._value(mine, H, h, model)
        if self.tq is not None and self.reuse_compare:
            state = self._snapshot()
            rows, value = self._fresh_hour(hr)
            # the old visits stay unless a fresh draw is clearly worth more (ties and rounding)
            if value > kept_value + 1e-3 * abs(value):
                self._kept_prev = False
                return rows, value
            self._restore(state)
        self._resume(old, mine, data.mins_at(h))
        self._succ = {}
        if self.tq is not None:
            self._locate(mine)
        self._kept_prev = True
        return keep, kept_value

    def _snapshot(self) -> tuple:
        """The draw's state (a fresh hour tried and then not taken leaves no trace)."""
        import copy

        return (
            copy.deepcopy(
                (self._pairs, self._fipa_prev, self._fipa_pol_prev, self._holders, self._succ)
            ),
            dict(self._loc),
            self.rng.bit_generator.state,
        )

    def _restore(self, state: tuple) -> None:
        (self._pairs, self._fipa_prev, self._fipa_pol_prev, self._holders, self._succ), loc, rs = (
            state
        )
        self._loc = loc
        self.rng.bit_generator.state = rs

    def _liaison(self, post_id: str, H: int) -> str:
        """Liaisons of a post take turns in rotation around the clock: 8-hour turns from 00:00 of
        the protocol's first day, or (`defence_liaison.rostered`) turns of a Defence shift length
        from the first Defence shift start, which the protocol validation has checked against
        Defence rest and weekly hours for the post's number of liaisons."""
        li = self.p.post(post_id).liaisons
        if not li:
            return ""
        if not self.p.liaison_rostered:
            return li[((H + self._rota0) // 8) % len(li)]
        # turns on the local clock, like the Defence shifts (a DST night's turn is 7 or 9 h)
        turn, offset = self._turn
        loc = self.grid.utc(H).astimezone(self.p.tz)
        day = (loc.date() - self.p.start).days - (loc.hour < offset)
        k = day * (24 // turn) + ((loc.hour - offset) % 24) // turn
        return li[k % len(li)]

    def _row(self, s, e, zid, pid, pol, sol, pu, su, H) -> list[Any]:
        post = self.zone_post[zid]
        return [
            s,
            e,
            zid,
            pid,
            pol,
            sol,
            post,
            "patrol",
            pu,
            su,
            self._liaison(post, H) if sol else "",
        ]

    # -- infeasibility
    def _explain(self, data: ChunkData, days: list[date], budget: float, status: str) -> None:
        from safecities.patrols.explain import explain

        if status != "INFEASIBLE":
            raise NoPlanInTime(
                f"no plan found for {days[0]} - {days[-1]} within the time limit ({status}); "
                "give more --time-limit"
            )
        sol = ChunkModel(data, assumptions=True).solve(
            time_limit=max(budget, 5.0), workers=self.workers, seed=self.seed
        )
        reasons = explain(self, data, days, sol.core)
        raise InfeasiblePlan("; ".join(r["message"] for r in reasons), reasons)


def write_plan(rows: list[list[Any]], path: str | Path) -> None:
    rows = sorted(rows, key=lambda r: (r[0], r[7], r[2], r[3]))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(safe_row(r) for r in rows)
