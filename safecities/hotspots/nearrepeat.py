"""Near-repeat analysis: the Knox test over space-time bands with Monte Carlo significance,
as in the Philadelphia Near Repeat Calculator (Ratcliffe 2009).

For every pair of events closer than the largest spatial band, the pair is counted in the
(distance band, time band) it falls in. Times are shuffled among the events `permutations`
times (locations fixed); the expected count is the mean over shuffles, the ratio is
observed / expected, and the p-value is (1 + shuffles with a count >= observed) /
(1 + permutations). Band 0 in space is "same location" (< 1 m) when `same_location` is set.
Only pairs inside the largest bands are enumerated (k-d tree), never all n^2 pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from safecities.hotspots.events import EventArray


@dataclass
class KnoxResult:
    space_bands: list[tuple[float, float]]  # metres, [lo, hi)
    time_bands: list[tuple[float, float]]  # days, [lo, hi)
    observed: np.ndarray  # (space, time)
    expected: np.ndarray
    ratio: np.ndarray
    p_value: np.ndarray
    n_events: int
    n_pairs: int
    permutations: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        def clean(a: np.ndarray) -> list:
            return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]

        return {
            "space_bands_m": [list(b) for b in self.space_bands],
            "time_bands_days": [list(b) for b in self.time_bands],
            "observed": self.observed.astype(int).tolist(),
            "expected": clean(self.expected),
            "ratio": clean(self.ratio),
            "p_value": clean(self.p_value),
            "n_events": self.n_events,
            "n_pairs": self.n_pairs,
            "permutations": self.permutations,
            "seed": self.seed,
        }

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for i, (slo, shi) in enumerate(self.space_bands):
            for j, (tlo, thi) in enumerate(self.time_bands):
                out.append(
                    {
                        "space_from_m": slo, "space_to_m": shi, "time_from_days": tlo,
                        "time_to_days": thi, "observed": int(self.observed[i, j]),
                        "expected": float(self.expected[i, j]), "ratio": float(self.ratio[i, j]),
                        "p_value": float(self.p_value[i, j]),
                    }
                )  # fmt: skip
        return out


def knox(
    ev: EventArray,
    space_band_m: float = 100.0,
    n_space_bands: int = 5,
    time_band_days: float = 7.0,
    n_time_bands: int = 5,
    permutations: int = 99,
    seed: int = 0,
    same_location: bool = True,
) -> KnoxResult:
    s_edges = (
        [0.0]
        + ([1.0] if same_location else [])
        + [space_band_m * (k + 1) for k in range(n_space_bands)]
    )
    t_edges = [time_band_days * k for k in range(n_time_bands + 1)]
    s_edges_a, t_edges_a = np.array(s_edges), np.array(t_edges)
    smax, tmax = s_edges[-1], t_edges[-1]
    pts = np.column_stack([ev.x, ev.y])
    pairs = cKDTree(pts).query_pairs(r=smax, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(ev.x[i] - ev.x[j], ev.y[i] - ev.y[j])
    keep = d < smax
    i, j, d = i[keep], j[keep], d[keep]
    si = np.searchsorted(s_edges_a, d, side="right") - 1
    ns, nt = len(s_edges) - 1, n_time_bands

    def table(t: np.ndarray) -> np.ndarray:
        dt = np.abs(t[i] - t[j])
        ti = np.searchsorted(t_edges_a, dt, side="right") - 1
        ok = dt < tmax
        return np.bincount(si[ok] * nt + ti[ok], minlength=ns * nt).reshape(ns, nt)

    obs = table(ev.t)
    rng = np.random.default_rng(seed)
    ge = np.zeros((ns, nt))
    total = np.zeros((ns, nt))
    for _ in range(permutations):
        sim = table(rng.permutation(ev.t))
        ge += sim >= obs
        total += sim
    exp = total / permutations if permutations else np.full((ns, nt), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp > 0, obs / exp, np.nan)
    p = (1.0 + ge) / (1.0 + permutations) if permutations else np.full((ns, nt), np.nan)
    return KnoxResult(
        space_bands=list(zip(s_edges[:-1], s_edges[1:], strict=True)),
        time_bands=list(zip(t_edges[:-1], t_edges[1:], strict=True)),
        observed=obs.astype(float),
        expected=exp,
        ratio=ratio,
        p_value=p,
        n_events=len(ev),
        n_pairs=len(i),
        permutations=permutations,
        seed=seed,
    )
