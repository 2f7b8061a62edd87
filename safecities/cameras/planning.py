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

Optional `cost_yearly` (euros a year: maintenance, licences, the connection's line) makes the
budget cover the total cost of ownership over `years`: cost + years x cost_yearly.

Municipal budgets file (`--municipal-budgets`): `municipality` (NIS code or Dutch/French name)
and any of `budget` (euros), `share` (of the total budget) and `capacity` (cameras the
municipality's control-room posts can watch, the connected cameras it watches already included).
Each candidate site belongs to the municipality its position lies in.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safecities.cameras.coverage_matrix import build_coverage
from safecities.cameras.planner import BudgetedMaxCover, HighsSolver, SideRow
from safecities.cameras.tabular import find_column, read_table
from safecities.domain import BELGIAN_LAMBERT_2008, RowError
from safecities.errors import InputError
from safecities.geo import metric_crs_for, to_metres
from safecities.safeio import safe_frame

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
YEARLY = ("cost_yearly", "yearly_cost", "cost_per_year")

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
    out["cost_yearly"] = _number(df, find_column(df, YEARLY), "cost_yearly", file, errors,
                                 required=False, lo=0, default=0.0)  # fmt: skip
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


def read_municipal(path: str | Path) -> pd.DataFrame:
    """Validated municipal limits: municipality (NIS), budget, share, capacity (NaN: none)."""
    from safecities.cameras.service import resolve_municipality

    df = read_table(path)
    file = Path(path).name
    errors: list[RowError] = []
    if df.empty:
        raise InputError(f"{file}: no municipalities in the file")
    col = find_column(df, ("municipality", "nis", "gemeente", "commune"))
    if col is None:
        raise InputError(str(RowError(file, 0, "municipality", "required column is missing")))
    nis: list[str] = []
    for i, v in enumerate(df[col].tolist(), start=1):
        try:
            nis.append(resolve_municipality(str(v)))
        except InputError:
            errors.append(RowError(file, i, "municipality", "unknown municipality", v))
            nis.append("")
    out = pd.DataFrame({"municipality": nis})
    for name, syn, hi in (
        ("budget", ("budget", "budget_eur"), None),
        ("share", ("share", "budget_share"), 1.0),
        ("capacity", ("capacity", "control_room_capacity"), None),
    ):
        out[name] = _number(df, find_column(df, syn), name, file, errors, required=False,
                            lo=0, hi=hi)  # fmt: skip
    dup = out["municipality"].duplicated() & (out["municipality"] != "")
    for i in np.flatnonzero(dup):
        errors.append(RowError(file, int(i) + 1, "municipality", "listed twice", nis[i]))
    _raise(errors)
    return out


def municipality_of(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """NIS code of the bundled municipality each position lies in ('' outside all of them)."""
    import shapely

    from safecities.register import reference

    m = reference.municipalities(None).to_crs(BELGIAN_LAMBERT_2008)
    x, y = to_metres(np.asarray(lon, float), np.asarray(lat, float))
    out = np.full(len(x), "", dtype=object)
    for nis, geom in zip(m["nis"], m.geometry, strict=True):
        inside = shapely.contains_xy(geom, x, y) & (out == "")
        out[inside] = nis
    return out


@dataclass
class PlanInputs:
    candidates: pd.DataFrame
    demand: pd.DataFrame
    radius: float = 150.0
    municipal: pd.DataFrame | None = None  # read_municipal(...)
    years: int = 0  # total cost of ownership over this many years


def effective_costs(inputs: PlanInputs) -> np.ndarray:
    """What a site costs against the budget: its cost plus `years` x its yearly cost."""
    c = inputs.candidates
    yearly = c["cost_yearly"].fillna(0).to_numpy(float) if "cost_yearly" in c else 0.0
    cost = c["cost"].to_numpy(float) + inputs.years * yearly
    connected = (c["existing"] == "connected").to_numpy() if "existing" in c else False
    return np.where(connected, 0.0, cost)


def side_rows(inputs: PlanInputs, budget: float, costs: np.ndarray) -> list[SideRow]:
    """Municipal budget caps and control-room capacities as planner side constraints."""
    if inputs.municipal is None or inputs.municipal.empty:
        return []
    c = inputs.candidates
    muni = municipality_of(c["lat"].to_numpy(), c["lon"].to_numpy())
    connected = (c["existing"] == "connected").to_numpy() if "existing" in c else \
        np.zeros(len(c), bool)  # fmt: skip
    rows = []
    for r in inputs.municipal.itertuples():
        mask = muni == r.municipality
        if np.isfinite(r.budget):
            rows.append(SideRow(f"budget:{r.municipality}", np.where(mask, costs, 0.0),
                                float(r.budget)))  # fmt: skip
        if np.isfinite(r.share):
            rows.append(SideRow(f"share:{r.municipality}", np.where(mask, costs, 0.0),
                                float(r.share) * budget, scales=True))  # fmt: skip
        if np.isfinite(r.capacity):
            watched = int((mask & connected).sum())
            rows.append(SideRow(f"capacity:{r.municipality}",
                                (mask & ~connected).astype(float),
                                max(0.0, float(r.capacity) - watched)))  # fmt: skip
    return rows


def build_problem(
    inputs: PlanInputs, budget: float, *, drop_dominated: bool = True
) -> BudgetedMaxCover:
    """The planner's model of `inputs` (costs over `years`, municipal side constraints)."""
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
    costs = effective_costs(inputs)
    return BudgetedMaxCover.from_coverage(
        cov, d["weight"].to_numpy(float), costs, budget, fixed,
        drop_dominated=drop_dominated, side=side_rows(inputs, budget, costs),
    )  # fmt: skip


def default_curve_budgets(budget: float, steps: int) -> list[float]:
    if steps <= 0 or budget <= 0:
        return []
    return [budget * k / steps for k in range(1, steps + 1)]


def difference_count(min_difference: float, n_sites: int) -> int:
    """Sites each alternative must drop of every earlier layout: a share of the optimum's sites
    when below 1 (rounded up, at least 1), else a count."""
    if min_difference < 1:
        return max(1, math.ceil(min_difference * n_sites - 1e-9))
    return int(min_difference)


def plan(
    inputs: PlanInputs,
    budget: float,
    *,
    alternatives: int = 0,
    share: float = 0.95,
    min_difference: float = 0.25,
    curve_steps: int = 5,
    solver: HighsSolver | None = None,
    on_step=None,
) -> dict[str, Any]:
    """Solve the plan and return the report (JSON-ready; see docs/cameras.md for the keys).

    Every solve (main, alternatives, curve points) yields a layout that fits the full budget and
    every municipal limit, so the reported layout is the best any of them found (`incumbent`
    says which), with the main solve's proven bound. `on_step()` is called after each solve."""
    solver = solver or HighsSolver()
    step = on_step or (lambda: None)
    problem = build_problem(inputs, budget, drop_dominated=alternatives == 0).solve(solver)
    step()
    main = problem.result
    c = inputs.candidates
    d_min = difference_count(min_difference, len(main.chosen))
    found = []
    if alternatives > 0:
        found = problem.find_alternatives(alternatives, share=share, min_difference=d_min,
                                          solver=solver)  # fmt: skip
        for _ in found:
            step()
    curve = []
    for b in default_curve_budgets(budget, curve_steps):
        curve += problem.curve([b], solver)
        step()
    # The incumbent: the best layout of any solve (all fit the main problem's limits).
    pool = [("main", main)] + [(f"alternative {k}", a) for k, a in enumerate(found, start=1)]
    pool += [(f"curve {p['budget']:g}", r) for p, r in zip(curve, problem.curve_results,
                                                            strict=True)]  # fmt: skip
    source, res = max(pool, key=lambda t: (t[1].objective, t[0] == "main"))
    bound = min(
        [main.bound]
        + [
            r.bound
            for p, r in zip(curve, problem.curve_results, strict=True)
            if p["budget"] >= budget
        ]
    )
    bound = max(bound, res.objective)
    gap = (bound - res.objective) / max(abs(res.objective), 1e-9)
    integral = bool(np.all(problem.weights == np.round(problem.weights)))
    optimal = main.optimal or gap <= 1e-9 or (integral and bound - res.objective < 1 - 1e-6)
    chosen = res.chosen
    marg = problem.marginal(chosen)
    yearly = c["cost_yearly"].fillna(0).to_numpy(float) if "cost_yearly" in c else \
        np.zeros(len(c))  # fmt: skip
    eff = problem.costs
    muni = municipality_of(c["lat"].to_numpy(), c["lon"].to_numpy()) \
        if inputs.municipal is not None else None  # fmt: skip
    from safecities.cameras.service import municipality_names

    names = municipality_names()
    chosen_muni = municipality_of(c["lat"].to_numpy()[chosen], c["lon"].to_numpy()[chosen])
    sites = []
    for j, m, nis in zip(chosen, marg, chosen_muni, strict=True):
        row = c.iloc[int(j)]
        site = {
            "site_id": str(row["site_id"]),
            "lat": float(row["lat"]),
            "lon": float(row["lon"]),
            "action": "connect" if row.get("existing") == "connect" else "install",
            "cost": float(row["cost"]),
            "cost_yearly": float(yearly[int(j)]),
            "tco": float(eff[int(j)]),
            "marginal_weight": float(m),
            "covered_points": int(problem._csc()[:, [int(j)]].nnz),
        }
        for k in ("station", "zone"):  # names of the place (database candidates)
            v = row.get(k)
            site[k] = v if isinstance(v, str) and v else None
        site["municipality"] = nis or None
        site["municipality_name"] = names.get(nis, (None,))[0] if nis else None
        sites.append(site)
    sites.sort(key=lambda s: -s["marginal_weight"])
    base = set(chosen.tolist())
    alts = []
    for a in found:
        ids = set(a.chosen.tolist())
        alts.append({
            **a.to_dict(),
            "share_of_optimum": a.objective / res.objective if res.objective else 1.0,
            "site_ids": [str(c.iloc[j]["site_id"]) for j in sorted(ids)],
            "dropped_vs_optimum": [str(c.iloc[j]["site_id"]) for j in sorted(base - ids)],
            "added_vs_optimum": [str(c.iloc[j]["site_id"]) for j in sorted(ids - base)],
            "n_different": len(base ^ ids),
        })  # fmt: skip
    total = problem.total_weight
    n_fixed = int(problem.fixed.sum())
    report = {
        "solver": {
            "name": "highs",
            "version": solver.version(),
            "status": "optimal" if optimal else main.status,
            "optimal": bool(optimal),
            "objective": res.objective,
            "bound": bound,
            "gap": 0.0 if optimal and gap < 1e-6 else gap,
            "abs_gap": bound - res.objective,
            "seconds": round(sum(r.seconds for _, r in pool), 4),
            "time_limit": solver.time_limit,
            "mip_rel_gap": solver.mip_rel_gap,
            "incumbent": source,
            "main": main.to_dict(),
        },
        "budget": float(budget),
        "radius_m": float(inputs.radius),
        "years": int(inputs.years),
        "spent": float(eff[chosen].sum()),
        "spent_capital": float(c["cost"].to_numpy(float)[chosen].sum()),
        "spent_yearly": float(yearly[chosen].sum()),
        "n_candidates": int(len(c)),
        "n_existing_connected": n_fixed,
        "n_demand": int(len(inputs.demand)),
        "total_weight": total,
        "existing_weight": problem.existing_weight,
        "covered_weight": res.objective,
        "added_weight": res.objective - problem.existing_weight,
        "coverage_share": res.objective / total if total else 0.0,
        "min_difference_sites": d_min,
        "model": {
            "sites": int(len(problem.model.site_idx)),
            "demand_groups": int(len(problem.model.group_w)),
            "coverage_pairs": int(problem.coverage.nnz),
            "side_constraints": len(problem.side),
            "build_seconds": round(problem.build_seconds, 4),
            **problem.component_stats(),
            "presolve": dict(problem.model.presolve),
            "warm_start": dict(problem.start),
        },
        "chosen": sites,
        "alternatives": alts,
        "curve": curve,
    }
    if muni is not None:
        report["municipalities"] = _municipal_report(inputs, muni, eff, chosen, budget)
    return report


def _municipal_report(inputs: PlanInputs, muni, eff, chosen, budget) -> list[dict[str, Any]]:
    c = inputs.candidates
    connected = (c["existing"] == "connected").to_numpy() if "existing" in c else \
        np.zeros(len(c), bool)  # fmt: skip
    sel = np.zeros(len(c), bool)
    sel[np.asarray(chosen, int)] = True
    out = []
    for r in inputs.municipal.itertuples():
        mask = muni == r.municipality
        cap = [v for v in (r.budget, r.share * budget if np.isfinite(r.share) else np.nan)
               if np.isfinite(v)]  # fmt: skip
        out.append({
            "municipality": r.municipality,
            "budget_cap": min(cap) if cap else None,
            "spent": float(eff[mask & sel].sum()),
            "capacity": float(r.capacity) if np.isfinite(r.capacity) else None,
            "cameras_watched": int((mask & (sel | connected)).sum()),
            "chosen": int((mask & sel).sum()),
        })  # fmt: skip
    return out


#: Columns of the chosen sites (`cameras plan --out`, and the web and API downloads).
CHOSEN_COLUMNS = ["site_id", "lat", "lon", "action", "cost", "cost_yearly", "tco",
                  "marginal_weight", "covered_points", "station", "zone", "municipality",
                  "municipality_name"]  # fmt: skip


def chosen_export(report: dict[str, Any], fmt: str):
    """The chosen sites as a CSV/XLSX/GeoJSON download (safecities.exports rules)."""
    from safecities import exports

    return exports.export(report["chosen"], fmt, "chosen-sites", CHOSEN_COLUMNS)


def write_chosen_csv(report: dict[str, Any], path: str | Path) -> None:
    safe_frame(pd.DataFrame(report["chosen"], columns=CHOSEN_COLUMNS)).to_csv(path, index=False)


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
