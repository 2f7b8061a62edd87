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
    starts: Annotated[int, typer.Option("--starts", help="Outer optimiser starts.")] = 6,
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
        res = model.fit(n_starts=starts, placebo=not no_placebo, seed=seed, on_progress=bar.advance)
    params = {
        "panel": str(panel), "unit_col": unit_col, "time_col": time_col, "outcome": outcome,
        "treated": treated, "intervention": intervention, "covariates": covariates,
        "predictor": predictor or [], "fit_period": fit_period, "donors": donors,
        "starts": starts, "placebo": not no_placebo,
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


def _not_empty(value: str, name: str) -> str:
    if not value.strip():
        raise InputError(f"{name}: empty")
    return value
