"""Synthetic control (Abadie and Gardeazabal 2003; Abadie, Diamond and Hainmueller 2010).

Notation as in ADH (2010): X1 (k) and X0 (k x J) are the predictors of the treated unit and the
donors, Z1 and Z0 their outcomes over the fit period. For diagonal predictor weights V >= 0 with
trace 1, the donor weights are

    W*(V) = argmin_{W >= 0, sum W = 1} (X1 - X0 W)' V (X1 - X0 W)            (inner problem)

and V is chosen to minimise the pre-period loss

    L(V) = (Z1 - Z0 W*(V))' (Z1 - Z0 W*(V)) / T_fit                          (outer problem)

i.e. the mean squared prediction error over the fit period, exactly pysyncon's `loss_V` (the R
`Synth` package reports the sum, `loss.v`, which is T_fit times larger). Predictors are divided by
their standard deviation across treated and donor units first, as Synth and pysyncon do.

Inner problem. With C = V^(1/2) (X0 - X1 1'), for W on the simplex X1 - X0 W = -C W, so W* is the
point of the convex hull of C's columns nearest the origin. That is solved exactly by one
non-negative least squares problem (Lawson and Hanson's active-set NNLS, in scipy):
u* = argmin_{u >= 0} ||[C; 1'] u - e||^2 with e = (0, ..., 0, 1), then W* = u* / sum(u*). (For a
fixed s = sum(u), u = s W and the objective is s^2 ||C W||^2 + (s - 1)^2, minimised by the nearest
point W*; s* = 1 / (1 + ||C W*||^2) > 0.) No penalty constant, no general QP solver, ~30 us a call.

Outer problem. L(V) is piecewise smooth with many local minima. We screen a few hundred random
V (Dirichlet draws, plus equal weights and the regression-based start of Synth/pysyncon), run
Nelder-Mead from the best distinct ones, and keep the best; every start's final loss is reported,
together with the lower bound min_W ||Z1 - Z0 W||^2 / T_fit (no predictors at all), so a user can
see whether the optimiser found the good minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from safecities.errors import InputError
from safecities.review.methods import REFERENCES
from safecities.review.panel import parse_periods, require_columns

# ---------------------------------------------------------------------------------------------
# Specification


@dataclass(frozen=True)
class Predictor:
    """A predictor: the mean of `column` over `periods` (None: the whole pre-period)."""

    column: str
    periods: tuple[Any, ...] | None = None
    spec: str = ""

    @property
    def label(self) -> str:
        return self.spec or f"{self.column} (pre-period mean)"


def parse_predictor(spec: str, times: pd.Series) -> Predictor:
    """`COLUMN:FROM-TO` (mean over the window) or `COLUMN:T1,T2,...` (mean of those periods)."""
    column, sep, period = spec.rpartition(":")
    if not sep or not column or not period:
        raise InputError(
            f"--predictor {spec!r}: expected COLUMN:FROM-TO or COLUMN:T1,T2,... (e.g. cigsale:1975)"
        )
    periods = parse_periods(period, times, f"--predictor {spec}")
    return Predictor(column=column, periods=tuple(periods), spec=spec)


# ---------------------------------------------------------------------------------------------
# Numerical core (arrays only)


def simplex_least_squares(C: np.ndarray) -> np.ndarray:
    """argmin_{w >= 0, sum w = 1} ||C w||^2 by one NNLS solve (see the module docstring)."""
    k, j = C.shape
    M = np.empty((k + 1, j))
    M[:k] = C
    M[k] = 1.0
    e = np.zeros(k + 1)
    e[k] = 1.0
    u, _ = nnls(M, e, maxiter=50 * j)
    s = u.sum()
    if s <= 0:  # cannot happen mathematically; keep a safe answer
        return np.full(j, 1.0 / j)
    return u / s


@dataclass(frozen=True)
class CoreFit:
    w: np.ndarray
    v: np.ndarray
    loss: float  # pre-period MSPE over the fit period (pysyncon's loss_V)
    loss_w: float  # (X1 - X0 W)' V (X1 - X0 W) on scaled predictors (pysyncon's loss_W)
    start_losses: tuple[float, ...]
    lower_bound: float
    evaluations: int


def _scale(X1: np.ndarray, X0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    allx = np.column_stack([X0, X1])
    sd = allx.std(axis=1, ddof=1)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    return X1 / sd, X0 / sd[:, None]


def _ols_start(
    X1s: np.ndarray, X0s: np.ndarray, Z1: np.ndarray, Z0: np.ndarray
) -> np.ndarray | None:
    """Synth's regression-based start: squared coefficients of outcomes on predictors."""
    X = np.column_stack([X0s, X1s]).T  # units x k
    X = np.column_stack([np.ones(X.shape[0]), X])
    Z = np.column_stack([Z0, Z1]).T  # units x T
    beta, *_ = np.linalg.lstsq(X, Z, rcond=None)
    x0 = np.sum(beta[1:] ** 2, axis=1)
    if not np.all(np.isfinite(x0)) or x0.sum() <= 0:
        return None
    return x0 / x0.sum()


