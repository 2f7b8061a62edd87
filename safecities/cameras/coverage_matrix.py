"""Sparse coverage: which demand points each camera site sees (KD-tree in metres, sectors).

A site covers a demand point when the point lies within the site's useful range (the planning
radius unless the site gives its own) and, when the site has a direction, inside its field-of-view
sector: the bearing from site to point (degrees clockwise from grid north) differs from the
direction by at most half the opening angle. Only covering pairs are ever stored, so 5,000 sites
by 50,000 points at 150 m is a few hundred thousand entries, not 250 million.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree


def sector_mask(
    dx: np.ndarray, dy: np.ndarray, direction: np.ndarray, angle: np.ndarray
) -> np.ndarray:
    """True where the offset (dx, dy) from a camera lies inside its sector.

    `direction` is degrees clockwise from north; `angle` the full opening angle in degrees.
    NaN direction or angle >= 360 means all round (a dome camera).
    """
    direction = np.asarray(direction, float)
    angle = np.asarray(angle, float)
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    diff = np.abs((bearing - direction + 180.0) % 360.0 - 180.0)
    all_round = ~np.isfinite(direction) | ~np.isfinite(angle) | (angle >= 360.0)
    at_site = (dx == 0) & (dy == 0)
    return all_round | at_site | (diff <= angle / 2.0 + 1e-9)


def build_coverage(
    site_xy: np.ndarray,
    demand_xy: np.ndarray,
    radius: float,
    *,
    range_m: np.ndarray | None = None,
    direction: np.ndarray | None = None,
    angle: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Boolean CSR matrix (n_demand x n_sites): entry (i, j) is set when site j covers point i."""
    site_xy = np.asarray(site_xy, float).reshape(-1, 2)
    demand_xy = np.asarray(demand_xy, float).reshape(-1, 2)
    n_sites, n_dem = len(site_xy), len(demand_xy)
    if n_sites == 0 or n_dem == 0:
        return sp.csr_matrix((n_dem, n_sites), dtype=bool)
    ranges = np.full(n_sites, float(radius))
    if range_m is not None:
        r = np.asarray(range_m, float)
        ranges = np.where(np.isfinite(r) & (r > 0), r, ranges)
    tree = cKDTree(demand_xy)
    rmax = float(ranges.max())
    hits = tree.query_ball_point(site_xy, rmax if np.all(ranges == rmax) else ranges)
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=n_sites)
    cols = np.repeat(np.arange(n_sites, dtype=np.int64), lengths)
    rows = (
        np.fromiter((i for h in hits for i in h), dtype=np.int64, count=int(lengths.sum()))
        if lengths.sum()
        else np.zeros(0, np.int64)
    )
    if direction is not None:
        d = np.asarray(direction, float)
        a = np.full(n_sites, np.nan) if angle is None else np.asarray(angle, float)
        if np.isfinite(d).any():
            dx = demand_xy[rows, 0] - site_xy[cols, 0]
            dy = demand_xy[rows, 1] - site_xy[cols, 1]
            keep = sector_mask(dx, dy, d[cols], a[cols])
            rows, cols = rows[keep], cols[keep]
    data = np.ones(len(rows), dtype=bool)
    return sp.csr_matrix((data, (rows, cols)), shape=(n_dem, n_sites), dtype=bool)
