"""The verbs of `safecities review`, once: the CLI, the API routes and the web pages call these.

Each verb takes a typed request (a dataclass of the command's options) and returns a result whose
`to_dict()` is the command's `--json` document (manifest included). Inputs are a file on disk (the
CLI) or uploaded bytes (the API); the cost bounds the API needs (rows, units, periods, optimiser
starts, placebo fits, bootstrap replications, simulations) are a `Limits` argument of the same
call, never a second code path. Every input problem ends as an `InputError` naming file, row and
field; the analysis itself is the library's (safecities.review.*).
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from safecities.domain import RowError
from safecities.errors import InputError, NotFound, SafecitiesError

DEFAULT_UNITS = "Clemenceau,Peterbos,Matonge"
DEFAULT_INTERVENTION = date(2025, 6, 21)  # start of summer: the demo scenario's measures
REPORT_METHODS = ("its", "did")  # scm reports run one placebo per zone: CLI only
SCM_SOLVER = "nested: Nelder-Mead (V) / NNLS simplex least squares (W)"

#: matplotlib's pyplot state is not thread-safe; FastAPI runs sync routes in a thread pool.
_PLOT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Cost bounds and option spelling of one caller. `None` = unbounded (the CLI runs on the
    analyst's own machine); the API passes `API_LIMITS` so one request takes seconds."""

    max_upload_bytes: int | None = None
    max_rows: int | None = None
    max_units: int | None = None
    max_periods: int | None = None
    max_starts: int | None = None
    max_placebo_donors: int | None = None  # one synthetic-control fit per donor
    placebo_starts: int | None = None  # optimiser starts of each placebo fit (None: the fit's)
    max_boot: int | None = None
    max_sims: int | None = None  # power: simulated studies (None = the library's 2000)
    max_row_errors: int = 100
    cli: bool = True  # errors name options as the CLI spells them (--fit-period) or the API's

    def opt(self, name: str) -> str:
        """`fit_period` as this caller spells it: `--fit-period` (CLI) or `fit_period` (API)."""
        return "--" + name.replace("_", "-") if self.cli else name


CLI_LIMITS = Limits()
API_LIMITS = Limits(
    max_upload_bytes=5 * 1024 * 1024, max_rows=50_000, max_units=200, max_periods=520,
    max_starts=8, max_placebo_donors=40, max_boot=499, max_sims=2000,
    cli=False,
)  # fmt: skip


@dataclass(frozen=True)
class Upload:
    """A file sent to the API: its bytes and the name the user gave it (used in messages)."""

    data: bytes
    filename: str | None = None


Source = Path | Upload


# -- helpers ----------------------------------------------------------------------------------


def clean(obj: Any) -> Any:
    """JSON-safe copy with the CLI's encoder (dates ISO, numpy to Python) and NaN/inf as null."""
    import json

    from safecities.clitools import dumps

    def fix(o: Any) -> Any:
        if isinstance(o, float):
            return o if math.isfinite(o) else None
        if isinstance(o, dict):
            return {str(k): fix(v) for k, v in o.items()}
        if isinstance(o, list):
            return [fix(v) for v in o]
        return o

    return fix(json.loads(dumps(obj)))


