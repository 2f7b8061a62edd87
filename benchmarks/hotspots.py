"""Hotspot benchmark on the real NYPD shooting incidents (../shared/data/nypd-shootings).

    .venv/bin/python benchmarks/hotspots.py [--datasets all:2019,BROOKLYN:2020] [--horizon 7d]
        [--cell-size 150] [--n-jobs 2] [--methods naive,kde,prospective,sepp,auto] [--json F]

1. For each data set (a borough, or `all`, and a year), a rolling-origin backtest through the
   service's own `backtest` verb (the CLI's `--json` figures): the study area is every 150 m
   cell within 500 m of a shooting *before* the year (past only), origins step in calendar
   days of New York time, each method sees only the events before each origin. Hit rate, PAI
   and PEI at 1, 5, 10, 20 % coverage with 95 % intervals; paired differences at 5 % between
   the best method and every other; `auto` against the best fixed method in hindsight.
   The default second data set (Brooklyn 2020: another borough, and the year shootings
   doubled) was not looked at while choosing any setting: it is the out-of-sample check.
2. The self-exciting model fitted on 20,000 events: seconds and peak memory (in a fresh
   process, so the figure is the whole process's peak resident set, interpreter included).
   Targets (issue 4): SEPP on 20k events < 30 s and < 2 GB.
The learned model is left out by default (minutes per data set on a shared machine); add it
with --methods. open_cp (the reference open-source implementation) is not on PyPI (only an
unrelated `opencp` package is), so no side-by-side run is made here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "nypd-shootings"
CSV = DATA / "NYPD_Shooting_Incident_Data__Historic_2006-2020.csv"
TARGETS = {"sepp_seconds": 30.0, "sepp_peak_mb": 2048.0}

RAW_MAPPING = """format: safecities-hotspots-mapping
columns: {date: OCCUR_DATE, time: OCCUR_TIME, lat: Latitude, lon: Longitude}
date_format: "%m/%d/%Y %H:%M:%S"
timezone: America/New_York
"""

SEPP_CHILD = r"""
import json, resource, sys, time, tracemalloc
from safecities.hotspots import service
from safecities.hotspots.forecast import SEPPForecaster
from safecities.hotspots.events import EventArray, read_events
# 20,000 events: the most recent 20,000 victim rows, NOT collapsed (exact duplicates included,
# as the issue requires the fit to survive them); the file has 18,562 distinct incidents
df = read_events(sys.argv[1], sys.argv[3])
g = service.build_grid(df, float(sys.argv[2]))
ev = service.event_array(df, g)
k = len(ev) - 20000
ev = EventArray(ev.t[k:], ev.x[k:], ev.y[k:], ev.crs)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
tracemalloc.start()
t = time.perf_counter()
m = SEPPForecaster(grid=g, window_days=None).fit(ev)
om, tc = m.omega_, m.time_cutoff_days
import math
secs = time.perf_counter() - t
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"n_events": len(ev), "seconds": secs, "n_iter": m.n_iter_,
  "n_pairs": m.n_pairs_, "theta": m.theta_, "mean_delay_days": 1 / om - tc / math.expm1(om * tc),
  "background_bandwidth_m": m.background_bandwidth_,
  "sigma_m": m.sigma_, "converged": bool(m.converged_),
  "fit_alloc_peak_mb": peak / 2**20, "rss_before_mb": rss0,
  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _subset(boro: str, year: int, folder: Path, horizon_days: float = 7.0) -> Path:
    """The victim rows of one borough (or `all`) up to the end of `year`'s last forecast window,
    as a CSV in the original layout (read through the `nypd` mapping like any other file)."""
    import pandas as pd

    df = pd.read_csv(CSV, dtype=str)
    when = pd.to_datetime(df["OCCUR_DATE"], format="%m/%d/%Y")
    keep = when < pd.Timestamp(year + 1, 1, 1) + pd.Timedelta(days=np.ceil(horizon_days))
    if boro.lower() != "all":
        keep &= df["BORO"].str.upper() == boro.upper()
    path = folder / f"nypd-{boro.lower()}-{year}.csv"
    df[keep].to_csv(path, index=False)
    return path


def run_dataset(boro: str, year: int, args: argparse.Namespace, folder: Path) -> dict:
    from safecities.hotspots import service as svc
    from safecities.hotspots.events import parse_horizon

    path = _subset(boro, year, folder, parse_horizon(args.horizon))
    t = time.perf_counter()
    res = svc.backtest(
        svc.BacktestRequest(
            source=svc.Source(events=path, mapping="nypd"),
            area=svc.Area(cell_size=args.cell_size),
            start=f"{year}-01-01",
            end=f"{year + 1}-01-01",
            horizon=args.horizon,
            methods=tuple(args.methods.split(",")),
            n_jobs=args.n_jobs,
        )  # fmt: skip
    ).to_dict()
    res["wall_total_seconds"] = time.perf_counter() - t
    res["dataset"] = f"{boro}:{year}"
    return res


