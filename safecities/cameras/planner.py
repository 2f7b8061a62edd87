r"""The camera budget planner: budgeted maximal covering, solved exactly with HiGHS.

Formulation (the MCLP of Church and ReVelle with a budget instead of a facility count)::

    maximise    sum_i w_i y_i                       (covered demand weight)
    subject to  y_i <= sum_{j in N_i} x_j           for every demand point i
                sum_j c_j x_j <= B                  (budget, euros)
                x_j in {0, 1},  0 <= y_i <= 1

where N_i are the candidate sites that cover point i (within the radius, or the sector when a
site has a direction), c_j the cost of site j (installation for a new camera, connection for an
existing municipal camera that is not yet connected to the national register) and w_i the
demand weight. Cameras already in the national register are fixed: the points they cover count
as covered and leave the model. Before solving, points covered by the same set of sites are
merged (their weights added), and points that only one site covers move into that site's
objective coefficient, which shrinks the model several-fold without changing its optimum.
HiGHS starts from the best layout a greedy + swap search finds, and on national-scale models
from the best layout found in at most 30 s of the MIP restricted to the sites the LP relaxation
uses (`_support_start`): at 5,000 sites x 50,000 points that early incumbent is what lets HiGHS
prove optimality within 300 s (docs/cameras.md, Benchmark).

Side constraints (`SideRow`, each `sum_j a_j x_j <= cap`) model a programme's limits: a
municipality's budget share (a_j = c_j on its sites) and a control room's capacity (a_j = 1 on
its sites, cap = cameras its posts can watch minus the connected ones it watches already). With
side constraints the dominance reduction is off (a dominating site may sit under another cap).

Like spopt's `MCLP`, the model is built first (`BudgetedMaxCover.from_coverage`) and solved with
a solver passed in (`solve(HighsSolver(...))`); the result is left on the object.
Near-optimal alternatives are found with no-good cuts: each new layout must drop at least
`min_difference` sites of every earlier layout and keep at least `share` of the optimum.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from safecities.errors import SafecitiesError

_EPS = 1e-9


def new_highs():
    """A silent highspy.Highs (HiGHS prints a banner on stdout at first use: keep --json clean)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return h


@dataclass(frozen=True)
class HighsSolver:
    """HiGHS through highspy. `mip_rel_gap=0` proves optimality (the default)."""

    time_limit: float = 300.0
    mip_rel_gap: float = 0.0
    threads: int = 1
    name: str = "highs"

    def version(self) -> str:
        h = new_highs()
        return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


@dataclass(frozen=True)
class SideRow:
    """One extra constraint `sum_j coef_j x_j <= cap` over the candidate sites. `scales`:
    the cap is a share of the budget (a curve point at budget b gets cap * b / budget)."""

    name: str
    coef: np.ndarray  # per candidate site, >= 0
    cap: float
    scales: bool = False


@dataclass
class SolveResult:
    status: str
    optimal: bool
    objective: float  # total covered weight (existing coverage included)
    bound: float  # proven upper bound on the total covered weight
    gap: float  # (bound - objective) / max(|objective|, 1e-9)
    seconds: float
    chosen: np.ndarray  # indices (into the candidate list) of chosen sites
    cost: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "optimal": self.optimal,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "cost": self.cost,
            "n_chosen": int(len(self.chosen)),
        }


@dataclass
class _Model:
    """The reduced model handed to HiGHS."""

    site_idx: np.ndarray  # candidate index of each model column x_j
    site_obj: np.ndarray  # objective coefficient of x_j (weight only j covers)
    costs: np.ndarray
    group_w: np.ndarray  # weight of each merged demand group with >= 2 covering sites
    group_matrix: sp.csr_matrix  # groups x model sites
    constant: float  # weight covered by fixed (existing) cameras
    presolve: dict[str, int] = field(default_factory=dict)  # what each reduction removed


