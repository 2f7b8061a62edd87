"""Difference-in-differences: one adoption date (two-way fixed effects + event study) and staggered
adoption (Callaway and Sant'Anna 2021 group-time effects).

One date. Treated zones against control zones chosen by similar pre-period level and trend
(`select_controls`), then y_it = a_i + g_t + b D_it by OLS with unit-clustered covariance
(statsmodels), and an event study with treated x event-time dummies (reference: the period before
the intervention). The pre-trend test is the joint cluster-robust Wald test that every lead is 0.
With a single adoption date the two-way fixed-effects estimate is the plain 2x2 DiD, which is
sound; with staggered dates it is not (it compares late adopters with early ones), hence:

Staggered. ATT(g, t) for each adoption cohort g and period t is the change in mean outcome of
cohort g from its base period to t minus the same change among controls: never-treated units, or
units not yet treated at t (and not in g). The base is g - 1 for t >= g ("long differences"); for
t < g it is t - 1 (pseudo-effects, a pre-trend check), as in the `did` R package's default.
Standard errors come from the influence functions of these differences of means and a Rademacher
multiplier bootstrap (unit level) gives the aggregated intervals; aggregation weights (cohort
sizes) are treated as fixed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from safecities.errors import InputError
from safecities.review.methods import REFERENCES
from safecities.review.panel import require_columns


def _wide(
    panel: pd.DataFrame, unit_col: str, time_col: str, outcome: str, source: str,
    balanced: bool = True,
):  # fmt: skip
    require_columns(panel, [unit_col, time_col, outcome], source)
    df = panel[[unit_col, time_col, outcome]].copy()
    df[unit_col] = df[unit_col].astype(str)
    if df.duplicated([unit_col, time_col]).any():
        row = int(np.flatnonzero(df.duplicated([unit_col, time_col]).to_numpy())[0]) + 2
        raise InputError(f"{source}: row {row}: duplicate ({unit_col}, {time_col}) pair")
    y = pd.to_numeric(df[outcome], errors="coerce")
    if y.isna().any():
        row = int(np.flatnonzero(y.isna().to_numpy())[0]) + 2
        raise InputError(f"{source}: row {row}, field {outcome}: not a number")
    df[outcome] = y
    wide = df.pivot(index=unit_col, columns=time_col, values=outcome).sort_index(axis=1)
    if balanced and wide.isna().any().any():
        u = wide.index[wide.isna().any(axis=1)][0]
        raise InputError(f"{source}: unit {u} lacks some periods (the panel must be balanced)")
    return wide


def select_controls(
    wide: pd.DataFrame, treated: Sequence[str], pre: Sequence[Any], n_controls: int | None = None
) -> tuple[list[str], pd.DataFrame]:
    """Controls nearest the treated units' mean in standardised (pre-level, pre-trend) space.

    Ties are never broken by name: every unit as near as the k-th is kept (so more than k may
    be chosen). Units without a single event before are not similar to treated units that had
    events (count outcomes) and are left out. `feats.attrs["similar"]` says whether every
    chosen control lies within one standard deviation of the treated units' mean."""
    pre_y = wide[list(pre)]
    t = np.arange(len(pre), dtype=float)
    level = pre_y.mean(axis=1)
    slope = pre_y.apply(lambda r: np.polyfit(t, r.to_numpy(dtype=float), 1)[0], axis=1)
    feats = pd.DataFrame({"level": level, "trend": slope})
    sd = feats.std(ddof=1).replace(0, 1.0).fillna(1.0)
    target = feats.loc[list(treated)].mean()
    dist = (((feats - target) / sd) ** 2).sum(axis=1) ** 0.5
    pool = dist.drop(list(treated))
    counts = bool((pre_y.to_numpy() >= 0).all())
    if counts and level.loc[list(treated)].mean() > 0:
        pool = pool[level.loc[pool.index] > 0]
    pool = pool.sort_values(kind="mergesort")
    # Default: twice as many controls as treated units, at least 3 (a small, similar pool).
    k = max(3, 2 * len(treated)) if n_controls is None else n_controls
    if len(pool) > k:
        pool = pool[pool <= pool.iloc[k - 1] + 1e-12]
    chosen = list(pool.index)
    feats["distance"] = dist
    feats.attrs["similar"] = bool(chosen) and bool((pool <= 1.0).all())
    return chosen, feats