def report(res: dict) -> None:
    g, best = res["grid"], res["best"]
    sa = g["study_area"]
    print(
        f"\n== {res['dataset']}: {res['n_events']} incidents in the file (to the last window); "
        f"study area {g['n_cells']} cells of {g['cell_size_m']:g} m ({g['area_km2']} km2, "
        f"{g['crs']}; within {sa.get('buffer_m', 0):g} m of the {sa.get('n_events')} "
        f"incidents before {str(sa.get('events_before'))[:10]}); horizon {res['horizon_days']:g} d"
    )
    print(f"{'method':<12}{'cov%':>5}{'hit rate [95% CI]':>26}{'PAI [95% CI]':>24}"
          f"{'PEI':>7}{'scored':>8}{'cpu s':>8}")  # fmt: skip
    for r in res["table"]:
        print(
            f"{r['method']:<12}{r['coverage_pct']:>5g}"
            f"{_ci(r['hit_rate'], r['hit_rate_ci']):>26}{_ci(r['pai'], r['pai_ci'], 2):>24}"
            f"{_num(r['pei']):>7}{r['n_scored']:>5}/{r['n_windows']:<3}{r['cpu_seconds']:>7.1f}"
        )
    print(f"best at {best['coverage_pct']:g}% (PAI): {best['method']}")
    for name, d in best["paired_difference"].items():
        sig = "excludes 0" if d["ci_low"] is not None and d["ci_low"] > 0 else "includes 0"
        print(
            f"  {best['method']} - {name}: PAI@5% paired difference {d['mean']:+.2f} "
            f"[{_num(d['ci_low'], 2, True)}, {_num(d['ci_high'], 2, True)}] ({sig})"
        )
    pai5 = {r["method"]: r["pai"] for r in res["table"] if r["coverage_pct"] == 5.0}
    fixed = {m: v for m, v in pai5.items() if m != "auto" and v is not None}
    if "auto" in pai5 and fixed:
        top = max(fixed, key=fixed.get)
        print(
            f"auto PAI@5% {pai5['auto']:.2f} against the best fixed method in hindsight "
            f"({top}, {fixed[top]:.2f}): {100 * (pai5['auto'] / fixed[top] - 1):+.1f} %"
        )
    print(f"wall {res['wall_total_seconds']:.1f} s; load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="all:2019,BROOKLYN:2020",
                    help="Comma-separated BOROUGH:YEAR (all = every borough).")  # fmt: skip
    ap.add_argument("--horizon", default="7d")
    ap.add_argument("--cell-size", type=float, default=150.0)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--methods", default="naive,kde,prospective,sepp,auto")
    ap.add_argument("--no-sepp-fit", action="store_true", help="Skip the 20k-event SEPP fit.")
    ap.add_argument("--json", type=Path, help="Also write the figures as JSON here.")
    args = ap.parse_args()
    if not CSV.exists():
        print(f"skipped: {CSV} not found (the benchmark needs ../shared/data)", file=sys.stderr)
        return 0
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    folder = Path(tempfile.mkdtemp())
    results = []
    for spec in args.datasets.split(","):
        boro, year = spec.split(":")
        results.append(run_dataset(boro, int(year), args, folder))
        report(results[-1])
    sepp = None if args.no_sepp_fit else sepp_fit(args.cell_size)
    if args.json:
        args.json.write_text(
            json.dumps({"datasets": results, "sepp_20k": sepp, "targets": TARGETS}, indent=2,
                       default=lambda o: None if isinstance(o, float) and not np.isfinite(o) else o)
        )  # fmt: skip
    return 0


def sepp_fit(cell_size: float) -> dict:
    raw_mapping = Path(tempfile.mkdtemp()) / "nypd-rows.yaml"
    raw_mapping.write_text(RAW_MAPPING, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", SEPP_CHILD, str(CSV), str(cell_size), str(raw_mapping)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    sepp = json.loads(out.stdout.strip().splitlines()[-1])
    ok_t = sepp["seconds"] < TARGETS["sepp_seconds"]
    ok_m = sepp["peak_rss_mb"] < TARGETS["sepp_peak_mb"]
    print(
        f"\nSEPP fit on {sepp['n_events']} events: {sepp['seconds']:.1f} s "
        f"(target < 30 s: {'MET' if ok_t else 'MISSED'}), peak RSS {sepp['peak_rss_mb']:.0f} MB "
        f"(target < 2048 MB: {'MET' if ok_m else 'MISSED'}; numpy allocations peak "
        f"{sepp['fit_alloc_peak_mb']:.0f} MB); {sepp['n_pairs']} candidate pairs, "
        f"{sepp['n_iter']} EM iterations; theta {sepp['theta']:.3f}, mean delay "
        f"{sepp['mean_delay_days']:.1f} d (truncated kernel), sigma {sepp['sigma_m']:.0f} m, "
        f"background bandwidth {sepp['background_bandwidth_m']:.0f} m (hold-out)"
    )
    return sepp


def _num(v: float | None, nd: int = 3, sign: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.{nd}f}" if sign else f"{v:.{nd}f}"


def _ci(m: float | None, ci: list[float | None], nd: int = 3) -> str:
    return f"{_num(m, nd)} [{_num(ci[0], nd)}, {_num(ci[1], nd)}]"


if __name__ == "__main__":
    raise SystemExit(main())
