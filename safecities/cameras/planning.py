"""Plan new cameras and connections: read candidates and demand, solve, report, export.

Candidates file (CSV, GeoJSON or Excel): `site_id,lat,lon,cost` and optionally
`direction` (degrees clockwise from north), `angle` (opening angle, degrees), `range_m`
(useful range, metres; the planning radius otherwise) and `existing`:

* empty / `no` / `new`   : a new camera site; `cost` is its installation cost.
* `connect`             : an existing municipal camera not yet connected to the national
                          register; `cost` is the connection cost.
* `connected` / `yes`   : a camera already in the national register; it covers for free and
                          `cost` is ignored.

Demand file: `demand_id,lat,lon,weight` (weight defaults to 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safecities.cameras.coverage_matrix import build_coverage
from safecities.cameras.planner import BudgetedMaxCover, HighsSolver
from safecities.cameras.tabular import find_column, read_table
from safecities.domain import RowError
from safecities.errors import InputError
from safecities.geo import metric_crs_for, to_metres

SITE_ID = ("site_id", "id", "camera_id", "site")
DEMAND_ID = ("demand_id", "id", "point_id")
LAT = ("lat", "latitude", "y_wgs84")
LON = ("lon", "lng", "long", "longitude", "x_wgs84")
COST = ("cost", "cost_eur", "euros", "eur")
WEIGHT = ("weight", "w", "demand", "weight_value")
DIRECTION = ("direction", "bearing", "azimuth", "direction_deg")
ANGLE = ("angle", "opening_angle", "fov", "angle_deg", "fov_angle")
RANGE = ("range_m", "range", "useful_range", "fov_range_m")
EXISTING = ("existing", "status_register", "register")

EXISTING_VALUES = {
    "": "new", "no": "new", "new": "new", "0": "new", "false": "new", "nee": "new", "non": "new",
    "connect": "connect", "to_connect": "connect",
    "connected": "connected", "yes": "connected", "1": "connected", "true": "connected",
    "ja": "connected", "oui": "connected",
}  # fmt: skip


def _raise(errors: list[RowError]) -> None:
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise InputError(str(errors[0]) + more, errors)


def _number(df, col, name, file, errors, *, required=True, lo=None, hi=None, default=np.nan):
    out = np.full(len(df), default, float)
    if col is None:
        if required:
            errors.append(RowError(file, 0, name, "required column is missing"))
        return out
    for i, v in enumerate(df[col].tolist()):
        v = str(v).strip().replace(",", ".") if "," in str(v) and "." not in str(v) else str(v)
        if v == "":
            if required:
                errors.append(RowError(file, i + 1, name, "value is missing"))
            continue
        try:
            x = float(v)
        except ValueError:
            errors.append(RowError(file, i + 1, name, "not a number", v))
            continue
        if not np.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
            errors.append(RowError(file, i + 1, name, f"out of range [{lo}, {hi}]", v))
            continue
        out[i] = x
    return out


def _ids(df, col, name, file, errors) -> list[str]:
    if col is None:
        return [str(i + 1) for i in range(len(df))]
    ids = [str(v).strip() for v in df[col].tolist()]
    seen: dict[str, int] = {}
    for i, v in enumerate(ids, start=1):
        if not v:
            errors.append(RowError(file, i, name, "value is missing"))
        elif v in seen:
            errors.append(RowError(file, i, name, f"duplicate id (also row {seen[v]})", v))
        else:
            seen[v] = i
    return ids


def read_candidates(path: str | Path) -> pd.DataFrame:
    """Validated candidates: site_id, lat, lon, cost, direction, angle, range_m, existing."""
    df = read_table(path)
    file = Path(path).name
    errors: list[RowError] = []
    if df.empty:
        raise InputError(f"{file}: no candidate sites in the file")
    out = pd.DataFrame({"site_id": _ids(df, find_column(df, SITE_ID), "site_id", file, errors)})
    out["lat"] = _number(df, find_column(df, LAT), "lat", file, errors, lo=-90, hi=90)
    out["lon"] = _number(df, find_column(df, LON), "lon", file, errors, lo=-180, hi=180)
    ex_col = find_column(df, EXISTING)
    existing = ["new"] * len(df)
    if ex_col is not None:
        for i, v in enumerate(df[ex_col].tolist()):
            key = str(v).strip().lower()
            if key not in EXISTING_VALUES:
                errors.append(RowError(file, i + 1, "existing",
                                       "expected new, connect or connected", v))  # fmt: skip
            else:
                existing[i] = EXISTING_VALUES[key]
    out["existing"] = existing
    cost_col = find_column(df, COST)
    # cost is required except for cameras already connected.
    tmp: list[RowError] = []
    cost = _number(df, cost_col, "cost", file, tmp, lo=0)
    errors += [e for e in tmp if e.row == 0 or existing[e.row - 1] != "connected"]
    out["cost"] = np.where(np.array(existing) == "connected", 0.0, np.nan_to_num(cost))
    out["direction"] = _number(df, find_column(df, DIRECTION), "direction", file, errors,
                               required=False, lo=0, hi=360)  # fmt: skip
    out["angle"] = _number(df, find_column(df, ANGLE), "angle", file, errors,
                           required=False, lo=1, hi=360)  # fmt: skip
    out["range_m"] = _number(df, find_column(df, RANGE), "range_m", file, errors,
                             required=False, lo=1, hi=5000)  # fmt: skip
    bad_sector = np.isfinite(out["direction"]) & ~np.isfinite(out["angle"])
    for i in np.flatnonzero(bad_sector):
        errors.append(RowError(file, int(i) + 1, "angle", "a direction needs an opening angle"))
    _raise(errors)
    return out


def read_demand(path: str | Path) -> pd.DataFrame:
    """Validated demand points: demand_id, lat, lon, weight."""
    df = read_table(path)
    file = Path(path).name
    errors: list[RowError] = []
    if df.empty:
        raise InputError(f"{file}: no demand points in the file")
    out = pd.DataFrame(
        {"demand_id": _ids(df, find_column(df, DEMAND_ID), "demand_id", file, errors)}
    )
    out["lat"] = _number(df, find_column(df, LAT), "lat", file, errors, lo=-90, hi=90)
    out["lon"] = _number(df, find_column(df, LON), "lon", file, errors, lo=-180, hi=180)
    wcol = find_column(df, WEIGHT)
    out["weight"] = _number(df, wcol, "weight", file, errors, required=wcol is not None, lo=0,
                            default=1.0)  # fmt: skip
    if "kind" in df.columns:
        out["kind"] = df["kind"].tolist()
    _raise(errors)
    return out


@dataclass
class PlanInputs:
    candidates: pd.DataFrame
    demand: pd.DataFrame
    radius: float = 150.0


def build_problem(
    inputs: PlanInputs, budget: float, *, drop_dominated: bool = True
) -> BudgetedMaxCover:
    c, d = inputs.candidates, inputs.demand
    crs = metric_crs_for(float(np.nanmean(c["lon"])), float(np.nanmean(c["lat"])))
    sx, sy = to_metres(c["lon"].to_numpy(), c["lat"].to_numpy(), crs)
    dx, dy = to_metres(d["lon"].to_numpy(), d["lat"].to_numpy(), crs)
    cov = build_coverage(
        np.column_stack([sx, sy]), np.column_stack([dx, dy]), inputs.radius,
        range_m=c["range_m"].to_numpy() if "range_m" in c else None,
        direction=c["direction"].to_numpy() if "direction" in c else None,
        angle=c["angle"].to_numpy() if "angle" in c else None,
    )  # fmt: skip
    fixed = (c["existing"] == "connected").to_numpy() if "existing" in c else None
    return BudgetedMaxCover.from_coverage(
        cov,
        d["weight"].to_numpy(float),
        c["cost"].to_numpy(float),
        budget,
        fixed,
        drop_dominated=drop_dominated,
    )


def default_curve_budgets(budget: float, steps: int) -> list[float]:
    if steps <= 0 or budget <= 0:
        return []
    return [budget * k / steps for k in range(1, steps + 1)]


def plan(
    inputs: PlanInputs,
    budget: float,
    *,
    alternatives: int = 0,
    share: float = 0.95,
    min_difference: int = 1,
    curve_steps: int = 5,
    solver: HighsSolver | None = None,
    on_step=None,
) -> dict[str, Any]:
    """Solve the plan and return the report (JSON-ready; see the README, Cameras for the keys).

    `on_step()` is called after each solve (main, each alternative, each curve point)."""
    solver = solver or HighsSolver()
    step = on_step or (lambda: None)
    problem = build_problem(inputs, budget, drop_dominated=alternatives == 0).solve(solver)
    step()
    res = problem.result
    c = inputs.candidates
    chosen = res.chosen
    marg = problem.marginal(chosen)
    sites = []
    for j, m in zip(chosen, marg, strict=True):
        row = c.iloc[int(j)]
        sites.append(
            {
                "site_id": str(row["site_id"]),
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
                "action": "connect" if row.get("existing") == "connect" else "install",
                "cost": float(row["cost"]),
                "marginal_weight": float(m),
                "covered_points": int(problem._csc()[:, [int(j)]].nnz),
            }
        )
    sites.sort(key=lambda s: -s["marginal_weight"])
    alts = []
    if alternatives > 0:
        base = set(chosen.tolist())
        found = problem.find_alternatives(
            alternatives, share=share, min_difference=min_difference, solver=solver
        )
        for a in found:
            step()
            ids = set(a.chosen.tolist())
            alts.append(
                {
                    **a.to_dict(),
                    "share_of_optimum": a.objective / res.objective if res.objective else 1.0,
                    "site_ids": [str(c.iloc[j]["site_id"]) for j in sorted(ids)],
                    "dropped_vs_optimum": [str(c.iloc[j]["site_id"]) for j in sorted(base - ids)],
                    "added_vs_optimum": [str(c.iloc[j]["site_id"]) for j in sorted(ids - base)],
                }
            )
    curve = []
    for b in default_curve_budgets(budget, curve_steps):
        curve += problem.curve([b], solver)
        step()
    total = problem.total_weight
    n_fixed = int(problem.fixed.sum())
    return {
        "solver": {
            "name": "highs",
            "version": solver.version(),
            "status": res.status,
            "optimal": res.optimal,
            "objective": res.objective,
            "bound": res.bound,
            "gap": res.gap,
            "seconds": round(res.seconds, 4),
            "time_limit": solver.time_limit,
            "mip_rel_gap": solver.mip_rel_gap,
        },  # fmt: skip
        "budget": float(budget),
        "radius_m": float(inputs.radius),
        "spent": res.cost,
        "n_candidates": int(len(c)),
        "n_existing_connected": n_fixed,
        "n_demand": int(len(inputs.demand)),
        "total_weight": total,
        "existing_weight": problem.existing_weight,
        "covered_weight": res.objective,
        "added_weight": res.objective - problem.existing_weight,
        "coverage_share": res.objective / total if total else 0.0,
        "model": {
            "sites": int(len(problem.model.site_idx)),
            "demand_groups": int(len(problem.model.group_w)),
            "coverage_pairs": int(problem.coverage.nnz),
            "build_seconds": round(problem.build_seconds, 4),
        },
        "chosen": sites,
        "alternatives": alts,
        "curve": curve,
    }


#: Columns of the chosen sites (`cameras plan --out`, and the web and API downloads).
CHOSEN_COLUMNS = ["site_id", "lat", "lon", "action", "cost", "marginal_weight", "covered_points"]


def chosen_export(report: dict[str, Any], fmt: str):
    """The chosen sites as a CSV/XLSX/GeoJSON download (safecities.exports rules)."""
    from safecities import exports

    return exports.export(report["chosen"], fmt, "chosen-sites", CHOSEN_COLUMNS)


def write_chosen_csv(report: dict[str, Any], path: str | Path) -> None:
    pd.DataFrame(report["chosen"], columns=CHOSEN_COLUMNS).to_csv(path, index=False)


def write_chosen_geojson(report: dict[str, Any], path: str | Path) -> None:
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
            "properties": {k: v for k, v in s.items() if k not in ("lat", "lon")}
            | {"layer": "chosen"},
        }
        for s in report["chosen"]
    ]
    Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": feats}, indent=1))
