"""Forecasters: the scikit-learn habit, planted hotspots, a known self-exciting process."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from safecities.hotspots.backtest import backtest, rank_cells
from safecities.hotspots.events import EventArray
from safecities.hotspots.forecast import (
    METHODS,
    KDEForecaster,
    SEPPForecaster,
    make_forecaster,
)
from safecities.hotspots.simulate import planted_hotspots

ALL = list(METHODS)


@pytest.mark.parametrize("name", ALL)
def test_sklearn_habit(name, square_grid, sepp_events, t0):
    est = make_forecaster(name, square_grid)
    params = est.get_params()
    assert "grid" in params
    c = clone(est)
    assert c.get_params().keys() == params.keys()
    train = sepp_events.before(t0 + 400)
    assert est.fit(train) is est
    risk = est.predict(t0 + 400, 1.0)
    assert risk.shape == (square_grid.n_cells,)
    assert np.isfinite(risk).all() and (risk >= 0).all() and risk.sum() > 0
    # expected counts are on the scale of the event rate (about 4 a day here)
    assert 0.5 < risk.sum() < 20
    assert est.update(sepp_events.before(t0 + 401)) is est
    with pytest.raises(Exception, match="not fitted"):
        make_forecaster(name, square_grid).predict(t0, 1.0)


@pytest.mark.parametrize("name", ALL)
def test_planted_hotspots_rank_first(name, square_grid, t0):
    """Three tight clusters in 5 x 5 km of uniform background: each method's top cells must
    be exactly the planted cells."""
    centres = [(648_625.0, 664_625.0), (651_125.0, 666_375.0), (652_375.0, 668_125.0)]
    ev = planted_hotspots(
        centres=centres, per_hotspot=600, background=1500,
        bounds=(648_000, 664_000, 653_000, 669_000), spread_m=40.0, days=365, t0=t0, seed=3,
    )  # fmt: skip
    est = make_forecaster(name, square_grid).fit(ev)
    risk = est.predict(t0 + 365, 7.0)
    planted = set(square_grid.locate(*np.array(centres).T).tolist())
    top3 = set(rank_cells(risk)[:3].tolist())
    assert top3 == planted, name


def test_sepp_recovers_triggering_parameters(square_grid, sepp_events, true_params):
    """Stated tolerances: branching ratio theta within 0.1, mean delay 1/omega within 25 %,
    spatial sigma within 20 %, on 2 years (~2,900 events) of the simulated process."""
    est = SEPPForecaster(grid=square_grid, window_days=None).fit(sepp_events)
    assert est.converged_
    assert abs(est.theta_ - true_params["theta"]) < 0.1
    assert est.mean_delay_days_ == pytest.approx(1 / true_params["omega"], rel=0.25)
    assert est.sigma_ == pytest.approx(true_params["sigma"], rel=0.2)
    assert est.n_pairs_ < len(sepp_events) * 50  # sparse neighbour lists, not n x n


def test_sepp_beats_kde_on_self_exciting_data(square_grid, sepp_events, t0):
    res = backtest(
        {"kde": KDEForecaster(grid=square_grid), "sepp": SEPPForecaster(grid=square_grid)},
        sepp_events, t0 + 600, t0 + 700, 1.0, coverages=(5.0,),
    )  # fmt: skip
    rows = {r["method"]: r for r in res.table()}
    assert rows["sepp"]["hit_rate"] > rows["kde"]["hit_rate"] + 0.05
    # and significantly: SEPP's interval lies above KDE's mean
    assert rows["sepp"]["hit_rate_ci"][0] > rows["kde"]["hit_rate"]


def test_sepp_survives_duplicates_and_simultaneous_events(square_grid, sepp_events):
    ev = sepp_events.before(sepp_events.t[0] + 200)
    k = len(ev)
    # every event three times (exact duplicates) plus a burst of 20 events at one instant
    burst_t = np.full(20, ev.t[k // 2])
    t = np.concatenate([ev.t, ev.t, ev.t, burst_t])
    x = np.concatenate([ev.x, ev.x, ev.x, np.linspace(649_000, 652_000, 20)])
    y = np.concatenate([ev.y, ev.y, ev.y, np.full(20, 666_000.0)])
    o = np.argsort(t, kind="stable")
    dup = EventArray(t[o], x[o], y[o], ev.crs)
    est = SEPPForecaster(grid=square_grid).fit(dup)
    assert np.isfinite([est.theta_, est.omega_, est.sigma_, est.loglik_]).all()
    risk = est.predict(float(t.max()) + 1e-6, 1.0)
    assert np.isfinite(risk).all()
    # a handful of events, or all at one instant: still a valid surface
    tiny = EventArray(np.zeros(3), x[:3], y[:3], ev.crs)
    assert np.isfinite(SEPPForecaster(grid=square_grid).fit(tiny).predict(1.0, 1.0)).all()
    same = EventArray(np.zeros(50), x[:50], y[:50], ev.crs)
    assert np.isfinite(SEPPForecaster(grid=square_grid).fit(same).predict(1.0, 1.0)).all()


def test_kde_bandwidth_by_likelihood_cv_is_local(square_grid, sepp_events):
    est = KDEForecaster(grid=square_grid).fit(sepp_events.before(sepp_events.t[0] + 365))
    # clustered at sigma = 80 m: the cross-validated bandwidth stays well below a kilometre
    assert 25 <= est.bandwidth_ < 600
    fixed = KDEForecaster(grid=square_grid, bandwidth=300.0).fit(sepp_events)
    assert fixed.bandwidth_ == 300.0


def test_learned_uses_station_distance(square_grid, sepp_events, t0):
    import pandas as pd

    from safecities.geo import to_wgs84

    lon, lat = to_wgs84(np.array([650_000.0, 652_000.0]), np.array([666_000.0, 667_000.0]))
    stations = pd.DataFrame({"lat": lat, "lon": lon, "kind": ["metro", "railway"]})
    est = make_forecaster("learned", square_grid, stations=stations, max_iter=20)
    est.fit(sepp_events.before(t0 + 400))
    assert "dist_metro_m" in est.feature_names_ and "dist_railway_m" in est.feature_names_
    assert est.predict(t0 + 400, 1.0).sum() > 0
