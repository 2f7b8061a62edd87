"""Rolling-origin backtest: hit rate, PAI and PEI at chosen area coverages, with confidence
intervals, for several forecasters on the same events and grid.

At each origin s (start, start + step, ... < end) a method gets only the events strictly before s
(`EventArray.before(s)`: the slice is made here, so no method can see later events), predicts
[s, s + horizon) and is scored on the events that fall there. Methods with `refit_days > 0` are
refitted on the first origin of every block of that many days and `update`d in between.

Scores per window (windows without events are not scored):
  hit rate = share of the window's events in the top-ranked cells covering c % of the area;
  PAI = hit rate / (area share actually flagged);
  PEI = events caught / the most events any c % of cells could have caught (Hunt 2016).
Means come with a 95 % Student-t interval over scored windows. Ties in a risk surface are
broken at random with a fixed seed, so a flat map scores as chance, not as its cell order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import clone

from safecities.hotspots.events import EventArray

DEFAULT_COVERAGES = (1.0, 5.0, 10.0, 20.0)


def rank_cells(risk: np.ndarray, seed: int = 0) -> np.ndarray:
    """Cell indices from highest to lowest risk; ties broken at random (fixed seed)."""
    perm = np.random.default_rng(seed).permutation(len(risk))
    return perm[np.argsort(-np.asarray(risk, float)[perm], kind="stable")]


def score_window(
    risk: np.ndarray, actual: np.ndarray, coverages: Sequence[float], seed: int = 0
) -> np.ndarray:
    """(len(coverages), 3) array of hit rate, PAI, PEI for one window (NaN if no events)."""
    n = len(risk)
    total = float(actual.sum())
    out = np.full((len(coverages), 3), np.nan)
    if total <= 0 or n == 0:
        return out
    order = rank_cells(risk, seed)
    caught = np.cumsum(actual[order])
    best = np.cumsum(np.sort(actual)[::-1])
    for i, c in enumerate(coverages):
        k = min(max(int(math.ceil(n * c / 100.0)), 1), n)
        hit = caught[k - 1] / total
        out[i] = (hit, hit / (k / n), caught[k - 1] / best[k - 1])
    return out


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return (math.nan, math.nan, math.nan)
    m = float(v.mean())
    if len(v) < 2:
        return (m, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return (m, m - half, m + half)


@dataclass
class MethodResult:
    method: str
    origins: np.ndarray  # days since epoch
    scores: np.ndarray  # (n_origins, n_coverages, 3): hit rate, PAI, PEI
    n_events: np.ndarray  # events in each test window
    seconds: float  # wall time inside the method's tasks, summed over workers
    n_fits: int
    cpu_seconds: float = 0.0  # CPU time of those tasks (robust to a busy machine)
    choices: list[tuple[float, str]] = field(default_factory=list)  # auto: (fit origin, chosen)


@dataclass
class BacktestResult:
    coverages: tuple[float, ...]
    horizon_days: float
    methods: dict[str, MethodResult] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def table(self) -> list[dict[str, Any]]:
        """One row per method and coverage: means and 95 % intervals of hit rate, PAI, PEI."""
        rows = []
        for name, r in self.methods.items():
            scored = np.isfinite(r.scores[:, 0, 0]) if len(r.scores) else np.array([], bool)
            for j, c in enumerate(self.coverages):
                row: dict[str, Any] = {"method": name, "coverage_pct": c}
                for k, key in enumerate(("hit_rate", "pai", "pei")):
                    m, lo, hi = mean_ci(r.scores[:, j, k]) if len(r.scores) else (math.nan,) * 3
                    row[key], row[f"{key}_ci"] = m, [lo, hi]
                row["n_windows"] = len(r.origins)
                row["n_scored"] = int(scored.sum())
                row["seconds"] = round(r.seconds, 3)
                row["cpu_seconds"] = round(r.cpu_seconds, 3)
                rows.append(row)
        return rows

    def paired(
        self, a: str, b: str, coverage: float = 5.0, metric: str = "pai"
    ) -> tuple[float, float, float]:
        """Mean of (a - b) over windows scored for both, with a 95 % interval: the fair way
        to compare two methods, since both faced the same windows."""
        j = self.coverages.index(float(coverage))
        k = ("hit_rate", "pai", "pei").index(metric)
        return mean_ci(self.methods[a].scores[:, j, k] - self.methods[b].scores[:, j, k])

    def best(self, coverage: float = 5.0, metric: str = "pai") -> str | None:
        rows = [r for r in self.table() if r["coverage_pct"] == coverage and np.isfinite(r[metric])]
        return max(rows, key=lambda r: r[metric])["method"] if rows else None

    def summary(self) -> dict[str, Any]:
        """The `--json` report's `methods`, `table` and `best` (the method with the highest PAI
        at 5 % of the area, or at the first coverage, and its paired differences to the others).
        One place for the CLI and the API, so both report the same figures."""
        table = self.table()
        per_method: dict[str, Any] = {}
        for name, r in self.methods.items():
            rows = [row for row in table if row["method"] == name]
            per_method[name] = {
                "seconds": round(r.seconds, 3),
                "n_fits": r.n_fits,
                **({"choices": _choices(r.choices)} if r.choices else {}),
                "n_windows": len(r.origins),
                "n_scored": rows[0]["n_scored"] if rows else 0,
                "coverage": {
                    f"{row['coverage_pct']:g}": {
                        k: row[k]
                        for k in ("hit_rate", "hit_rate_ci", "pai", "pai_ci", "pei", "pei_ci")
                    }
                    for row in rows
                },
            }
        best_cov = 5.0 if 5.0 in self.coverages else self.coverages[0]
        best = self.best(best_cov)
        paired = {
            name: dict(
                zip(("mean", "ci_low", "ci_high"), self.paired(best, name, best_cov), strict=True)
            )
            for name in self.methods
            if best is not None and name != best
        }
        return {
            "methods": per_method,
            "table": table,
            "best": {
                "coverage_pct": best_cov,
                "metric": "pai",
                "method": best,
                "paired_difference": paired,
            },
        }


def _run_block(
    est: Any,
    events: EventArray,
    origins: np.ndarray,
    ends: np.ndarray,
    coverages: tuple[float, ...],
    seed: int,
    every: bool,
) -> tuple[np.ndarray, np.ndarray, float, int, float, list[tuple[float, str]]]:
    """Fit at the block's first origin (or at every origin if `every`), update in between;
    score each origin. `seed` is the global index of the block's first origin."""
    from threadpoolctl import threadpool_limits

    t0, c0 = time.perf_counter(), time.process_time()
    scores = np.full((len(origins), len(coverages), 3), np.nan)
    counts = np.zeros(len(origins), dtype=np.int64)
    fitted = None
    n_fits = 0
    choices: list[tuple[float, str]] = []
    grid = est.grid
    with threadpool_limits(1):
        for i, s in enumerate(origins):
            train = events.before(s)  # strictly before the origin: nothing later is passed on
            if fitted is None or every:
                fitted = clone(est).fit(train, until=float(s))
                n_fits += 1
                if hasattr(fitted, "chosen_name_"):  # auto: what it chose at this refit
                    choices.append((float(s), fitted.chosen_name_))
            else:
                fitted.update(train, until=float(s))
            risk = fitted.predict(float(s), float(ends[i] - s))
            test = events.between(s, ends[i])
            actual = grid.counts(test.x, test.y)
            counts[i] = int(actual.sum())
            scores[i] = score_window(risk, actual, coverages, seed + i)
    elapsed = time.perf_counter() - t0
    return scores, counts, elapsed, n_fits, time.process_time() - c0, choices


