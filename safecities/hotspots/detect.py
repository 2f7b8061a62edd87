"""Detection: where are events concentrated, and is it significant?

Counts per cell, kernel density (bandwidth by likelihood cross-validation unless given), and
Getis-Ord Gi* from PySAL `esda.G_Local` on queen-contiguity weights (`star=True`, binary
weights), with the false discovery rate controlled by Benjamini-Hochberg over all cells.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from safecities.hotspots.events import EventArray
from safecities.hotspots.forecast import cv_bandwidth


def fdr_mask(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg: which tests are rejected at false discovery rate `alpha`."""
    p = np.asarray(p, float)
    ok = np.isfinite(p)
    out = np.zeros(len(p), bool)
    if not ok.any():
        return out
    from statsmodels.stats.multitest import multipletests

    out[ok] = multipletests(p[ok], alpha=alpha, method="fdr_bh")[0]
    return out


def gi_star(
    y: np.ndarray, w: Any, permutations: int = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values (normal approximation, or permutation p-values
    when `permutations` > 0) from esda. A slice with no events gives z = 0, p = 1."""
    y = np.asarray(y, float)
    if y.sum() <= 0 or np.ptp(y) == 0:
        return np.zeros(len(y)), np.ones(len(y))
    from esda import G_Local

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        g = G_Local(
            y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1,
            keep_simulations=False,
        )  # fmt: skip
    z = np.nan_to_num(np.asarray(g.Zs, float))
    if permutations > 0:
        p = np.minimum(2.0 * np.asarray(g.p_sim, float), 1.0)
    else:
        p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def detect(
    ev: EventArray,
    grid: Any,
    bandwidth: float | None = None,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per cell: count, density (events per km2), Gi* z and p, FDR class hot/cold/ns."""
    counts = grid.counts(ev.x, ev.y)
    h = float(bandwidth) if bandwidth else cv_bandwidth(grid, ev)
    dens = grid.gaussian_mass(ev.x, ev.y, None, h, 4 * h) / grid.cell_area * 1e6
    w = grid.neighbours()
    z, p = gi_star(counts, w, permutations, seed)
    sig = fdr_mask(p, alpha)
    cls = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "not_significant"))
    frame = pd.DataFrame(
        {
            "cell_id": grid.cell_ids,
            "count": counts.astype(int),
            "density_per_km2": dens,
            "gi_z": z,
            "gi_p": p,
            "gi_class": cls,
        }
    )
    info = {
        "n_events": len(ev),
        "n_in_grid": int(counts.sum()),
        "bandwidth_m": h,
        "bandwidth_rule": "given" if bandwidth else "likelihood cross-validation",
        "alpha": alpha,
        "fdr": "benjamini-hochberg",
        "permutations": permutations,
        "n_hot": int((cls == "hot").sum()),
        "n_cold": int((cls == "cold").sum()),
    }
    return frame, info