def fit_arrays(
    X1: np.ndarray,
    X0: np.ndarray,
    Z1: np.ndarray,
    Z0: np.ndarray,
    *,
    n_starts: int = 4,
    n_screen: int = 150,
    seed: int = 0,
    maxiter: int | None = None,
    custom_v: np.ndarray | None = None,
    xatol: float = 1e-4,
    fatol: float = 1e-6,
) -> CoreFit:
    """Nested optimisation of V (outer, multi-start Nelder-Mead) and W (inner, exact NNLS)."""
    X1s, X0s = _scale(np.asarray(X1, float), np.asarray(X0, float))
    Z1 = np.asarray(Z1, float)
    Z0 = np.asarray(Z0, float)
    k, _ = X0s.shape
    T = len(Z1)
    D = X0s - X1s[:, None]
    evals = 0

    def inner(v: np.ndarray) -> np.ndarray:
        return simplex_least_squares(np.sqrt(v)[:, None] * D)

    def loss_of(w: np.ndarray) -> float:
        r = Z1 - Z0 @ w
        return float(r @ r) / T

    def objective(x: np.ndarray) -> float:
        nonlocal evals
        evals += 1
        a = np.abs(x)
        s = a.sum()
        if s <= 0:
            return np.inf
        return loss_of(inner(a / s))

    lower_bound = loss_of(simplex_least_squares(Z0 - Z1[:, None]))

    if custom_v is not None or k == 1:
        v = np.ones(k) if custom_v is None else np.abs(np.asarray(custom_v, float))
        v = v / v.sum()
        w = inner(v)
        loss = loss_of(w)
        starts: list[tuple[float, np.ndarray]] = [(loss, v)]
    else:
        rng = np.random.default_rng(seed)
        candidates = [np.full(k, 1.0 / k)]
        ols = _ols_start(X1s, X0s, Z1, Z0)
        if ols is not None:
            candidates.append(ols)
        candidates.extend(rng.dirichlet(np.full(k, 0.5), size=n_screen))
        scored = sorted(((objective(c), i) for i, c in enumerate(candidates)), key=lambda t: t[0])
        # Always start from equal weights and the regression start (the usual defaults), then
        # from the best screened draws whose weights differ.
        chosen: list[np.ndarray] = list(candidates[: 1 + (ols is not None)])
        for _, i in scored:
            if len(chosen) >= max(n_starts, len(chosen)):
                break
            c = candidates[i]
            if all(np.abs(c - o).sum() > 0.2 for o in chosen):
                chosen.append(c)
        opts = {"maxiter": maxiter or 150 * k, "xatol": xatol, "fatol": fatol, "adaptive": k > 4}
        starts = []
        for c in chosen:
            res = minimize(objective, c, method="Nelder-Mead", options=opts)
            a = np.abs(res.x)
            starts.append((float(res.fun), a / a.sum()))
        loss, v = min(starts, key=lambda t: t[0])
        w = inner(v)
        loss = loss_of(w)
    rw = X1s - X0s @ w
    return CoreFit(
        w=w,
        v=v,
        loss=loss,
        loss_w=float(rw @ (v * rw)),
        start_losses=tuple(s for s, _ in starts),
        lower_bound=lower_bound,
        evaluations=evals,
    )


#: Optimiser presets: "normal" (default) and "fast" (coarser Nelder-Mead, for quick looks/tests).
PRESETS: dict[str, dict[str, Any]] = {
    "normal": {},
    "fast": {"n_screen": 100, "xatol": 1e-3, "fatol": 1e-5, "maxiter": 300},
}

# ---------------------------------------------------------------------------------------------
# Model and results (statsmodels shape: model from data + design, fit() -> frozen results)


