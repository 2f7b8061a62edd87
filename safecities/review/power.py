"""Power by simulation: the probability of detecting an effect, and the minimum detectable effect.

Designs (all two-sided, level `alpha`):

- `prepost`: `pre_months` of counts at the baseline rate, then `months` at rate x (1 + effect);
  for Poisson counts the test is the exact conditional (binomial) test of two Poisson rates:
  given the total, the post count is Binomial(total, share of post exposure) under no effect.
  For negative binomial counts (dispersion > 0) that test is invalid (it rejects a zero effect
  far too often), so the test is the score test of the post indicator in a negative binomial
  regression with that dispersion (variance mu + a mu^2 at the pooled mean), whose size stays
  near `alpha` (benchmarks/review.py checks it).
- `its`: the same counts analysed as an interrupted time series (Poisson GLM with trend and a level
  change; Wald test of the level change). Slower: one GLM per simulated series.

Counts are Poisson, or negative binomial with dispersion `dispersion` (variance mu + a mu^2) for
overdispersed series. A handful of shootings a month gives little power: the point of this module
is to say so next to every estimate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import stats

from safecities.errors import InputError
from safecities.review.methods import REFERENCES

DESIGNS = ("prepost", "its")


def _counts(rng: np.random.Generator, mu: np.ndarray, dispersion: float) -> np.ndarray:
    if dispersion < 1e-9:  # numerically Poisson (and 1/dispersion would overflow numpy's sampler)
        return rng.poisson(mu)
    n = 1.0 / dispersion
    return rng.negative_binomial(n, n / (n + mu))


def _reject_prepost(
    pre: np.ndarray, post: np.ndarray, pre_months: int, months: int, alpha: float
) -> np.ndarray:
    total = pre + post
    share = months / (months + pre_months)
    lo = stats.binom.cdf(post, total, share)
    hi = stats.binom.sf(post - 1, total, share)
    p = np.minimum(1.0, 2 * np.minimum(lo, hi))
    p[total == 0] = 1.0
    return p < alpha


def _reject_prepost_nb(
    pre: np.ndarray, post: np.ndarray, pre_months: int, months: int, alpha: float, a: float
) -> np.ndarray:
    """Score test of 'same rate before and after' for NB2 counts with known dispersion `a`:
    z = (post - months * mu0) / sqrt(mu0 (1 + a mu0) pre_months months / n), mu0 the pooled
    mean per period (the NB2 score and information of the post indicator at b1 = 0)."""
    n = pre_months + months
    mu0 = (pre + post) / n
    var = mu0 * (1 + a * mu0) * pre_months * months / n
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (post - months * mu0) / np.sqrt(var)
    p = 2 * stats.norm.sf(np.abs(z))
    p[(pre + post) == 0] = 1.0
    return p < alpha


def detection_probability(
    baseline_per_month: float,
    months: int,
    effect: float,
    *,
    pre_months: int = 12,
    design: str = "prepost",
    alpha: float = 0.05,
    dispersion: float = 0.0,
    n_sim: int = 2000,
    seed: int = 0,
) -> float:
    """Share of simulated studies whose test rejects 'no effect' (effect: -0.3 = 30% fewer)."""
    _check(baseline_per_month, months, effect, pre_months, design, alpha, n_sim)
    rng = np.random.default_rng(seed)
    if design == "prepost":
        # Monthly counts summed: a Poisson sum is Poisson; NB sums are simulated month by month.
        pre_mu = np.full((n_sim, pre_months), baseline_per_month)
        post_mu = np.full((n_sim, months), baseline_per_month * (1 + effect))
        pre = _counts(rng, pre_mu, dispersion).sum(1)
        post = _counts(rng, post_mu, dispersion).sum(1)
        if dispersion >= 1e-9:
            return float(
                _reject_prepost_nb(pre, post, pre_months, months, alpha, dispersion).mean()
            )
        return float(_reject_prepost(pre, post, pre_months, months, alpha).mean())
    n = pre_months + months
    t = np.arange(n, dtype=float)
    step = (t >= pre_months).astype(float)
    X = np.column_stack([np.ones(n), t, step])
    mu = baseline_per_month * np.where(step > 0, 1 + effect, 1.0)
    rejections = 0
    for _ in range(n_sim):
        y = _counts(rng, mu, dispersion)
        if y.sum() == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                r = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
            except Exception:  # noqa: BLE001 - a degenerate draw counts as no detection
                continue
        rejections += bool(r.pvalues[2] < alpha)
    return rejections / n_sim


def minimum_detectable_effect(
    baseline_per_month: float,
    months: int,
    *,
    direction: float = -1.0,
    target_power: float = 0.8,
    pre_months: int = 12,
    design: str = "prepost",
    alpha: float = 0.05,
    dispersion: float = 0.0,
    n_sim: int = 2000,
    seed: int = 0,
) -> float | None:
    """Smallest relative change (in `direction`) detected with `target_power`; None if even a
    99% reduction (or a 5-fold increase) is not. Bisection with common random numbers."""
    cap = (0.99 if design == "prepost" else 0.9) if direction < 0 else 4.0

    def power(size: float) -> float:
        return detection_probability(
            baseline_per_month, months, direction * size, pre_months=pre_months, design=design,
            alpha=alpha, dispersion=dispersion, n_sim=n_sim, seed=seed,
        )  # fmt: skip

    if power(cap) < target_power:
        return None
    lo, hi = 0.0, cap
    for _ in range(10 if design == "prepost" else 6):
        mid = (lo + hi) / 2
        if power(mid) >= target_power:
            hi = mid
        else:
            lo = mid
    return direction * hi


def _check(
    baseline: float, months: int, effect: float, pre_months: int, design: str, alpha: float,
    n_sim: int,
) -> None:  # fmt: skip
    if not baseline > 0:
        raise InputError("--baseline-per-month must be positive")
    if months < 1 or pre_months < 1:
        raise InputError("--months and --pre-months must be at least 1")
    if effect <= -1:
        raise InputError("--effect must be above -100 (percent)")
    if design not in DESIGNS:
        raise InputError(f"--design: {design!r} must be one of {', '.join(DESIGNS)}")
    if design == "its" and pre_months < 3:
        raise InputError("--design its needs at least 3 pre-months")
    if not 0 < alpha < 1:
        raise InputError("--alpha must be between 0 and 1")
    if n_sim < 10:
        raise InputError("--sims must be at least 10")


@dataclass(frozen=True)
class PowerResult:
    baseline_per_month: float
    months: int
    pre_months: int
    effect: float
    design: str
    alpha: float
    dispersion: float
    n_sim: int
    detection_probability: float
    mde: float | None
    target_power: float = 0.8
    period: str = "month"  # what one period is (month, week, or a panel's "period")
    method: str = field(default=REFERENCES["power"])

    @property
    def words(self) -> str:
        mde = "not reachable" if self.mde is None else f"{abs(self.mde) * 100:.0f}%"
        disp = (
            f" (overdispersed counts, negative binomial alpha {self.dispersion:.2g})"
            if self.dispersion >= 1e-9
            else ""
        )
        p = self.period
        return (
            f"With {self.baseline_per_month:.3g} events a {p}{disp}, {self.pre_months} {p}s "
            f"before and {self.months} after, a {abs(self.effect) * 100:.0f}% change is detected "
            f"with probability {self.detection_probability:.0%}; the smallest change detected "
            f"80% of the time is {mde}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "power_by_simulation",
            "reference": self.method,
            "design": self.design,
            "test": (
                (
                    "score test of the post indicator, negative binomial with the given dispersion"
                    if self.dispersion >= 1e-9
                    else "exact conditional test of two Poisson rates"
                )
                if self.design == "prepost"
                else "Wald test of the level change in a segmented quasi-Poisson GLM"
            ),
            "period": self.period,
            "baseline_per_month": self.baseline_per_month,  # per `period` (name kept)
            "baseline_per_period": self.baseline_per_month,
            "months": self.months,
            "pre_months": self.pre_months,
            "effect": self.effect,
            "effect_pct": self.effect * 100,
            "alpha": self.alpha,
            "dispersion": self.dispersion,
            "n_sim": self.n_sim,
            "detection_probability": self.detection_probability,
            "target_power": self.target_power,
            "mde": self.mde,
            "mde_pct": None if self.mde is None else self.mde * 100,
            "words": self.words,
        }


def power_analysis(
    baseline_per_month: float,
    months: int,
    effect: float,
    *,
    pre_months: int = 12,
    design: str = "prepost",
    alpha: float = 0.05,
    dispersion: float = 0.0,
    n_sim: int | None = None,
    seed: int = 0,
    period: str = "month",
) -> PowerResult:
    n_sim = n_sim or (4000 if design == "prepost" else 300)
    kw: dict[str, Any] = dict(
        pre_months=pre_months, design=design, alpha=alpha, dispersion=dispersion, seed=seed
    )
    p = detection_probability(baseline_per_month, months, effect, n_sim=n_sim, **kw)
    mde = minimum_detectable_effect(
        baseline_per_month, months, direction=-1.0 if effect <= 0 else 1.0,
        n_sim=n_sim if design == "prepost" else max(100, n_sim // 3), **kw,
    )  # fmt: skip
    return PowerResult(
        baseline_per_month=baseline_per_month, months=months, pre_months=pre_months,
        effect=effect, design=design, alpha=alpha, dispersion=dispersion, n_sim=n_sim,
        detection_probability=p, mde=mde, period=period,
    )  # fmt: skip
