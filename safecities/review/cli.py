"""`safecities review ...` commands (thin: parse, call safecities.review, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safecities.clitools import echo_json, progress
from safecities.errors import InputError
from safecities.manifest import RunManifest

app = typer.Typer(
    help="Outcome review: did the measures change the trend? (ITS, DiD, synthetic control, "
    "power, displacement, pre-registration, report).",
    no_args_is_help=True,
)


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="review")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (stable keys).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (every random step uses it).")]


def _manifest(command: str, params: dict[str, Any], seed: int | None, files: dict[str, Path]):
    m = RunManifest(command=command, parameters=params, seed=seed)
    for name, path in files.items():
        if path is not None and Path(path).exists():
            m.add_input_file(name, path)
    return m


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


@app.command("scm")
def scm_cmd(
    panel: Annotated[Path, typer.Option("--panel", help="Long panel, CSV or Parquet.")],
    unit_col: Annotated[str, typer.Option("--unit-col", help="Column naming the unit.")],
    time_col: Annotated[str, typer.Option("--time-col", help="Column with the period.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    treated: Annotated[str, typer.Option("--treated", help="The treated unit.")],
    intervention: Annotated[str, typer.Option("--intervention", help="First treated period.")],
    covariates: Annotated[
        str | None,
        typer.Option("--covariates", help="Comma list; each is averaged over the pre-period."),
    ] = None,
    predictor: Annotated[
        list[str] | None,
        typer.Option(
            "--predictor",
            help="Repeatable COLUMN:FROM-TO (mean over the window) or COLUMN:T1,T2,... "
            "(mean of those periods).",
        ),
    ] = None,
    fit_period: Annotated[
        str | None,
        typer.Option("--fit-period", help="FROM-TO pre-periods whose outcome fit chooses V."),
    ] = None,
    donors: Annotated[
        str | None, typer.Option("--donors", help="Comma list of donor units (default: all).")
    ] = None,
    starts: Annotated[int, typer.Option("--starts", help="Outer optimiser starts.")] = 4,
    preset: Annotated[
        str, typer.Option("--preset", help="Optimiser tolerance preset: normal or fast.")
    ] = "normal",
    no_placebo: Annotated[
        bool, typer.Option("--no-placebo", help="Skip in-space placebo inference.")
    ] = False,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Synthetic control (Abadie, Diamond and Hainmueller 2010) with in-space placebo inference."""
    from safecities.review.panel import (
        normalise_times,
        parse_periods,
        parse_time,
        read_table,
        require_columns,
        split_list,
    )
    from safecities.review.scm import SyntheticControl, parse_predictor

    df = read_table(panel)
    require_columns(df, [unit_col, time_col, outcome], str(panel))
    df[time_col] = normalise_times(df[time_col], str(panel), time_col)
    t0 = parse_time(intervention, df[time_col], "--intervention")
    preds = [parse_predictor(s, df[time_col]) for s in (predictor or [])]
    fit = parse_periods(fit_period, df[time_col], "--fit-period") if fit_period else None
    model = SyntheticControl(
        df, unit_col=unit_col, time_col=time_col, outcome=outcome, treated=treated,
        intervention=t0, predictors=preds, covariates=split_list(covariates), fit_period=fit,
        donors=split_list(donors) or None, source=str(panel),
    )  # fmt: skip
    n = 1 + (0 if no_placebo else len(model.donors))
    with progress("synthetic control fits", n) as bar:
        res = model.fit(
            n_starts=starts, placebo=not no_placebo, seed=seed, preset=preset,
            on_progress=bar.advance,
        )  # fmt: skip
    params = {
        "panel": str(panel), "unit_col": unit_col, "time_col": time_col, "outcome": outcome,
        "treated": treated, "intervention": intervention, "covariates": covariates,
        "predictor": predictor or [], "fit_period": fit_period, "donors": donors,
        "starts": starts, "preset": preset, "placebo": not no_placebo,
    }  # fmt: skip
    manifest = _manifest("review scm", params, seed, {"panel": panel})
    manifest.solver = {
        "name": "nested: Nelder-Mead (V) / NNLS simplex least squares (W)",
        "status": "ok",
        "objective": res.loss,
        "bound": res.loss_lower_bound,
        "starts": list(res.start_losses),
    }
    out = res.to_dict()
    if json_out:
        echo_json({**out, "manifest": manifest.to_dict()})
        return
    lines = [f"Synthetic control for {treated} (intervention {intervention})", "Donor weights:"]
    for k, v in res.weights.sort_values(ascending=False).items():
        if v >= 0.001:
            lines.append(f"  {k:30s} {v:.3f}")
    lines.append("Predictor weights (V):")
    for k, v in res.predictor_weights.items():
        lines.append(f"  {k:30s} {v:.3f}")
    lines.append(
        f"Pre-period loss (MSPE) {res.loss:.4f} (lower bound {res.loss_lower_bound:.4f}; "
        f"starts: {', '.join(f'{s:.3f}' for s in res.start_losses)})"
    )
    lines.append(f"Effect (mean post gap) {res.effect:.3f}")
    if res.placebo:
        lines.append(
            f"Placebo: rank {res.placebo.rank} of {res.placebo.n_units}, "
            f"p = {res.placebo.p_value:.3f}"
        )
    if not res.hull["ok"]:
        lines.append("WARNING: treated unit outside the donors' range; do not trust this fit.")
    lines.append(f"Method: {res.method}")
    _print_lines(lines)