@dataclass(frozen=True)
class PlaceboResults:
    """In-space placebo inference: every donor in turn treated as if it had been treated."""

    ratios: pd.Series  # post/pre RMSPE ratio per unit, treated included
    pre_rmspe: pd.Series
    post_rmspe: pd.Series
    gaps: pd.DataFrame  # time x unit (placebo units and the treated unit)
    p_value: float  # share of units with ratio >= the treated unit's (treated counted)
    rank: int  # treated unit's rank by ratio, 1 = largest
    n_units: int
    p_value_mspe5: float  # same, only placebos with pre-MSPE <= 5x the treated unit's
    n_units_mspe5: int
    effects: pd.Series  # mean post-period gap per placebo unit

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": self.p_value,
            "rank": self.rank,
            "n_units": self.n_units,
            "p_value_pre_mspe_5x": self.p_value_mspe5,
            "n_units_pre_mspe_5x": self.n_units_mspe5,
            "rmspe_ratio": {str(k): float(v) for k, v in self.ratios.items()},
            "pre_rmspe": {str(k): float(v) for k, v in self.pre_rmspe.items()},
            "post_rmspe": {str(k): float(v) for k, v in self.post_rmspe.items()},
            "method": REFERENCES["scm_placebo"],
        }


@dataclass(frozen=True)
class SyntheticControlResults:
    treated: str
    intervention: Any
    weights: pd.Series  # donor -> W
    predictor_weights: pd.Series  # predictor label -> V (trace 1)
    loss: float
    loss_w: float
    loss_lower_bound: float
    start_losses: tuple[float, ...]
    observed: pd.Series  # treated outcome by time
    synthetic: pd.Series
    balance: pd.DataFrame  # predictor x [treated, synthetic, donor_mean]
    hull: dict[str, Any]
    placebo: PlaceboResults | None
    fit_period: tuple[Any, ...]
    evaluations: int
    elapsed_s: float
    method: str = field(default=REFERENCES["scm"])

    @property
    def gaps(self) -> pd.Series:
        return self.observed - self.synthetic

    @property
    def post_periods(self) -> pd.Index:
        return self.observed.index[self.observed.index >= self.intervention]

    @property
    def effect(self) -> float:
        """Mean post-period gap (treated minus synthetic)."""
        return float(self.gaps.loc[self.post_periods].mean())

    @property
    def pre_rmspe(self) -> float:
        pre = self.observed.index < self.intervention
        return float(np.sqrt(np.mean(self.gaps[pre] ** 2)))

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        """Placebo-distribution interval: effect minus the placebo effects' (alpha/2, 1-alpha/2)
        quantiles. Approximate (it assumes the placebo gaps are exchangeable with the treated
        unit's noise); NaN without placebo runs."""
        if self.placebo is None or len(self.placebo.effects) < 2:
            return (float("nan"), float("nan"))
        q = np.quantile(self.placebo.effects.to_numpy(), [1 - alpha / 2, alpha / 2])
        return (self.effect - float(q[0]), self.effect - float(q[1]))

    def summary(self) -> dict[str, Any]:
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.conf_int()
        t = [_time_key(x) for x in self.observed.index]
        return {
            "method": "synthetic_control",
            "reference": self.method,
            "treated": self.treated,
            "intervention": _time_key(self.intervention),
            "fit_period": [_time_key(x) for x in self.fit_period],
            "donor_weights": {str(k): round(float(v), 6) for k, v in self.weights.items()},
            "predictor_weights": {
                str(k): round(float(v), 6) for k, v in self.predictor_weights.items()
            },
            "pre_period_loss": self.loss,
            "pre_period_loss_definition": (
                "mean squared prediction error of the outcome over the fit period, "
                "(Z1 - Z0 W)'(Z1 - Z0 W) / T_fit (pysyncon loss_V; R Synth's loss.v is the sum)"
            ),
            "pre_period_loss_lower_bound": self.loss_lower_bound,
            "start_losses": list(self.start_losses),
            "predictor_loss": self.loss_w,
            "pre_rmspe": self.pre_rmspe,
            "effect": self.effect,
            "effect_definition": "mean gap (treated minus synthetic) over the post-period",
            "conf_int_95": [lo, hi],
            "gaps": {k: float(v) for k, v in zip(t, self.gaps.to_numpy(), strict=True)},
            "observed": {k: float(v) for k, v in zip(t, self.observed.to_numpy(), strict=True)},
            "synthetic": {k: float(v) for k, v in zip(t, self.synthetic.to_numpy(), strict=True)},
            "balance": {
                str(p): {c: float(self.balance.loc[p, c]) for c in self.balance.columns}
                for p in self.balance.index
            },
            "hull_check": self.hull,
            "placebo": self.placebo.to_dict() if self.placebo else None,
            "placebo_p_value": self.placebo.p_value if self.placebo else None,
            "optimiser": {
                "outer": "multi-start Nelder-Mead on diag(V) after random screening",
                "inner": "exact simplex least squares via one NNLS (Lawson-Hanson)",
                "evaluations": self.evaluations,
                "elapsed_s": self.elapsed_s,
            },
        }