def _choices(choices: list[tuple[float, str]]) -> list[dict[str, str]]:
    """`auto`'s choice at each refit, for the JSON: [{from: origin (UTC ISO), chosen}]."""
    from safecities.hotspots.events import from_days

    return [{"from": from_days(t).isoformat(), "chosen": c} for t, c in choices]


def backtest(
    estimators: dict[str, Any],
    events: EventArray,
    start: float,
    end: float,
    horizon: float = 1.0,
    step: float | None = None,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    n_jobs: int = 1,
    scheduler: Any = None,
    seed: int = 0,
    block_days: float = 30.0,
    on_task: Any = None,
    origins: Sequence[float] | None = None,
    ends: Sequence[float] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of each estimator over origins start, start + step, ... < end.

    Work is split into (method, block of origins) tasks fanned out with joblib (`n_jobs`), or
    on a Dask cluster when `scheduler` is an address ('tcp://host:8786') or a
    `distributed.Client`. The refit schedule depends only on the origins, so results are the
    same whatever the fan-out. `origins` and `ends` (days) replace the regular steps, e.g.
    local midnights, whose windows last 23 or 25 hours across a DST change."""
    from joblib import Parallel, delayed, parallel_backend

    step = horizon if step is None else step
    if origins is None:
        origins = np.arange(start, end - 1e-9, step)
        ends = origins + horizon
    origins = np.asarray(origins, float)
    ends = origins + horizon if ends is None else np.asarray(ends, float)
    coverages = tuple(float(c) for c in coverages)
    tasks: dict[tuple[str, int], tuple[Any, np.ndarray, bool]] = {}
    for name, est in estimators.items():
        refit = float(getattr(est, "refit_days", 0.0) or 0.0)
        per = max(int(round((refit if refit > 0 else block_days) / step)), 1)
        for b in range(0, len(origins), per):
            tasks[(name, b)] = (est, b, b + per, refit <= 0)

    calls = [
        delayed(_run_block)(est, events, origins[b:e], ends[b:e], coverages, seed + b, every)
        for est, b, e, every in tasks.values()
    ]
    t_wall = time.perf_counter()
    if scheduler is not None:
        client = _dask_client(scheduler)
        with parallel_backend("dask", client=client):
            outs = Parallel(n_jobs=-1)(calls)
    elif n_jobs == 1:
        outs = []
        for fn, args, kwargs in calls:
            outs.append(fn(*args, **kwargs))
            if on_task is not None:
                on_task()
    else:
        outs = Parallel(n_jobs=n_jobs)(calls)

    res = BacktestResult(coverages=coverages, horizon_days=horizon)
    res.wall_seconds = time.perf_counter() - t_wall
    parts: dict[str, list[Any]] = {name: [] for name in estimators}
    for (name, b), out in zip(tasks.keys(), outs, strict=True):
        parts[name].append((b, out))
    for name, blocks in parts.items():
        blocks.sort(key=lambda p: p[0])
        res.methods[name] = MethodResult(
            method=name,
            origins=origins,
            scores=np.concatenate([o[0] for _, o in blocks])
            if blocks
            else np.zeros((0, len(coverages), 3)),
            n_events=np.concatenate([o[1] for _, o in blocks]) if blocks else np.zeros(0, int),
            seconds=sum(o[2] for _, o in blocks),
            n_fits=sum(o[3] for _, o in blocks),
            cpu_seconds=sum(o[4] for _, o in blocks),
            choices=[c for _, o in blocks for c in o[5]],
        )
    return res


def _dask_client(scheduler: Any):
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    return Client(scheduler, set_as_default=False)
