"""Emerging hotspot analysis over a space-time cube (the ArcGIS classes analysts know).

Events are counted per cell and time slice; each slice gets Getis-Ord Gi* (esda, queen
contiguity) with Benjamini-Hochberg FDR control across cells; each cell's series of Gi*
z-scores gets a Mann-Kendall trend test (Kendall's tau against time, tie-corrected). Classes
follow the ArcGIS Pro definitions ("90 %" = at least 90 % of the slices):

  new           only the final slice is a significant hot spot
  consecutive   one uninterrupted run of hot slices ending at the final slice, < 90 %
  intensifying  hot in >= 90 % including the final slice, significant upward trend
  persistent    hot in >= 90 % including the final slice, no significant trend
  diminishing   hot in >= 90 % including the final slice, significant downward trend
  sporadic      final slice hot, < 90 % hot, on and off, never a significant cold spot
  oscillating   final slice hot, < 90 % hot, at some earlier slice a significant cold spot
  historical    final slice not hot, but hot in >= 90 % of the slices
The same rules on the cold side give the `*_coldspot` classes; the rest is `no_pattern`.
Deviation from ArcGIS: Gi* neighbourhoods are spatial only (no neighbouring time steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from safecities.hotspots.detect import fdr_mask, gi_star
from safecities.hotspots.events import EventArray

CLASSES = (
    "new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
    "oscillating", "historical",
)  # fmt: skip


def mann_kendall(series: np.ndarray) -> tuple[float, float]:
    """Kendall's tau of the series against time and its two-sided p-value."""
    s = np.asarray(series, float)
    if len(s) < 3 or np.ptp(s) == 0:
        return 0.0, 1.0
    tau, p = stats.kendalltau(np.arange(len(s)), s)
    return float(tau), float(p) if np.isfinite(p) else 1.0


def classify(
    hot: np.ndarray, cold: np.ndarray, tau: float, p_trend: float, alpha: float = 0.05
) -> str:
    """ArcGIS class of one cell from its per-slice hot/cold flags (hot side)."""
    n = len(hot)
    if n == 0 or not hot.any():
        return "no_pattern"
    frac = hot.mean()
    final = bool(hot[-1])
    if not final:
        return "historical" if frac >= 0.9 else "no_pattern"
    if hot.sum() == 1:
        return "new"
    if frac >= 0.9:
        if p_trend <= alpha and tau > 0:
            return "intensifying"
        if p_trend <= alpha and tau < 0:
            return "diminishing"
        return "persistent"
    first = int(np.argmax(hot))
    if hot[first:].all():
        return "consecutive"
    if cold[:-1].any():
        return "oscillating"
    return "sporadic"


def emerging_hotspots(
    ev: EventArray,
    grid: Any,
    start: float,
    end: float,
    slice_days: float = 30.0,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    edges = np.arange(start, end + 1e-9, slice_days)
    if len(edges) < 3:
        from safecities.errors import InputError

        raise InputError("emerging hotspots need at least 2 full time slices in [start, end)")
    w = grid.neighbours()
    n_slices = len(edges) - 1
    z = np.zeros((n_slices, grid.n_cells))
    hot = np.zeros((n_slices, grid.n_cells), bool)
    cold = np.zeros_like(hot)
    counts = np.zeros((n_slices, grid.n_cells))
    for k in range(n_slices):
        e = ev.between(edges[k], edges[k + 1])
        counts[k] = grid.counts(e.x, e.y)
        zk, pk = gi_star(counts[k], w, permutations, seed + k)
        sig = fdr_mask(pk, alpha)
        z[k], hot[k], cold[k] = zk, sig & (zk > 0), sig & (zk < 0)
    cats, taus, ps = [], np.zeros(grid.n_cells), np.ones(grid.n_cells)
    for i in range(grid.n_cells):
        if not (hot[:, i].any() or cold[:, i].any()):
            cats.append("no_pattern")
            continue
        tau, p = mann_kendall(z[:, i])
        taus[i], ps[i] = tau, p
        c = classify(hot[:, i], cold[:, i], tau, p, alpha)
        if c == "no_pattern":
            c2 = classify(cold[:, i], hot[:, i], -tau, p, alpha)
            c = f"{c2}_coldspot" if c2 != "no_pattern" else c2
        else:
            c = f"{c}_hotspot"
        cats.append(c)
    frame = pd.DataFrame(
        {
            "cell_id": grid.cell_ids,
            "category": cats,
            "n_hot_slices": hot.sum(axis=0),
            "n_cold_slices": cold.sum(axis=0),
            "final_z": z[-1],
            "trend_tau": taus,
            "trend_p": ps,
            "count": counts.sum(axis=0).astype(int),
        }
    )
    info = {
        "n_slices": n_slices,
        "slice_days": slice_days,
        "alpha": alpha,
        "categories": frame["category"].value_counts().to_dict(),
    }
    return frame, info