def _power_for(baseline_per_month: float, pre_months: int, months: int, effect: float, seed: int):
    from safecities.review.power import power_analysis

    return power_analysis(
        max(baseline_per_month, 1e-3), max(months, 1), effect, pre_months=max(pre_months, 1),
        seed=seed, n_sim=2000,
    )  # fmt: skip


@app.command("its")
def its_cmd(
    series: Annotated[
        Path, typer.Option("--series", help="CSV/Parquet of dated counts or events.")
    ],
    date_col: Annotated[str, typer.Option("--date-col", help="Date column.")],
    intervention: Annotated[str, typer.Option("--intervention", help="Intervention date.")],
    count_col: Annotated[
        str | None,
        typer.Option("--count-col", help="Count column (omit: each row is one event)."),
    ] = None,
    freq: Annotated[str, typer.Option("--freq", help="Aggregate to week or month.")] = "month",
    family: Annotated[
        str, typer.Option("--family", help="auto (dispersion check), poisson or negbin.")
    ] = "auto",
    power_effect: Annotated[
        float, typer.Option("--power-effect", help="Effect (percent) whose power is stated.")
    ] = -30.0,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Interrupted time series: segmented Poisson/negative binomial regression."""
    from safecities.review.its import ITS, aggregate_counts
    from safecities.review.panel import read_table, require_columns

    df = read_table(series)
    require_columns(df, [date_col] + ([count_col] if count_col else []), str(series))
    dates = pd_to_datetime(df[date_col], str(series), date_col)
    counts = aggregate_counts(dates, df[count_col] if count_col else None, freq)
    model = ITS(counts, _parse_date(intervention, "--intervention"), freq=freq, family=family)
    res = model.fit(seed=seed)
    per_month = 1.0 if freq == "month" else 52.1775 / 12
    pre = counts.iloc[: model.t0]
    pw = _power_for(
        float(pre.mean()) * per_month, round(model.t0 / per_month),
        round((len(counts) - model.t0) / per_month), power_effect / 100, seed,
    )  # fmt: skip
    params = {
        "series": str(series), "date_col": date_col, "count_col": count_col,
        "intervention": intervention, "freq": freq, "family": family,
        "power_effect": power_effect,
    }  # fmt: skip
    manifest = _manifest("review its", params, seed, {"series": series})
    out = {**res.to_dict(), "power": pw.to_dict()}
    if json_out:
        echo_json({**out, "manifest": manifest.to_dict()})
        return
    lo, hi = res.rate_ratio_ci
    a_lo, a_hi = res.events_averted_ci
    _print_lines(
        [
            f"Interrupted time series ({out['model']})",
            f"Rate ratio after the intervention: {res.rate_ratio:.2f} (95% CI {lo:.2f}-{hi:.2f})",
            f"Events: observed {res.events_observed:.0f}, expected without the measure "
            f"{res.events_expected:.1f}; averted {res.events_averted:.1f} "
            f"(95% PI {a_lo:.1f} to {a_hi:.1f})",
            f"Placebo in time: {'passed' if (res.placebo or {}).get('passed') else 'not passed'}",
            f"Power: {pw.words}",
            f"Method: {res.method}",
        ]
    )


def _parse_date(value: str, what: str):
    import pandas as pd

    try:
        return pd.Timestamp(value)
    except ValueError:
        raise InputError(f"{what}: {value!r} is not a date") from None


def pd_to_datetime(values, source: str, column: str):
    import numpy as np
    import pandas as pd

    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(
            f"{source}: row {row + 2}, field {column}: cannot read {values.iloc[row]!r} as a date"
        )
    return parsed.dt.tz_convert("Europe/Brussels").dt.tz_localize(None)


@app.command("power")
def power_cmd(
    baseline_per_month: Annotated[
        float, typer.Option("--baseline-per-month", help="Expected events a month without effect.")
    ],
    months: Annotated[int, typer.Option("--months", help="Months observed after the measure.")],
    effect: Annotated[
        float, typer.Option("--effect", help="Change to detect, percent (-30 = 30% fewer).")
    ],
    pre_months: Annotated[
        int, typer.Option("--pre-months", help="Months observed before the measure.")
    ] = 12,
    design: Annotated[str, typer.Option("--design", help="prepost or its.")] = "prepost",
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided test level.")] = 0.05,
    dispersion: Annotated[
        float, typer.Option("--dispersion", help="Negative binomial alpha (0 = Poisson).")
    ] = 0.0,
    sims: Annotated[int | None, typer.Option("--sims", help="Simulated studies.")] = None,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Power by simulation: detection probability of --effect, and the minimum detectable effect."""
    from safecities.review.power import power_analysis

    res = power_analysis(
        baseline_per_month, months, effect / 100, pre_months=pre_months, design=design,
        alpha=alpha, dispersion=dispersion, n_sim=sims, seed=seed,
    )  # fmt: skip
    params = {
        "baseline_per_month": baseline_per_month, "months": months, "effect": effect,
        "pre_months": pre_months, "design": design, "alpha": alpha, "dispersion": dispersion,
        "sims": res.n_sim,
    }  # fmt: skip
    manifest = _manifest("review power", params, seed, {})
    if json_out:
        echo_json({**res.to_dict(), "manifest": manifest.to_dict()})
        return
    _print_lines([res.words, f"Method: {res.method}"])


@app.command("did")
def did_cmd(
    panel: Annotated[Path, typer.Option("--panel", help="Long panel, CSV or Parquet (balanced).")],
    unit_col: Annotated[str, typer.Option("--unit-col", help="Column naming the unit (zone).")],
    time_col: Annotated[str, typer.Option("--time-col", help="Column with the period.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    treated: Annotated[
        str | None, typer.Option("--treated", help="Comma list of treated units.")
    ] = None,
    intervention: Annotated[
        str | None, typer.Option("--intervention", help="First treated period (one date).")
    ] = None,
    adoption_col: Annotated[
        str | None,
        typer.Option(
            "--adoption-col",
            help="Column with each unit's first treated period (empty: never); staggered "
            "adoption, estimated with Callaway and Sant'Anna group-time effects.",
        ),
    ] = None,
    controls: Annotated[
        str | None,
        typer.Option("--controls", help="Comma list of control units (default: chosen)."),
    ] = None,
    n_controls: Annotated[
        int | None, typer.Option("--n-controls", help="How many similar controls to choose.")
    ] = None,
    control_group: Annotated[
        str, typer.Option("--control-group", help="Staggered: never or notyet (treated).")
    ] = "notyet",
    boot: Annotated[int, typer.Option("--boot", help="Bootstrap replications (staggered).")] = 999,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Difference-in-differences (event study, pre-trend test) or staggered Callaway-Sant'Anna."""
    from safecities.review.did import CallawaySantAnna, DiD
    from safecities.review.panel import (
        normalise_times,
        parse_time,
        read_table,
        require_columns,
        split_list,
    )

    df = read_table(panel)
    require_columns(df, [unit_col, time_col, outcome], str(panel))
    df[time_col] = normalise_times(df[time_col], str(panel), time_col)
    params = {
        "panel": str(panel), "unit_col": unit_col, "time_col": time_col, "outcome": outcome,
        "treated": treated, "intervention": intervention, "adoption_col": adoption_col,
        "controls": controls, "n_controls": n_controls, "control_group": control_group,
        "boot": boot,
    }  # fmt: skip
    manifest = _manifest("review did", params, seed, {"panel": panel})
    pre_mean_series = None
    if adoption_col:
        require_columns(df, [adoption_col], str(panel))
        first = df.groupby(df[unit_col].astype(str))[adoption_col].first()
        adoption = first.map(
            lambda v: None if v is None or (isinstance(v, float) and v != v) or str(v).strip() == ""
            else parse_time(str(v), df[time_col], f"--adoption-col {adoption_col}")
        )  # fmt: skip
        res = CallawaySantAnna(
            df, unit_col=unit_col, time_col=time_col, outcome=outcome, adoption=adoption,
            control_group=control_group, source=str(panel),
        ).fit(n_boot=boot, seed=seed)  # fmt: skip
        treated_units = [u for u, a in adoption.items() if a is not None]
        first_t = min(a for a in adoption if a is not None)
        pre_mean_series = df[
            df[unit_col].astype(str).isin(treated_units) & (df[time_col] < first_t)
        ]
    else:
        if not treated or not intervention:
            raise InputError("give --treated and --intervention, or --adoption-col")
        t0 = parse_time(intervention, df[time_col], "--intervention")
        model = DiD(
            df, unit_col=unit_col, time_col=time_col, outcome=outcome,
            treated=split_list(treated), intervention=t0, controls=split_list(controls) or None,
            n_controls=n_controls, source=str(panel),
        )  # fmt: skip
        res = model.fit()
        treated_units = model.treated
        pre_mean_series = df[df[unit_col].astype(str).isin(treated_units) & (df[time_col] < t0)]
    out = res.to_dict()
    n_pre = pre_mean_series[time_col].nunique()
    n_post = df[time_col].nunique() - n_pre
    base = float(pre_mean_series.groupby(time_col)[outcome].sum().mean()) if n_pre else 0.0
    if base > 0 and n_post > 0:
        pw = _power_for(base, n_pre, n_post, -0.30, seed).to_dict()
        pw["note"] = (
            "power of a pre/post comparison of the treated units' summed counts per period "
            "(optimistic for DiD, which also carries the controls' noise)"
        )
        out["power"] = pw
    if json_out:
        echo_json({**out, "manifest": manifest.to_dict()})
        return
    lo, hi = out["conf_int_95"]
    lines = [f"{out['method']}: effect {out['effect']:.3f} (95% CI {lo:.3f} to {hi:.3f})"]
    pt = out["pretrend_test"]
    lines.append(
        f"Pre-trend test p = {pt['p_value']:.3f} ({'passed' if pt['passed'] else 'FAILED'})"
    )
    if out.get("power"):
        lines.append(f"Power: {out['power']['words']}")
    lines.append(f"Method: {out['reference']}")
    _print_lines(lines)


@app.command("register-plan")
def register_plan_cmd(
    plan: Annotated[
        Path, typer.Argument(help="Analysis plan (YAML): outcome, units, dates, method.")
    ],
    actor: Annotated[
        str, typer.Option("--actor", help="Pseudonymous code of who registers.")
    ] = "cli",
    json_out: JsonOpt = False,
) -> None:
    """Pre-register an analysis plan: its hash goes into the audit log before the post-period."""
    from safecities.review.plan import load_plan, register_plan
    from safecities.store.db import get_engine

    p = load_plan(plan)
    reg = register_plan(get_engine(), p, actor=actor)
    manifest = _manifest("review register-plan", {"plan": str(plan), "actor": actor}, None,
                         {"plan": plan})  # fmt: skip
    if json_out:
        echo_json({**reg, "manifest": manifest.to_dict()})
        return
    state = "already registered" if reg.get("already_registered") else "registered"
    lines = [f"Plan {p.title!r} {state}: sha256 {reg['sha256']}"]
    if not reg.get("registered_before_post_period"):
        lines.append("WARNING: registered after the post-period started; the report will say so.")
    _print_lines(lines)


@app.command("report")
def report_cmd(
    plan: Annotated[Path, typer.Option("--plan", help="Analysis plan (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="review.html or review.pdf.")],
    lang: Annotated[str, typer.Option("--lang", help="nl, fr or en.")] = "en",
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """The review of the measures from the database: trends, estimates, displacement, power."""
    from safecities.review.plan import load_plan
    from safecities.review.report import build_review, write_report
    from safecities.store.db import get_engine

    if out.suffix.lower() not in {".html", ".pdf"}:
        raise InputError(f"--out {out}: must end in .html or .pdf")
    p = load_plan(plan)
    with progress("review", None) as _bar:
        rv = build_review(get_engine(), p, lang=lang, seed=seed)
        write_report(rv, out)
    manifest = _manifest("review report", {"plan": str(plan), "out": str(out), "lang": lang},
                         seed, {"plan": plan})  # fmt: skip
    if json_out:
        echo_json({"out": str(out), "lang": lang, "plan_sha256": p.sha256, "lines": rv.lines,
                   "results": rv.data, "references": list(dict.fromkeys(rv.references)),
                   "manifest": manifest.to_dict()})  # fmt: skip
        return
    _print_lines([*rv.lines, f"wrote {out}"])
