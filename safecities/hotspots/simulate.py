"""Synthetic events with known structure, for tests and demonstrations (labelled synthetic)."""

from __future__ import annotations

import numpy as np

from safecities.hotspots.events import EventArray


def simulate_sepp(
    *,
    background_rate: float,
    bounds: tuple[float, float, float, float],
    theta: float,
    omega: float,
    sigma: float,
    days: float,
    t0: float = 0.0,
    hotspots: list[tuple[float, float, float, float]] | None = None,
    crs: str = "EPSG:3812",
    seed: int = 0,
) -> EventArray:
    """Events from a self-exciting process by branching: background events (Poisson, rate
    `background_rate` per day, uniform over `bounds` = (xmin, ymin, xmax, ymax) metres, plus
    optional `hotspots` (x, y, radius_m, rate per day) with a Gaussian footprint); each event
    has Poisson(theta) children after Exp(omega) days, displaced by N(0, sigma^2) per axis.
    Children outside the bounds or after `days` are dropped."""
    if not 0 <= theta < 1:
        raise ValueError("theta must be in [0, 1) for a stable process")
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    n = rng.poisson(background_rate * days)
    ts = [rng.uniform(0, days, n)]
    xs = [rng.uniform(x0, x1, n)]
    ys = [rng.uniform(y0, y1, n)]
    for hx, hy, hr, hrate in hotspots or []:
        m = rng.poisson(hrate * days)
        ts.append(rng.uniform(0, days, m))
        xs.append(hx + rng.normal(0, hr, m))
        ys.append(hy + rng.normal(0, hr, m))
    gen_t, gen_x, gen_y = np.concatenate(ts), np.concatenate(xs), np.concatenate(ys)
    all_t, all_x, all_y = [gen_t], [gen_x], [gen_y]
    while len(gen_t):
        k = rng.poisson(theta, len(gen_t))
        par = np.repeat(np.arange(len(gen_t)), k)
        ct = gen_t[par] + rng.exponential(1.0 / omega, len(par))
        cx = gen_x[par] + rng.normal(0, sigma, len(par))
        cy = gen_y[par] + rng.normal(0, sigma, len(par))
        ok = (ct < days) & (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
        gen_t, gen_x, gen_y = ct[ok], cx[ok], cy[ok]
        all_t.append(gen_t)
        all_x.append(gen_x)
        all_y.append(gen_y)
    t, x, y = np.concatenate(all_t), np.concatenate(all_x), np.concatenate(all_y)
    order = np.argsort(t, kind="stable")
    return EventArray(t[order] + t0, x[order], y[order], crs)


def planted_hotspots(
    *,
    centres: list[tuple[float, float]],
    per_hotspot: int,
    background: int,
    bounds: tuple[float, float, float, float],
    spread_m: float,
    days: float,
    t0: float = 0.0,
    crs: str = "EPSG:3812",
    seed: int = 0,
) -> EventArray:
    """Uniform background events plus tight clusters at `centres` (for ranking tests)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    xs = [rng.uniform(x0, x1, background)]
    ys = [rng.uniform(y0, y1, background)]
    for cx, cy in centres:
        xs.append(cx + rng.normal(0, spread_m, per_hotspot))
        ys.append(cy + rng.normal(0, spread_m, per_hotspot))
    x, y = np.concatenate(xs), np.concatenate(ys)
    t = rng.uniform(0, days, len(x))
    order = np.argsort(t)
    return EventArray(t[order] + t0, x[order], y[order], crs)
