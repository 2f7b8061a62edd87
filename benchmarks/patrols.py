# ruff: noqa: E501
"""Benchmark of the joint-patrol planner: Brussels, ~40 zones, six months at 15-minute resolution.

45-soldier cap, 300 police (150 crews of 2), 80 soldiers (40 pairs), a dozen FIPA. Prints solver
seconds, objective, bound and gap, then the wall time of the whole run, the size of the plan and
the time of the independent check. Target (issue 5): under 60 s of solving on 2 cores, gap <= 1 %.

    .venv/bin/python benchmarks/patrols.py [--solver cpsat|highs] [--time-limit 60] [--seed 0]
    .venv/bin/python benchmarks/patrols.py --chain-weeks [--time-limit 60] [--seed 0]
        [--speed-kmh 25] [--handover 15]      # travel and handover in the instance (0: off)
    .venv/bin/python benchmarks/patrols.py --compare-portfolios [--time-limit 60] [--seed 0]
        [--speed-kmh 25] [--handover 15] [--chunk-limit 30]

`--compare-portfolios` plans the period in one run, keeps each weekly chunk's model data, then
solves every chunk twice, with CP-SAT's default two-worker portfolio and with `max_lp` +
`default_lp` (the planner's choice), and prints the paired solve seconds and gaps with a 95 %
bootstrap interval of the mean saving.

`--chain-weeks` plans the period week by week, each week continuing the previous one (as
`plan make --after`), and checks each week together with its predecessor (`plan check --after`)
and the whole period joined: the figures are the sums and the worst week.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from safecities.patrols.check import check_plan
from safecities.patrols.planner import Planner, write_plan
from safecities.patrols.protocol import (
    Protocol,
    bundled_protocol_path,
    load_protocol,
    read_document,
)
from safecities.patrols.risk import default_profile
from safecities.safeio import dump_yaml

EXTRA_POSTS = {
    "ZP Montgomery / PZ Montgomery (5342)": "cp-5342-montgomery",
    "ZP Uccle/W-B/Auderghem / PZ Ukkel/W-B/Oudergem (5343)": "cp-5343-uccle",
}


def benchmark_protocol(n_zones: int = 40, speed_kmh: float = 25.0, handover: int = 15) -> dict:
    """The benchmark instance; `speed_kmh` travel between zone centroids and a `handover` of that
    many minutes at shift changes in the railway zones (0 for neither)."""
    doc, _ = read_document(bundled_protocol_path())
    zones_geo = json.loads(
        (Path(__file__).resolve().parents[1] / "safecities/data/zones.geojson").read_text()
    )
    posts = {p["name"]: p["id"] for p in doc["command_posts"]}
    for name, pid in EXTRA_POSTS.items():
        doc["command_posts"].append(
            {
                "id": pid,
                "name": name,
                "liaisons": [f"DL-{pid[-4:].upper()}-{i}" for i in range(1, 5)],
            }
        )
        posts[name] = pid
    have = {z["id"] for z in doc["zones"]}
    extra = [f["properties"] for f in zones_geo["features"] if f["properties"]["id"] not in have]
    for i, z in enumerate(extra[: n_zones - len(doc["zones"])]):
        doc["zones"].append(
            {
                "id": z["id"],
                "name": z["name"],
                "command_post": posts[z["command_post"]],
                "soldiers_allowed": i % 2 == 0,
                "weight": 0.8,
            }
        )  # half police-only
    fipa_zones = [
        "matonge",
        "clemenceau",
        "gare-du-nord",
        "peterbos",
        "parc-bonnevie",
        "railway-south",
    ]
    months = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    doc["fipa"] = [
        {
            "id": f"fipa-{m}-{d}",
            "date": f"{m}-{d}",
            "start": "20:00" if k % 2 else "18:00",
            "end": "23:00" if k % 2 else "22:00",
            "zone": fipa_zones[k % len(fipa_zones)],
            "soldiers": 8 + 2 * (k % 5),
        }
        for k, (m, d) in enumerate((m, d) for m in months for d in ("03", "17"))
    ]
    doc["version"] = "benchmark"
    # the bundled protocol has its own travel and handover: the instance's are these
    doc.pop("travel", None)
    doc.pop("handover_minutes", None)
    if speed_kmh:
        doc["travel"] = {"speed_kmh": speed_kmh}
    if handover:
        doc["handover_minutes"] = handover
    return doc


def _write_protocol(folder: Path, args) -> tuple[Path, Protocol]:
    """The benchmark protocol of `args` (travel, handover) written to `folder`, and loaded."""
    path = folder / "protocol.yaml"
    doc = benchmark_protocol(speed_kmh=args.speed_kmh, handover=args.handover)
    path.write_text(dump_yaml(doc))  # no aliases: protocol readers refuse them
    return path, load_protocol(path)


def chain_weeks(args) -> None:
    from datetime import timedelta

    from safecities.patrols.replan import load_previous_plan

    with tempfile.TemporaryDirectory() as tmp:
        path, p = _write_protocol(Path(tmp), args)
        print(
            f"zones {len(p.zones)}, travel {args.speed_kmh:g} km/h, handover {args.handover} min, "
            f"seed {args.seed}, {args.first} - {args.last}",
            flush=True,
        )
        d, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
        prev, solve, worst_gap, violations, weeks, parts = None, 0.0, 0.0, 0, 0, []
        objective = bound = 0.0
        t0 = time.perf_counter()
        while d <= last:
            end = min(last, d + timedelta(days=6 - d.weekday()))  # to Sunday
            kw = {}
            if prev is not None:
                pp = load_previous_plan(prev, p, d, end)
                kw = {"history": pp["history"], "frozen_until": pp["frozen_until"]}
            res = Planner(
                p, d, end, default_profile(p), seed=args.seed, time_limit=args.time_limit,
                workers=2, backend=args.solver, **kw,
            ).run()  # fmt: skip
            out = Path(tmp) / f"week-{d}.csv"
            write_plan(res.rows, out)
            rep = check_plan(out, path, after=prev)
            solve += res.solve_seconds
            objective, bound = objective + res.objective, bound + res.bound
            worst_gap = max(worst_gap, res.gap)
            violations += len(rep.violations)
            weeks += 1
            parts.append(out)
            print(
                f"{d} - {end}: solve {res.solve_seconds:.1f} s, gap {100 * res.gap:.3f} %, "
                f"{res.status}, violations with its predecessor {len(rep.violations)}",
                flush=True,
            )
            prev, d = out, end + timedelta(days=1)
        joined = Path(tmp) / "joined.csv"
        with open(joined, "w", encoding="utf-8") as fh:
            for i, part in enumerate(parts):
                lines = part.read_text(encoding="utf-8").splitlines(True)
                fh.writelines(lines if i == 0 else lines[1:])
        whole = check_plan(joined, path)
        print(
            f"weeks {weeks}: solve seconds {solve:.1f} (worst week gap {100 * worst_gap:.3f} %), "
            f"violations week by week {violations}, whole period joined {len(whole.violations)} "
            f"{whole.counts()}; objective {objective:.1f}, bound {bound:.1f}; "
            f"wall {time.perf_counter() - t0:.1f} s",
            flush=True,
        )


def compare_portfolios(args) -> None:
    import numpy as np

    import safecities.patrols.planner as planner_module
    from safecities.patrols.model import ChunkModel

    kept = []

    class Keeping(ChunkModel):  # the planner's chunks, as it builds them (warm starts included)
        def __init__(self, data, **kw) -> None:
            super().__init__(data, **kw)
            if not kw.get("assumptions") and not any(data.keep_bonus.values()):
                kept.append(data)

    with tempfile.TemporaryDirectory() as tmp:
        _path, p = _write_protocol(Path(tmp), args)
        planner_module.ChunkModel = Keeping
        try:
            Planner(
                p, date.fromisoformat(args.first), date.fromisoformat(args.last),
                default_profile(p), seed=args.seed, time_limit=args.time_limit, workers=2,
            ).run()  # fmt: skip
        finally:
            planner_module.ChunkModel = ChunkModel
    print(
        f"travel {args.speed_kmh:g} km/h, handover {args.handover} min, seed {args.seed}, "
        f"{len(kept)} chunks, {args.chunk_limit:g} s each",
        flush=True,
    )
    rows = []
    for i, data in enumerate(kept):
        pair = []
        for subs in ([], ["max_lp", "default_lp"]):
            sol = ChunkModel(data).solve(
                time_limit=args.chunk_limit, workers=2, gap=0.008, seed=args.seed, subsolvers=subs
            )
            gap = (sol.bound - sol.objective) / sol.bound if sol.bound else 0.0
            pair.append((sol.seconds, sol.status == "OPTIMAL", 100 * gap))
        rows.append(pair)
        print(f"chunk {i:2d}: default {pair[0][0]:.2f} s {pair[0][2]:.2f} %, max_lp "
              f"{pair[1][0]:.2f} s {pair[1][2]:.2f} %", flush=True)  # fmt: skip
    a = np.array([r[0][0] for r in rows])
    b = np.array([r[1][0] for r in rows])
    d = a - b
    rng = np.random.default_rng(0)
    boots = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(5000)]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    print(
        f"solve seconds default {a.sum():.1f} -> max_lp {b.sum():.1f}; not proven "
        f"{sum(not r[0][1] for r in rows)} -> {sum(not r[1][1] for r in rows)}; mean saving "
        f"{d.mean():.2f} s per chunk (95 % bootstrap {lo:.2f}, {hi:.2f}); faster in "
        f"{int((d > 0).sum())} of {len(d)}; mean gap {np.mean([r[0][2] for r in rows]):.2f} % -> "
        f"{np.mean([r[1][2] for r in rows]):.2f} %",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solver", default="cpsat", choices=["cpsat", "highs"])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from", dest="first", default="2026-03-20")
    ap.add_argument("--to", dest="last", default="2026-09-19")
    ap.add_argument("--chain-weeks", action="store_true", help="plan week by week with --after")
    ap.add_argument(
        "--compare-portfolios", action="store_true", help="CP-SAT default vs max_lp, paired"
    )
    ap.add_argument("--chunk-limit", type=float, default=30.0, help="seconds per chunk solve")
    ap.add_argument("--speed-kmh", type=float, default=25.0, help="travel speed (0: no travel)")
    ap.add_argument("--handover", type=int, default=15, help="handover minutes (0: none)")
    args = ap.parse_args()
    if args.chain_weeks:
        chain_weeks(args)
        return
    if args.compare_portfolios:
        compare_portfolios(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path, p = _write_protocol(Path(tmp), args)
        print(
            f"zones {len(p.zones)}, police {sum(u.size for u in p.units_of('police'))}, soldiers "
            f"{sum(u.size for u in p.units_of('defence'))}, cap {p.soldier_cap}, FIPA {len(p.fipa)}, "
            f"{args.first} - {args.last}, solver {args.solver}",
            flush=True,
        )
        t0 = time.perf_counter()
        planner = Planner(
            p,
            date.fromisoformat(args.first),
            date.fromisoformat(args.last),
            default_profile(p),
            seed=args.seed,
            time_limit=args.time_limit,
            workers=2,
            backend=args.solver,
        )
        res = planner.run()
        wall = time.perf_counter() - t0
        print(
            f"solve seconds {res.solve_seconds:.1f}  objective {res.objective:.2f}  bound {res.bound:.2f}  "
            f"gap {100 * res.gap:.3f} %  status {res.status}  chunks {len(res.chunks)}",
            flush=True,
        )
        worst = max(
            res.chunks,
            key=lambda c: (
                (c["bound"] - c["objective"]) / c["bound"]
                if c["bound"] and c["bound"] != float("inf")
                else float("inf")
            ),
        )
        print(
            f"slowest chunk {max(c['seconds'] for c in res.chunks):.1f} s; worst chunk gap "
            f"{100 * (worst['bound'] - worst['objective']) / worst['bound']:.3f} % ({worst['from']})"
        )
        print(
            f"planner wall seconds (model building, solving, drawing visits) {wall:.1f}; visits {len(res.rows)}",
            flush=True,
        )
        out = Path(tmp) / "plan.csv"
        t1 = time.perf_counter()
        write_plan(res.rows, out)
        t2 = time.perf_counter()
        report = check_plan(out, path)
        t3 = time.perf_counter()
        print(
            f"write {t2 - t1:.1f} s ({out.stat().st_size / 1e6:.0f} MB); independent check {t3 - t2:.1f} s: "
            f"{len(report.violations)} violations"
        )
        target = res.solve_seconds < 60 and res.gap <= 0.01
        print(f"target (< 60 s solving, gap <= 1 %): {'MET' if target else 'MISSED'}")


if __name__ == "__main__":
    main()
