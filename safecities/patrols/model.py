# ruff: noqa: E501  (model rows are kept on one line each)
"""The CP-SAT model of one planning chunk (a week, or part of one). Data, model, solve, report.

Formulation (hour resolution for staffing and coverage; the 15-minute visits are drawn later):

Data (`ChunkData`): for each force, classes of interchangeable units (same carry-over state: end
of the last shift, hours already worked in the ISO week) and shift patterns (one shift template
worked on a subset of the chunk's days; valid for a class when rest and weekly hours hold); units
already on duty, carried in from the previous chunk; FIPA soldier-unit demand per hour; zone risk.

Variables: n[f,c,p] = units of class c of force f working pattern p; v[h], b[h] = value of hour h.

Rules, one function each (`add_*`), tagged so that an infeasibility can cite them: class sizes;
soldier cap (soldiers on duty <= cap, patrols and FIPA together, plus at shift changes the
outgoing patrols handing over a zone minimum, `handover_minutes`); handover (enough units whose
working time allows the handover end their shift at each change); FIPA demand (soldier units on
duty >= units the FIPA need); pairing (soldier units not at a FIPA <= police units on duty: every
soldier patrols with police); zone minima of mixed patrols; zone capacity.

Objective: sum over hours of V_h(P_h) + B_h(M_h), where P_h = teams (police units) on duty and
M_h = mixed teams. V_h is the best risk-weighted presence P teams can give in hour h with
diminishing returns per zone (the k-th patrol in a zone-hour is worth decay^(k-1)); V_h is concave
and written as cuts, so the LP bound is tight. B_h(M) = bonus * (mean risk of the approved zones in
hour h) * M: soldiers add presence in proportion to the hour's risk; `allocate` then places the patrols of each hour exactly, and the reported objective is
the value of that placement (never above the bound).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

SCALE_RISK = 1000  # risk is normalised to 0..1000
SCALE_W = 100


@dataclass
class Pattern:
    template: int
    days: tuple[int, ...]  # day offsets in the chunk
    shifts: list[tuple[int, int]]  # (start, end) hour offsets from the chunk start
    week_hours: float  # hours inside the chunk's ISO week
    # with a handover after every shift: its hours in the week, and whether rest still holds
    week_hours_ho: float = 0.0
    rest_ho: bool = True


@dataclass
class ChunkData:
    n_hours: int  # hours of the chunk proper
    n_ext: int  # hours modelled (chunk + spill of shifts that end after the chunk)
    q: int  # visits (quarters) per hour
    patterns: dict[str, list[Pattern]]  # force -> patterns
    classes: dict[str, list[int]]  # force -> class sizes
    compatible: dict[str, list[list[int]]]  # force -> class -> pattern indices allowed
    carry: dict[str, np.ndarray]  # force -> units on duty already (from earlier chunks), [n_ext]
    fipa_units: dict[str, np.ndarray]  # fipa id -> soldier units needed per hour, [n_ext]
    zones: list[str]
    approved: np.ndarray  # [Z] bool
    zone_min: np.ndarray  # [Z] mixed patrols at all times
    min_active: np.ndarray  # [n_hours] bool: hours where the zone minima apply
    risk: np.ndarray  # [Z, n_hours] float >= 0
    soldier_size: int
    cap: int
    max_patrols: int
    decay: float
    bonus: float
    hints: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    keep_bonus: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    zone_open: np.ndarray | None = None  # [Z, n_hours] bool; False: zone closed (re-planning)
    cap_hours: np.ndarray | None = None  # [n_ext] soldier cap per hour (a lowered cap)
    fipa_police: int = 0  # police units at each FIPA while it runs (its soldiers secure with them)
    handover: np.ndarray | None = None  # [n_ext] soldier units of outgoing handover patrols
    # force -> (class, pattern) whose units can work the handover after each shift (rest, weekly
    # hours), and force -> [n_ext] units carried in whose shift ends at that hour
    handover_ok: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    carry_end: dict[str, np.ndarray] = field(default_factory=dict)

    def fipa_police_at(self, h: int) -> int:
        """Police units held at FIPA in hour h (off patrol)."""
        return self.fipa_police * sum(int(need[h] > 0) for need in self.fipa_units.values())

    def open_at(self, h: int) -> np.ndarray:
        if self.zone_open is None or h >= self.zone_open.shape[1]:
            return np.ones(len(self.zones), dtype=bool)
        return self.zone_open[:, h]

    def mins_at(self, h: int) -> np.ndarray:
        """Zone minima in force at hour h (none where the zone is closed)."""
        if not self.min_active[h]:
            return np.zeros(len(self.zones), dtype=int)
        return self.zone_min * self.open_at(h)


@dataclass
class ChunkSolution:
    status: str
    objective: float  # model objective (scaled back to risk units)
    bound: float
    seconds: float
    n: dict[str, dict[tuple[int, int], int]]
    police: np.ndarray  # [n_hours] police units (teams) on duty
    mixed: np.ndarray  # [n_hours] mixed teams (soldier units on duty, not at a FIPA)
    core: list[str] = field(default_factory=list)  # assumption names when infeasible


class ChunkModel:
    def __init__(self, data: ChunkData, *, assumptions: bool = False) -> None:
        self.d = data
        self.m = cp_model.CpModel()
        self.lits: dict[str, cp_model.IntVar] = {}
        self.assumptions = assumptions
        self._build()

    # -- helpers
    def _lit(self, name: str):
        if not self.assumptions:
            return None
        if name not in self.lits:
            self.lits[name] = self.m.NewBoolVar(name)
        return self.lits[name]

    def _add(self, ct):
        """m.Add that also accepts a comparison of constants (True: nothing; False: infeasible)."""
        if isinstance(ct, bool | np.bool_):
            return None if ct else self.m.AddLinearConstraint(0, 1, 1)
        return self.m.Add(ct)

    def _enforce(self, ct, name: str) -> None:
        if ct is None:
            return
        lit = self._lit(name)
        if lit is not None:
            ct.OnlyEnforceIf(lit)

    def _scale(self) -> None:
        d = self.d
        rmax = float(d.risk.max()) if d.risk.size and d.risk.max() > 0 else 1.0
        self.r = np.rint(d.risk / rmax * SCALE_RISK).astype(np.int64)
        self.w = [int(round(SCALE_W * d.decay**k)) for k in range(d.max_patrols)]
        self.b = int(round(SCALE_W * d.bonus))
        self.scale = rmax / (SCALE_RISK * SCALE_W)
        appr = self.r[d.approved] if d.approved.any() else np.zeros((1, d.n_hours), dtype=np.int64)
        self.rho = np.rint(appr.mean(axis=0) * self.b).astype(np.int64)  # bonus per mixed team-hour

    # -- rules
    def add_staffing(self) -> None:
        """Pattern counts per class, and the on-duty unit counts per hour they imply."""
        d, m = self.d, self.m
        self.n: dict[str, dict[tuple[int, int], cp_model.IntVar]] = {}
        self.on: dict[str, list] = {}
        for force, pats in d.patterns.items():
            vars_ = {}
            per_hour: list[list] = [[] for _ in range(d.n_ext)]
            for c, size in enumerate(d.classes[force]):
                if size == 0:
                    continue
                mine = []
                for p in d.compatible[force][c]:
                    v = m.NewIntVar(0, size, f"n[{force},{c},{p}]")
                    vars_[(c, p)] = v
                    mine.append(v)
                    for s, e in pats[p].shifts:
                        for h in range(max(s, 0), min(e, d.n_ext)):
                            per_hour[h].append(v)
                if mine:
                    m.Add(sum(mine) <= size)
            self.n[force] = vars_
            self.on[force] = [
                sum(vs) + int(d.carry[force][h]) if vs else int(d.carry[force][h])
                for h, vs in enumerate(per_hour)
            ]

    def add_soldier_cap(self) -> None:
        d = self.d
        for h in range(d.n_ext):
            cap = d.cap if d.cap_hours is None else min(d.cap, int(d.cap_hours[h]))
            # outgoing patrols still handing over at a shift change are deployed too
            ho = 0 if d.handover is None else int(d.handover[h])
            self._enforce(self._add(self.on["defence"][h] + ho <= cap // d.soldier_size), "cap")

    def add_handover(self) -> None:
        """At each hour where shifts end and handovers are due, enough units of each force whose
        working time allows the handover (`handover_ok`; units carried in are counted so) end
        their shift then to hold every zone minimum up to it: the draw makes them the holders."""
        d = self.d
        if d.handover is None or not d.handover.any():
            return
        for force, vars_ in self.n.items():
            by_end: dict[int, list] = {}
            for key, v in vars_.items():
                if key in d.handover_ok.get(force, ()):
                    for _s, e in d.patterns[force][key[1]].shifts:
                        by_end.setdefault(e, []).append(v)
            carried = d.carry_end.get(force)
            for h in np.flatnonzero(d.handover):
                have = int(carried[h]) if carried is not None else 0
                self._add(sum(by_end.get(int(h), [])) + have >= int(d.handover[h]))

    def _fipa_expr(self, h: int, per: int | None = None):
        """Soldier units held at FIPA in hour h, or (`per`) that many police units per FIPA."""
        terms = []
        for fid, need in self.d.fipa_units.items():
            if need[h] > 0:
                k = int(need[h]) if per is None else per
                lit = self._lit(f"fipa:{fid}")
                terms.append(k * lit if lit is not None else k)
        return sum(terms) if terms else 0

    def add_fipa_and_pairing(self) -> None:
        """Soldier units at FIPA come first; every other soldier unit on duty patrols with police."""
        d = self.d
        self.fipa = [self._fipa_expr(h) for h in range(d.n_ext)]
        # police units at FIPA: the perimeter's soldiers secure with them, they do not patrol
        self.fipa_pol = [
            self._fipa_expr(h, d.fipa_police) if d.fipa_police else 0 for h in range(d.n_ext)
        ]
        for h in range(d.n_ext):
            if h < d.n_hours:
                self._add(self.on["defence"][h] >= self.fipa[h])
            self._add(
                self.on["defence"][h] - self.fipa[h] + self.fipa_pol[h] <= self.on["police"][h]
            )

    def add_coverage_value(self) -> None:
        """Zone minima, zone capacity, and each hour's value as cuts of its concave curve."""
        d, m = self.d, self.m
        K = d.max_patrols
        self.values, self.bonus_vars, self.curves = [], [], []
        for h in range(d.n_hours):
            P = self.on["police"][h] - self.fipa_pol[h]
            M = self.on["defence"][h] - self.fipa[h]
            open_h = d.open_at(h)
            room_all, room_mixed = int(open_h.sum()) * K, int((d.approved & open_h).sum()) * K
            self._add(room_all >= P)  # zone capacity (open zones only)
            self._add(room_mixed >= M)
            mins = d.mins_at(h)
            if mins.any() and self.assumptions:
                m.Add(
                    sum(
                        int(mins[z]) * self._lit(f"zone_min:{d.zones[z]}")
                        for z in np.flatnonzero(mins)
                    )
                    <= M
                )
            elif mins.any():
                self._add(int(mins.sum()) <= M)
            v_curve = presence_curve(self.r[:, h], self.w, mins, open_h, K)
            self.curves.append(v_curve)
            v = m.NewIntVar(0, int(v_curve[-1][0]), f"v[{h}]")
            for j, (val, slope) in enumerate(v_curve):
                if j + 1 < len(v_curve) and j > 0 and slope == v_curve[j - 1][1]:
                    continue  # same line as the previous breakpoint
                m.Add(v <= int(val) + int(slope) * (P - j))
            # soldiers add presence in proportion to the hour's risk in the approved areas
            self.bonus_vars.append(int(self.rho[h]) * M if self.b else 0)
            self.values.append(v)

    def set_objective(self) -> None:
        d = self.d
        terms = list(self.values) + list(self.bonus_vars)
        self.keep_terms = []
        for force, keep in d.keep_bonus.items():  # re-planning: keep what stays feasible
            for key, bonus in keep.items():
                if key in self.n[force]:
                    self.keep_terms.append(bonus * self.n[force][key])
        self.m.Maximize(sum(terms) + sum(self.keep_terms))

    def _build(self) -> None:
        self._scale()
        self.add_staffing()
        self.add_soldier_cap()
        self.add_handover()
        self.add_fipa_and_pairing()
        self.add_coverage_value()
        self.set_objective()
        if any(self.d.hints.values()):
            self._add_full_hint()

    def _add_full_hint(self) -> None:
        """A complete hint (every n, and the hour values they imply): CP-SAT starts from it."""
        d = self.d
        given = {f: {k: v for k, v in h.items() if k in self.n[f]} for f, h in d.hints.items()}
        for f, vs in self.n.items():
            for key, var in vs.items():
                self.m.AddHint(var, int(given.get(f, {}).get(key, 0)))
        police, _mixed = self._on_duty_from(given)
        for h, v in enumerate(self.values):
            curve = self.curves[h]
            P = int(police[h])
            best = min(int(val) + int(slope) * (P - j) for j, (val, slope) in enumerate(curve))
            self.m.AddHint(v, max(0, min(best, int(curve[-1][0]))))

    def _on_duty_from(
        self, n: dict[str, dict[tuple[int, int], int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        d = self.d
        on = {f: d.carry[f][: d.n_hours].astype(int).copy() for f in d.patterns}
        for f, counts in n.items():
            for (_c, p), k in counts.items():
                for s, e in d.patterns[f][p].shifts:
                    on[f][max(s, 0) : min(e, d.n_hours)] += k
        fipa = np.zeros(d.n_hours, dtype=int)
        for need in d.fipa_units.values():
            fipa += need[: d.n_hours].astype(int)
        pol = np.array([d.fipa_police_at(h) for h in range(d.n_hours)], dtype=int)
        return on["police"] - pol, on["defence"] - fipa

    def solve_highs(
        self, *, time_limit: float, workers: int = 1, gap: float = 0.002, seed: int = 0
    ) -> ChunkSolution:
        """Solve the same model (all linear) with the HiGHS MIP solver: faster on this LP-tight model."""
        import highspy

        proto = self.m.Proto()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("time_limit", float(max(0.1, time_limit)))
        h.setOptionValue("threads", 1)  # HiGHS fixes its thread pool once per process
        h.setOptionValue("random_seed", int(seed))
        nv = len(proto.variables)
        doms = [list(v.domain) for v in proto.variables]
        h.addVars(nv, np.array([x[0] for x in doms], float), np.array([x[-1] for x in doms], float))
        obj = np.zeros(nv)
        for var, c in zip(list(proto.objective.vars), list(proto.objective.coeffs), strict=True):
            if var >= 0:
                obj[var] += c
            else:
                obj[-var - 1] -= c
        cols = np.arange(nv, dtype=np.int32)
        h.changeColsCost(nv, cols, obj)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.changeColsIntegrality(nv, cols, np.full(nv, highspy.HighsVarType.kInteger))
        starts, idx, vals, lo, hi = [], [], [], [], []
        for c in proto.constraints:
            if not c.has_linear():
                raise RuntimeError("HiGHS backend: the model holds a non-linear constraint")
            dom = list(c.linear.domain)
            starts.append(len(idx))
            idx.extend(list(c.linear.vars))
            vals.extend(list(c.linear.coeffs))
            lo.append(dom[0] if dom[0] > -(2**62) else -highspy.kHighsInf)
            hi.append(dom[-1] if dom[-1] < 2**62 else highspy.kHighsInf)
        h.addRows(
            len(lo),
            np.array(lo, float),
            np.array(hi, float),
            len(idx),
            np.array(starts, np.int32),
            np.array(idx, np.int32),
            np.array(vals, float),
        )
        hint = {}
        for f, hs in self.d.hints.items():
            for key, val in hs.items():
                if key in self.n[f]:
                    hint[self.n[f][key].Index()] = val
        if hint:
            sol0 = highspy.HighsSolution()
            sol0.col_value = [float(hint.get(i, 0)) for i in range(nv)]
            sol0.value_valid = True
            h.setSolution(sol0)
        t0 = time.perf_counter()
        h.run()
        secs = time.perf_counter() - t0
        st = h.getModelStatus()
        info = h.getInfo()
        empty = np.zeros(0, dtype=int)
        if st == highspy.HighsModelStatus.kInfeasible:
            return ChunkSolution("INFEASIBLE", 0.0, 0.0, secs, {}, empty, empty)
        if info.primal_solution_status != 2:  # no feasible solution yet
            return ChunkSolution("UNKNOWN", 0.0, 0.0, secs, {}, empty, empty)
        x = np.rint(np.array(h.getSolution().col_value)).astype(np.int64)
        n = {
            f: {k: int(x[v.Index()]) for k, v in vs.items() if x[v.Index()]}
            for f, vs in self.n.items()
        }
        police, mixed = self._on_duty_from(n)
        sf, off = (proto.objective.scaling_factor or 1.0), proto.objective.offset
        keep = sum(
            bonus * n.get(f, {}).get(key, 0)
            for f, kb in self.d.keep_bonus.items()
            for key, bonus in kb.items()
        )
        obj_v = (sf * (info.objective_function_value + off) - keep) * self.scale
        bound = (sf * (info.mip_dual_bound + off) - keep) * self.scale
        name = "OPTIMAL" if st == highspy.HighsModelStatus.kOptimal else "FEASIBLE"
        return ChunkSolution(name, obj_v, bound, secs, n, police, mixed)

    def solve(
        self,
        *,
        time_limit: float,
        workers: int = 2,
        gap: float = 0.002,
        seed: int = 0,
        backend: str = "cpsat",
        subsolvers: list[str] | None = None,
    ) -> ChunkSolution:
        """`subsolvers`: CP-SAT's workers by name ([] for its default portfolio); by default
        `max_lp` and `default_lp` when there are 2 workers."""
        if backend == "highs" and not self.assumptions:
            return self.solve_highs(time_limit=time_limit, workers=workers, gap=gap, seed=seed)
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = max(0.1, time_limit)
        p.num_workers = workers
        p.relative_gap_limit = gap
        p.random_seed = seed
        if subsolvers is None and workers == 2 and not self.assumptions:
            # CP-SAT's two-worker portfolio has no `max_lp` worker, whose stronger LP proves the
            # bound of these LP-tight models: a Brussels week with travel and handovers stayed at
            # a 1.5 % gap for 55 s without it and is proven in about 2 s with it (paired figures
            # over 54 weekly chunks of two instances: docs/patrols.md, "Benchmark")
            subsolvers = ["max_lp", "default_lp"]
        p.subsolvers.extend(subsolvers or [])
        if self.assumptions:
            self.m.AddAssumptions(list(self.lits.values()))
        t0 = time.perf_counter()
        st = solver.Solve(self.m)
        secs = time.perf_counter() - t0
        name = solver.StatusName(st)
        d = self.d
        empty = np.zeros(0, dtype=int)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            core: list[str] = []
            if self.assumptions and st == cp_model.INFEASIBLE:
                idx = {v.Index(): k for k, v in self.lits.items()}
                core = [idx[i] for i in solver.SufficientAssumptionsForInfeasibility() if i in idx]
            return ChunkSolution(name, 0.0, 0.0, secs, {}, empty, empty, core)

        def val(x) -> int:
            return int(x) if isinstance(x, int | np.integer) else int(solver.Value(x))

        n = {
            f: {k: int(solver.Value(v)) for k, v in vs.items() if solver.Value(v)}
            for f, vs in self.n.items()
        }
        H = d.n_hours
        police = np.array(
            [val(self.on["police"][h]) - val(self.fipa_pol[h]) for h in range(H)], dtype=int
        )
        mixed = np.array(
            [val(self.on["defence"][h]) - val(self.fipa[h]) for h in range(H)], dtype=int
        )
        keep = sum(solver.Value(t) for t in self.keep_terms) if self.keep_terms else 0
        obj = (solver.ObjectiveValue() - keep) * self.scale
        bound = (solver.BestObjectiveBound() - keep) * self.scale
        return ChunkSolution(name, obj, bound, secs, n, police, mixed)


def place_patrols(model: ChunkModel, sol: ChunkSolution) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact placement of each hour's teams over zones: (mixed[Z,H], total[Z,H], value)."""
    d = model.d
    Z, H = len(d.zones), d.n_hours
    mixed = np.zeros((Z, H), dtype=int)
    total = np.zeros((Z, H), dtype=int)
    value = 0.0
    for h in range(H):
        mz, tz, v = allocate(
            model.r[:, h],
            model.w,
            d.mins_at(h),
            d.approved & d.open_at(h),
            d.max_patrols,
            d.q,
            int(sol.police[h]),
            int(sol.mixed[h]),
            d.open_at(h),
        )
        mixed[:, h], total[:, h] = mz, tz
        value += v + int(model.rho[h]) * int(sol.mixed[h])
    return mixed, total, value * model.scale


def presence_curve(
    r: np.ndarray, w: list[int], mins: np.ndarray, allowed: np.ndarray, K: int
) -> list[tuple[int, int]]:
    """[(V(j), V(j+1) - V(j))] for j = 0..teams: the greedy value of j teams, zone minima first.

    Each allowed zone offers K team-slots worth r_z * w_k (the factor of 4 quarters is common and
    left out); a zone's minimum takes its first slots. Below the minima total the curve is the
    straight line to the forced value, which keeps the cut family concave (the minima constraint
    itself forbids those points).
    """
    forced_val, n_forced = 0, 0
    rest: list[int] = []
    for z in np.flatnonzero(allowed):
        k0 = int(min(mins[z], K))
        forced_val += int(sum(int(r[z]) * w[k] for k in range(k0)))
        n_forced += k0
        rest.extend(int(r[z]) * w[k] for k in range(k0, K))
    rest.sort(reverse=True)
    vals = [forced_val * j // n_forced for j in range(n_forced)] + [forced_val]
    for g in rest:
        vals.append(vals[-1] + g)
    return [
        (vals[j], (vals[j + 1] - vals[j]) if j + 1 < len(vals) else 0) for j in range(len(vals))
    ]


def allocate(
    r: np.ndarray,
    w: list[float],
    mins: np.ndarray,
    approved: np.ndarray,
    K: int,
    q: int,
    P: int,
    M: int,
    open_: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Patrol-quarters per zone for one hour: (mixed, total, value).

    Mixed quarters go to approved zones (minima first) by marginal value r*w_k; police-only
    quarters then fill by r*w_k over all zones (the same greedy as V_h when the approved zones
    hold enough of the best slots, which is when the bound is tight). Each zone holds at most K patrols
    (K*q quarters). Greedy on concave marginals.
    """
    Z = len(r)
    mixed = np.zeros(Z, dtype=int)
    total = np.zeros(Z, dtype=int)
    for z in range(Z):
        mixed[z] = total[z] = q * int(mins[z])

    def fill(n: int, ok: np.ndarray, extra: float, is_mixed: bool) -> None:
        heap = [
            (-(r[z] * (w[total[z] // q] + extra)), int(z))
            for z in np.flatnonzero(ok)
            if total[z] < K * q
        ]
        heapq.heapify(heap)
        while n > 0:
            if not heap:
                raise RuntimeError("zone capacity exhausted: raise planning.max_patrols_per_zone")
            _, z = heapq.heappop(heap)
            take = min(n, q * (total[z] // q + 1) - total[z])
            total[z] += take
            if is_mixed:
                mixed[z] += take
            n -= take
            if total[z] < K * q:
                heapq.heappush(heap, (-(r[z] * (w[total[z] // q] + extra)), z))

    fill(q * M - int(mixed.sum()), approved, 0.0, True)
    fill(q * (P - M), np.ones(Z, dtype=bool) if open_ is None else open_, 0.0, False)
    value = 0.0
    for z in range(Z):
        full, part = divmod(int(total[z]), q)
        value += r[z] * (sum(w[:full]) + (w[full] * part / q if full < K else 0))
    return mixed, total, value