def _merge_rows(m: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge rows with the same set of columns (adding weights); drop empty rows."""
    m = sp.csr_matrix(m, dtype=bool)
    m.sort_indices()
    nonempty = np.flatnonzero(np.diff(m.indptr) > 0)
    m, w = m[nonempty].tocsr(), np.asarray(w, float)[nonempty]
    m.sort_indices()
    groups: dict[bytes, int] = {}
    gid = np.empty(m.shape[0], np.int64)
    ind, ptr = m.indices, m.indptr
    for r in range(m.shape[0]):
        gid[r] = groups.setdefault(ind[ptr[r] : ptr[r + 1]].tobytes(), len(groups))
    gw = np.bincount(gid, weights=w, minlength=len(groups))
    first = np.zeros(len(groups), np.int64)
    first[gid[::-1]] = np.arange(m.shape[0])[::-1]
    return m[first].tocsr(), gw


def _dominated(gm: sp.csr_matrix, costs: np.ndarray) -> np.ndarray:
    """Columns whose row set is inside another column's that is at least as good."""
    n = gm.shape[1]
    a = sp.csc_matrix(gm, dtype=np.int32)
    deg = np.diff(a.indptr)
    o = (a.T @ a).tocoo()
    j, k, v = o.row, o.col, o.data
    better = (costs[k] < costs[j]) | (
        (costs[k] == costs[j]) & ((deg[k] > deg[j]) | ((deg[k] == deg[j]) & (k < j)))
    )
    mask = (j != k) & (v == deg[j]) & better
    out = np.zeros(n, bool)
    out[j[mask]] = True
    out |= deg == 0
    return out


def components(gm: sp.csr_matrix) -> np.ndarray:
    """Independent coverage components of a reduced model: sites linked by a shared demand group
    (label per site). Only the budget ties components together."""
    from scipy.sparse.csgraph import connected_components

    g, n = gm.shape
    adj = sp.bmat([[None, gm], [gm.T, None]]).tocsr()
    return connected_components(adj, directed=False)[1][g:]


#: Models with at least this many sites get the support sub-MIP warm start (`_support_start`);
#: below it HiGHS alone is quick and the start would only cost time.
SUPPORT_START_MIN_SITES = 1000


@dataclass
class BudgetedMaxCover:
    """Budgeted maximal covering location problem (see module docstring for the formulation)."""

    coverage: sp.csr_matrix  # n_demand x n_sites, bool
    weights: np.ndarray
    costs: np.ndarray
    budget: float
    fixed: np.ndarray  # bool per site: already in the register, covers for free
    model: _Model | None = None
    result: SolveResult | None = None
    alternatives: list[SolveResult] = field(default_factory=list)
    build_seconds: float = 0.0
    _highs: Any = None
    _csc_cache: Any = None
    drop_dominated: bool = True
    _n_base_rows: int = 0
    side: list[SideRow] = field(default_factory=list)
    curve_results: list[SolveResult] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict)  # the warm start: method, objective, s

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_coverage(
        cls,
        coverage: sp.spmatrix,
        weights: np.ndarray,
        costs: np.ndarray,
        budget: float,
        fixed: np.ndarray | None = None,
        *,
        drop_dominated: bool = True,
        side: list[SideRow] | None = None,
    ) -> BudgetedMaxCover:
        """Build (and reduce) the model. `drop_dominated=False` keeps every site, so that
        alternatives may use a site whose coverage another site contains."""
        t0 = time.perf_counter()
        a = sp.csr_matrix(coverage, dtype=bool)
        w = np.asarray(weights, float)
        c = np.asarray(costs, float)
        n_dem, n_sites = a.shape
        if len(w) != n_dem or len(c) != n_sites:
            raise SafecitiesError("coverage, weights and costs do not have matching sizes")
        if budget < 0 or not np.isfinite(budget):
            raise SafecitiesError(f"budget must be a non-negative number, got {budget}")
        fx = np.zeros(n_sites, bool) if fixed is None else np.asarray(fixed, bool)
        self = cls(a, w, c, float(budget), fx)
        self.side = list(side or [])
        for r in self.side:
            if len(r.coef) != n_sites or np.any(np.asarray(r.coef) < 0) or r.cap < 0:
                raise SafecitiesError(f"side constraint {r.name}: bad coefficients or cap")
        self.drop_dominated = drop_dominated and not self.side
        self.model = self._reduce()
        self.build_seconds = time.perf_counter() - t0
        return self

    def _reduce(self) -> _Model:
        a, w, c, fx = self.coverage, self.weights, self.costs, self.fixed
        covered_fixed = np.asarray(a[:, np.flatnonzero(fx)].sum(axis=1)).ravel() > 0
        constant = float(w[covered_fixed].sum())
        usable = (~fx) & (c <= self.budget + _EPS)
        site_idx = np.flatnonzero(usable)
        stats = {"sites_existing": int(fx.sum()),
                 "sites_unaffordable": int(((~fx) & ~usable).sum()),
                 "points_covered_existing": int(covered_fixed.sum())}  # fmt: skip
        sub = a[:, site_idx].tocsr()
        live = (~covered_fixed) & (np.diff(sub.indptr) > 0) & (w > 0)
        sub = sub[np.flatnonzero(live)].tocsr()
        sub.sort_indices()
        wl = w[live]
        stats["points_uncoverable"] = int(((~covered_fixed) & (w > 0)).sum() - len(wl))
        gm, gw = _merge_rows(sub, wl)
        stats["points_merged"] = int(len(wl) - len(gw))
        cols = np.arange(len(site_idx))
        # Dominance: a site whose coverage is inside a cheaper (or equally cheap and larger, or
        # equal and earlier) site's coverage is never needed for an optimum; drop it, re-merge.
        for _ in range(4 if self.drop_dominated else 0):
            dom = _dominated(gm, c[site_idx[cols]])
            if not dom.any():
                break
            cols = cols[~dom]
            gm, gw = _merge_rows(gm[:, np.flatnonzero(~dom)].tocsr(), gw)
        deg = np.diff(gm.indptr)
        single = deg == 1
        site_obj = np.bincount(
            gm.indices[gm.indptr[:-1][single]], weights=gw[single], minlength=len(cols)
        )
        multi = np.flatnonzero(~single)
        gm = gm[multi].tocsr()
        gw = gw[multi]
        # Drop sites that cover nothing in the reduced model.
        useful = (site_obj > 0) | (np.bincount(gm.indices, minlength=len(cols)) > 0)
        keep = np.flatnonzero(useful)
        gm = gm[:, keep].tocsr()
        idx = site_idx[cols[keep]]
        stats |= {"sites_dominated": int(len(site_idx) - len(cols)),
                  "sites_covering_nothing": int(len(cols) - len(keep)),
                  "groups_single_site": int(single.sum())}  # fmt: skip
        return _Model(idx, site_obj[keep], c[idx], gw, gm, constant, stats)

    # -- solving ------------------------------------------------------------------------------
    def _build_highs(self, solver: HighsSolver):
        import highspy

        m = self.model
        n_x, n_g = len(m.site_idx), len(m.group_w)
        h = new_highs()
        h.setOptionValue("time_limit", float(solver.time_limit))
        h.setOptionValue("mip_rel_gap", float(solver.mip_rel_gap))
        # With whole-number weights every objective is a whole number, so a proven gap below 1
        # already proves optimality (exact, not a tolerance).
        integral = np.all(m.site_obj == np.round(m.site_obj)) and np.all(
            m.group_w == np.round(m.group_w)
        )
        h.setOptionValue(
            "mip_abs_gap", 1.0 - 1e-6 if integral and solver.mip_rel_gap == 0 else 1e-7
        )
        h.setOptionValue("threads", int(solver.threads))
        h.setOptionValue("random_seed", 0)
        lp = highspy.HighsLp()
        lp.num_col_ = n_x + n_g
        lp.col_cost_ = np.concatenate([m.site_obj, m.group_w])
        lp.col_lower_ = np.zeros(n_x + n_g)
        lp.col_upper_ = np.ones(n_x + n_g)
        # Rows: y_g - sum_{j in g} x_j <= 0 for each group; then the budget row.
        gm = m.group_matrix.tocoo()
        rows = np.concatenate([gm.row, np.arange(n_g), np.full(n_x, n_g)])
        cols = np.concatenate([gm.col, n_x + np.arange(n_g), np.arange(n_x)])
        # The budget row is scaled by the dearest site (costs in euros reach 1e4-1e5 against
        # 0/1 coefficients elsewhere: HiGHS warned of bad scaling); the row means the same.
        scale = float(m.costs.max()) if n_x and m.costs.max() > 0 else 1.0
        vals = np.concatenate([-np.ones(gm.nnz), np.ones(n_g), m.costs / scale])
        s_rows, s_cols, s_vals, s_caps = [], [], [], []
        for k, r in enumerate(self.side):
            coef = np.asarray(r.coef, float)[m.site_idx]
            nz = np.flatnonzero(coef)
            s_rows.append(np.full(len(nz), n_g + 1 + k))
            s_cols.append(nz)
            s_vals.append(coef[nz])
            s_caps.append(r.cap)
        if self.side:
            rows = np.concatenate([rows, *s_rows])
            cols = np.concatenate([cols, *s_cols])
            vals = np.concatenate([vals, *s_vals])
        n_rows = n_g + 1 + len(self.side)
        amat = sp.csc_matrix((vals, (rows, cols)), shape=(n_rows, n_x + n_g))
        lp.num_row_ = n_rows
        lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
        lp.row_upper_ = np.concatenate([np.zeros(n_g), [self.budget / scale], s_caps])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = amat.indptr.astype(np.int32)
        lp.a_matrix_.index_ = amat.indices.astype(np.int32)
        lp.a_matrix_.value_ = amat.data
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [
            highspy.HighsVarType.kContinuous
        ] * n_g
        h.passModel(lp)
        t0 = time.perf_counter()
        x0 = self.greedy()
        self.start = {"method": "greedy+swap", "objective": self._model_value(x0) + m.constant}
        if n_x >= SUPPORT_START_MIN_SITES:
            x0 = self._support_start(lp, x0, solver)
        self.start["seconds"] = round(time.perf_counter() - t0, 4)
        h.setOptionValue("time_limit", max(1.0, float(solver.time_limit) - self.start["seconds"]))
        if x0.any():
            sol = highspy.HighsSolution()
            y0 = np.minimum(1.0, m.group_matrix.astype(float) @ x0.astype(float))
            sol.col_value = np.concatenate([x0.astype(float), y0]).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        self._highs = h
        self._n_base_rows = n_rows
        return h

    def _model_value(self, x: np.ndarray) -> float:
        m = self.model
        xf = np.asarray(x, float)
        return float(m.site_obj @ xf + m.group_w @ np.minimum(1.0, m.group_matrix @ xf))

    def _support_start(self, lp, x0: np.ndarray, solver: HighsSolver) -> np.ndarray:
        """A strong first layout for HiGHS: its LP relaxation, then the MIP restricted to the sites
        the LP uses plus the greedy layout (a few hundred of the thousands of sites), solved under
        a short limit. Why: at national scale HiGHS's own heuristics found a layout this good only
        after minutes (README instance: greedy+swap 73,926, HiGHS 74,514 at 50 s, this start
        74,588-74,593 in ~30 s, optimum 74,600), and an early good incumbent lets its reduced-cost
        fixing and restarts shrink the model sooner: the instance is then proven in ~290 s, not
        in 300 s without it. The restricted MIP is a heuristic: it changes no bound."""
        import highspy

        m = self.model
        n_x = len(m.site_idx)
        budget = min(30.0, 0.15 * float(solver.time_limit))
        t0 = time.perf_counter()
        integrality, upper = lp.integrality_, np.asarray(lp.col_upper_, float)
        try:
            lp.integrality_ = []
            relax = new_highs()
            relax.setOptionValue("time_limit", budget)
            relax.setOptionValue("threads", int(solver.threads))
            relax.passModel(lp)
            relax.run()
            if relax.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return x0
            x_lp = np.asarray(relax.getSolution().col_value)[:n_x]
            keep = (x_lp > 1e-6) | x0
            lp.integrality_ = integrality
            ub = upper.copy()
            ub[:n_x][~keep] = 0.0
            lp.col_upper_ = ub
            sub = new_highs()
            for k, v in (("time_limit", max(1.0, budget - (time.perf_counter() - t0))),
                         ("mip_rel_gap", 0.0), ("mip_abs_gap", 1.0 - 1e-6),
                         ("threads", int(solver.threads)), ("random_seed", 0)):  # fmt: skip
                sub.setOptionValue(k, v)
            sub.passModel(lp)
            sol = sub.getSolution()
            y0 = np.minimum(1.0, m.group_matrix @ x0.astype(float))
            sol.col_value = np.concatenate([x0.astype(float), y0]).tolist()
            sol.value_valid = True
            sub.setSolution(sol)
            sub.run()
            got = np.asarray(sub.getSolution().col_value)
            if got.size < n_x:
                return x0
            # No swap polish here: it added 3 (74,591) but HiGHS's search from that start did
            # not reach the optimum within 300 s twice, where from 74,588 it proved it twice.
            x1 = got[:n_x] > 0.5
        finally:
            lp.integrality_, lp.col_upper_ = integrality, upper
        v0, v1 = self._model_value(x0), self._model_value(x1)
        if v1 > v0 and float(m.costs[x1].sum()) <= self.budget + _EPS:
            self.start = {"method": "support sub-MIP", "objective": v1 + m.constant}
            return x1
        return x0

    def _side_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(side coefficients on the model's columns, caps): dense, a few rows at most."""
        m = self.model
        if not self.side:
            return np.zeros((0, len(m.site_idx))), np.zeros(0)
        mat = np.vstack([np.asarray(r.coef, float)[m.site_idx] for r in self.side])
        return mat, np.array([r.cap for r in self.side], float)

    def greedy(self) -> np.ndarray:
        """Budgeted greedy (best gain per euro) on the reduced model: a warm start for HiGHS."""
        m = self.model
        n = len(m.site_idx)
        x = np.zeros(n, bool)
        if n == 0:
            return x
        gmt = m.group_matrix.T.tocsr().astype(float)  # sites x groups
        gm = m.group_matrix.tocsr()
        uncovered_w = m.group_w.copy()
        gain = m.site_obj + gmt @ uncovered_w
        left = self.budget
        cost = np.maximum(m.costs, 1e-9)
        smat, s_left = self._side_matrix()
        while True:
            ok = (~x) & (m.costs <= left + _EPS) & (gain > _EPS)
            if len(s_left):
                ok &= (smat <= s_left[:, None] + _EPS).all(axis=0)
            if not ok.any():
                break
            j = int(np.flatnonzero(ok)[np.argmax((gain / cost)[ok])])
            x[j] = True
            left -= m.costs[j]
            if len(s_left):
                s_left -= smat[:, j]
            rows = gmt.indices[gmt.indptr[j] : gmt.indptr[j + 1]]
            rows = rows[uncovered_w[rows] > 0]
            if len(rows):
                sub = gm[rows]
                gain -= np.bincount(sub.indices, weights=np.repeat(uncovered_w[rows],
                                    np.diff(sub.indptr)), minlength=n)  # fmt: skip
                uncovered_w[rows] = 0.0
            gain[j] = 0.0
        # Swaps only check the budget row: with side constraints the greedy layout is the start.
        return x if self.side else self._swap_search(x)

    def _swap_search(self, x: np.ndarray, passes: int = 3) -> np.ndarray:
        """Improve a layout by single swaps (drop one site, add the best affordable one)."""
        m = self.model
        gmt = m.group_matrix.T.tocsr().astype(float)
        count = m.group_matrix.astype(float) @ x.astype(float)
        left = self.budget - float(m.costs[x].sum())
        for _ in range(passes):
            improved = False
            for j in np.flatnonzero(x):
                rows = gmt.indices[gmt.indptr[j] : gmt.indptr[j + 1]]
                loss = m.site_obj[j] + m.group_w[rows][count[rows] == 1].sum()
                count[rows] -= 1
                gain = m.site_obj + gmt @ (m.group_w * (count <= 0))
                ok = (~x) & (m.costs <= left + m.costs[j] + _EPS)
                ok[j] = False
                if ok.any():
                    k = int(np.flatnonzero(ok)[np.argmax(gain[ok])])
                    if gain[k] > loss + 1e-9:
                        x[j], x[k] = False, True
                        left += m.costs[j] - m.costs[k]
                        rk = gmt.indices[gmt.indptr[k] : gmt.indptr[k + 1]]
                        count[rk] += 1
                        improved = True
                        continue
                count[rows] += 1
            if not improved:
                break
        return x

    def _run(self, solver: HighsSolver) -> SolveResult:
        import highspy

        h = self._highs
        m = self.model
        n_x = len(m.site_idx)
        t0 = time.perf_counter()
        if n_x == 0:
            return SolveResult(
                "optimal", True, m.constant, m.constant, 0.0, 0.0, np.zeros(0, int), 0.0
            )
        h.run()
        secs = time.perf_counter() - t0
        status = h.getModelStatus()
        text = h.modelStatusToString(status)
        info = h.getInfo()
        if status == highspy.HighsModelStatus.kInfeasible:
            return SolveResult("infeasible", False, float("nan"), float("nan"), float("nan"),
                               secs, np.zeros(0, int), 0.0)  # fmt: skip
        sol = np.asarray(h.getSolution().col_value)
        if sol.size < n_x:
            raise SafecitiesError(f"solver found no feasible layout ({text})")
        x = sol[:n_x] > 0.5
        chosen = self._prune(m.site_idx[x])
        objective = self.covered_weight(chosen)
        bound = m.constant + float(info.mip_dual_bound)
        bound = max(bound, objective)
        gap = (bound - objective) / max(abs(objective), _EPS)
        optimal = status == highspy.HighsModelStatus.kOptimal
        return SolveResult(
            status="optimal" if optimal else text.lower().replace(" ", "_"),
            optimal=optimal,
            objective=objective,
            bound=bound,
            gap=0.0 if optimal and gap < 1e-6 else gap,
            seconds=secs,
            chosen=np.sort(chosen),
            cost=float(self.costs[chosen].sum()),
        )

    def solve(self, solver: HighsSolver | None = None) -> BudgetedMaxCover:
        solver = solver or HighsSolver()
        self._build_highs(solver)
        self.result = self._run(solver)
        # Solver time is the whole search: the warm start (greedy, LP, sub-MIP) and HiGHS.
        self.result.seconds += self.start.get("seconds", 0.0)
        # Alternatives re-run the same HiGHS model: each gets the full limit again.
        self._highs.setOptionValue("time_limit", float(solver.time_limit))
        return self

    def _prune(self, chosen: np.ndarray) -> np.ndarray:
        """Drop chosen sites that add nothing (ties the solver leaves in), dearest first."""
        chosen = np.asarray(chosen, int)
        counts = self._counts(chosen)
        csc = self._csc()
        keep = np.ones(len(chosen), bool)
        for k in np.argsort(-self.costs[chosen], kind="stable"):
            j = chosen[k]
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            if self.weights[rows[counts[rows] == 1]].sum() <= _EPS:
                keep[k] = False
                counts[rows] -= 1
        return chosen[keep]

    def _csc(self) -> sp.csc_matrix:
        if getattr(self, "_csc_cache", None) is None:
            self._csc_cache = self.coverage.tocsc()
            self._csc_cache.sort_indices()
        return self._csc_cache

    def _counts(self, chosen: np.ndarray) -> np.ndarray:
        sel = np.zeros(self.coverage.shape[1], bool)
        sel[np.asarray(chosen, int)] = True
        sel |= self.fixed
        return np.asarray(self.coverage[:, np.flatnonzero(sel)].sum(axis=1)).ravel().astype(int)

    # -- reporting ----------------------------------------------------------------------------
    def covered_mask(self, chosen: np.ndarray) -> np.ndarray:
        return self._counts(chosen) > 0

    def covered_weight(self, chosen: np.ndarray) -> float:
        return float(self.weights[self.covered_mask(chosen)].sum())

    def marginal(self, chosen: np.ndarray, sites=None) -> np.ndarray:
        """Weight each site covers that no other chosen or existing camera covers."""
        counts = self._counts(chosen)
        csc = self._csc()
        sites = np.asarray(chosen if sites is None else sites, int)
        out = np.empty(len(sites))
        for k, j in enumerate(sites):
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            out[k] = self.weights[rows[counts[rows] == 1]].sum()
        return out

    def component_stats(self) -> dict[str, int]:
        """How the reduced model splits into independent coverage components (sites per
        component): at national scale one per city; within Brussels one holds most sites."""
        m = self.model
        if m is None or len(m.site_idx) == 0:
            return {"components": 0, "largest_component_sites": 0}
        sizes = np.bincount(components(m.group_matrix))
        sizes = sizes[sizes > 0]
        return {"components": int(len(sizes)), "largest_component_sites": int(sizes.max())}

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    @property
    def existing_weight(self) -> float:
        return self.model.constant if self.model else 0.0

    # -- alternatives and the coverage curve ----------------------------------------------------
    def find_alternatives(
        self, k: int, *, share: float = 0.95, min_difference: int = 1,
        solver: HighsSolver | None = None,
    ) -> list[SolveResult]:  # fmt: skip
        """Up to k further layouts, each >= share x optimum and dropping >= min_difference
        sites of every earlier layout (no-good cuts). Stops early when none is left."""
        import highspy

        if self.result is None:
            self.solve(solver)
        if not self.result.optimal and not np.isfinite(self.result.objective):
            return []
        solver = solver or HighsSolver()
        h = self._highs
        m = self.model
        pos = {int(s): i for i, s in enumerate(m.site_idx)}
        # Objective floor: model objective >= share * optimum - constant.
        floor = share * self.result.objective - m.constant
        n_x, n_g = len(m.site_idx), len(m.group_w)
        obj_cols = np.arange(n_x + n_g, dtype=np.int32)
        obj_vals = np.concatenate([m.site_obj, m.group_w])
        nz = obj_vals != 0
        h.addRow(floor - 1e-7, highspy.kHighsInf, int(nz.sum()), obj_cols[nz], obj_vals[nz])
        layouts = [self.result.chosen]
        self.alternatives = []
        for _ in range(int(k)):
            prev = [pos[int(s)] for s in layouts[-1] if int(s) in pos]
            if len(prev) < min_difference:
                break
            idx = np.array(prev, np.int32)
            h.addRow(-highspy.kHighsInf, float(len(prev) - min_difference), len(idx), idx,
                     np.ones(len(idx)))  # fmt: skip
            res = self._run(solver)
            if res.status == "infeasible" or not np.isfinite(res.objective):
                break
            self.alternatives.append(res)
            layouts.append(res.chosen)
        return self.alternatives

    def curve(self, budgets, solver: HighsSolver | None = None) -> list[dict[str, Any]]:
        """Coverage against budget: the optimum for each budget (same model, new budget row)."""
        solver = solver or HighsSolver()
        out = []
        for b in budgets:
            scale = float(b) / self.budget if self.budget > 0 else 0.0
            side = [replace(r, cap=r.cap * scale) if r.scales else r for r in self.side]
            sub = BudgetedMaxCover.from_coverage(
                self.coverage, self.weights, self.costs, float(b), self.fixed, side=side
            ).solve(solver)
            r = sub.result
            self.curve_results.append(r)
            out.append(
                {
                    "budget": float(b),
                    "covered_weight": r.objective,
                    "coverage_share": r.objective / self.total_weight if self.total_weight else 0.0,
                    "cost": r.cost,
                    "n_sites": int(len(r.chosen)),
                    "status": r.status,
                    "gap": r.gap,
                }
            )
        return out
