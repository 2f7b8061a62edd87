"""`safecities cameras ...` commands (thin: parse, call the library, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from safecities.clitools import console, echo_json
from safecities.errors import InputError
from safecities.manifest import RunManifest

app = typer.Typer(help="National CCTV register and camera budget planner.", no_args_is_help=True)


def mount(root: typer.Typer) -> None:
    root.add_typer(app, name="cameras")


#: User-facing help texts, in one place (translations later).
HELP = {
    "budget": "Budget in euros for new cameras and connections.",
    "candidates": "Candidate sites file: site_id,lat,lon,cost[,direction,angle,range_m,existing]"
    " (CSV/GeoJSON/XLSX). Default: from the database.",
    "demand": "Demand points file: demand_id,lat,lon,weight. Default: from the database"
    " (stations first, hotspot cells, zones).",
    "radius": "Coverage radius in metres (a site's range_m overrides it).",
    "alternatives": "Also find up to K distinct near-optimal layouts.",
    "share": "Each alternative keeps at least this share of the optimum.",
    "min_difference": "Each alternative drops at least this many sites of every earlier layout.",
    "curve_steps": "Points on the coverage-against-budget curve (0: none).",
    "time_limit": "Solver time limit per solve, seconds.",
    "out": "Write the chosen sites as CSV.",
    "geojson": "Write the chosen sites as a GeoJSON map layer.",
    "as_json": "Print one JSON object (stable keys, see docs/cameras.md).",
}


@app.command("plan")
def plan_cmd(
    budget: float = typer.Option(..., "--budget", help=HELP["budget"]),
    candidates: Path | None = typer.Option(None, "--candidates", help=HELP["candidates"]),
    demand: Path | None = typer.Option(None, "--demand", help=HELP["demand"]),
    radius: float = typer.Option(150.0, "--radius", min=1, help=HELP["radius"]),
    alternatives: int = typer.Option(0, "--alternatives", min=0, help=HELP["alternatives"]),
    share: float = typer.Option(0.95, "--share", min=0.0, max=1.0, help=HELP["share"]),
    min_difference: int = typer.Option(1, "--min-difference", min=1, help=HELP["min_difference"]),
    curve_steps: int = typer.Option(5, "--curve-steps", min=0, help=HELP["curve_steps"]),
    time_limit: float = typer.Option(300.0, "--time-limit", min=0.1, help=HELP["time_limit"]),
    out: Path | None = typer.Option(None, "--out", help=HELP["out"]),
    geojson: Path | None = typer.Option(None, "--geojson", help=HELP["geojson"]),
    as_json: bool = typer.Option(False, "--json", help=HELP["as_json"]),
) -> None:
    """Choose camera sites and connections that maximise covered demand within a budget."""
    from safecities.cameras import planning
    from safecities.cameras.planner import HighsSolver

    if budget < 0:
        raise InputError(f"--budget must be >= 0, got {budget}")
    manifest = RunManifest(
        command="cameras plan",
        parameters={"budget": budget, "radius": radius, "alternatives": alternatives,
                    "share": share, "min_difference": min_difference,
                    "curve_steps": curve_steps, "time_limit": time_limit},
    )  # fmt: skip
    if candidates is not None and demand is not None:
        inputs = planning.PlanInputs(
            planning.read_candidates(candidates), planning.read_demand(demand), radius
        )
        manifest.add_input_file("candidates", candidates)
        manifest.add_input_file("demand", demand)
        source = "files"
    else:
        from safecities.cameras import dbplan

        inputs, source = dbplan.inputs_from_db(radius, candidates=candidates, demand=demand)
        for name, p in (("candidates", candidates), ("demand", demand)):
            if p is not None:
                manifest.add_input_file(name, p)
    solver = HighsSolver(time_limit=time_limit)
    report = planning.plan(
        inputs, budget, alternatives=alternatives, share=share,
        min_difference=min_difference, curve_steps=curve_steps, solver=solver,
    )  # fmt: skip
    report["source"] = source
    manifest.solver = report["solver"]
    if out:
        planning.write_chosen_csv(report, out)
    if geojson:
        planning.write_chosen_geojson(report, geojson)
    if as_json:
        echo_json({"command": "cameras plan", **report, "manifest": manifest.to_dict()})
        return
    _print_plan(report)


def _print_plan(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    s = r["solver"]
    out.print(
        f"Budget EUR {r['budget']:,.0f}: spent EUR {r['spent']:,.0f} on {len(r['chosen'])} sites; "
        f"covered {r['covered_weight']:.1f} of {r['total_weight']:.1f} demand weight "
        f"({100 * r['coverage_share']:.1f}%; existing cameras {r['existing_weight']:.1f})."
    )
    out.print(
        f"Solver HiGHS {s['version']}: {s['status']}, objective {s['objective']:.4f}, "
        f"bound {s['bound']:.4f}, gap {100 * s['gap']:.4f}%, {s['seconds']:.2f} s."
    )
    t = Table(title="Chosen sites")
    for col in ("site", "action", "cost EUR", "marginal weight"):
        t.add_column(col)
    for site in r["chosen"]:
        t.add_row(site["site_id"], site["action"], f"{site['cost']:,.0f}",
                  f"{site['marginal_weight']:.2f}")  # fmt: skip
    out.print(t)
    if r["curve"]:
        c = Table(title="Coverage against budget")
        for col in ("budget EUR", "covered weight", "share", "sites"):
            c.add_column(col)
        for p in r["curve"]:
            c.add_row(f"{p['budget']:,.0f}", f"{p['covered_weight']:.1f}",
                      f"{100 * p['coverage_share']:.1f}%", str(p["n_sites"]))  # fmt: skip
        out.print(c)
    for k, a in enumerate(r["alternatives"], start=1):
        out.print(
            f"Alternative {k}: {100 * a['share_of_optimum']:.1f}% of optimum, "
            f"drops {', '.join(a['dropped_vs_optimum'])}; adds {', '.join(a['added_vs_optimum'])}"
        )
    console.print("")
