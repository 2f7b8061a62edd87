"""`safecities review ...` commands (thin: parse, call safecities.review, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safecities.clitools import echo_json, progress
from safecities.review import service

app = typer.Typer(
    help="Outcome review: did the measures change the trend? (ITS, DiD, synthetic control, "
    "power, displacement, pre-registration, report).",
    no_args_is_help=True,
)


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="review")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (stable keys).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (every random step uses it).")]


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
    train_predictor: Annotated[
        list[str] | None,
        typer.Option(
            "--train-predictor",
            help="Repeatable COLUMN:SPEC, one per predictor: with --train-fit-period, V is chosen "
            "on this training specification and reused with --predictor (ADH 2015).",
        ),
    ] = None,
    train_fit_period: Annotated[
        str | None,
        typer.Option(
            "--train-fit-period", help="FROM-TO: outcome periods that choose V in training."
        ),
    ] = None,
    custom_v: Annotated[
        Path | None,
        typer.Option("--custom-v", help="CSV with columns predictor,v: use this V, no search."),
    ] = None,
    in_time_placebo: Annotated[
        str | None,
        typer.Option("--in-time-placebo", help="A pre-period time used as a fake intervention."),
    ] = None,
    leave_one_out: Annotated[
        bool,
        typer.Option("--leave-one-out", help="Refit without each donor of weight >= 1 %."),
    ] = False,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Synthetic control (Abadie, Diamond and Hainmueller 2010) with in-space placebo inference."""
    with progress("synthetic control fits", None) as bar:
        res = service.scm(
            service.ScmRequest(
                panel=panel, unit_col=unit_col, time_col=time_col, outcome=outcome,
                treated=treated, intervention=intervention, covariates=covariates,
                predictor=tuple(predictor or ()), fit_period=fit_period, donors=donors,
                starts=starts, preset=preset, placebo=not no_placebo,
                train_predictor=tuple(train_predictor or ()), train_fit_period=train_fit_period,
                custom_v=custom_v, in_time_placebo=in_time_placebo, leave_one_out=leave_one_out,
                seed=seed,
            ),
            on_progress=bar.advance,
        )  # fmt: skip
    if json_out:
        echo_json(res.to_dict())
        return
    r = res.obj
    lines = [f"Synthetic control for {treated} (intervention {intervention})", "Donor weights:"]
    for k, v in r.weights.sort_values(ascending=False).items():
        if v >= 0.001:
            lines.append(f"  {k:30s} {v:.3f}")
    lines.append("Predictor weights (V):")
    for k, v in r.predictor_weights.items():
        lines.append(f"  {k:30s} {v:.3f}")
    lines.append(
        f"Pre-period loss (MSPE) {r.loss:.4f} (lower bound {r.loss_lower_bound:.4f}; "
        f"starts: {', '.join(f'{s:.3f}' for s in r.start_losses)})"
    )
    lines.append(f"Effect (mean post gap) {r.effect:.3f}")
    if r.placebo:
        lines.append(
            f"Placebo: rank {r.placebo.rank} of {r.placebo.n_units}, p = {r.placebo.p_value:.3f}"
        )
    for w in r.warnings:
        lines.append(f"WARNING: {w}")
    lines.append(f"Method: {r.method}")
    _print_lines(lines)


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
    result = service.its(
        service.ItsRequest(
            series=series, date_col=date_col, intervention=intervention, count_col=count_col,
            freq=freq, family=family, power_effect=power_effect, seed=seed,
        )
    )  # fmt: skip
    if json_out:
        echo_json(result.to_dict())
        return
    res, pw = result.obj
    lo, hi = res.rate_ratio_ci
    a_lo, a_hi = res.events_averted_ci
    _print_lines(
        [
            f"Interrupted time series ({result.data['model']})",
            f"Rate ratio after the intervention: {res.rate_ratio:.2f} (95% CI {lo:.2f}-{hi:.2f})",
            f"Events: observed {res.events_observed:.0f}, expected without the measure "
            f"{res.events_expected:.1f}; averted {res.events_averted:.1f} "
            f"(95% PI {a_lo:.1f} to {a_hi:.1f})",
            f"Placebo in time: {'passed' if (res.placebo or {}).get('passed') else 'not passed'}",
            f"Autocorrelation: Ljung-Box p = {res.autocorrelation['p_value']:.3f}; "
            f"{res.autocorrelation['covariance']}",
            *(f"WARNING: {w}" for w in res.warnings),
            f"Power: {pw.words}",
            f"Method: {res.method}",
        ]
    )


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
    res = service.power(
        service.PowerRequest(
            baseline_per_month=baseline_per_month, months=months, effect=effect,
            pre_months=pre_months, design=design, alpha=alpha, dispersion=dispersion, sims=sims,
            seed=seed,
        )
    )  # fmt: skip
    if json_out:
        echo_json(res.to_dict())
        return
    _print_lines([res.obj.words, f"Method: {res.obj.method}"])


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
            help="Column with each unit's first treated period (0 or empty: never); staggered "
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
    anticipation: Annotated[
        int,
        typer.Option(
            "--anticipation", min=0, help="Staggered: periods of anticipation before adoption."
        ),
    ] = 0,
    did_covariates: Annotated[
        str | None,
        typer.Option(
            "--covariates",
            help="Staggered: comma list of covariates (parallel trends "
            "conditional on them, base-period values).",
        ),
    ] = None,
    est_method: Annotated[
        str, typer.Option("--est-method", help="Staggered with covariates: dr or reg.")
    ] = "dr",
    boot: Annotated[int, typer.Option("--boot", help="Bootstrap replications (staggered).")] = 999,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Difference-in-differences (event study, pre-trend test) or staggered Callaway-Sant'Anna."""
    res = service.did(
        service.DidRequest(
            panel=panel, unit_col=unit_col, time_col=time_col, outcome=outcome,
            treated=treated, intervention=intervention, adoption_col=adoption_col,
            controls=controls, n_controls=n_controls, control_group=control_group,
            anticipation=anticipation, covariates=did_covariates, est_method=est_method,
            boot=boot, seed=seed,
        )
    )  # fmt: skip
    if json_out:
        echo_json(res.to_dict())
        return
    out = res.data
    lo, hi = out["conf_int_95"]
    lines = [f"{out['method']}: effect {out['effect']:.3f} (95% CI {lo:.3f} to {hi:.3f})"]
    pt = out["pretrend_test"]
    reading = pt.get("reading") or ("passed" if pt.get("passed") else "FAILED")
    lines.append(f"Pre-trend test p = {pt['p_value']:.3f}: {reading}")
    for kind, a in (out.get("aggregates") or {}).items():
        lines.append(f"  {kind:9s} {a['att']:.4f} (95% CI {a['ci'][0]:.4f} to {a['ci'][1]:.4f})")
    if (out.get("units") or {}).get("note"):
        lines.append(f"Note: {out['units']['note']}")
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
        str | None,
        typer.Option(
            "--as", "--actor", help="Who registers, recorded in the audit log (default: OS user)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pre-register an analysis plan: its hash goes into the audit log before the post-period."""
    from safecities.clitools import cli_actor
    from safecities.store.db import get_engine

    res = service.register_plan(get_engine(), plan, actor=cli_actor(actor))
    if json_out:
        echo_json(res.to_dict())
        return
    reg = res.data
    state = "already registered" if reg.get("already_registered") else "registered"
    lines = [f"Plan {res.obj.title!r} {state}: sha256 {reg['sha256']}"]
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
    from safecities.store.db import get_engine

    with progress("review", None):
        rv = service.write_report(get_engine(), plan, out, lang=lang, seed=seed)
    if json_out:
        doc = service.report_dict(rv, out=str(out), seed=seed, plan_file=plan)
        doc.pop("plan")  # the command's keys: the plan is the file given
        echo_json(doc)
        return
    _print_lines([*rv.lines, f"wrote {out}"])
