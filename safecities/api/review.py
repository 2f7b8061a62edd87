"""Thin adapter to safecities.review for the API and the web page.

- `its`: interrupted time series of the register's incidents around an intervention date.
- `report_*`: the review report of `safecities review report` (trends, ITS, DiD, displacement,
  power, plan adherence) from the register, for a plan given as parameters or a registered plan.
- `scm`, `did`, `power`: the commands of the same names on an uploaded panel (CSV or Parquet) or
  on parameters, with the CLI's options and JSON keys, and bounded cost (capped optimiser starts,
  placebo fits, bootstrap replications and simulations) so one request takes seconds.

The analysis is the library's (safecities.review.*); this module only turns requests into the
library's inputs, bounds their cost and turns every input problem into an `InputError` (400).
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from safecities.domain import RowError
from safecities.errors import InputError, NotFound, SafecitiesError

#: Bounds of the web/API runs (the CLI has none: it runs on the analyst's own machine).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNITS = 200
MAX_PERIODS = 520
MAX_STARTS = 4
MAX_PLACEBO_DONORS = 40  # one synthetic-control fit per donor
MAX_BOOT = 499
MAX_SIMS = 2000  # power: simulated studies (prepost design; the its design is CLI only)
MAX_ROW_ERRORS = 100
REPORT_METHODS = ("its", "did")  # scm reports run one placebo per zone: CLI only
DEFAULT_UNITS = "Clemenceau,Peterbos,Matonge"
DEFAULT_INTERVENTION = date(2025, 6, 21)  # start of summer: the demo scenario's measures

#: matplotlib's pyplot state is not thread-safe; FastAPI runs sync routes in a thread pool.
_PLOT_LOCK = threading.Lock()


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


def _manifest(command: str, params: dict[str, Any], seed: int | None, files=None) -> dict:
    from safecities.manifest import RunManifest

    m = RunManifest(command=command, parameters=params, seed=seed)
    for name, path in (files or {}).items():
        m.add_input_file(name, path)
    return m.to_dict()


_LINE_ROW = re.compile(r"row (\d+), field ([^:]+): (.*)$")
_ROW_ONLY = re.compile(r"row (\d+): (.*)$")


def _as_input_error(exc: Exception, tmp: str | None, display: str) -> InputError:
    """The library's one-line error with the temporary path replaced by the upload's name, and
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
_BAD_INPUT = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    ArithmeticError,
    csv.Error,
    OverflowError,
)


def _guard(fn: Callable[[], Any], tmp: str | None, display: str) -> Any:
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


def _split(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


# -- interrupted time series of the register --------------------------------------------------


def its(
    engine: Engine, *, intervention: date, freq: str = "week", city: str = "brussels", seed: int = 0
) -> dict[str, Any]:
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
        "method",
        "reference",
        "model",
        "family",
        "freq",
        "intervention",
        "rate_ratio",
        "rate_ratio_ci_95",
        "level_change_rr",
        "slope_change_rr_per_period",
        "p_level_change",
        "p_slope_change",
        "events_observed",
        "events_expected_counterfactual",
        "events_averted",
        "events_averted_pi_95",
        "observed",
        "counterfactual",
        "fitted",
    )
    return {k: out.get(k) for k in keep} | {"synthetic_note": None}


# -- the review report ------------------------------------------------------------------------


