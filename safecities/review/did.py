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


def _wide(panel: pd.DataFrame, unit_col: str, time_col: str, outcome: str, source: str):
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
    if wide.isna().any().any():
        u = wide.index[wide.isna().any(axis=1)][0]
        raise InputError(f"{source}: unit {u} lacks some periods (the panel must be balanced)")
    return wide


def select_controls(
    wide: pd.DataFrame, treated: Sequence[str], pre: Sequence[Any], n_controls: int | None = None
) -> tuple[list[str], pd.DataFrame]:
    """Controls nearest the treated units' mean in standardised (pre-level, pre-trend) space."""
    pre_y = wide[list(pre)]
    t = np.arange(len(pre), dtype=float)
    level = pre_y.mean(axis=1)
    slope = pre_y.apply(lambda r: np.polyfit(t, r.to_numpy(dtype=float), 1)[0], axis=1)
    feats = pd.DataFrame({"level": level, "trend": slope})
    sd = feats.std(ddof=1).replace(0, 1.0).fillna(1.0)
    target = feats.loc[list(treated)].mean()
    dist = (((feats - target) / sd) ** 2).sum(axis=1) ** 0.5
    pool = dist.drop(list(treated)).sort_values()
    # Default: twice as many controls as treated units, at least 3 (a small, similar pool).
    k = max(3, 2 * len(treated)) if n_controls is None else n_controls
    chosen = list(pool.index[: min(k, len(pool))])
    feats["distance"] = dist
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
        else:
            chosen, feats = select_controls(wide, treated, pre, n_controls)
        if not chosen:
            raise InputError(f"{source}: no control units left")
        self.wide, self.treated, self.controls = wide, list(treated), chosen
        self.intervention, self.pre, self.post = intervention, pre, post
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
        )


# ---------------------------------------------------------------------------------------------
# Staggered adoption: Callaway and Sant'Anna (2021)


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
        def recs(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (_key(v) if not isinstance(v, float) else float(v)) for k, v in r.items()}
                for r in df.reset_index().to_dict("records")
            ]

        return {
            "method": "callaway_santanna",
            "reference": self.method,
            "control_group": self.control_group,
            "effect": self.overall,
            "effect_definition": "simple aggregation: cohort-size weighted mean of ATT(g,t), t>=g",
            "se": self.overall_se,
            "conf_int_95": list(self.overall_ci),
            "att_gt": recs(self.att_gt),
            "event_study": recs(self.event_study),
            "by_group": recs(self.by_group),
            "pretrend_test": {
                "p_value": self.pretrend_p,
                "passed": bool(not self.pretrend_p < 0.05),
                "test": "Wald test (2 df) that the mean and linear slope of the pre-adoption "
                "event-time effects are zero (influence-function covariance)",
            },
            "bootstrap": {"kind": "Rademacher multiplier, unit level", "replications": self.n_boot},
            "power": self.power,
        }


