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
    start_weights: tuple[np.ndarray, ...] = ()  # W of each start (same order as start_losses)


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
        start_weights=tuple(inner(sv) for _, sv in starts),
    )


#: Starts whose loss is within this share of the best are near-ties; if their donor weights
#: differ by more than WEIGHT_SPREAD (half the L1 distance, i.e. the weight moved), the answer
#: depends on the optimiser's start (ADH's V is not identified) and a warning says so.
NEAR_TIE, WEIGHT_SPREAD = 0.05, 0.10
SEED_CHECK = 7919  # offset of the seed of the second, independent V search


def weight_spread(core: CoreFit) -> float:
    """Largest weight moved between the best start and any near-tied start (0..1)."""
    if not core.start_weights:
        return 0.0
    i_best = int(np.argmin(core.start_losses))
    best, w_best = core.start_losses[i_best], core.start_weights[i_best]
    spread = 0.0
    for loss, w in zip(core.start_losses, core.start_weights, strict=True):
        if loss <= best * (1 + NEAR_TIE) + 1e-12:
            spread = max(spread, 0.5 * float(np.abs(w - w_best).sum()))
    return spread


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
    excluded: dict[str, str] = field(default_factory=dict)  # unit -> why it has no ratio

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": self.p_value,
            "rank": self.rank,
            "n_units": self.n_units,
            "p_value_pre_mspe_5x": self.p_value_mspe5,
            "n_units_pre_mspe_5x": self.n_units_mspe5,
            "n_excluded": len(self.excluded),
            "excluded": dict(self.excluded),
            "exclusion_rule": "a unit enters the placebo distribution only with a defined "
            "pre-period fit: units without any event (all zero) and units fitted exactly "
            "(pre-period RMSPE 0, so the post/pre ratio is 0/0 or infinite) are left out",
            "effects": {str(k): float(v) for k, v in self.effects.items()},
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
    weight_spread: float = 0.0
    warnings: tuple[str, ...] = ()
    v_selection: dict[str, Any] = field(default_factory=dict)
    in_time_placebo: dict[str, Any] | None = None
    leave_one_out: dict[str, Any] | None = None
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
        """No interval: a placebo-quantile 'interval' is not a confidence interval (it could
        exclude 0 while the placebo p-value is 0.99). Inference is the placebo distribution
        and its p-value (`placebo`); (NaN, NaN) here, null in JSON."""
        return (float("nan"), float("nan"))

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
            "conf_int_note": "no confidence interval: inference is the in-space placebo "
            "distribution (placebo.effects, placebo.rmspe_ratio) and its p-value",
            "weight_spread": self.weight_spread,
            "warnings": list(self.warnings),
            "v_selection": self.v_selection,
            "in_time_placebo": self.in_time_placebo,
            "leave_one_out": self.leave_one_out,
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
        train_predictors: Sequence[Predictor] = (),
        train_fit_period: Sequence[Any] | None = None,
        custom_v: Sequence[float] | dict[str, float] | None = None,
    ) -> None:
        require_columns(panel, [unit_col, time_col, outcome], source)
        cols = {p.column for p in [*predictors, *train_predictors]} | set(covariates)
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
        if fit_period is not None:
            late = [_time_key(t) for t in fit_period if t >= intervention]
            if late:
                raise InputError(
                    f"--fit-period: {late} at or after the intervention {_time_key(intervention)}"
                    "; the fit period must lie before it"
                )
        fit = list(pre) if fit_period is None else [t for t in fit_period if t in set(pre)]
        if not fit:
            raise InputError("--fit-period: selects no pre-intervention period")
        for p in [*predictors, *train_predictors]:
            late = [_time_key(t) for t in (p.periods or ()) if t >= intervention]
            if late:
                raise InputError(
                    f"--predictor {p.label}: period(s) {late} at or after the intervention "
                    f"{_time_key(intervention)}; predictors must be measured before it"
                )
        all_units = [treated, *donor_list]
        Y = wide[all_units]
        if Y.loc[fit].isna().any().any():
            bad = Y.loc[fit].isna().any()
            raise InputError(
                f"{source}: outcome {outcome} missing in the fit period for {list(bad[bad].index)}"
            )
        preds = list(predictors) + [Predictor(column=c, periods=None) for c in covariates]
        self._custom_v: np.ndarray | None = None
        if not preds:  # no predictors: fit the outcome in every fit period (V = identity)
            preds = [Predictor(column=outcome, periods=(t,), spec=f"{outcome}:{t}") for t in fit]
            self._custom_v = np.ones(len(preds))
        self.panel = df
        self.unit_col, self.time_col, self.outcome = unit_col, time_col, outcome
        self.treated, self.donors, self.intervention = treated, donor_list, intervention
        self.predictors = preds
        self.source = source
        self.X = self._matrix(preds, all_units, list(pre))
        self.Y = Y
        self.fit_period = tuple(fit)
        self.pre = tuple(pre)
        self.v_selection: dict[str, Any] = {
            "method": "identity (outcome in every fit period)"
            if self._custom_v is not None
            else "nested optimisation: V minimises the outcome MSPE over the fit period"
        }
        self._train: tuple[pd.DataFrame, list[Any]] | None = None
        if train_predictors or train_fit_period is not None:
            if not train_predictors or train_fit_period is None:
                raise InputError(
                    "--train-predictor and --train-fit-period go together (ADH 2015 "
                    "cross-validation: V from the training period, reused with --predictor)"
                )
            if len(train_predictors) != len(preds):
                raise InputError(
                    f"--train-predictor: {len(train_predictors)} given, but the model has "
                    f"{len(preds)} predictors (--predictor and --covariates): one training "
                    "predictor per predictor, in the same order"
                )
            late = [_time_key(t) for t in train_fit_period if t >= intervention]
            if late or not train_fit_period:
                raise InputError(
                    f"--train-fit-period: {late or 'no period'}; it must select periods before "
                    f"the intervention {_time_key(intervention)}"
                )
            self._train = (self._matrix(list(train_predictors), all_units, list(pre)),
                           list(train_fit_period))  # fmt: skip
            self.v_selection = {
                "method": "cross-validated (Abadie, Diamond and Hainmueller 2015): V minimises "
                "the outcome MSPE over the training fit period with the training predictors, "
                "then is reused with the predictors",
                "train_predictors": [p.label for p in train_predictors],
                "train_fit_period": [_time_key(t) for t in train_fit_period],
            }
        if custom_v is not None:
            if self._train is not None:
                raise InputError("--custom-v and --train-predictor exclude each other")
            v = np.asarray(
                [custom_v[p.label] for p in preds] if isinstance(custom_v, dict) else custom_v,
                dtype=float,
            )
            if len(v) != len(preds) or not np.all(np.isfinite(v)) or (v < 0).any() or v.sum() <= 0:
                raise InputError(
                    f"--custom-v: {len(v)} non-negative weights needed, one per predictor "
                    f"({', '.join(p.label for p in preds)}), not all zero"
                )
            self._custom_v = v / v.sum()
            self.v_selection = {"method": "custom V (given)"}

    def _matrix(self, preds: Sequence[Predictor], units: list[str], pre: list[Any]):
        """Predictor x unit matrix: each predictor's mean over its periods (default: pre)."""
        df, rows = self.panel, []
        for p in preds:
            periods = pre if p.periods is None else list(p.periods)
            sub = df[df[self.time_col].isin(periods)]
            vals = sub.groupby(self.unit_col)[p.column].mean().reindex(units)
            if vals.isna().any():
                raise InputError(
                    f"{self.source}: predictor {p.label}: no value for unit(s) "
                    f"{list(vals[vals.isna()].index)} in those periods"
                )
            rows.append(vals.to_numpy(dtype=float))
        return pd.DataFrame(np.vstack(rows), index=[p.label for p in preds], columns=units)

    # -- fitting ---------------------------------------------------------------------------
    def _core(
        self, treated: str, donors: list[str], n_starts: int, seed: int, preset: str = "normal"
    ) -> CoreFit:
        """One synthetic control of `treated` from `donors`, with this model's choice of V
        (optimised, given, or cross-validated on the training period: the same for placebos)."""
        fit = list(self.fit_period)
        v = self._custom_v
        evals = 0
        if self._train is not None:
            Xt, tfit = self._train
            tc = fit_arrays(
                Xt[treated].to_numpy(), Xt[donors].to_numpy(),
                self.Y.loc[tfit, treated].to_numpy(), self.Y.loc[tfit, donors].to_numpy(),
                n_starts=n_starts, seed=seed, **PRESETS[preset],
            )  # fmt: skip
            v, evals = tc.v, tc.evaluations
        core = fit_arrays(
            self.X[treated].to_numpy(),
            self.X[donors].to_numpy(),
            self.Y.loc[fit, treated].to_numpy(),
            self.Y.loc[fit, donors].to_numpy(),
            n_starts=n_starts,
            seed=seed,
            custom_v=v,
            **PRESETS[preset],
        )
        if self._train is not None:  # the spread of the V search is the training one's
            from dataclasses import replace

            core = replace(
                core, start_losses=tc.start_losses, start_weights=tc.start_weights,
                evaluations=evals + core.evaluations,
            )  # fmt: skip
        return core

    def _in_time(self, when: Any, n_starts: int, seed: int, preset: str) -> dict[str, Any]:
        return _in_time_placebo(self, when, n_starts, seed, preset)

    def _leave_one_out(self, w: np.ndarray, n_starts: int, seed: int, preset: str):
        """The effect without each donor of weight >= 1 %: a result carried by one donor
        (e.g. a region that contains the treated unit) moves when it leaves."""
        effects: dict[str, float] = {}
        post = [t for t in self.Y.index if t >= self.intervention]
        for unit, wt in zip(self.donors, w, strict=True):
            if wt < 0.01:
                continue
            others = [d for d in self.donors if d != unit]
            if len(others) < 2:
                continue
            c = self._core(self.treated, others, n_starts, seed, preset)
            gap = self.Y[self.treated] - self.Y[others] @ c.w
            effects[str(unit)] = float(gap.loc[post].mean())
        vals = list(effects.values())
        return {
            "effects": effects,
            "min": min(vals) if vals else None,
            "max": max(vals) if vals else None,
            "reference": "Abadie, A. (2021), 'Using Synthetic Controls: Feasibility, Data "
            "Requirements, and Methodological Aspects', J. Economic Literature 59(2):391-425.",
        }

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
        in_time_placebo: Any = None,
        leave_one_out: bool = False,
    ) -> SyntheticControlResults:
        """`in_time_placebo`: a pre-period time used as a fake intervention (the fit then uses
        only the periods before it); `leave_one_out`: refit without each donor of weight >= 1 %
        (Abadie 2021's robustness checks)."""
        import time

        t0 = time.perf_counter()
        if preset not in PRESETS:
            raise InputError(f"--preset: {preset!r} must be one of {', '.join(PRESETS)}")
        core = self._core(self.treated, self.donors, n_starts, seed, preset)
        # A second, independent V search (another seed): ADH's V is often not identified and
        # the weights then move with the seed; the better of the two is kept and a difference
        # is reported as a warning. Skipped when V is given (nothing is searched).
        self.seed_check = None
        if self._custom_v is None or self._train is not None:
            self.seed_check = self._core(
                self.treated, self.donors, n_starts, seed + SEED_CHECK, preset
            )
            if self.seed_check.loss < core.loss - 1e-12:
                core, self.seed_check = self.seed_check, core
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
            placebo_res = _placebo_stats(
                pd.DataFrame(gaps), self.treated, self.intervention, self.Y
            )
        spread = weight_spread(core)
        warnings: list[str] = []
        if spread > WEIGHT_SPREAD:
            warnings.append(
                f"donor weights move by up to {spread:.0%} between optimiser starts with nearly "
                "the same pre-period loss: the weights (and the effect) depend on the start; "
                "try more --starts, other seeds, or fewer predictors (V is not identified)"
            )
        if self.seed_check is not None:
            w2 = pd.Series(self.seed_check.w, index=self.donors)
            moved = 0.5 * float(np.abs(w2 - pd.Series(core.w, index=self.donors)).sum())
            spread = max(spread, moved)
            if moved > WEIGHT_SPREAD:
                warnings.append(
                    f"a second search with another seed (seed {seed + SEED_CHECK}) gives other "
                    f"donor weights (up to {moved:.0%} of the weight moves; pre-period loss "
                    f"{self.seed_check.loss:.4g} against {core.loss:.4g}): the result depends on "
                    "the seed; try more --starts or fewer predictors"
                )
        hull = self.hull_check()
        if not hull["ok"]:
            warnings.append(
                "the treated unit lies outside the donors' range: no convex combination of "
                "donors reproduces it, do not trust this synthetic control"
            )
        if placebo_res is not None and placebo_res.excluded:
            warnings.append(
                f"{len(placebo_res.excluded)} placebo unit(s) left out of the placebo "
                "distribution (no events or an exact pre-period fit): p-value over the other "
                f"{placebo_res.n_units}"
            )
        itp = (
            self._in_time(in_time_placebo, n_starts, seed, preset)
            if in_time_placebo is not None
            else None
        )
        loo = self._leave_one_out(core.w, n_starts, seed, preset) if leave_one_out else None
        return SyntheticControlResults(
            weight_spread=spread,
            warnings=tuple(warnings),
            v_selection=dict(self.v_selection),
            in_time_placebo=itp,
            leave_one_out=loo,
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
            hull=hull,
            placebo=placebo_res,
            fit_period=self.fit_period,
            evaluations=evals,
            elapsed_s=time.perf_counter() - t0,
        )