def _load_plan_dict(raw: dict[str, Any]):
    """A Plan through the library's own loader and validation (same messages as the CLI)."""
    import yaml

    from safecities.review.plan import load_plan

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        try:
            return load_plan(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), "plan")) from None


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
    if method not in REPORT_METHODS:
        raise InputError(
            f"method: {method!r} must be one of {', '.join(REPORT_METHODS)} here "
            "(a synthetic-control report runs one placebo per zone: use the CLI)"
        )
    unit_list = _split(units)
    if not unit_list:
        raise InputError("units: give at least one zone name")
    try:
        ring_list = [float(r) for r in _split(rings)] or [250.0, 500.0]
    except ValueError:
        raise InputError(f"rings: {rings!r} is not a comma list of metres") from None
    if any(not 0 < r <= 5000 for r in ring_list) or len(ring_list) > 5:
        raise InputError("rings: at most 5 distances, each above 0 and at most 5000 m")
    post_until = post_until or intervention + timedelta(days=183)
    raw: dict[str, Any] = {
        "title": title or "Review of the measures",
        "outcome": "incidents" if not kinds else ", ".join(_split(kinds)),
        "kinds": _split(kinds),
        "units": unit_list,
        "controls": _split(controls) or "auto",
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


def build_report(engine: Engine, plan, *, lang: str = "en", seed: int = 0, pdf: bool = False):
    """`safecities.review.report.build_review`. Its matplotlib figures are closed; they are kept
    only when `pdf` (a cached report keeps just its PNGs: figures are large)."""
    import matplotlib.pyplot as plt

    from safecities.review.report import build_review

    with _PLOT_LOCK:
        rv = build_review(engine, plan, lang=lang, seed=seed)
        for fig in rv.figs_mpl:
            plt.close(fig)
    if not pdf:
        rv.figs_mpl = []
    return rv


def report_json(rv, *, seed: int = 0, query: str = "") -> dict[str, Any]:
    """The keys of `safecities review report --json` (`out` is null: nothing is written; the
    `downloads` key gives the HTML and PDF routes for the same report)."""
    plan = rv.plan
    q = f"?{query}" if query else ""
    return clean(
        {
            "out": None,
            "lang": rv.lang,
            "plan_sha256": plan.sha256,
            "plan": plan.canonical(),
            "lines": rv.lines,
            "results": rv.data,
            "references": list(dict.fromkeys(rv.references)),
            "downloads": {
                "html": f"/api/review/report.html{q}",
                "pdf": f"/api/review/report.pdf{q}",
            },
            "manifest": _manifest(
                "review report", {"plan": plan.canonical(), "lang": rv.lang}, seed
            ),
        }
    )


def report_html(rv) -> str:
    from safecities.review.report import render_html

    return render_html(rv)


def report_pdf(rv) -> bytes:
    from safecities.review.report import render_pdf

    with tempfile.TemporaryDirectory() as tmp, _PLOT_LOCK:
        path = Path(tmp) / "review.pdf"
        render_pdf(rv, path)
        return path.read_bytes()


# -- uploaded panels --------------------------------------------------------------------------


def _display_name(filename: str | None) -> str:
    name = Path(filename or "panel.csv").name.strip() or "panel.csv"
    return re.sub(r"[^\w.\- ]", "_", name)[:120]


def _validate_panel(df, display: str, unit_col: str, time_col: str, outcomes: list[str]) -> None:
    """Every bad row of the columns the analysis reads (the library stops at the first)."""
    import pandas as pd

    from safecities.review.panel import require_columns

    require_columns(df, [unit_col, time_col, *outcomes], display)
    if len(df) == 0:
        raise InputError(f"{display}: no rows")
    if len(df) > MAX_ROWS:
        raise InputError(f"{display}: {len(df)} rows; at most {MAX_ROWS} here (use the CLI)")
    errors: list[RowError] = []
    for i in df.index[df[unit_col].isna() | (df[unit_col].astype(str).str.strip() == "")]:
        errors.append(RowError(display, int(i) + 1, unit_col, "empty unit"))
    t = df[time_col]
    if not pd.api.types.is_numeric_dtype(t):
        parsed = pd.to_datetime(t, errors="coerce", format="mixed")
        bad = parsed.isna()
    else:
        bad = t.isna()
    for i in df.index[bad]:
        v = t.loc[i]
        errors.append(RowError(display, int(i) + 1, time_col, "not a time (number or date)",
                               None if pd.isna(v) else str(v)))  # fmt: skip
    for col in outcomes:
        num = pd.to_numeric(df[col], errors="coerce")
        for i in df.index[num.isna() & df[col].notna()]:
            errors.append(RowError(display, int(i) + 1, col, "not a number", str(df[col].loc[i])))
    if errors:
        errors.sort(key=lambda e: (e.row, e.field))
        raise InputError(
            f"{display}: {len(errors)} bad value(s); first: row {errors[0].row}, field "
            f"{errors[0].field}: {errors[0].reason}",
            errors[:MAX_ROW_ERRORS],
        )
    n_units, n_times = df[unit_col].nunique(), df[time_col].nunique()
    if n_units > MAX_UNITS or n_times > MAX_PERIODS:
        raise InputError(
            f"{display}: {n_units} units and {n_times} periods; at most {MAX_UNITS} units and "
            f"{MAX_PERIODS} periods here (use the CLI)"
        )


def _read_upload(data: bytes, filename: str | None, tmpdir: str):
    from safecities.review.panel import read_table

    display = _display_name(filename)
    if not data:
        raise InputError(f"{display}: empty file", [RowError(display, 0, "file", "empty file")])
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{display}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    suffix = ".parquet" if display.lower().endswith((".parquet", ".pq")) else ".csv"
    path = Path(tmpdir) / f"upload{suffix}"
    path.write_bytes(data)
    df = _guard(lambda: read_table(path), str(path), display)
    df.columns = [str(c).strip() for c in df.columns]
    return df, path, display


def scm(
    data: bytes,
    filename: str | None,
    *,
    unit_col: str,
    time_col: str,
    outcome: str,
    treated: str,
    intervention: str,
    covariates: str | None = None,
    predictor: list[str] | None = None,
    fit_period: str | None = None,
    donors: str | None = None,
    starts: int = 2,
    preset: str = "fast",
    placebo: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities review scm` on an uploaded panel; the same JSON keys."""
    from safecities.review.panel import normalise_times, parse_periods, parse_time
    from safecities.review.scm import SyntheticControl, parse_predictor

    starts = max(1, min(int(starts), MAX_STARTS))
    with tempfile.TemporaryDirectory() as tmp:
        df, path, display = _read_upload(data, filename, tmp)
        _validate_panel(df, display, unit_col, time_col, [outcome])

        def run():
            df[time_col] = normalise_times(df[time_col], display, time_col)
            t0 = parse_time(intervention, df[time_col], "intervention")
            preds = [parse_predictor(s, df[time_col]) for s in (predictor or [])]
            fit = parse_periods(fit_period, df[time_col], "fit_period") if fit_period else None
            model = SyntheticControl(
                df, unit_col=unit_col, time_col=time_col, outcome=outcome, treated=treated,
                intervention=t0, predictors=preds, covariates=_split(covariates), fit_period=fit,
                donors=_split(donors) or None, source=display,
            )  # fmt: skip
            if placebo and len(model.donors) > MAX_PLACEBO_DONORS:
                raise InputError(
                    f"placebo inference needs one fit per donor: {len(model.donors)} donors, at "
                    f"most {MAX_PLACEBO_DONORS} here (choose donors, set placebo=false or use "
                    "the CLI)"
                )
            return model.fit(
                n_starts=starts, placebo=placebo, placebo_starts=1 if placebo else None,
                seed=seed, preset=preset,
            )  # fmt: skip

        res = _guard(run, str(path), display)
        params = {
            "panel": display, "unit_col": unit_col, "time_col": time_col, "outcome": outcome,
            "treated": treated, "intervention": intervention, "covariates": covariates,
            "predictor": predictor or [], "fit_period": fit_period, "donors": donors,
            "starts": starts, "preset": preset, "placebo": placebo,
        }  # fmt: skip
        manifest = _manifest("review scm", params, seed, {"panel": path})
    manifest["solver"] = {
        "name": "nested: Nelder-Mead (V) / NNLS simplex least squares (W)",
        "status": "ok",
        "objective": res.loss,
        "bound": res.loss_lower_bound,
        "starts": list(res.start_losses),
    }
    return clean({**res.to_dict(), "manifest": manifest})


def _power_for(base: float, pre: int, post: int, effect: float, seed: int) -> dict[str, Any]:
    from safecities.review.cli import _power_for as cli_power_for

    return cli_power_for(base, pre, post, effect, seed).to_dict()


def did(
    data: bytes,
    filename: str | None,
    *,
    unit_col: str,
    time_col: str,
    outcome: str,
    treated: str | None = None,
    intervention: str | None = None,
    adoption_col: str | None = None,
    controls: str | None = None,
    n_controls: int | None = None,
    control_group: str = "notyet",
    boot: int = 199,
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities review did` on an uploaded panel; the same JSON keys (and power)."""
    from safecities.review.did import CallawaySantAnna, DiD
    from safecities.review.panel import normalise_times, parse_time, require_columns

    boot = max(9, min(int(boot), MAX_BOOT))
    with tempfile.TemporaryDirectory() as tmp:
        df, path, display = _read_upload(data, filename, tmp)
        _validate_panel(df, display, unit_col, time_col, [outcome])

        def run():
            df[time_col] = normalise_times(df[time_col], display, time_col)
            if adoption_col:
                require_columns(df, [adoption_col], display)
                first = df.groupby(df[unit_col].astype(str))[adoption_col].first()

                def when(v):
                    if v is None or (isinstance(v, float) and v != v) or str(v).strip() == "":
                        return None
                    return parse_time(str(v), df[time_col], f"adoption_col {adoption_col}")

                adoption = first.map(when)
                res = CallawaySantAnna(
                    df, unit_col=unit_col, time_col=time_col, outcome=outcome, adoption=adoption,
                    control_group=control_group, source=display,
                ).fit(n_boot=boot, seed=seed)  # fmt: skip
                treated_units = [u for u, a in adoption.items() if a is not None]
                if not treated_units:
                    raise InputError(f"adoption_col {adoption_col}: no unit is ever treated")
                first_t = min(a for a in adoption if a is not None)
                pre_rows = df[
                    df[unit_col].astype(str).isin(treated_units) & (df[time_col] < first_t)
                ]
            else:
                if not treated or not intervention:
                    raise InputError("give treated and intervention, or adoption_col")
                t0 = parse_time(intervention, df[time_col], "intervention")
                model = DiD(
                    df, unit_col=unit_col, time_col=time_col, outcome=outcome,
                    treated=_split(treated), intervention=t0,
                    controls=_split(controls) or None, n_controls=n_controls, source=display,
                )  # fmt: skip
                res = model.fit()
                pre_rows = df[df[unit_col].astype(str).isin(model.treated) & (df[time_col] < t0)]
            out = res.to_dict()
            n_pre = pre_rows[time_col].nunique()
            n_post = df[time_col].nunique() - n_pre
            base = float(pre_rows.groupby(time_col)[outcome].sum().mean()) if n_pre else 0.0
            if base > 0 and n_post > 0:
                pw = _power_for(base, n_pre, n_post, -0.30, seed)
                pw["note"] = (
                    "power of a pre/post comparison of the treated units' summed counts per "
                    "period (optimistic for DiD, which also carries the controls' noise)"
                )
                out["power"] = pw
            return out

        out = _guard(run, str(path), display)
        params = {
            "panel": display, "unit_col": unit_col, "time_col": time_col, "outcome": outcome,
            "treated": treated, "intervention": intervention, "adoption_col": adoption_col,
            "controls": controls, "n_controls": n_controls, "control_group": control_group,
            "boot": boot,
        }  # fmt: skip
        manifest = _manifest("review did", params, seed, {"panel": path})
    return clean({**out, "manifest": manifest})


def power(
    *,
    baseline_per_month: float,
    months: int,
    effect: float,
    pre_months: int = 12,
    design: str = "prepost",
    alpha: float = 0.05,
    dispersion: float = 0.0,
    sims: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities review power` (simulations capped at MAX_SIMS)."""
    from safecities.review.power import power_analysis

    n_sim = min(sims or MAX_SIMS, MAX_SIMS)
    res = _guard(
        lambda: power_analysis(
            baseline_per_month, months, effect / 100, pre_months=pre_months, design=design,
            alpha=alpha, dispersion=dispersion, n_sim=n_sim, seed=seed,
        ),
        None,
        "power",
    )  # fmt: skip
    params = {
        "baseline_per_month": baseline_per_month, "months": months, "effect": effect,
        "pre_months": pre_months, "design": design, "alpha": alpha, "dispersion": dispersion,
        "sims": res.n_sim,
    }  # fmt: skip
    return clean({**res.to_dict(), "manifest": _manifest("review power", params, seed)})


def its_upload(
    data: bytes,
    filename: str | None,
    *,
    date_col: str,
    intervention: str,
    count_col: str | None = None,
    freq: str = "month",
    family: str = "auto",
    power_effect: float = -30.0,
    seed: int = 0,
) -> dict[str, Any]:
    """`safecities review its` on an uploaded series (counts per date, or one row per event);
    the same JSON keys (with `power`). At most MAX_PERIODS periods after aggregation."""
    import pandas as pd

    from safecities.review.cli import _parse_date, pd_to_datetime
    from safecities.review.its import ITS, aggregate_counts
    from safecities.review.panel import require_columns

    with tempfile.TemporaryDirectory() as tmp:
        df, path, display = _read_upload(data, filename, tmp)
        require_columns(df, [date_col] + ([count_col] if count_col else []), display)
        if len(df) > MAX_ROWS:
            raise InputError(f"{display}: {len(df)} rows; at most {MAX_ROWS} here (use the CLI)")
        dates = pd.to_datetime(df[date_col], errors="coerce", format="mixed", utc=True)
        errors = [
            RowError(display, int(i) + 1, date_col, "not a date", None if pd.isna(v) else str(v))
            for i, v in df[date_col][dates.isna()].items()
        ]
        if count_col:
            c = pd.to_numeric(df[count_col], errors="coerce")
            errors += [
                RowError(display, int(i) + 1, count_col, "not a non-negative number",
                         None if pd.isna(v) else str(v))
                for i, v in df[count_col][c.isna() | (c < 0)].items()
            ]  # fmt: skip
        if errors:
            errors.sort(key=lambda e: (e.row, e.field))
            raise InputError(
                f"{display}: {len(errors)} bad value(s); first: row {errors[0].row}, field "
                f"{errors[0].field}: {errors[0].reason}",
                errors[:MAX_ROW_ERRORS],
            )

        def run():
            d = pd_to_datetime(df[date_col], display, date_col)
            span_days = (d.max() - d.min()).days
            if span_days > MAX_PERIODS * (7 if freq == "week" else 31):
                raise InputError(f"{display}: more than {MAX_PERIODS} periods (use the CLI)")
            counts = aggregate_counts(d, df[count_col] if count_col else None, freq)
            model = ITS(counts, _parse_date(intervention, "intervention"), freq=freq,
                        family=family)  # fmt: skip
            res = model.fit(seed=seed, n_sim=1000)
            per_month = 1.0 if freq == "month" else 52.1775 / 12
            pre = counts.iloc[: model.t0]
            pw = _power_for(
                float(pre.mean()) * per_month, round(model.t0 / per_month),
                round((len(counts) - model.t0) / per_month), power_effect / 100, seed,
            )  # fmt: skip
            return {**res.to_dict(), "power": pw}

        out = _guard(run, str(path), display)
        params = {
            "series": display, "date_col": date_col, "count_col": count_col,
            "intervention": intervention, "freq": freq, "family": family,
            "power_effect": power_effect,
        }  # fmt: skip
        manifest = _manifest("review its", params, seed, {"series": path})
    return clean({**out, "manifest": manifest})


def register_plan_upload(engine, data: bytes, filename: str, *, actor: str) -> dict[str, Any]:
    """`review register-plan` on an uploaded plan; errors name the uploaded file, not a temp."""
    import tempfile
    from pathlib import Path

    from safecities.review.plan import load_plan, register_plan

    name = Path(filename or "plan.yaml").name or "plan.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            plan = load_plan(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None
    return register_plan(engine, plan, actor=actor)