@dataclass(frozen=True)
class DiDResults:
    effect_: float
    se: float
    df_resid: float
    treated: tuple[str, ...]
    controls: tuple[str, ...]
    intervention: Any
    event_study: pd.DataFrame  # event_time -> coef, se, lo, hi
    pretrend_f: float
    pretrend_p: float
    pretrend_df: int
    control_selection: pd.DataFrame
    means: pd.DataFrame  # time x [treated, control]
    power: dict[str, Any] | None = None
    controls_similar: bool = True
    method: str = field(default=REFERENCES["did"])

    @property
    def effect(self) -> float:
        return self.effect_

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        q = stats.t.ppf(1 - alpha / 2, self.df_resid)
        return (self.effect_ - q * self.se, self.effect_ + q * self.se)

    def summary(self) -> dict[str, Any]:
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.conf_int()
        return {
            "method": "difference_in_differences",
            "reference": self.method,
            "model": "two-way fixed effects OLS, unit-clustered covariance (one adoption date)",
            "treated": list(self.treated),
            "controls": list(self.controls),
            "controls_similar": self.controls_similar,
            "control_selection": {
                str(u): {k: float(v) for k, v in r.items()}
                for u, r in self.control_selection.iterrows()
            },
            "intervention": _key(self.intervention),
            "effect": self.effect_,
            "effect_definition": "average change in the outcome per unit and period, treated "
            "minus controls, after vs before",
            "se": self.se,
            "conf_int_95": [lo, hi],
            "event_study": [
                {"event_time": int(k), **{c: float(v) for c, v in r.items()}}
                for k, r in self.event_study.iterrows()
            ],
            "pretrend_test": {
                "f": self.pretrend_f,
                "p_value": self.pretrend_p,
                "df": self.pretrend_df,
                "passed": bool(self.pretrend_p >= 0.05),
                "reading": pretrend_reading(self.pretrend_p),
                "test": "differential linear pre-trend (treated x time before the intervention), "
                "cluster-robust t-test with G-1 df; statistic reported as F = t^2",
            },
            "means": {
                str(_key(t)): {c: float(v) for c, v in r.items()} for t, r in self.means.iterrows()
            },
            "power": self.power,
        }


def _key(t: Any) -> Any:
    if isinstance(t, pd.Timestamp):
        return t.date().isoformat()
    if isinstance(t, np.integer):
        return int(t)
    return t