def _in_time_placebo(model: SyntheticControl, when: Any, n_starts: int, seed: int,
                     preset: str) -> dict[str, Any]:  # fmt: skip
    """Placebo in time (Abadie 2021): the same design with a fake intervention `when` in the
    pre-period, fitted on the periods before it only; a gap as large as the real one after the
    fake date says the real gap may be noise or an earlier change."""
    pre = [t for t in model.pre]
    if when not in set(pre) or pre.index(when) < 2:
        raise InputError(
            f"--in-time-placebo {_time_key(when)}: must be a pre-period time with at least two "
            "periods before it"
        )
    keep = [p for p in model.predictors
            if p.periods is None or all(t < when for t in p.periods)]  # fmt: skip
    dropped = [p.label for p in model.predictors if p not in keep]
    identity = model._custom_v is not None and model.v_selection["method"].startswith("identity")
    df = model.panel[model.panel[model.time_col] < model.intervention]
    fake = SyntheticControl(
        df, unit_col=model.unit_col, time_col=model.time_col, outcome=model.outcome,
        treated=model.treated, intervention=when,
        predictors=[] if identity else [p for p in keep if p.periods is not None],
        covariates=[] if identity else [p.column for p in keep if p.periods is None],
        donors=model.donors, source=model.source,
    )  # fmt: skip
    r = fake.fit(n_starts=n_starts, placebo=False, seed=seed, preset=preset)
    pre_r, post_r, ratio = _rmspe_ratio(r.gaps, when)
    return {
        "fake_intervention": _time_key(when),
        "effect": r.effect,
        "pre_rmspe": pre_r,
        "post_rmspe": post_r,
        "rmspe_ratio": ratio,
        "dropped_predictors": dropped,
        "reading": "the gap after the fake date should be small next to the real effect",
        "reference": REFERENCES["placebo_time"],
    }


