"""Forecasters: one interface for every method (the scikit-learn habit).

    est = SEPPForecaster(grid=grid).fit(events)      # events strictly before the origin
    risk = est.predict(start, horizon=1.0)           # expected events per cell in [start, start+h)

`events` is a DataFrame[occurred_at, lat, lon] or an `EventArray` (metres and days). Parameters
live in the constructor untouched (so `get_params`, `set_params` and `clone` work); learned state
ends in `_`. `update(events)` gives a fitted model newer history without re-estimating its
parameters; the backtest calls `fit` every `refit_days` days and `update` in between (0 = fit at
every origin). Nothing here sees events that were not passed in.

Rates divide by the history actually there: `fit(events, until=origin)` records the origin, and
the start of the data is estimated from the first event (n events spread over [a, until) put
the first one near a + (until - a) / (n + 1), so a = t1 - (until - t1) / n), so a trailing
window of 365 days on two months of data divides by two months, not a year.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from safecities.hotspots.events import EventArray, parse_horizon, to_days, to_event_array


class Forecaster(BaseEstimator):
    """Base class: subclasses implement `_fit(ev)` and `_predict(start, horizon)`."""

    refit_days: float = 0.0

    def _events(self, events: Any) -> EventArray:
        if self.grid is None:
            raise ValueError(f"{type(self).__name__}: a grid is required")
        return to_event_array(events, self.grid.crs)

    def fit(self, events: Any, y: None = None, until: Any = None) -> Forecaster:
        """Learn from `events` (all before `until`, the origin; default: the last event)."""
        self._set_history(self._events(events), until)
        self._fit(self.history_)
        return self

    def update(self, events: Any, until: Any = None) -> Forecaster:
        """New history, same parameters (cheap step between refits)."""
        check_is_fitted(self, "history_")
        self._set_history(self._events(events), until)
        return self

    def _set_history(self, ev: EventArray, until: Any) -> None:
        self.history_ = ev
        self.n_events_ = len(ev)
        last = float(ev.t[-1]) + 1e-9 if len(ev) else 0.0
        self.until_ = max(to_days(until), last) if until is not None else last
        self.history_start_ = history_start(ev, self.until_)

    def _span(self, start: float, window: float | None) -> float:
        """Days of history a rate at `start` rests on: the trailing window, or less when the
        data begin later (never below one day, so a first event cannot mean a huge rate)."""
        have = start - self.history_start_
        return max(min(float(window), have) if window else have, 1.0)

    def predict(self, start: Any, horizon: Any = 1.0) -> np.ndarray:
        check_is_fitted(self, "history_")
        return np.maximum(self._predict(to_days(start), parse_horizon(horizon)), 0.0)

    def _fit(self, ev: EventArray) -> None:  # pragma: no cover - default: nothing to learn
        pass

    def _predict(self, start: float, horizon: float) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


def history_start(ev: EventArray, until: float) -> float:
    """Estimated start of the data (days): the first event minus the mean gap, see above."""
    if len(ev) == 0:
        return float(until)
    t1 = float(ev.t[0])
    return t1 - max(float(until) - t1, 0.0) / len(ev)


# ------------------------------------------------------------------------------------------
class NaiveForecaster(Forecaster):
    """Counts per cell over a trailing window (default 365 days): the 'historical hotspots'
    map analysts use. Expected count = count * horizon / (window, or the history when shorter)."""

    def __init__(self, grid: Any = None, window_days: float = 365.0) -> None:
        self.grid = grid
        self.window_days = window_days

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        ev = self.history_.between(start - self.window_days, start)
        return self.grid.counts(ev.x, ev.y) * horizon / self._span(start, self.window_days)


# ------------------------------------------------------------------------------------------
class KDEForecaster(Forecaster):
    """Retrospective kernel density of the trailing window. The bandwidth is chosen by
    leave-one-out likelihood cross-validation on the training window (`bandwidth=None`), since
    textbook rules (Scott, Silverman) give a kilometre or more in a city, far too wide for
    150 m cells; a number fixes it in metres."""

    def __init__(
        self,
        grid: Any = None,
        window_days: float = 365.0,
        bandwidth: float | None = None,
        min_bandwidth: float = 25.0,
        max_bandwidth: float = 3000.0,
        refit_days: float = 30.0,
    ) -> None:
        self.grid = grid
        self.window_days = window_days
        self.bandwidth = bandwidth
        self.min_bandwidth = min_bandwidth
        self.max_bandwidth = max_bandwidth
        self.refit_days = refit_days

    def _fit(self, ev: EventArray) -> None:
        if self.bandwidth is not None:
            self.bandwidth_ = float(self.bandwidth)
            return
        self.bandwidth_ = cv_bandwidth(
            self.grid,
            ev.between(self.until_ - self.window_days, math.inf),
            self.min_bandwidth,
            self.max_bandwidth,
        )

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        ev = self.history_.between(start - self.window_days, start)
        h = self.bandwidth_
        dens = self.grid.gaussian_mass(ev.x, ev.y, None, h, 4 * h)
        return dens * horizon / self._span(start, self.window_days)


def cv_bandwidth(grid: Any, ev: EventArray, lo: float = 25.0, hi: float = 3000.0) -> float:
    """Bandwidth (metres) maximising the leave-one-out log-likelihood of the events, evaluated
    on the grid (the event's own kernel mass in its own cell is removed). A 1 % uniform floor
    keeps isolated events from sending the score to minus infinity."""
    cells = grid.locate(ev.x, ev.y)
    cells = cells[cells >= 0]
    n = len(cells)
    if n < 3:
        return float(max(lo, grid.cell_size))
    lo = max(lo, grid.cell_size / 4)
    area = grid.n_cells * grid.cell_area
    best, best_h = -math.inf, lo
    inside = grid.locate(ev.x, ev.y) >= 0
    for h in np.geomspace(lo, max(hi, lo * 1.01), 18):
        dens = grid.gaussian_mass(ev.x[inside], ev.y[inside], None, h, 4 * h)
        own = _self_mass(grid, h)
        loo = np.maximum(dens[cells] - own, 0.0) / (n - 1) / grid.cell_area
        score = float(np.sum(np.log(0.99 * loo + 0.01 / area)))
        if score > best:
            best, best_h = score, float(h)
    return best_h


def holdout_bandwidth(
    grid: Any, ev: EventArray, t_start: float, t_end: float, n_candidates: int = 10
) -> float:
    """Bandwidth (metres) whose kernel density of the earlier three quarters of the span best
    predicts where the last quarter's events happened (log-likelihood per cell, 1 % uniform
    floor). A forward hold-out, unlike leave-one-out, is not fooled by events sharing an
    address point, and it asks what a forecast needs: where the next events fall. Falls back
    to `cv_bandwidth` with fewer than 10 events on either side."""
    split = t_end - 0.25 * (t_end - t_start)
    train, test = ev.between(-math.inf, split), ev.between(split, math.inf)
    cells = grid.locate(test.x, test.y)
    cells = cells[cells >= 0]
    inside = grid.locate(train.x, train.y) >= 0
    if inside.sum() < 10 or len(cells) < 10:
        return cv_bandwidth(grid, ev, max(25.0, grid.cell_size / 2))
    area = grid.n_cells * grid.cell_area
    best, best_h = -math.inf, float(grid.cell_size)
    for h in np.geomspace(max(25.0, grid.cell_size / 2), 1600.0, n_candidates):
        dens = grid.gaussian_mass(train.x[inside], train.y[inside], None, h, 4 * h)
        p = dens[cells] / max(dens.sum(), 1e-12) / grid.cell_area
        score = float(np.sum(np.log(0.99 * p + 0.01 / area)))
        if score > best:
            best, best_h = score, float(h)
    return best_h


def _self_mass(grid: Any, h: float) -> float:
    if getattr(grid, "kind", "square") == "square":
        from safecities.hotspots.grid import _gauss_1d

        k = _gauss_1d(grid.cell_size, h, 4 * h)
        return float(k[len(k) // 2] ** 2)
    return float(min(1.0, grid.cell_area / (2 * np.pi * h * h)))


# ------------------------------------------------------------------------------------------
class ProspectiveForecaster(Forecaster):
    """Prospective hotspotting (Bowers, Johnson & Pease 2004): each past event within the
    bandwidths adds 1/(1 + distance in cells) * 1/(1 + age in whole weeks); defaults 400 m and
    two months, as in the paper. Scores are scaled to the recent event rate."""

    def __init__(
        self, grid: Any = None, space_bandwidth_m: float = 400.0, time_bandwidth_days: float = 60.0
    ) -> None:
        self.grid = grid
        self.space_bandwidth_m = space_bandwidth_m
        self.time_bandwidth_days = time_bandwidth_days

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        ev = self.history_.between(start - self.time_bandwidth_days, start)
        if len(ev) == 0:
            return np.zeros(self.grid.n_cells)
        weeks = np.floor((start - ev.t) / 7.0)
        w = 1.0 / (1.0 + weeks)
        cs = self.grid.cell_size
        score = self.grid.kernel_sum(
            ev.x, ev.y, w, lambda d: 1.0 / (1.0 + d / cs), self.space_bandwidth_m
        )
        total = score.sum()
        rate = len(ev) / self._span(start, self.time_bandwidth_days)
        return score / total * rate * horizon if total > 0 else score


# ------------------------------------------------------------------------------------------
def _solve_trunc_exp_rate(mean: float, cutoff: float) -> float:
    """Rate r of an exponential truncated at `cutoff` whose mean is `mean`
    (mean(r) = 1/r - cutoff / (exp(r cutoff) - 1), decreasing from cutoff/2 to 0)."""
    if not np.isfinite(mean) or mean <= 0:
        return 1e3 / cutoff
    if mean >= cutoff / 2 * (1 - 1e-9):
        return 1e-6 / cutoff

    def f(logr: float) -> float:
        r = math.exp(logr)
        return 1.0 / r - cutoff / math.expm1(min(r * cutoff, 700.0)) - mean

    lo, hi = math.log(1e-9 / cutoff), math.log(1e6 / cutoff)
    if f(hi) >= 0:  # mean below what the bracket resolves: the fastest decay allowed
        return math.exp(hi)
    if f(lo) <= 0:
        return math.exp(lo)
    return math.exp(optimize.brentq(f, lo, hi))


class SEPPForecaster(Forecaster):
    """Self-exciting point process fitted by expectation-maximisation (Mohler et al. 2011,
    2015): intensity = background rate per cell + sum over past events of
    theta * omega exp(-omega dt) * Gaussian(sigma) in space, both kernels truncated at the
    space-time cut-off. Only pairs within the cut-off are ever built (k-d tree in scaled
    space-time), so memory grows with the number of near pairs, not events squared.
    Events at the same instant cannot trigger each other (dt must be > 0), so exact duplicates
    and simultaneous events are fitted as background and never divide by zero.
    The background is the declustered (background-weighted) kernel density with bandwidth
    `background_bandwidth_m`, re-estimated at each EM step (Mohler 2011's stochastic
    declustering, with a fixed bandwidth). The bandwidth is chosen by validation at each fit
    (`background_bandwidth_m=None`, see `holdout_bandwidth`): leave-one-out cross-validation
    picked bandwidths far too narrow on real files, where many events share an address point;
    a number fixes it in metres.
    Real files geocode many events to the same address point, which would shrink sigma to
    nothing: `min_sigma` (10 m) bounds it below."""

    def __init__(
        self,
        grid: Any = None,
        window_days: float | None = 730.0,
        time_cutoff_days: float = 60.0,
        space_cutoff_m: float = 500.0,
        background_bandwidth_m: float | None = None,
        max_iter: int = 200,
        tol: float = 1e-6,
        refit_days: float = 30.0,
        init_theta: float = 0.2,
        init_omega: float = 0.1,
        init_sigma: float = 100.0,
        min_sigma: float = 10.0,
    ) -> None:
        self.grid = grid
        self.window_days = window_days
        self.time_cutoff_days = time_cutoff_days
        self.space_cutoff_m = space_cutoff_m
        self.background_bandwidth_m = background_bandwidth_m
        self.max_iter = max_iter
        self.tol = tol
        self.refit_days = refit_days
        self.init_theta = init_theta
        self.init_omega = init_omega
        self.init_sigma = init_sigma
        self.min_sigma = min_sigma

    # -- fitting -------------------------------------------------------------------------
    def _fit(self, ev: EventArray) -> None:
        g = self.grid
        tc, dc = float(self.time_cutoff_days), float(self.space_cutoff_m)
        # the fit window is the real span: from the start of the data (or the window's
        # start, when later) to the origin, not the window's nominal length
        t_end = self.until_
        t_start = self.history_start_
        if self.window_days is not None:
            t_start = max(t_start, t_end - float(self.window_days))
        ev = ev.between(t_start, math.inf)
        span = max(t_end - t_start, 1.0)
        self.fit_span_days_ = span
        cells = g.locate(ev.x, ev.y)
        keep = cells >= 0
        t, x, y, cells = ev.t[keep], ev.x[keep], ev.y[keep], cells[keep]
        n = len(t)
        self.n_fit_events_ = n
        if n < 5:
            self.theta_, self.omega_, self.sigma_ = 0.0, float(self.init_omega), 1.0
            self.background_ = g.counts(x, y) / span
            self.background_bandwidth_ = float("nan")
            self.n_iter_, self.loglik_, self.n_pairs_, self.converged_ = 0, float("nan"), 0, True
            return
        # candidate pairs: a sphere of radius dc*sqrt(2) in (x, y, t*dc/tc) contains the cylinder
        pts = np.column_stack([x, y, t * (dc / tc)])
        pr = cKDTree(pts).query_pairs(r=dc * math.sqrt(2.0), output_type="ndarray")
        a, b = pr[:, 0].astype(np.int64), pr[:, 1].astype(np.int64)
        swap = t[a] > t[b]
        par, chi = np.where(swap, b, a), np.where(swap, a, b)
        dt = t[chi] - t[par]
        d2 = (x[chi] - x[par]) ** 2 + (y[chi] - y[par]) ** 2
        ok = (dt > 0) & (dt <= tc) & (d2 <= dc * dc)
        par, chi, dt, d2 = par[ok], chi[ok], dt[ok], d2[ok]
        del pr, a, b, swap, ok
        self.n_pairs_ = len(par)
        left = np.minimum(t_end - t, tc)  # time each event had to trigger inside the window

        theta, omega, s2 = float(self.init_theta), float(self.init_omega), self.init_sigma**2
        if self.background_bandwidth_m is None:  # chosen on later events held out
            bw = holdout_bandwidth(g, EventArray(t, x, y, ev.crs), t_start, t_end)
        else:
            bw = float(self.background_bandwidth_m)
        self.background_bandwidth_ = bw
        area = g.cell_area
        mu = g.gaussian_mass(x, y, np.full(n, 1 - theta), bw, 3 * bw) / span
        prev, it, converged = -math.inf, 0, False
        for it in range(1, int(self.max_iter) + 1):  # noqa: B007 - reported below
            mu = mu + 1e-12 * max(mu.mean(), 1e-12)
            bg = mu[cells] / area
            gt = omega * np.exp(-omega * dt) / -math.expm1(-omega * tc)
            gs = np.exp(-d2 / (2 * s2)) / (2 * math.pi * s2 * -math.expm1(-dc * dc / (2 * s2)))
            trig = theta * gt * gs
            lam = bg + np.bincount(chi, weights=trig, minlength=n)
            integral = mu.sum() * span + theta * float(
                np.sum(-np.expm1(-omega * left)) / -math.expm1(-omega * tc)
            )
            loglik = float(np.sum(np.log(lam)) - integral)
            # E-step: probability each event is background / triggered by each parent
            p_bg = bg / lam
            p_tr = trig / lam[chi]
            # M-step
            s_tr = float(p_tr.sum())
            if s_tr > 1e-12:
                omega = _solve_trunc_exp_rate(float(np.dot(p_tr, dt)) / s_tr, tc)
                rate = _solve_trunc_exp_rate(float(np.dot(p_tr, d2)) / s_tr, dc * dc)
                s2 = max(1.0 / (2.0 * rate), float(self.min_sigma) ** 2)
                exposure = float(np.sum(-np.expm1(-omega * left)) / -math.expm1(-omega * tc))
                theta = min(s_tr / max(exposure, 1e-12), 0.99)
            else:
                theta = 0.0
            raw = g.gaussian_mass(x, y, p_bg, bw, 3 * bw)
            tot = raw.sum()
            mu = raw * (p_bg.sum() / tot) / span if tot > 0 else raw
            if abs(loglik - prev) <= self.tol * max(abs(loglik), 1.0):
                converged = True
                break
            prev = loglik
        self.theta_, self.omega_, self.sigma_ = theta, omega, math.sqrt(s2)
        self.background_ = mu
        self.loglik_, self.n_iter_, self.converged_ = loglik, it, converged

    @property
    def mean_delay_days_(self) -> float:
        return 1.0 / self.omega_

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        base = self.background_ * horizon
        tc = float(self.time_cutoff_days)
        ev = self.history_.between(start - tc, start)
        if len(ev) == 0 or self.theta_ <= 0:
            return base
        om = self.omega_
        norm = -math.expm1(-om * tc)

        def cdf(u: np.ndarray) -> np.ndarray:
            return -np.expm1(-om * np.clip(u, 0.0, tc)) / norm

        w = self.theta_ * (cdf(start + horizon - ev.t) - cdf(start - ev.t))
        return base + self.grid.gaussian_mass(ev.x, ev.y, w, self.sigma_, self.space_cutoff_m)


# ------------------------------------------------------------------------------------------
class LearnedForecaster(Forecaster):
    """Poisson gradient boosting (scikit-learn HistGradientBoostingRegressor) on per-cell
    features: event rates over lagged windows, smoothed neighbourhood rates, distance to the
    nearest metro and railway station (when `stations` is given: a DataFrame with lat, lon and
    kind 'metro'|'railway'), and optionally the cell's position (`use_position`). Lags are in
    increasing order. Trained on `n_train_windows` consecutive
    past windows of `train_window_days`, all ending before the fit's last event."""

    def __init__(
        self,
        grid: Any = None,
        stations: Any = None,
        lags_days: tuple[float, ...] = (7.0, 30.0, 90.0, 365.0),
        train_window_days: float = 28.0,
        n_train_windows: int = 6,
        zero_keep: float = 0.1,
        max_iter: int = 40,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        refit_days: float = 30.0,
        random_state: int = 0,
        n_threads: int | None = 1,
        use_position: bool = False,
    ) -> None:
        self.grid = grid
        self.stations = stations
        self.lags_days = lags_days
        self.train_window_days = train_window_days
        self.n_train_windows = n_train_windows
        self.zero_keep = zero_keep
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.refit_days = refit_days
        self.random_state = random_state
        self.n_threads = n_threads
        self.use_position = use_position

    def _static_features(self) -> np.ndarray:
        g = self.grid
        cx, cy = g.centroids()
        cols = [cx, cy] if self.use_position else []
        self.feature_names_ = ["x", "y"] if self.use_position else []
        st = self.stations
        if st is not None and len(st):
            from safecities.geo import to_metres

            for kind in ("metro", "railway"):
                sub = st[st["kind"] == kind] if "kind" in st.columns else st
                if len(sub) == 0:
                    continue
                sx, sy = to_metres(sub["lon"].to_numpy(), sub["lat"].to_numpy(), g.crs)
                d, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([cx, cy]))
                cols.append(d)
                self.feature_names_.append(f"dist_{kind}_m")
        return np.column_stack(cols) if cols else np.zeros((g.n_cells, 0))

    def _features(self, ev: EventArray, s: float) -> np.ndarray:
        g = self.grid
        cols = [self.static_]
        smooth = []
        for lag in self.lags_days:
            e = ev.between(s - lag, s)
            span = self._span(s, lag)  # a lag longer than the data divides by the data
            cols.append((g.counts(e.x, e.y) / span)[:, None])
            if lag >= 30:  # neighbourhood rates where there are enough events to smooth
                sm = g.gaussian_mass(e.x, e.y, None, 2 * g.cell_size, 6 * g.cell_size) / span
                smooth.append(sm[:, None])
        return np.hstack(cols + smooth)

    def _fit(self, ev: EventArray) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.static_ = self._static_features()
        s0 = self.until_
        w = float(self.train_window_days)
        xs, ys = [], []
        # target windows inside the data only (at least one): a window before the data's start
        # would teach the model that quiet is normal
        n_win = min(int(self.n_train_windows), int((s0 - self.history_start_) // w))
        for k in range(1, max(n_win, 1) + 1):
            s = s0 - w * k  # target window [s, s + w) ends at or before s0
            tgt = ev.between(s, s + w)
            xs.append(self._features(ev.before(s), s))
            ys.append(self.grid.counts(tgt.x, tgt.y) / w)
        X, y = np.vstack(xs), np.concatenate(ys)
        # cells with no event in the longest lag and none in the target window carry little
        # information: keep a random `zero_keep` share, reweighted (the Poisson loss stays
        # unbiased), so fitting a city of 30,000 cells takes seconds, not minutes
        longest = self.static_.shape[1] + len(self.lags_days) - 1  # longest lag, raw count
        quiet = (X[:, longest] == 0) & (y == 0)
        rng = np.random.default_rng(self.random_state)
        keep = ~quiet | (rng.random(len(y)) < self.zero_keep)
        weight = np.where(quiet, w / self.zero_keep, w)[keep]
        X, y = X[keep], y[keep]
        self.n_train_rows_ = len(y)
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            max_bins=63,
            min_samples_leaf=50,
            early_stopping=False,
            random_state=self.random_state,
        )
        if y.sum() <= 0:
            self.model_ = None
            return
        from threadpoolctl import threadpool_limits

        with threadpool_limits(self.n_threads):  # OpenMP on a shared machine: one thread
            self.model_.fit(X, y, sample_weight=weight)

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        if self.model_ is None:
            return np.zeros(self.grid.n_cells)
        from threadpoolctl import threadpool_limits

        X = self._features(self.history_.before(start), start)
        # the trees only see which of <= 63 bins each feature falls in: cells whose binned rows
        # agree get the same prediction, so predict each distinct binned row once
        X = np.ascontiguousarray(X, dtype=np.float64)
        try:
            key = np.ascontiguousarray(self.model_._bin_mapper.transform(X))
        except AttributeError:  # pragma: no cover - scikit-learn internals moved: raw rows
            key = X
        rows = key.view(np.dtype((np.void, key.dtype.itemsize * key.shape[1]))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        with threadpool_limits(self.n_threads):
            return self.model_.predict(X[first])[inverse.ravel()] * horizon


# ------------------------------------------------------------------------------------------
def _xy(ev: EventArray) -> tuple[np.ndarray, np.ndarray]:
    return ev.x, ev.y


def auto_candidates(grid: Any) -> dict[str, Forecaster]:
    """What `auto` chooses among: each method with a few settings (window, bandwidth, time
    decay, triggering or not). The learned model is left out: it costs minutes per refit."""
    two_cells = 2.0 * float(grid.cell_size)
    return {
        "naive(365d)": NaiveForecaster(grid, window_days=365.0),
        "kde(90d)": KDEForecaster(grid, window_days=90.0),
        "kde(365d)": KDEForecaster(grid, window_days=365.0),
        "kde(730d)": KDEForecaster(grid, window_days=730.0),
        f"kde(365d,{two_cells:g}m)": KDEForecaster(grid, window_days=365.0, bandwidth=two_cells),
        "prospective(60d)": ProspectiveForecaster(grid, time_bandwidth_days=60.0),
        "prospective(120d)": ProspectiveForecaster(grid, time_bandwidth_days=120.0),
        "sepp": SEPPForecaster(grid),
    }


class AutoForecaster(Forecaster):
    """At each fit, chooses among `auto_candidates` by rolling-origin validation on the
    history before the origin only: every candidate is fitted on the events before
    `validation_days` ago and scored on the following windows of `validation_horizon_days`
    (updated between windows, as the backtest does) by the share of all validation events that
    fall in its top `coverage` % of cells (pooled over windows: steadier than a mean of
    per-window PAIs when windows hold few events).

    A few dozen validation events make that share noisy, so the best-scoring candidate replaces
    `default` only when it caught more events than the default by more than `min_z` standard
    errors of a paired sign test (events caught by exactly one of the two); otherwise the
    default stays. Without validation events (a history of days) it takes `kde(365d)`. The
    choice is refitted on the whole history; `scores_` keeps every candidate's validation
    figures and `choice_reason_` says which rule decided."""

    def __init__(
        self,
        grid: Any = None,
        validation_days: float = 168.0,
        validation_horizon_days: float = 7.0,
        coverage: float = 5.0,
        default: str = "sepp",
        min_z: float = 1.0,
        refit_days: float = 30.0,
        seed: int = 0,
    ) -> None:
        self.grid = grid
        self.validation_days = validation_days
        self.validation_horizon_days = validation_horizon_days
        self.coverage = coverage
        self.default = default
        self.min_z = min_z
        self.refit_days = refit_days
        self.seed = seed

    def _fit(self, ev: EventArray) -> None:
        from sklearn.base import clone

        from safecities.hotspots.backtest import rank_cells

        g, until = self.grid, self.until_
        # short histories: validate on the later half at most
        vdays = min(float(self.validation_days), 0.5 * (until - self.history_start_))
        vh = min(float(self.validation_horizon_days), max(vdays, 1e-9))
        v0 = until - vdays
        origins = np.arange(v0, until - 1e-9, vh) if vdays >= 1.0 else np.array([])
        n_top = max(int(math.ceil(g.n_cells * float(self.coverage) / 100.0)), 1)
        cands = auto_candidates(g)
        actuals = [g.counts(*_xy(ev.between(s, min(s + vh, until)))) for s in origins]
        tops: dict[str, list[np.ndarray]] = {}
        for name, est in cands.items():
            fitted, tops[name] = None, []
            for i, s in enumerate(origins):
                train = ev.before(s)
                if len(train) == 0:
                    tops[name].append(np.zeros(g.n_cells, bool))
                    continue
                if fitted is None:
                    fitted = clone(est).fit(train, until=s)
                else:
                    fitted.update(train, until=s)
                mask = np.zeros(g.n_cells, bool)
                risk = fitted.predict(s, min(s + vh, until) - s)
                mask[rank_cells(risk, self.seed + i)[:n_top]] = True
                tops[name].append(mask)
        total = float(sum(a.sum() for a in actuals))

        def caught(name: str, other: str | None = None) -> float:
            """Validation events in `name`'s top cells (and outside `other`'s, if given)."""
            return float(
                sum(
                    a[m & ~tops[other][k]].sum() if other else a[m].sum()
                    for k, (a, m) in enumerate(zip(actuals, tops[name], strict=True))
                )
            )

        scores: dict[str, dict[str, Any]] = {}
        for name in cands:
            hit = caught(name) / total if total > 0 else math.nan
            scores[name] = {
                "hit_rate": hit,
                "pai": hit / (n_top / g.n_cells) if total > 0 else math.nan,
                "n_events": int(total),
            }
        default = self.default if self.default in cands else "kde(365d)"
        best = max(cands, key=lambda n: caught(n) if total > 0 else 0.0)
        if total <= 0:  # nothing to validate on: the plainest surface, not a fitted model
            chosen, reason = "kde(365d)", "no validation events: the plain kernel density"
        elif best == default:
            chosen, reason = default, "the default scored best"
        else:
            gain, loss = caught(best, default), caught(default, best)
            z = (gain - loss) / math.sqrt(gain + loss) if gain + loss > 0 else 0.0
            scores[best]["z_against_default"] = z
            if z > float(self.min_z):
                chosen, reason = best, f"beat the default by z = {z:.2f} > {self.min_z:g}"
            else:
                chosen, reason = default, f"{best} scored best but only by z = {z:.2f}"
        self.chosen_name_, self.choice_reason_ = chosen, reason
        self.scores_ = scores
        self.n_validation_windows_ = len(origins)
        self.validation_days_ = vdays
        self.chosen_ = clone(cands[chosen]).fit(ev, until=until)

    def update(self, events: Any, until: Any = None) -> Forecaster:
        super().update(events, until)
        self.chosen_.update(events, until)
        return self

    def _predict(self, start: float, horizon: float) -> np.ndarray:
        return self.chosen_._predict(start, horizon)


METHODS: dict[str, type[Forecaster]] = {
    "naive": NaiveForecaster,
    "kde": KDEForecaster,
    "prospective": ProspectiveForecaster,
    "sepp": SEPPForecaster,
    "learned": LearnedForecaster,
    "auto": AutoForecaster,
}


def make_forecaster(name: str, grid: Any, **params: Any) -> Forecaster:
    """A forecaster by method name (`naive`, `kde`, `prospective`, `sepp`, `learned`,
    `auto`)."""
    try:
        cls = METHODS[name]
    except KeyError:
        from safecities.errors import InputError

        raise InputError(f"unknown method {name!r}; choose from {', '.join(METHODS)}") from None
    est = cls(grid=grid)
    valid = est.get_params()
    return est.set_params(**{k: v for k, v in params.items() if k in valid})