class DiD:
    """Treated zones vs similar control zones, one adoption date."""

    def __init__(
        self,
        panel: pd.DataFrame,
        *,
        unit_col: str,
        time_col: str,
        outcome: str,
        treated: Sequence[str],
        intervention: Any,
        controls: Sequence[str] | None = None,
        n_controls: int | None = None,
        source: str = "panel",
    ) -> None:
        wide = _wide(panel, unit_col, time_col, outcome, source)
        unknown = [u for u in treated if u not in wide.index]
        if not treated or unknown:
            raise InputError(f"{source}: treated unit(s) {unknown or '(none)'} not in {unit_col}")
        times = list(wide.columns)
        pre = [t for t in times if t < intervention]
        post = [t for t in times if t >= intervention]
        if len(pre) < 2 or not post:
            raise InputError(
                f"--intervention: {len(pre)} pre- and {len(post)} post-periods (need 2 and 1)"
            )
        if controls:
            bad = [c for c in controls if c not in wide.index or c in treated]
            if bad:
                raise InputError(f"--controls: {bad} not in the panel or treated")
            _, feats = select_controls(wide, treated, pre, len(controls))
            chosen = list(controls)
            feats.attrs["similar"] = bool((feats.loc[chosen, "distance"] <= 1.0).all())
        else:
            chosen, feats = select_controls(wide, treated, pre, n_controls)
        if not chosen:
            raise InputError(f"{source}: no control units left")
        self.wide, self.treated, self.controls = wide, list(treated), chosen
        self.intervention, self.pre, self.post = intervention, pre, post
        self.similar = bool(feats.attrs.get("similar", True))
        self.feats = feats.loc[self.treated + chosen]

    @staticmethod
    def _pretrend(long, t0, fe, te, groups) -> tuple[float, float]:
        """Differential linear pre-trend (treated x time, pre-period only), cluster-robust,
        t with G - 1 degrees of freedom. One restriction, so it stays valid with few clusters
        (a joint test of every lead has more restrictions than clusters on short panels)."""
        pre = (long["tt"] < t0).to_numpy()
        if long.loc[pre, "tt"].nunique() < 3:
            return float("nan"), float("nan")
        Xp = pd.concat([fe[pre], te[pre]], axis=1)
        Xp = Xp.loc[:, Xp.std() > 0]
        Xp.insert(0, "const", 1.0)
        Xp.insert(1, "trend_x_treated", (long["treated"] * long["tt"])[pre])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = sm.OLS(long["y"][pre], Xp).fit(cov_type="cluster", cov_kwds={"groups": groups[pre]})
        tval = float(r.tvalues["trend_x_treated"])
        g = len(np.unique(groups[pre]))
        return tval**2, float(2 * stats.t.sf(abs(tval), max(g - 1, 1)))

    def fit(self) -> DiDResults:
        units = self.treated + self.controls
        sub = self.wide.loc[units]
        times = list(sub.columns)
        long = sub.stack().rename("y").reset_index()
        long.columns = ["unit", "time", "y"]
        ti = {t: i for i, t in enumerate(times)}
        t0 = ti[self.post[0]]
        long["tt"] = long["time"].map(ti)
        long["treated"] = long["unit"].isin(self.treated).astype(float)
        long["D"] = long["treated"] * (long["tt"] >= t0)
        fe = pd.get_dummies(long[["unit"]].astype(str), drop_first=True, dtype=float)
        te = pd.get_dummies(long["tt"].astype(str), prefix="t", drop_first=True, dtype=float)
        groups = long["unit"].astype("category").cat.codes.to_numpy()
        X = pd.concat([pd.Series(1.0, index=long.index, name="const"), long[["D"]], fe, te], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = sm.OLS(long["y"], X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        # Event study: treated x event-time dummies, reference event time -1.
        ev = long["tt"] - t0
        ev_cols = {}
        for e in sorted(ev.unique()):
            if e == -1:
                continue
            ev_cols[f"e{e}"] = (long["treated"] * (ev == e)).astype(float)
        E = pd.DataFrame(ev_cols)
        X2 = pd.concat([pd.Series(1.0, index=long.index, name="const"), E, fe, te], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r2 = sm.OLS(long["y"], X2).fit(cov_type="cluster", cov_kwds={"groups": groups})
        ci = r2.conf_int()
        rows = {}
        for c in E.columns:
            rows[int(c[1:])] = {
                "coef": float(r2.params[c]),
                "se": float(r2.bse[c]),
                "lo": float(ci.loc[c, 0]),
                "hi": float(ci.loc[c, 1]),
            }
        rows[-1] = {"coef": 0.0, "se": 0.0, "lo": 0.0, "hi": 0.0}
        es = pd.DataFrame.from_dict(rows, orient="index").sort_index()
        leads = [c for c in E.columns if int(c[1:]) < -1]
        f, p = self._pretrend(long, t0, fe, te, groups)
        means = pd.DataFrame(
            {
                "treated": sub.loc[self.treated].mean(),
                "control": sub.loc[self.controls].mean(),
            }
        )
        n_clusters = len(units)
        return DiDResults(
            effect_=float(r.params["D"]),
            se=float(r.bse["D"]),
            df_resid=float(max(n_clusters - 1, 1)),
            treated=tuple(self.treated),
            controls=tuple(self.controls),
            intervention=self.intervention,
            event_study=es,
            pretrend_f=f,
            pretrend_p=p,
            pretrend_df=len(leads),
            control_selection=self.feats,
            means=means,
            controls_similar=self.similar,
        )


# ---------------------------------------------------------------------------------------------
# Staggered adoption: Callaway and Sant'Anna (2021)


def is_never_treated(value: Any) -> bool:
    """R `did`'s coding: an adoption of 0 (or an empty cell) means never treated."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() in {"", "0"}
    try:
        return bool(pd.isna(value)) or float(value) == 0
    except (TypeError, ValueError):
        return False


def pretrend_reading(p: float) -> str:
    """The plain-language reading of a pre-trend p-value (never a pass/fail verdict)."""
    if not np.isfinite(p):
        return "no pre-trend test possible (too few periods before adoption)"
    if p < 0.05:
        return (
            "the treated and comparison units already moved differently before the measure: "
            "the comparison is not credible and the estimate should not be read as its effect"
        )
    if p < 0.10:
        return (
            "weak signs that the groups moved differently before the measure: read the "
            "estimate with caution"
        )
    return (
        "no evidence that the groups moved differently before the measure (this does not "
        "prove they would have moved alike afterwards)"
    )


@dataclass(frozen=True)
class Aggregate:
    """One aggregation of the group-time effects: overall estimate and its table."""

    att: float
    se: float
    table: pd.DataFrame | None = None  # index (event_time | group | time) -> att, se, lo, hi

    def ci(self, z: float = float(stats.norm.ppf(0.975))) -> tuple[float, float]:
        return (self.att - z * self.se, self.att + z * self.se)

    def to_dict(self) -> dict[str, Any]:
        return {"att": self.att, "se": self.se, "ci": list(self.ci())}


@dataclass(frozen=True)
class CSResults:
    att_gt: pd.DataFrame  # rows: group, time, event_time, att, se, lo, hi, n_treated, n_control
    overall: float
    overall_se: float
    overall_ci: tuple[float, float]
    event_study: pd.DataFrame  # event_time -> att, se, lo, hi (simultaneous band lo_band/hi_band)
    by_group: pd.DataFrame
    control_group: str
    n_boot: int
    pretrend_p: float
    aggregates: dict[str, Aggregate] = field(default_factory=dict)
    calendar: pd.DataFrame | None = None
    pretrend_p_chi2: float = float("nan")  # R did's p (chi-squared reference)
    pretrend_stat: float = float("nan")
    pretrend_df: int = 0
    anticipation: int = 0
    units: dict[str, Any] = field(default_factory=dict)
    power: dict[str, Any] | None = None
    method: str = field(default=REFERENCES["cs_did"])

    @property
    def effect(self) -> float:
        return self.overall

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        z = stats.norm.ppf(1 - alpha / 2)
        return (self.overall - z * self.overall_se, self.overall + z * self.overall_se)

    def summary(self) -> dict[str, Any]:
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        def recs(df: pd.DataFrame | None) -> list[dict[str, Any]]:
            if df is None:
                return []
            return [
                {k: (_key(v) if not isinstance(v, float) else float(v)) for k, v in r.items()}
                for r in df.reset_index().to_dict("records")
            ]

        return {
            "method": "callaway_santanna",
            "reference": self.method,
            "control_group": self.control_group,
            "anticipation": self.anticipation,
            "effect": self.overall,
            "effect_definition": "simple aggregation (R did): cohort-size weighted mean of "
            "ATT(g,t) over t >= g",
            "se": self.overall_se,
            "conf_int_95": list(self.overall_ci),
            "aggregates": {k: a.to_dict() for k, a in self.aggregates.items()},
            "att_gt": recs(self.att_gt),
            "event_study": recs(self.event_study),
            "by_group": recs(self.by_group),
            "calendar": recs(self.calendar),
            "units": self.units,
            "pretrend_test": {
                "p_value": self.pretrend_p_chi2,
                "statistic": self.pretrend_stat,
                "df": self.pretrend_df,
                "p_value_small_sample": self.pretrend_p,
                "reading": pretrend_reading(self.pretrend_p),
                "test": "Wald test that every pre-adoption ATT(g,t) is 0 (R did's pre-test: "
                "chi-squared with one degree of freedom per pre-adoption cell, covariance from "
                "the influence functions); p_value_small_sample is its Hotelling T^2 form, "
                "F(df, units - df), which the reading uses (the chi-squared over-rejects when "
                "the cells are many for the units)",
            },
            "bootstrap": {
                "kind": "Rademacher multiplier, unit level (simultaneous bands of the tables)",
                "replications": self.n_boot,
            },
            "power": self.power,
        }


def _att_2x2(dy: np.ndarray, D: np.ndarray, X: np.ndarray, method: str):
    """ATT and influence function (length len(dy)) of one 2x2 comparison with covariates X
    (first column the constant): Sant'Anna and Zhao's (2020) doubly robust estimator (R DRDID's
    `drdid_panel`: logit propensity score, OLS outcome regression of the change on the
    controls) or the outcome-regression one (`reg_did_panel`). Written out because no
    maintained Python package implements these influence functions (R DRDID is the reference,
    and the tests compare with R did's published numbers)."""
    import statsmodels.api as sm

    n = len(dy)
    ctrl = D == 0
    beta, *_ = np.linalg.lstsq(X[ctrl], dy[ctrl], rcond=None)
    out = X @ beta
    wols_x = ctrl[:, None] * X
    xpx_inv = np.linalg.inv(wols_x.T @ X / n)
    lin_ols = (ctrl * (dy - out))[:, None] * X @ xpx_inv
    w_t = D.astype(float)
    if method == "reg":
        eta_t = np.mean(w_t * dy) / w_t.mean()
        eta_c = np.mean(w_t * out) / w_t.mean()
        inf_t = (w_t * dy - w_t * eta_t) / w_t.mean()
        inf_c = ((w_t * out - w_t * eta_c) + lin_ols @ np.mean(w_t[:, None] * X, 0)) / w_t.mean()
        return eta_t - eta_c, inf_t - inf_c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps_fit = sm.GLM(D.astype(float), X, family=sm.families.Binomial()).fit()
    ps = np.minimum(ps_fit.fittedvalues, 1 - 1e-16)
    w_c = ps * ctrl / (1 - ps)
    att_t, att_c = w_t * (dy - out), w_c * (dy - out)
    eta_t, eta_c = att_t.mean() / w_t.mean(), att_c.mean() / w_c.mean()
    W = ps * (1 - ps)
    hess = np.linalg.inv((W[:, None] * X).T @ X / n)
    lin_ps = ((D - ps)[:, None] * X) @ hess
    inf_t = ((att_t - w_t * eta_t) - lin_ols @ np.mean(w_t[:, None] * X, 0)) / w_t.mean()
    m2 = np.mean((w_c * (dy - out - eta_c))[:, None] * X, 0)
    inf_c = (att_c - w_c * eta_c) + lin_ps @ m2 - lin_ols @ np.mean(w_c[:, None] * X, 0)
    return eta_t - eta_c, inf_t - inf_c / w_c.mean()


class CallawaySantAnna:
    """Group-time ATTs with never-treated or not-yet-treated controls (no covariates), and their
    simple, dynamic, group and calendar aggregations with R `did`'s definitions (`aggte`).

    Standard errors are analytical, from the influence functions, including the estimation of
    the aggregation weights (R's `wif`), as R's `bstrap = FALSE`; the multiplier bootstrap is
    used only for the simultaneous bands of the tables."""

    def __init__(
        self,
        panel: pd.DataFrame,
        *,
        unit_col: str,
        time_col: str,
        outcome: str,
        adoption: pd.Series,
        control_group: str = "notyet",
        anticipation: int = 0,
        covariates: Sequence[str] = (),
        est_method: str = "dr",
        source: str = "panel",
    ) -> None:
        """`adoption`: unit -> first treated period; 0, NaN, NaT or empty: never treated (R's
        coding). `covariates`: columns conditioning the parallel trends, taken in each
        comparison's base period; `est_method` dr (doubly robust, R's default) or reg.
        Units treated from the first period (nothing to compare with) are left out
        and listed; units adopting after the panel ends count as never treated and are listed."""
        if control_group not in {"never", "notyet"}:
            raise InputError("--control-group must be never or notyet")
        if anticipation < 0:
            raise InputError("--anticipation must be 0 or more periods")
        if est_method not in {"dr", "reg"}:
            raise InputError("--est-method must be dr or reg")
        # Unbalanced panels are allowed: each ATT(g,t) uses the units observed in both of its
        # periods (their influence functions are 0 for the others).
        wide = _wide(panel, unit_col, time_col, outcome, source, balanced=False)
        self.covs = {c: _wide(panel, unit_col, time_col, c, source, balanced=False)
                     .reindex(index=wide.index, columns=wide.columns)
                     for c in covariates}  # fmt: skip
        self.est_method = est_method
        times = list(wide.columns)
        adoption = adoption.reindex(wide.index)
        tidx = {t: i for i, t in enumerate(times)}
        g = np.full(len(wide), np.inf)
        before: list[str] = []
        after: list[str] = []
        for i, (u, a) in enumerate(adoption.items()):
            if is_never_treated(a):
                continue
            later = [tidx[t] for t in times if t >= a]
            if not later:
                after.append(str(u))  # adopts after the panel ends: never treated within it
                continue
            g[i] = later[0]
            if later[0] <= anticipation:
                before.append(str(u))  # treated (or anticipating) from the first period
        keep = ~np.isin(wide.index.astype(str), before)
        wide, g = wide[keep], g[keep]
        self.covs = {c: w[keep] for c, w in self.covs.items()}
        if np.isinf(g).all():
            raise InputError(
                f"{source}: no unit adopts within the panel after its first period"
                + (f" ({len(before)} treated from the start: {', '.join(before[:5])})"
                   if before else "")
            )  # fmt: skip
        if control_group == "never" and not np.isinf(g).any():
            raise InputError("--control-group never: there are no never-treated units")
        self.wide, self.times, self.g = wide, times, g
        self.control_group, self.anticipation = control_group, int(anticipation)
        self.units = {
            "n": int(len(wide)),
            "never_treated": int(np.isinf(g).sum()) - len(after),
            "treated_before_panel": before,
            "adopting_after_panel": after,
            "note": (
                f"{len(before)} unit(s) treated from the first period are left out (no "
                "pre-period to compare with)" if before else None
            ),
            "unbalanced": int(wide.isna().any(axis=1).sum()),
            "unbalanced_note": (
                "units lacking some periods: each ATT(g,t) uses the units observed in both of "
                "its periods" if wide.isna().any().any() else None
            ),
        }  # fmt: skip

    def _cells(self, Y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """ATT(g,t) with R's varying base period: g - 1 - anticipation for post periods, t - 1
        before; controls never treated, or not yet treated at max(t, base) + anticipation."""
        n, T = Y.shape
        g, d = self.g, self.anticipation
        rows, psis = [], []
        for gg in sorted(set(g[np.isfinite(g)].astype(int))):
            in_g_all = g == gg
            for t in range(T):
                base = gg - d - 1 if t >= gg - d else t - 1
                if base < 0 or t == base:
                    continue
                if self.control_group == "never":
                    ctrl = np.isinf(g)
                else:
                    ctrl = (g > max(t, base) + d) & ~in_g_all
                seen = np.isfinite(Y[:, t]) & np.isfinite(Y[:, base])
                for c in self.covs.values():
                    seen &= np.isfinite(c.to_numpy(dtype=float)[:, base])
                in_g, ctrl = in_g_all & seen, ctrl & seen
                if in_g.sum() == 0 or ctrl.sum() == 0:
                    continue
                dy = np.where(seen, Y[:, t] - Y[:, base], 0.0)
                psi = np.zeros(n)
                if self.covs:
                    sub = in_g | ctrl
                    X = np.column_stack(
                        [np.ones(sub.sum())]
                        + [w.to_numpy(dtype=float)[sub, base] for w in self.covs.values()]
                    )
                    att_gt, inf = _att_2x2(dy[sub], in_g[sub], X, self.est_method)
                    psi[sub] = inf * n / sub.sum()
                else:
                    mg, mc = dy[in_g].mean(), dy[ctrl].mean()
                    att_gt = mg - mc
                    psi[in_g] = (dy[in_g] - mg) * n / in_g.sum()
                    psi[ctrl] = -(dy[ctrl] - mc) * n / ctrl.sum()
                rows.append(
                    {
                        "group": _key(self.times[gg]),
                        "time": _key(self.times[t]),
                        "event_time": t - gg,
                        "att": att_gt,
                        "n_treated": int(in_g.sum()),
                        "n_control": int(ctrl.sum()),
                        "_g": gg,
                        "_t": t,
                    }
                )
                psis.append(psi)
        if not rows:
            raise InputError("no group-time effect can be estimated (no controls at any time)")
        return pd.DataFrame(rows), np.column_stack(psis)

    def fit(self, *, n_boot: int = 999, seed: int = 0) -> CSResults:
        Y = self.wide.to_numpy(dtype=float)
        n = Y.shape[0]
        att, Psi = self._cells(Y)
        a = att["att"].to_numpy()
        gc, tc = att["_g"].to_numpy(), att["_t"].to_numpy()
        coh = self.g
        pg = np.array([(coh == x).mean() for x in gc])  # P(G = g) of each cell's cohort
        z = float(stats.norm.ppf(0.975))
        se_cells = np.sqrt((Psi**2).sum(0)) / n
        att["se"] = se_cells
        att["lo"] = a - z * se_cells
        att["hi"] = a + z * se_cells

        def wif(keep: np.ndarray, groups: np.ndarray, p: np.ndarray) -> np.ndarray:
            """Influence of estimating the cohort-share weights (R did's `wif`)."""
            pk, s = p[keep], p[keep].sum()
            ind = (coh[:, None] == groups[keep][None, :]).astype(float)
            return (ind - pk) / s - (ind - pk).sum(1)[:, None] * (pk / s**2)[None, :]

        def agg(keep: np.ndarray, weighted: bool = True) -> tuple[float, np.ndarray]:
            """Estimate and influence function of a pg-weighted mean of the kept cells."""
            w = pg[keep] / pg[keep].sum() if weighted else np.full(keep.sum(), 1 / keep.sum())
            inf = Psi[:, keep] @ w
            if weighted:
                inf = inf + wif(keep, gc, pg) @ a[keep]
            return float(a[keep] @ w), inf

        def se(inf: np.ndarray) -> float:
            return float(np.sqrt(np.mean(inf**2) / n))

        rng = np.random.default_rng(seed)
        V = rng.choice([-1.0, 1.0], size=(n_boot, n))

        def table(index_name: str, keys: list, infs: list[np.ndarray], ests: list[float]):
            """Pointwise intervals and a simultaneous band (multiplier bootstrap sup-t)."""
            INF = np.column_stack(infs)
            ses = np.sqrt(np.mean(INF**2, 0) / n)
            dev = V @ INF / n
            crit = float(np.quantile(np.abs(dev / np.maximum(ses, 1e-12)).max(1), 0.95))
            est = np.asarray(ests)
            return pd.DataFrame(
                {"att": est, "se": ses, "lo": est - z * ses, "hi": est + z * ses,
                 "lo_band": est - crit * ses, "hi_band": est + crit * ses},
                index=pd.Index(keys, name=index_name),
            )  # fmt: skip

        post = gc <= tc
        simple, simple_inf = agg(post)
        # dynamic: every event time (leads too); the overall is the mean of e >= 0
        e_all = tc - gc
        es_keys = sorted(set(e_all.tolist()))
        es = [agg(e_all == e) for e in es_keys]
        es_tab = table("event_time", [int(e) for e in es_keys], [x[1] for x in es],
                       [x[0] for x in es])  # fmt: skip
        pos = [i for i, e in enumerate(es_keys) if e >= 0]
        dyn = float(np.mean([es[i][0] for i in pos]))
        dyn_inf = np.mean(np.column_stack([es[i][1] for i in pos]), 1)
        # group: equal weights over each cohort's post periods; cohorts weighted by size
        glist = sorted(set(gc[post].tolist()))
        gr = [agg(post & (gc == x), weighted=False) for x in glist]
        gr_tab = table("group", [_key(self.times[x]) for x in glist], [x[1] for x in gr],
                       [x[0] for x in gr])  # fmt: skip
        pgg = np.array([(coh == x).mean() for x in glist])
        att_g = np.array([x[0] for x in gr])
        keep_g = np.ones(len(glist), bool)
        grp = float(att_g @ (pgg / pgg.sum()))
        grp_inf = (
            np.column_stack([x[1] for x in gr]) @ (pgg / pgg.sum())
            + wif(keep_g, np.asarray(glist, float), pgg) @ att_g
        )
        # calendar: each period from the first adoption on, then their mean
        tlist = sorted(set(tc[post].tolist()))
        ca = [agg(post & (tc == x)) for x in tlist]
        ca_tab = table("time", [_key(self.times[x]) for x in tlist], [x[1] for x in ca],
                       [x[0] for x in ca])  # fmt: skip
        cal = float(np.mean([x[0] for x in ca]))
        cal_inf = np.mean(np.column_stack([x[1] for x in ca]), 1)
        aggregates = {
            "simple": Aggregate(simple, se(simple_inf)),
            "dynamic": Aggregate(dyn, se(dyn_inf)),
            "group": Aggregate(grp, se(grp_inf)),
            "calendar": Aggregate(cal, se(cal_inf)),
        }
        # R did's pre-test: Wald statistic over every pre-adoption cell (group > t).
        # Its chi-squared reference needs many more units than pre-adoption cells; the Hotelling
        # T^2 form, F = (n - q) W / (q (n - 1)) on (q, n - q) df, is the small-sample version
        # (nearly equal on mpdta: 500 units, 5 cells) and gives the plain-language reading.
        pre = gc > tc
        q = int(pre.sum())
        stat, pre_p, pre_p_f = float("nan"), float("nan"), float("nan")
        if q:
            Vp = Psi[:, pre].T @ Psi[:, pre] / n**2
            if np.linalg.cond(Vp) < 1 / np.finfo(float).eps:
                stat = float(a[pre] @ np.linalg.solve(Vp, a[pre]))
                pre_p = float(stats.chi2.sf(stat, q))
                if n > q:
                    pre_p_f = float(stats.f.sf((n - q) * stat / (q * (n - 1)), q, n - q))
        s_se = aggregates["simple"].se
        return CSResults(
            att_gt=att.drop(columns=["_g", "_t"]),
            overall=simple,
            overall_se=s_se,
            overall_ci=(simple - z * s_se, simple + z * s_se),
            event_study=es_tab,
            by_group=gr_tab,
            control_group=self.control_group,
            n_boot=n_boot,
            pretrend_p=pre_p_f,
            pretrend_p_chi2=pre_p,
            aggregates=aggregates,
            calendar=ca_tab,
            pretrend_stat=stat,
            pretrend_df=int(pre.sum()),
            anticipation=self.anticipation,
            units=self.units,
        )