def split_list(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def _manifest(command: str, params: dict[str, Any], seed: int | None, files=None) -> dict:
    from safecities.manifest import RunManifest

    m = RunManifest(command=command, parameters=params, seed=seed)
    for name, path in (files or {}).items():
        if path is not None and Path(path).exists():
            m.add_input_file(name, path)
    return m.to_dict()


@dataclass
class Result:
    """A verb's answer: `data` are the command's JSON keys, `manifest` the run's provenance."""

    data: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    obj: Any = None  # the library's result object (the CLI's text output reads it)

    def to_dict(self) -> dict[str, Any]:
        return clean({**self.data, "manifest": self.manifest})


_LINE_ROW = re.compile(r"row (\d+), field ([^:]+): (.*)$")
_ROW_ONLY = re.compile(r"row (\d+): (.*)$")


def _as_input_error(exc: Exception, tmp: str | None, display: str) -> InputError:
    """The library's one-line error with a temporary path replaced by the upload's name, and
    its `row N, field F` (N = file line, header = line 1) as a structured row error."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if tmp:
        msg = msg.replace(tmp, display)
    errors = list(getattr(exc, "errors", None) or [])
    if not errors:
        m = _LINE_ROW.search(msg)
        if m:
            errors = [RowError(display, int(m.group(1)) - 1, m.group(2).strip(), m.group(3))]
        elif m := _ROW_ONLY.search(msg):
            errors = [RowError(display, int(m.group(1)) - 1, "row", m.group(2))]
    return InputError(msg, errors)


#: Exceptions that bad input can raise inside pandas/numpy/statsmodels (never a 500 for them).
_BAD_INPUT = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, csv.Error)


def guard(fn: Callable[[], Any], tmp: str | None, display: str) -> Any:
    """Run `fn`; any error that bad input can cause becomes a one-line InputError."""
    import numpy as np

    try:
        return fn()
    except SafecitiesError as exc:
        raise _as_input_error(exc, tmp, display) from None
    except (*_BAD_INPUT, np.linalg.LinAlgError) as exc:
        raise InputError(
            f"{display}: cannot analyse this input ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None


def _display_name(filename: str | None) -> str:
    name = Path(filename or "panel.csv").name.strip() or "panel.csv"
    return re.sub(r"[^\w.\- ]", "_", name)[:120]


@dataclass
class _Table:
    df: pd.DataFrame
    path: Path  # where the library reads it (a temporary copy for uploads)
    display: str  # how messages and the manifest name it
    tmp: str | None  # the temporary path to hide from messages


@contextmanager
def _open_table(src: Source, limits: Limits) -> Iterator[_Table]:
    """The table of a path or an upload (written to a temporary file the library can read)."""
    from safecities.review.panel import read_table

    if isinstance(src, Path):
        df = read_table(src)
        df.columns = [str(c).strip() for c in df.columns]
        yield _Table(df, src, str(src), None)
        return
    display = _display_name(src.filename)
    if not src.data:
        raise InputError(f"{display}: empty file", [RowError(display, 0, "file", "empty file")])
    if limits.max_upload_bytes is not None and len(src.data) > limits.max_upload_bytes:
        raise InputError(f"{display}: larger than {limits.max_upload_bytes // (1024 * 1024)} MB")
    with tempfile.TemporaryDirectory() as tmpdir:
        suffix = ".parquet" if display.lower().endswith((".parquet", ".pq")) else ".csv"
        path = Path(tmpdir) / f"upload{suffix}"
        path.write_bytes(src.data)
        df = guard(lambda: read_table(path), str(path), display)
        df.columns = [str(c).strip() for c in df.columns]
        yield _Table(df, path, display, str(path))


def _too_many_rows(n: int, display: str, limits: Limits) -> None:
    if limits.max_rows is not None and n > limits.max_rows:
        raise InputError(f"{display}: {n} rows; at most {limits.max_rows} here (use the CLI)")


def _row_errors(display: str, errors: list[RowError], limits: Limits) -> None:
    if errors:
        errors.sort(key=lambda e: (e.row, e.field))
        raise InputError(
            f"{display}: {len(errors)} bad value(s); first: row {errors[0].row}, field "
            f"{errors[0].field}: {errors[0].reason}",
            errors[: limits.max_row_errors],
        )


def _validate_panel(t: _Table, unit_col: str, time_col: str, outcomes: list[str], limits: Limits):
    """Every bad row of the columns the analysis reads, at once (the library stops at the first);
    rows are data rows (header excluded)."""
    from safecities.review.panel import require_columns

    df, display = t.df, t.display
    require_columns(df, [unit_col, time_col, *outcomes], display)
    if len(df) == 0:
        raise InputError(f"{display}: no rows")
    _too_many_rows(len(df), display, limits)
    errors: list[RowError] = []
    for i in df.index[df[unit_col].isna() | (df[unit_col].astype(str).str.strip() == "")]:
        errors.append(RowError(display, int(i) + 1, unit_col, "empty unit"))
    tv = df[time_col]
    if not pd.api.types.is_numeric_dtype(tv):
        bad = pd.to_datetime(tv, errors="coerce", format="mixed").isna()
    else:
        bad = tv.isna()
    for i in df.index[bad]:
        v = tv.loc[i]
        errors.append(RowError(display, int(i) + 1, time_col, "not a time (number or date)",
                               None if pd.isna(v) else str(v)))  # fmt: skip
    for col in outcomes:
        num = pd.to_numeric(df[col], errors="coerce")
        for i in df.index[num.isna() & df[col].notna()]:
            errors.append(RowError(display, int(i) + 1, col, "not a number", str(df[col].loc[i])))
    _row_errors(display, errors, limits)
    n_units, n_times = df[unit_col].nunique(), df[time_col].nunique()
    if (limits.max_units is not None and n_units > limits.max_units) or (
        limits.max_periods is not None and n_times > limits.max_periods
    ):
        raise InputError(
            f"{display}: {n_units} units and {n_times} periods; at most {limits.max_units} units "
            f"and {limits.max_periods} periods here (use the CLI)"
        )


def _clamp(value: int, hi: int | None, lo: int = 1) -> int:
    return max(lo, min(int(value), hi)) if hi is not None else max(lo, int(value))


def parse_date(value: str, what: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value)
    except ValueError:
        raise InputError(f"{what}: {value!r} is not a date") from None


def to_datetime(values: pd.Series, source: str, column: str) -> pd.Series:
    """Dates (any offset) as naive Brussels local time; the first unreadable row is named."""
    import numpy as np

    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(
            f"{source}: row {row + 2}, field {column}: cannot read {values.iloc[row]!r} as a date"
        )
    return parsed.dt.tz_convert("Europe/Brussels").dt.tz_localize(None)


def power_for(
    baseline: float, pre: int, post: int, effect: float, seed: int, *,
    dispersion: float = 0.0, period: str = "month",
):  # fmt: skip
    """The power sentence attached to an estimate: a pre/post comparison of counts with `pre`
    and `post` periods (`period` names them) at `baseline` events a period, with the series'
    own dispersion."""
    from safecities.review.power import power_analysis

    return power_analysis(
        max(baseline, 1e-3), max(post, 1), effect, pre_months=max(pre, 1), seed=seed,
        n_sim=2000, dispersion=dispersion, period=period,
    )  # fmt: skip


def its_power(counts: pd.Series, t0: int, res, effect: float, seed: int, freq: str):
    """The power of this ITS: its own design (segmented GLM, Wald test of the level change),
    periods (weeks or months) and the dispersion just estimated (0 when Poisson)."""
    from safecities.review.power import power_analysis

    return power_analysis(
        max(float(counts.iloc[:t0].mean()), 1e-3), max(len(counts) - t0, 1), effect,
        pre_months=max(t0, 3), design="its", dispersion=float(res.alpha_nb), n_sim=200,
        seed=seed, period=freq,
    )  # fmt: skip


# -- scm --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScmRequest:
    """The options of `safecities review scm`."""

    panel: Source
    unit_col: str
    time_col: str
    outcome: str
    treated: str
    intervention: str
    covariates: str | None = None
    predictor: tuple[str, ...] = ()
    fit_period: str | None = None
    donors: str | None = None
    starts: int = 4
    preset: str = "normal"
    placebo: bool = True
    train_predictor: tuple[str, ...] = ()
    train_fit_period: str | None = None
    custom_v: Source | None = None  # CSV with columns predictor,v
    in_time_placebo: str | None = None
    leave_one_out: bool = False
    seed: int = 0


def read_custom_v(src: Source, limits: Limits) -> dict[str, float]:
    """`--custom-v FILE`: a CSV with columns `predictor` (the labels of --predictor/--covariates,
    as in the JSON's predictor_weights) and `v`; every bad row named at once."""
    from safecities.review.panel import require_columns

    with _open_table(src, limits) as t:
        require_columns(t.df, ["predictor", "v"], t.display)
        v = pd.to_numeric(t.df["v"], errors="coerce")
        errors = [
            RowError(t.display, int(i) + 1, "v", "not a non-negative number", str(t.df["v"][i]))
            for i in t.df.index[v.isna() | (v < 0)]
        ]
        _row_errors(t.display, errors, limits)
        return {str(k).strip(): float(x) for k, x in zip(t.df["predictor"], v, strict=True)}


def scm(
    req: ScmRequest,
    *,
    limits: Limits = CLI_LIMITS,
    on_progress: Callable[[], Any] | None = None,
) -> Result:
    """Synthetic control with in-space placebos; `on_progress()` after each fit."""
    from safecities.review.panel import normalise_times, parse_periods, parse_time
    from safecities.review.scm import SyntheticControl, parse_predictor

    starts = _clamp(req.starts, limits.max_starts)
    custom_v = read_custom_v(req.custom_v, limits) if req.custom_v is not None else None
    with _open_table(req.panel, limits) as t:
        _validate_panel(t, req.unit_col, req.time_col, [req.outcome], limits)
        df, o = t.df, limits.opt

        def run():
            df[req.time_col] = normalise_times(df[req.time_col], t.display, req.time_col)
            t0 = parse_time(req.intervention, df[req.time_col], o("intervention"))
            preds = [parse_predictor(s, df[req.time_col]) for s in req.predictor]
            train = [parse_predictor(s, df[req.time_col]) for s in req.train_predictor]
            train_fit = (
                parse_periods(req.train_fit_period, df[req.time_col], o("train_fit_period"))
                if req.train_fit_period
                else None
            )
            when = (
                parse_time(req.in_time_placebo, df[req.time_col], o("in_time_placebo"))
                if req.in_time_placebo
                else None
            )
            fit = (
                parse_periods(req.fit_period, df[req.time_col], o("fit_period"))
                if req.fit_period
                else None
            )
            model = SyntheticControl(
                df, unit_col=req.unit_col, time_col=req.time_col, outcome=req.outcome,
                treated=req.treated, intervention=t0, predictors=preds,
                covariates=split_list(req.covariates), fit_period=fit,
                donors=split_list(req.donors) or None, source=t.display,
                train_predictors=train, train_fit_period=train_fit, custom_v=custom_v,
            )  # fmt: skip
            cap = limits.max_placebo_donors
            if req.placebo and cap is not None and len(model.donors) > cap:
                raise InputError(
                    f"placebo inference needs one fit per donor: {len(model.donors)} donors, at "
                    f"most {cap} here (choose donors, set placebo=false or use the CLI)"
                )
            return model.fit(
                n_starts=starts, placebo=req.placebo,
                placebo_starts=limits.placebo_starts if req.placebo else None, seed=req.seed,
                preset=req.preset, on_progress=on_progress, in_time_placebo=when,
                leave_one_out=req.leave_one_out,
            )  # fmt: skip

        res = guard(run, t.tmp, t.display)
        params = {
            "panel": t.display, "unit_col": req.unit_col, "time_col": req.time_col,
            "outcome": req.outcome, "treated": req.treated, "intervention": req.intervention,
            "covariates": req.covariates, "predictor": list(req.predictor),
            "fit_period": req.fit_period, "donors": req.donors, "starts": starts,
            "preset": req.preset, "placebo": req.placebo,
            "train_predictor": list(req.train_predictor), "train_fit_period": req.train_fit_period,
            "custom_v": custom_v, "in_time_placebo": req.in_time_placebo,
            "leave_one_out": req.leave_one_out,
        }  # fmt: skip
        manifest = _manifest("review scm", params, req.seed, {"panel": t.path})
    manifest["solver"] = {
        "name": SCM_SOLVER,
        "status": "ok",
        "objective": res.loss,
        "bound": res.loss_lower_bound,
        "starts": list(res.start_losses),
    }
    return Result(res.to_dict(), manifest, res)


# -- its --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItsRequest:
    """The options of `safecities review its`."""

    series: Source
    date_col: str
    intervention: str
    count_col: str | None = None
    freq: str = "month"
    family: str = "auto"
    power_effect: float = -30.0
    seed: int = 0


def its(req: ItsRequest, *, limits: Limits = CLI_LIMITS) -> Result:
    """Interrupted time series of a series of dated counts (or one row per event), with the
    power of a change of `power_effect` percent."""
    from safecities.review.its import ITS, aggregate_counts
    from safecities.review.panel import require_columns

    with _open_table(req.series, limits) as t:
        df, display = t.df, t.display
        require_columns(df, [req.date_col] + ([req.count_col] if req.count_col else []), display)
        _too_many_rows(len(df), display, limits)
        dates = pd.to_datetime(df[req.date_col], errors="coerce", format="mixed", utc=True)
        errors = [
            RowError(display, int(i) + 1, req.date_col, "not a date",
                     None if pd.isna(v) else str(v))
            for i, v in df[req.date_col][dates.isna()].items()
        ]  # fmt: skip
        if req.count_col:
            c = pd.to_numeric(df[req.count_col], errors="coerce")
            errors += [
                RowError(display, int(i) + 1, req.count_col, "not a non-negative number",
                         None if pd.isna(v) else str(v))
                for i, v in df[req.count_col][c.isna() | (c < 0)].items()
            ]  # fmt: skip
        _row_errors(display, errors, limits)

        def run():
            d = to_datetime(df[req.date_col], display, req.date_col)
            span_days = (d.max() - d.min()).days
            cap = limits.max_periods
            if cap is not None and span_days > cap * (7 if req.freq == "week" else 31):
                raise InputError(f"{display}: more than {cap} periods (use the CLI)")
            counts = aggregate_counts(d, df[req.count_col] if req.count_col else None, req.freq)
            model = ITS(counts, parse_date(req.intervention, limits.opt("intervention")),
                        freq=req.freq, family=req.family)  # fmt: skip
            res = model.fit(seed=req.seed)
            pw = its_power(counts, model.t0, res, req.power_effect / 100, req.seed, req.freq)
            return res, pw

        res, pw = guard(run, t.tmp, display)
        params = {
            "series": display, "date_col": req.date_col, "count_col": req.count_col,
            "intervention": req.intervention, "freq": req.freq, "family": req.family,
            "power_effect": req.power_effect,
        }  # fmt: skip
        manifest = _manifest("review its", params, req.seed, {"series": t.path})
    return Result({**res.to_dict(), "power": pw.to_dict()}, manifest, (res, pw))


def its_register(
    engine: Engine, *, intervention: date, freq: str = "week", city: str = "brussels", seed: int = 0
) -> dict[str, Any]:
    """Interrupted time series of the register's incidents of a city (the API's GET route)."""
    from safecities.register.events import events_from_db
    from safecities.review.its import ITS, aggregate_counts

    df = events_from_db(engine, city=city)
    if len(df) == 0:
        raise InputError(f"no incidents recorded for {city}: import some first")
    counts = aggregate_counts(df["occurred_at"], None, freq)
    try:
        res = ITS(counts, intervention, freq=freq, family="auto").fit(seed=seed)
    except (ValueError, ZeroDivisionError) as exc:
        raise InputError(f"interrupted time series: {exc}") from exc
    out = res.to_dict()
    keep = (
        "method", "reference", "model", "family", "freq", "intervention", "rate_ratio",
        "rate_ratio_ci_95", "level_change_rr", "slope_change_rr_per_period", "p_level_change",
        "p_slope_change", "events_observed", "events_expected_counterfactual", "events_averted",
        "events_averted_pi_95", "observed", "counterfactual", "fitted", "autocorrelation",
        "primary_model", "sensitivity", "warnings",
    )  # fmt: skip
    return clean({k: out.get(k) for k in keep} | {"synthetic_note": None})


# -- power ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerRequest:
    """The options of `safecities review power` (effect in percent)."""

    baseline_per_month: float
    months: int
    effect: float
    pre_months: int = 12
    design: str = "prepost"
    alpha: float = 0.05
    dispersion: float = 0.0
    sims: int | None = None
    seed: int = 0


def power(req: PowerRequest, *, limits: Limits = CLI_LIMITS) -> Result:
    """Power by simulation: detection probability of `effect` and the minimum detectable effect
    (simulations capped by `limits.max_sims`; its default when `sims` is not given)."""
    from safecities.review.power import power_analysis

    n_sim = req.sims if req.sims is not None else limits.max_sims
    if n_sim is not None and limits.max_sims is not None:
        n_sim = min(n_sim, limits.max_sims)
    kwargs = {} if n_sim is None else {"n_sim": n_sim}
    res = guard(
        lambda: power_analysis(
            req.baseline_per_month, req.months, req.effect / 100, pre_months=req.pre_months,
            design=req.design, alpha=req.alpha, dispersion=req.dispersion, seed=req.seed,
            **kwargs,
        ),
        None,
        "power",
    )  # fmt: skip
    params = {
        "baseline_per_month": req.baseline_per_month, "months": req.months,
        "effect": req.effect, "pre_months": req.pre_months, "design": req.design,
        "alpha": req.alpha, "dispersion": req.dispersion, "sims": res.n_sim,
    }  # fmt: skip
    return Result(res.to_dict(), _manifest("review power", params, req.seed), res)


# -- did --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DidRequest:
    """The options of `safecities review did`."""

    panel: Source
    unit_col: str
    time_col: str
    outcome: str
    treated: str | None = None
    intervention: str | None = None
    adoption_col: str | None = None
    controls: str | None = None
    n_controls: int | None = None
    control_group: str = "notyet"
    anticipation: int = 0
    covariates: str | None = None  # staggered: comma list conditioning the parallel trends
    est_method: str = "dr"  # staggered with covariates: dr (doubly robust) or reg
    boot: int = 999
    seed: int = 0


def did(req: DidRequest, *, limits: Limits = CLI_LIMITS) -> Result:
    """Difference-in-differences (event study, pre-trend test), or staggered adoption with
    Callaway-Sant'Anna group-time effects when `adoption_col` is given; plus its power."""
    from safecities.review.did import CallawaySantAnna, DiD, is_never_treated
    from safecities.review.panel import normalise_times, parse_time, require_columns

    boot = _clamp(req.boot, limits.max_boot, lo=9)
    o = limits.opt
    covs = split_list(req.covariates)
    if covs and not req.adoption_col:
        raise InputError(f"{o('covariates')}: only with {o('adoption_col')} (Callaway-Sant'Anna)")
    with _open_table(req.panel, limits) as t:
        _validate_panel(t, req.unit_col, req.time_col, [req.outcome, *covs], limits)
        df, display, unit_col, time_col = t.df, t.display, req.unit_col, req.time_col

        def run():
            df[time_col] = normalise_times(df[time_col], display, time_col)
            if req.adoption_col:
                acol = req.adoption_col
                require_columns(df, [acol], display)
                first = df.groupby(df[unit_col].astype(str))[acol].first()

                def when(v):
                    if is_never_treated(v):  # R did's coding: 0 or empty = never treated
                        return None
                    return parse_time(str(v), df[time_col], f"{o('adoption_col')} {acol}")

                adoption = first.map(when)
                treated_units = [u for u, a in adoption.items() if a is not None]
                if not treated_units:
                    raise InputError(f"{o('adoption_col')} {acol}: no unit is ever treated")
                res = CallawaySantAnna(
                    df, unit_col=unit_col, time_col=time_col, outcome=req.outcome,
                    adoption=adoption, control_group=req.control_group,
                    anticipation=req.anticipation, covariates=covs,
                    est_method=req.est_method, source=display,
                ).fit(n_boot=boot, seed=req.seed)  # fmt: skip
                first_t = min(a for a in adoption if a is not None)
                pre_rows = df[
                    df[unit_col].astype(str).isin(treated_units) & (df[time_col] < first_t)
                ]
            else:
                if not req.treated or not req.intervention:
                    raise InputError(
                        f"give {o('treated')} and {o('intervention')}, or {o('adoption_col')}"
                    )
                t0 = parse_time(req.intervention, df[time_col], o("intervention"))
                model = DiD(
                    df, unit_col=unit_col, time_col=time_col, outcome=req.outcome,
                    treated=split_list(req.treated), intervention=t0,
                    controls=split_list(req.controls) or None, n_controls=req.n_controls,
                    source=display,
                )  # fmt: skip
                res = model.fit()
                pre_rows = df[df[unit_col].astype(str).isin(model.treated) & (df[time_col] < t0)]
            out = res.to_dict()
            y = pd.to_numeric(df[req.outcome], errors="coerce")
            counts = bool((y >= 0).all() and (y == y.round()).all())
            n_pre = pre_rows[time_col].nunique()
            n_post = df[time_col].nunique() - n_pre
            base = float(pre_rows.groupby(time_col)[req.outcome].sum().mean()) if n_pre else 0.0
            # A power sentence only for counts (its test is a count test), in panel periods.
            if counts and base > 0 and n_post > 0:
                pw = power_for(base, n_pre, n_post, -0.30, req.seed, period="period").to_dict()
                pw["note"] = (
                    "power of a pre/post comparison of the treated units' summed counts per "
                    "period (optimistic for DiD, which also carries the controls' noise)"
                )
                out["power"] = pw
            return out

        out = guard(run, t.tmp, display)
        params = {
            "panel": display, "unit_col": unit_col, "time_col": time_col,
            "outcome": req.outcome, "treated": req.treated, "intervention": req.intervention,
            "adoption_col": req.adoption_col, "controls": req.controls,
            "n_controls": req.n_controls, "control_group": req.control_group,
            "anticipation": req.anticipation, "covariates": req.covariates,
            "est_method": req.est_method, "boot": boot,
        }  # fmt: skip
        manifest = _manifest("review did", params, req.seed, {"panel": t.path})
    return Result(out, manifest)


# -- plans ------------------------------------------------------------------------------------


def load_plan(src: Source):
    """A plan from a YAML file or an upload; errors name the uploaded file, not a temporary."""
    from safecities.review.plan import load_plan as _load

    if isinstance(src, Path):
        return _load(src)
    name = Path(src.filename or "plan.yaml").name or "plan.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(src.data)
        try:
            return _load(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None


def register_plan(engine: Engine, src: Source, *, actor: str) -> Result:
    """`review register-plan`: the plan's SHA-256 and canonical form into the audit log."""
    from safecities.review.plan import register_plan as _register

    plan = load_plan(src)
    reg = _register(engine, plan, actor=actor)
    name = str(src) if isinstance(src, Path) else _display_name(src.filename)
    files = {"plan": src} if isinstance(src, Path) else {}
    manifest = _manifest("review register-plan", {"plan": name, "actor": actor}, None, files)
    return Result(reg, manifest, plan)


def _load_plan_dict(raw: dict[str, Any]):
    """A Plan through the library's own loader and validation (same messages as the CLI)."""
    import yaml

    data = yaml.safe_dump(raw, sort_keys=False).encode("utf-8")
    try:
        return load_plan(Upload(data, "plan.yaml"))
    except InputError as exc:
        raise InputError(str(exc).replace("plan.yaml", "plan")) from None


def plan_from_params(
    *,
    units: str = DEFAULT_UNITS,
    intervention: date = DEFAULT_INTERVENTION,
    post_until: date | None = None,
    pre_from: date | None = None,
    method: str = "its",
    freq: str = "week",
    kinds: str | None = None,
    controls: str | None = None,
    rings: str | None = None,
    city: str = "brussels",
    title: str | None = None,
):
    """The plan of a report given as parameters (the API's and the web page's report)."""
    if method not in REPORT_METHODS:
        raise InputError(
            f"method: {method!r} must be one of {', '.join(REPORT_METHODS)} here "
            "(a synthetic-control report runs one placebo per zone: use the CLI)"
        )
    unit_list = split_list(units)
    if not unit_list:
        raise InputError("units: give at least one zone name")
    try:
        ring_list = [float(r) for r in split_list(rings)] or [250.0, 500.0]
    except ValueError:
        raise InputError(f"rings: {rings!r} is not a comma list of metres") from None
    if any(not 0 < r <= 5000 for r in ring_list) or len(ring_list) > 5:
        raise InputError("rings: at most 5 distances, each above 0 and at most 5000 m")
    post_until = post_until or intervention + timedelta(days=183)
    raw: dict[str, Any] = {
        "title": title or "Review of the measures",
        "outcome": "incidents" if not kinds else ", ".join(split_list(kinds)),
        "kinds": split_list(kinds),
        "units": unit_list,
        "controls": split_list(controls) or "auto",
        "intervention": intervention.isoformat(),
        "post_period": [intervention.isoformat(), post_until.isoformat()],
        "method": method,
        "freq": freq,
        "rings_m": ring_list,
        "city": city,
    }
    if pre_from is not None:
        raw["pre_period"] = [pre_from.isoformat(), (intervention - timedelta(days=1)).isoformat()]
    return _load_plan_dict(raw)


def registered_plan(engine: Engine, sha256: str):
    """The plan registered (with `safecities review register-plan`) under this SHA-256."""
    from sqlalchemy import select

    from safecities.review.plan import ENTITY
    from safecities.store.db import session_scope
    from safecities.store.models import AuditEvent

    with session_scope(engine) as s:
        ev = s.execute(
            select(AuditEvent)
            .where(AuditEvent.entity == ENTITY, AuditEvent.entity_id == sha256)
            .order_by(AuditEvent.id)
            .limit(1)
        ).scalar_one_or_none()
        canonical = (ev.after or {}).get("plan") if ev is not None else None
    if not canonical:
        raise NotFound(f"no registered plan with SHA-256 {sha256}")
    return _load_plan_dict(canonical)


# -- the report -------------------------------------------------------------------------------


def build_report(engine: Engine, plan, *, lang: str = "en", seed: int = 0, keep_figs: bool = True):
    """The review (lines, data, figures) of a plan from the register. Without `keep_figs` its
    matplotlib figures are closed (a cached report keeps just its PNGs: figures are large)."""
    import matplotlib.pyplot as plt

    from safecities.review.report import build_review

    with _PLOT_LOCK:
        rv = guard(lambda: build_review(engine, plan, lang=lang, seed=seed), None, "report")
        if not keep_figs:
            for fig in rv.figs_mpl:
                plt.close(fig)
            rv.figs_mpl = []
    return rv


def report_dict(
    rv, *, out: str | None, seed: int = 0, query: str | None = None, plan_file: Path | None = None
) -> dict:
    """The keys of `safecities review report --json`; `downloads` (the HTML and PDF routes of
    the same report) only when `query` is given (the API: nothing is written, `out` is null).
    The manifest names the plan file when there is one (the CLI), else the plan itself."""
    plan = rv.plan
    doc: dict[str, Any] = {
        "out": out,
        "lang": rv.lang,
        "plan_sha256": plan.sha256,
        "plan": plan.canonical(),
        "lines": rv.lines,
        "results": rv.data,
        "references": list(dict.fromkeys(rv.references)),
    }
    if query is not None:
        q = f"?{query}" if query else ""
        doc["downloads"] = {
            "html": f"/api/review/report.html{q}",
            "pdf": f"/api/review/report.pdf{q}",
        }
    if plan_file is not None:
        params = {"plan": str(plan_file), "out": out, "lang": rv.lang}
        manifest = _manifest("review report", params, seed, {"plan": plan_file})
    else:
        manifest = _manifest("review report", {"plan": plan.canonical(), "lang": rv.lang}, seed)
    return clean({**doc, "manifest": manifest})


def write_report(engine: Engine, plan_file: Path, out: Path, *, lang: str = "en", seed: int = 0):
    """`safecities review report`: build the review of a plan file and write HTML or PDF."""
    from safecities.review.report import write_report as _write

    if out.suffix.lower() not in {".html", ".pdf"}:
        raise InputError(f"--out {out}: must end in .html or .pdf")
    plan = load_plan(plan_file)
    rv = build_report(engine, plan, lang=lang, seed=seed)
    with _PLOT_LOCK:
        _write(rv, out)
    return rv


def report_html(rv) -> str:
    from safecities.review.report import render_html

    return render_html(rv)


def report_pdf(rv) -> bytes:
    from safecities.review.report import render_pdf

    with tempfile.TemporaryDirectory() as tmp, _PLOT_LOCK:
        path = Path(tmp) / "review.pdf"
        render_pdf(rv, path)
        return path.read_bytes()