def _rmspe_ratio(gap: pd.Series, t0: Any) -> tuple[float, float, float]:
    pre = gap.index < t0
    a = float(np.sqrt(np.mean(gap[pre] ** 2)))
    b = float(np.sqrt(np.mean(gap[~pre] ** 2)))
    return a, b, (b / a if a > 0 else float("nan"))


def _placebo_stats(
    gaps: pd.DataFrame, treated: str, intervention: Any, Y: pd.DataFrame | None = None
) -> PlaceboResults:
    """Abadie et al. (2010) post/pre RMSPE ratios, only over units whose pre-period fit is
    defined: a unit without events, or fitted exactly, has a 0/0 (or x/0) ratio that would
    rank above any real effect; such units are excluded and listed (ratio p-values are then
    over the remaining units)."""
    pre = gaps.index < intervention
    post = ~pre
    pre_rmspe = np.sqrt((gaps[pre] ** 2).mean())
    post_rmspe = np.sqrt((gaps[post] ** 2).mean())
    scale = float(np.nanmax(np.abs(Y.to_numpy()))) if Y is not None and Y.size else 1.0
    tiny = 1e-9 * max(scale, 1.0)
    excluded: dict[str, str] = {}
    for u in gaps.columns:
        if Y is not None and u in Y.columns and bool((Y[u].fillna(0) == 0).all()):
            excluded[str(u)] = "no events (all zero)"
        elif not pre_rmspe[u] > tiny:
            excluded[str(u)] = "exact pre-period fit (pre-period RMSPE 0): ratio undefined"
    keep_units = [u for u in gaps.columns if str(u) not in excluded]
    ratios = (post_rmspe / pre_rmspe)[keep_units]
    if treated not in keep_units:
        nan = float("nan")
        return PlaceboResults(
            ratios=ratios.sort_values(ascending=False), pre_rmspe=pre_rmspe,
            post_rmspe=post_rmspe, gaps=gaps, p_value=nan, rank=0, n_units=len(keep_units),
            p_value_mspe5=nan, n_units_mspe5=0,
            effects=gaps[post].mean().drop(treated), excluded=excluded,
        )  # fmt: skip
    r1 = ratios[treated]
    n = len(ratios)
    rank = int((ratios > r1).sum()) + 1
    p = float((ratios >= r1).sum()) / n
    keep = pre_rmspe[keep_units] ** 2 <= 5 * pre_rmspe[treated] ** 2
    p5 = float((ratios[keep] >= r1).sum()) / int(keep.sum())
    effects = gaps[post].mean()[keep_units].drop(treated)
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
        excluded=excluded,
    )
