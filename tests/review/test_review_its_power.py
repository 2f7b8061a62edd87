"""ITS recovers a planted level change; power matches the normal approximation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.errors import InputError
from safecities.review.its import ITS, _design, aggregate_counts
from safecities.review.power import detection_probability, power_analysis


def _series(effect: float, seed: int = 1, months: int = 60, t0: int = 42) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    mu = 40 * np.exp(0.004 * t + 0.15 * np.sin(2 * np.pi * t / 12))
    mu = mu * np.where(t >= t0, 1 + effect, 1.0)
    idx = pd.date_range("2020-01-01", periods=months, freq="MS")
    return pd.Series(rng.poisson(mu).astype(float), index=idx)


def test_its_recovers_planted_reduction():
    s = _series(-0.3)
    res = ITS(s, "2023-07-01").fit(seed=0, n_sim=1000)
    lo, hi = res.conf_int()
    assert lo < 0.7 < hi and hi < 1
    assert res.events_averted > 0
    assert res.events_averted_ci[0] > 0
    assert res.placebo["ran"] and res.placebo["passed"]
    assert "Bernal" in res.to_dict()["reference"]


def test_its_no_effect_interval_covers_one():
    res = ITS(_series(0.0, seed=5), "2023-07-01").fit(seed=0, n_sim=500)
    lo, hi = res.rate_ratio_ci
    assert lo < 1 < hi


def test_its_overdispersed_uses_negative_binomial():
    rng = np.random.default_rng(2)
    idx = pd.date_range("2020-01-01", periods=60, freq="MS")
    s = pd.Series(rng.negative_binomial(2, 2 / (2 + 30), size=60).astype(float), index=idx)
    res = ITS(s, "2023-07-01").fit(seed=0, n_sim=300, placebo=False)
    assert res.family == "negative_binomial"


def test_its_too_short_is_input_error():
    with pytest.raises(InputError):
        ITS(_series(0.0, months=8, t0=4), "2020-03-01")


def test_aggregate_events_to_weeks():
    dates = pd.Series(pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-20"]))
    s = aggregate_counts(dates, None, "week")
    assert s.tolist() == [2.0, 0.0, 1.0]


def test_power_matches_normal_approximation():
    # 8 a month, 12 before, 8 after, 30% fewer: normal approximation gives ~0.50.
    p = detection_probability(8, 8, -0.3, n_sim=4000, seed=1)
    assert 0.44 <= p <= 0.56
    assert detection_probability(8, 8, 0.0, n_sim=4000, seed=1) <= 0.06
    res = power_analysis(100, 12, -0.3, seed=1)
    assert res.detection_probability > 0.99
    assert -0.14 < res.mde < -0.08


def test_cli_power_json():
    args = ["review", "power", "--baseline-per-month", "5", "--months", "6",
            "--effect", "-30", "--json"]  # fmt: skip
    r = CliRunner().invoke(build_app(), args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert 0 <= out["detection_probability"] <= 1
    assert out["mde_pct"] is None or out["mde_pct"] < 0
    assert out["manifest"]["command"] == "review power"
    bad = CliRunner().invoke(build_app(), [*args[:-3], "--effect", "-150", "--json"])
    assert bad.exit_code != 0 and isinstance(bad.exception, InputError)


def test_cli_its_json(tmp_path):
    s = _series(-0.3)
    path = tmp_path / "series.csv"
    pd.DataFrame({"month": s.index.strftime("%Y-%m-%d"), "n": s.to_numpy()}).to_csv(
        path, index=False
    )
    args = ["review", "its", "--series", str(path), "--date-col", "month", "--count-col", "n",
            "--intervention", "2023-07-01", "--json"]  # fmt: skip
    r = CliRunner().invoke(build_app(), args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for key in ("rate_ratio", "rate_ratio_ci_95", "events_averted", "counterfactual_pi_95",
                "placebo_in_time", "power", "reference", "manifest"):  # fmt: skip
        assert key in out
    assert out["rate_ratio"] < 1


def test_power_under_overdispersion_keeps_its_size():
    """A zero effect on negative binomial counts is 'detected' about alpha of the time (the
    Poisson exact test applied to NB counts said 36 %), and a real effect less often than if the
    counts were Poisson (overdispersion costs power)."""
    from safecities.review.power import detection_probability

    for base, disp in ((2.0, 0.5), (8.0, 0.3), (20.0, 0.2)):
        size = detection_probability(base, 6, 0.0, pre_months=12, dispersion=disp,
                                     n_sim=4000, seed=3)  # fmt: skip
        assert size <= 0.065, (base, disp, size)
    nb = detection_probability(8.0, 12, -0.3, pre_months=24, dispersion=0.3, n_sim=2000, seed=3)
    pois = detection_probability(8.0, 12, -0.3, pre_months=24, n_sim=2000, seed=3)
    assert 0.1 < nb < pois
    r = power_analysis(8.0, 12, -0.3, pre_months=24, dispersion=0.3, n_sim=500, seed=3)
    assert "negative binomial" in r.to_dict()["test"] and "overdispersed" in r.words


def _weekly(n: int, t0: int, mu: float, rho: float = 0.0, seed: int = 0) -> pd.Series:
    """Weekly counts, log-rate with AR(1) noise of autocorrelation `rho` (0: plain Poisson)."""
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + rng.normal(0, 0.35 if rho else 0.0)
    idx = pd.date_range("2022-01-03", periods=n, freq="W-MON")
    return pd.Series(rng.poisson(mu * np.exp(e)).astype(float), index=idx)


def test_its_autocorrelation_is_tested_and_corrected():
    s = _weekly(156, 120, 12.0, rho=0.8, seed=2)
    res = ITS(s, s.index[120], freq="week").fit(seed=0, n_sim=300, placebo=False)
    ac = res.to_dict()["autocorrelation"]
    assert ac["test"].startswith("Ljung-Box") and ac["p_value"] < 0.05 and ac["corrected"]
    assert ac["latent_lr_p_value"] < 0.05 and ac["latent_rho"] > 0.3 and ac["lag1"] > 0.2
    assert ac["variance_inflation"] > 1.5 and 2 <= ac["t_df"] < 36
    assert "REML latent AR(1)" in ac["covariance"] and ac["covariance"] in res.to_dict()["model"]
    assert any("autocorrelation" in w for w in res.warnings)
    plain = ITS(_weekly(156, 120, 12.0, seed=3), "2024-04-22", freq="week").fit(
        seed=0, n_sim=300, placebo=False
    )
    assert plain.autocorrelation["p_value"] > 0.05 and not plain.autocorrelation["corrected"]
    assert plain.autocorrelation["variance_inflation"] == 1.0
    assert plain.autocorrelation["t_df"] is None and plain.autocorrelation["covariance"] == (
        "model-based"
    )


def test_its_no_false_effect_on_a_strongly_autocorrelated_series():
    """No effect planted, latent AR(1) rho 0.8 (seed 7): the model-based GLM covariance (the
    behaviour before issue 19, and nearly that of the moment-based inflation that followed:
    p 0.0004) calls the level change significant; the REML latent AR(1) sandwich with its t
    reference does not, and its interval covers 1."""
    import statsmodels.api as sm

    s = _weekly(130, 104, 8.0, rho=0.8, seed=7)
    m = ITS(s, s.index[104], freq="week", slope=False)
    res = m.fit(seed=0, n_sim=500, placebo=False)
    X = _design(len(s), m.t0, 52.1775, m.harmonics, slope=False)
    fam = (sm.families.Poisson() if res.family == "poisson"
           else sm.families.NegativeBinomial(alpha=res.alpha_nb))  # fmt: skip
    plain = sm.GLM(s.to_numpy(), X, family=fam).fit()
    assert plain.pvalues["level_change"] < 0.01  # the old answer: a false effect
    assert res.autocorrelation["corrected"] and res.p_level > 0.05
    assert res.level_change[1] < 1 < res.level_change[2]
    assert res.rate_ratio_ci[0] < 1 < res.rate_ratio_ci[1]
    # the point estimate is unchanged: only the uncertainty is corrected
    assert res.level_change[0] == pytest.approx(float(np.exp(plain.params["level_change"])))


def test_two_full_years_of_weeks_give_two_harmonics():
    s = _weekly(130, 104, 10.0, seed=4)
    assert ITS(s, s.index[104], freq="week").harmonics == 2
    assert ITS(s, s.index[103], freq="week").harmonics == 1


def test_few_events_make_the_level_only_model_primary():
    """9 events before and 8 after (the case that printed '9.17 times the expected rate'):
    the level change alone is the primary model, the slope model a sensitivity, and a warning
    says the counterfactual is extrapolated from few events."""
    idx = pd.date_range("2024-01-01", periods=36, freq="MS")
    y = np.zeros(36)
    y[[1, 4, 7, 9, 12, 15, 18, 20, 23]] = 1
    y[[25, 26, 28, 29, 31, 32, 34, 35]] = 1
    res = ITS(pd.Series(y, index=idx), "2026-01-01").fit(seed=0, n_sim=300)
    out = res.to_dict()
    assert out["primary_model"] == "level_only" and "slope_change" not in out["params"]
    assert out["sensitivity"]["model"] == "level and slope change"
    assert any("few events" in w for w in out["warnings"])
    assert out["rate_ratio_ci_95"][1] < 20


def test_level_change_matches_statsmodels_glm():
    """The ITS's level change is statsmodels' own Poisson GLM coefficient on the same design
    (statsmodels.genmod.GLM, log link): exp(b_level) to 1e-8."""
    import statsmodels.api as sm

    s = _series(-0.25, seed=7)
    m = ITS(s, "2023-07-01", family="poisson")
    res = m.fit(seed=0, n_sim=200, placebo=False)
    t = np.arange(len(s), dtype=float)
    post = (t >= m.t0).astype(float)
    X = np.column_stack(
        [
            np.ones(len(s)),
            t,
            post,
            (t - m.t0) * post,
            *[f(2 * np.pi * h * t / 12) for h in (1, 2) for f in (np.sin, np.cos)],
        ]
    )
    ref = sm.GLM(s.to_numpy(), X, family=sm.families.Poisson()).fit()
    assert res.level_change[0] == pytest.approx(float(np.exp(ref.params[2])), rel=1e-8)
    # without residual autocorrelation the standard error is statsmodels' own
    if not res.autocorrelation["corrected"]:
        assert float(res.bse["level_change"]) == pytest.approx(float(ref.bse[2]), rel=1e-6)