def _time_key(t: Any) -> Any:
    if isinstance(t, pd.Timestamp):
        return t.date().isoformat() if t == t.normalize() else t.isoformat()
    if isinstance(t, np.integer):
        return int(t)
    if isinstance(t, np.floating):
        return float(t)
    return t


class SyntheticControl:
    """A treated unit against a weighted donor pool (built from a long panel and a design)."""

    def __init__(
        self,
        panel: pd.DataFrame,
        *,
        unit_col: str,
        time_col: str,
        outcome: str,
        treated: str,
        intervention: Any,
        predictors: Sequence[Predictor] = (),
        covariates: Sequence[str] = (),
        fit_period: Sequence[Any] | None = None,
        donors: Sequence[str] | None = None,
        source: str = "panel",
    ) -> None:
        require_columns(panel, [unit_col, time_col, outcome], source)
        cols = {p.column for p in predictors} | set(covariates)
        require_columns(panel, sorted(cols), source)
        df = panel.copy()
        df[unit_col] = df[unit_col].astype(str)
        for col in sorted(cols | {outcome}):
            num = pd.to_numeric(df[col], errors="coerce")
            bad = num.isna() & df[col].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
                raise InputError(f"{source}: row {row}, field {col}: {df[col].iloc[row - 2]!r} "
                                 "is not a number")  # fmt: skip
            df[col] = num
        if df.duplicated([unit_col, time_col]).any():
            row = int(np.flatnonzero(df.duplicated([unit_col, time_col]).to_numpy())[0]) + 2
            raise InputError(f"{source}: row {row}: duplicate ({unit_col}, {time_col}) pair")
        units = list(pd.unique(df[unit_col]))
        if treated not in units:
            raise InputError(f"{source}: treated unit {treated!r} not in column {unit_col}")
        donor_list = [u for u in units if u != treated] if donors is None else list(donors)
        unknown = [d for d in donor_list if d not in units]
        if unknown:
            raise InputError(f"{source}: donor(s) {unknown} not in column {unit_col}")
        if len(donor_list) < 2:
            raise InputError(f"{source}: need at least two donor units")
        wide = df.pivot(index=time_col, columns=unit_col, values=outcome).sort_index()
        times = wide.index
        pre = times[times < intervention]
        post = times[times >= intervention]
        if len(pre) < 2 or len(post) < 1:
            raise InputError(
                f"{source}: intervention {intervention} leaves {len(pre)} pre- and {len(post)} "
                "post-periods (need at least 2 and 1)"
            )
        fit = list(pre) if fit_period is None else [t for t in fit_period if t in set(pre)]
        if not fit:
            raise InputError("--fit-period: selects no pre-intervention period")
        all_units = [treated, *donor_list]
        Y = wide[all_units]
        if Y.loc[fit].isna().any().any():
            bad = Y.loc[fit].isna().any()
            raise InputError(
                f"{source}: outcome {outcome} missing in the fit period for {list(bad[bad].index)}"
            )
        preds = list(predictors) + [Predictor(column=c, periods=None) for c in covariates]
        if not preds:  # no predictors: fit the outcome in every fit period (V = identity)
            preds = [Predictor(column=outcome, periods=(t,), spec=f"{outcome}:{t}") for t in fit]
            self._custom_v: np.ndarray | None = np.ones(len(preds))
        else:
            self._custom_v = None
        rows = []
        for p in preds:
            periods = list(pre) if p.periods is None else list(p.periods)
            sub = df[df[time_col].isin(periods)]
            means = sub.groupby(unit_col)[p.column].mean()
            vals = means.reindex(all_units)
            if vals.isna().any():
                raise InputError(
                    f"{source}: predictor {p.label}: no value for unit(s) "
                    f"{list(vals[vals.isna()].index)} in those periods"
                )
            rows.append(vals.to_numpy(dtype=float))
        self.panel = df
        self.unit_col, self.time_col, self.outcome = unit_col, time_col, outcome
        self.treated, self.donors, self.intervention = treated, donor_list, intervention
        self.predictors = preds
        self.X = pd.DataFrame(np.vstack(rows), index=[p.label for p in preds], columns=all_units)
        self.Y = Y
        self.fit_period = tuple(fit)
        self.pre = tuple(pre)

    # -- fitting ---------------------------------------------------------------------------
    def _core(
        self, treated: str, donors: list[str], n_starts: int, seed: int, preset: str = "normal"
    ) -> CoreFit:
        fit = list(self.fit_period)
        return fit_arrays(
            self.X[treated].to_numpy(),
            self.X[donors].to_numpy(),
            self.Y.loc[fit, treated].to_numpy(),
            self.Y.loc[fit, donors].to_numpy(),
            n_starts=n_starts,
            seed=seed,
            custom_v=self._custom_v,
            **PRESETS[preset],
        )

    def hull_check(self) -> dict[str, Any]:
        """Is the treated unit inside the donors' range (predictors and pre-period outcomes)?"""
        X0 = self.X[self.donors]
        x1 = self.X[self.treated]
        outside = [
            str(p) for p in self.X.index if not (X0.loc[p].min() <= x1[p] <= X0.loc[p].max())
        ]
        pre = list(self.pre)
        y1 = self.Y.loc[pre, self.treated]
        y0 = self.Y.loc[pre, self.donors]
        out_t = [_time_key(t) for t in pre if not (y0.loc[t].min() <= y1[t] <= y0.loc[t].max())]
        share = len(out_t) / len(pre)
        return {
            "ok": not outside and share <= 0.2,
            "predictors_outside_donor_range": outside,
            "pre_periods_outcome_outside_donor_range": out_t,
            "share_pre_periods_outside": share,
            "rule": "trust the synthetic control only if every predictor and at least 80% of "
            "pre-period outcomes of the treated unit lie within the donors' range (ADH 2015)",
        }

    def fit(
        self,
        *,
        n_starts: int = 4,
        placebo: bool = True,
        placebo_starts: int | None = None,
        seed: int = 0,
        preset: str = "normal",
        on_progress: Callable[[], None] | None = None,
    ) -> SyntheticControlResults:
        import time

        t0 = time.perf_counter()
        if preset not in PRESETS:
            raise InputError(f"--preset: {preset!r} must be one of {', '.join(PRESETS)}")
        core = self._core(self.treated, self.donors, n_starts, seed, preset)
        synthetic = self.Y[self.donors] @ core.w
        observed = self.Y[self.treated]
        if on_progress:
            on_progress()
        x1 = self.X[self.treated]
        balance = pd.DataFrame(
            {
                "treated": x1,
                "synthetic": self.X[self.donors] @ core.w,
                "donor_mean": self.X[self.donors].mean(axis=1),
            }
        )
        placebo_res = None
        evals = core.evaluations
        if placebo:
            gaps = {self.treated: observed - synthetic}
            for j, unit in enumerate(self.donors):
                others = [d for d in self.donors if d != unit]
                pc = self._core(unit, others, placebo_starts or n_starts, seed + 1 + j, preset)
                evals += pc.evaluations
                gaps[unit] = self.Y[unit] - self.Y[others] @ pc.w
                if on_progress:
                    on_progress()
            placebo_res = _placebo_stats(pd.DataFrame(gaps), self.treated, self.intervention)
        return SyntheticControlResults(
            treated=self.treated,
            intervention=self.intervention,
            weights=pd.Series(core.w, index=self.donors, name="weight"),
            predictor_weights=pd.Series(core.v, index=self.X.index, name="v"),
            loss=core.loss,
            loss_w=core.loss_w,
            loss_lower_bound=core.lower_bound,
            start_losses=core.start_losses,
            observed=observed,
            synthetic=synthetic,
            balance=balance,
            hull=self.hull_check(),
            placebo=placebo_res,
            fit_period=self.fit_period,
            evaluations=evals,
            elapsed_s=time.perf_counter() - t0,
        )


def _placebo_stats(gaps: pd.DataFrame, treated: str, intervention: Any) -> PlaceboResults:
    pre = gaps.index < intervention
    post = ~pre
    pre_rmspe = np.sqrt((gaps[pre] ** 2).mean())
    post_rmspe = np.sqrt((gaps[post] ** 2).mean())
    ratios = post_rmspe / pre_rmspe.replace(0, np.nan)
    ratios = ratios.fillna(np.inf)
    r1 = ratios[treated]
    n = len(ratios)
    rank = int((ratios > r1).sum()) + 1
    p = float((ratios >= r1).sum()) / n
    keep = pre_rmspe**2 <= 5 * pre_rmspe[treated] ** 2
    p5 = float((ratios[keep] >= r1).sum()) / int(keep.sum())
    effects = gaps[post].mean().drop(treated)
    return PlaceboResults(
        ratios=ratios.sort_values(ascending=False),
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        gaps=gaps,
        p_value=p,
        rank=rank,
        n_units=n,
        p_value_mspe5=p5,
        n_units_mspe5=int(keep.sum()),
        effects=effects,
    )
