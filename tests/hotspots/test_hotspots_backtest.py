"""Backtest: scores, never seeing the future, joblib and Dask fan-out."""

from __future__ import annotations

import numpy as np
import pytest

from safecities.hotspots.backtest import backtest, mean_ci, score_window
from safecities.hotspots.forecast import Forecaster, NaiveForecaster


class Spy(Forecaster):
    """Fails the run if it is ever given an event at or after the origin it must predict."""

    refit_days = 0.0

    def __init__(self, grid=None, refit_days: float = 0.0) -> None:
        self.grid = grid
        self.refit_days = refit_days

    def _predict(self, start, horizon):
        if len(self.history_) and self.history_.t.max() >= start:
            raise AssertionError(f"saw an event at {self.history_.t.max()} >= origin {start}")
        return np.ones(self.grid.n_cells)


def test_scores_by_hand():
    risk = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0, 0, 0, 0, 0])
    actual = np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0])
    s = score_window(risk, actual, (10.0, 20.0, 100.0))
    hit, pai, pei = s[0]
    assert hit == 0.25 and pai == pytest.approx(2.5) and pei == pytest.approx(1 / 3)
    assert s[2][0] == 1.0 and s[2][1] == pytest.approx(1.0) and s[2][2] == 1.0
    assert np.isnan(score_window(risk, np.zeros(10), (10.0,))).all()
    m, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0, np.nan]))
    assert m == 2.0 and lo < 2.0 < hi


def test_ties_are_broken_at_random_not_by_cell_order():
    flat = np.zeros(1000)
    actual = np.zeros(1000)
    actual[:10] = 1  # events in the first cells: a cell-order tie-break would look perfect
    hit = np.nanmean([score_window(flat, actual, (5.0,), seed=s)[0, 0] for s in range(50)])
    assert hit < 0.15


@pytest.mark.parametrize("refit", [0.0, 7.0])
def test_backtest_never_passes_events_after_the_origin(square_grid, sepp_events, t0, refit):
    res = backtest(
        {"spy": Spy(grid=square_grid, refit_days=refit)}, sepp_events, t0 + 100, t0 + 130, 1.0
    )
    r = res.methods["spy"]
    assert len(r.origins) == 30 and r.n_fits == (30 if refit == 0 else 5)
    assert np.isfinite(r.scores[:, 0, 0]).sum() > 20
    # and a peeking method would be caught by the same check
    spy = Spy(grid=square_grid).fit(sepp_events.before(t0 + 101))
    with pytest.raises(AssertionError, match="saw an event"):
        spy.predict(t0 + 100, 1.0)


def test_parallel_and_dask_give_identical_results(square_grid, sepp_events, t0):
    from distributed import Client, LocalCluster

    ests = {"naive": NaiveForecaster(grid=square_grid), "spy": Spy(grid=square_grid)}
    args = (ests, sepp_events, t0 + 400, t0 + 440, 1.0)
    serial = backtest(*args)
    par = backtest(*args, n_jobs=2)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        dask = backtest(*args, scheduler=cluster.scheduler_address)
        dask2 = backtest(*args, scheduler=client)
    for other in (par, dask, dask2):
        for name in ests:
            np.testing.assert_array_equal(serial.methods[name].scores, other.methods[name].scores)
    assert serial.table()[0]["n_windows"] == 40
    assert serial.best(5.0) in ests