class CallawaySantAnna:
    """Group-time ATTs with never-treated or not-yet-treated controls (no covariates)."""

    def __init__(
        self,
        panel: pd.DataFrame,
        *,
        unit_col: str,
        time_col: str,
        outcome: str,
        adoption: pd.Series,
        control_group: str = "notyet",
        source: str = "panel",
    ) -> None:
        """`adoption`: unit -> first treated period (NaN/NaT: never treated)."""
        if control_group not in {"never", "notyet"}:
            raise InputError("--control-group must be never or notyet")
        wide = _wide(panel, unit_col, time_col, outcome, source)
        times = list(wide.columns)
        adoption = adoption.reindex(wide.index)
        tidx = {t: i for i, t in enumerate(times)}
        g = np.full(len(wide), np.inf)
        for i, a in enumerate(adoption.to_numpy()):
            if pd.isna(a):
                continue
            later = [tidx[t] for t in times if t >= a]
            if not later:
                continue  # adopts after the panel ends: never treated within it
            g[i] = later[0]
        if np.isinf(g).all():
            raise InputError(f"{source}: no unit adopts within the panel")
        if control_group == "never" and not np.isinf(g).any():
            raise InputError("--control-group never: there are no never-treated units")
        self.wide, self.times, self.g = wide, times, g
        self.control_group = control_group

    def fit(self, *, n_boot: int = 999, seed: int = 0) -> CSResults:
        Y = self.wide.to_numpy(dtype=float)
        n, T = Y.shape
        g = self.g
        rows, psis = [], []
        for gg in sorted(set(g[np.isfinite(g)].astype(int))):
            if gg == 0:
                continue  # treated from the first period: no pre-period to compare with
            in_g = g == gg
            for t in range(T):
                base = gg - 1 if t >= gg else t - 1
                if base < 0 or t == base:
                    continue
                never = self.control_group == "never"
                ctrl = np.isinf(g) if never else (g > max(t, base)) & ~in_g
                if ctrl.sum() == 0:
                    continue
                dy = Y[:, t] - Y[:, base]
                mg, mc = dy[in_g].mean(), dy[ctrl].mean()
                psi = np.zeros(n)
                psi[in_g] = (dy[in_g] - mg) * n / in_g.sum()
                psi[ctrl] = -(dy[ctrl] - mc) * n / ctrl.sum()
                rows.append(
                    {
                        "group": _key(self.times[gg]),
                        "time": _key(self.times[t]),
                        "event_time": t - gg,
                        "att": mg - mc,
                        "n_treated": int(in_g.sum()),
                        "n_control": int(ctrl.sum()),
                        "_size": in_g.sum(),
                    }
                )
                psis.append(psi)
        if not rows:
            raise InputError("no group-time effect can be estimated (no controls at any time)")
        att = pd.DataFrame(rows)
        Psi = np.column_stack(psis)  # n x K
        se = np.sqrt((Psi**2).sum(0)) / n
        rng = np.random.default_rng(seed)
        V = rng.choice([-1.0, 1.0], size=(n_boot, n))
        boot = V @ Psi / n  # n_boot x K bootstrap deviations
        z = stats.norm.ppf(0.975)
        att["se"] = se
        att["lo"] = att["att"] - z * se
        att["hi"] = att["att"] + z * se

        def aggregate(mask: np.ndarray) -> tuple[float, float, np.ndarray]:
            w = att["_size"].to_numpy() * mask
            w = w / w.sum()
            est = float(att["att"].to_numpy() @ w)
            dev = boot @ w
            return est, float(dev.std(ddof=1)), dev

        post = att["event_time"].to_numpy() >= 0
        overall, overall_se, _ = aggregate(post)
        es_rows, es_dev = {}, []
        for e in sorted(att["event_time"].unique()):
            m = att["event_time"].to_numpy() == e
            est, s, dev = aggregate(m)
            es_rows[int(e)] = {"att": est, "se": s}
            es_dev.append(dev / max(s, 1e-12))
        es = pd.DataFrame.from_dict(es_rows, orient="index").rename_axis("event_time")
        crit = float(np.quantile(np.abs(np.column_stack(es_dev)).max(1), 0.95))
        es["lo"] = es["att"] - z * es["se"]
        es["hi"] = es["att"] + z * es["se"]
        es["lo_band"] = es["att"] - crit * es["se"]
        es["hi_band"] = es["att"] + crit * es["se"]
        grp = {}
        for gv in att["group"].unique():
            m = (att["group"].to_numpy() == gv) & post
            if m.any():
                est, s, _ = aggregate(m)
                grp[gv] = {"att": est, "se": s, "lo": est - z * s, "hi": est + z * s}
        by_group = pd.DataFrame.from_dict(grp, orient="index").rename_axis("group")
        # Pre-trend: event-time aggregates before adoption, jointly zero; covariance from the
        # influence functions (exact for these means; a bootstrap estimate of a large covariance
        # matrix is too noisy to invert).
        pre_e = [e for e in es.index if e < 0]
        if pre_e:
            sizes = att["_size"].to_numpy()
            et = att["event_time"].to_numpy()
            W = np.column_stack([np.where(et == e, sizes, 0.0) for e in pre_e])
            W = W / W.sum(0)
            b = att["att"].to_numpy() @ W
            C = (Psi @ W).T @ (Psi @ W) / n**2
            # Two restrictions (mean and linear slope of the pre-adoption pseudo-effects), not one
            # per lead: with ~15 units a cohort a many-lead joint Wald test badly over-rejects.
            e = np.asarray(pre_e, dtype=float)
            rows_l = [np.full(len(e), 1 / len(e))]
            if len(e) >= 3:
                rows_l.append((e - e.mean()) / np.sum((e - e.mean()) ** 2))
            L = np.vstack(rows_l)
            lb = L @ b
            stat = float(lb @ np.linalg.pinv(L @ C @ L.T) @ lb)
            pre_p = float(stats.chi2.sf(stat, len(rows_l)))
        else:
            pre_p = float("nan")
        return CSResults(
            att_gt=att.drop(columns="_size"),
            overall=overall,
            overall_se=overall_se,
            overall_ci=(overall - z * overall_se, overall + z * overall_se),
            event_study=es,
            by_group=by_group,
            control_group=self.control_group,
            n_boot=n_boot,
            pretrend_p=pre_p,
        )
