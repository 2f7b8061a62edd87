"""Planner: exact optimum (brute force), sectors, alternatives, curve, file validation, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from safecities.cameras import planning
from safecities.cameras.coverage_matrix import build_coverage, sector_mask
from safecities.cameras.planner import BudgetedMaxCover
from safecities.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "cameras"

# Run the cameras commands through safecities.cli.main's error handling, with only our app
# mounted (the other capabilities' CLIs are built in parallel and may not import yet).
MAIN = (
    "import sys, typer, safecities.cli as c; from safecities.cameras import cli as k\n"
    "def b():\n a = typer.Typer(pretty_exceptions_enable=False); k.mount(a); return a\n"
    "c.build_app = b; sys.argv[0] = 'safecities'; c.main()"
)


def build_app():
    import typer

    from safecities.cameras import cli

    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


def brute_force(a, w, c, budget, fixed):
    ns = a.shape[1]
    dense = a.toarray()
    best = 0.0
    for mask in range(1 << ns):
        sel = np.array([(mask >> j) & 1 for j in range(ns)], bool)
        if (sel & fixed).any() or c[sel].sum() > budget + 1e-9:
            continue
        best = max(best, float(w[dense[:, sel | fixed].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    ns, nd = 10, 60
    sxy = rng.uniform(0, 1000, (ns, 2))
    dxy = rng.uniform(0, 1000, (nd, 2))
    direction = np.where(rng.random(ns) < 0.4, rng.uniform(0, 360, ns), np.nan)
    a = build_coverage(sxy, dxy, 260, direction=direction, angle=np.full(ns, 100.0))
    w = rng.integers(1, 10, nd).astype(float)
    c = rng.integers(1, 6, ns).astype(float) * 1000
    fixed = rng.random(ns) < 0.15
    budget = float(rng.integers(3, 12) * 1000)
    p = BudgetedMaxCover.from_coverage(a, w, c, budget, fixed).solve()
    assert p.result.optimal
    assert p.result.objective == pytest.approx(brute_force(a, w, c, budget, fixed))
    assert p.result.cost <= budget + 1e-9
    assert p.result.gap == pytest.approx(0.0, abs=1e-6)
    assert not (fixed[p.result.chosen]).any()


def test_sector_mask_and_range():
    # camera at origin looking east (90 deg) with a 90 deg opening
    dx = np.array([10.0, 0.0, -10.0, 7.0])
    dy = np.array([0.0, 10.0, 0.0, 7.0])
    m = sector_mask(dx, dy, np.full(4, 90.0), np.full(4, 90.0))
    assert m.tolist() == [True, False, False, True]
    a = build_coverage(np.zeros((1, 2)), np.array([[0, 100], [0, 200]]), 150, range_m=[250])
    assert a.nnz == 2


def test_alternatives_are_distinct_and_near_optimal():
    rng = np.random.default_rng(5)
    sxy = rng.uniform(0, 2000, (25, 2))
    dxy = rng.uniform(0, 2000, (300, 2))
    a = build_coverage(sxy, dxy, 300)
    w = np.ones(300)
    c = np.full(25, 1.0)
    p = BudgetedMaxCover.from_coverage(a, w, c, 5, None).solve()
    alts = p.find_alternatives(3, share=0.9, min_difference=2)
    assert alts
    layouts = [set(p.result.chosen.tolist())] + [set(x.chosen.tolist()) for x in alts]
    for i, later in enumerate(layouts[1:], start=1):
        assert later != layouts[0]
        for earlier in layouts[:i]:
            assert len(earlier - later) >= 2
    for x in alts:
        assert x.objective >= 0.9 * p.result.objective - 1e-6
        assert x.objective <= p.result.objective + 1e-6


def test_plan_from_files_existing_and_connect():
    inputs = planning.PlanInputs(
        planning.read_candidates(DATA / "candidates_small.csv"),
        planning.read_demand(DATA / "demand_small.csv"),
        radius=50,
    )
    rep = planning.plan(inputs, 25000, curve_steps=3)
    assert rep["existing_weight"] == 7  # D5 seen by the connected camera C5
    ids = {s["site_id"] for s in rep["chosen"]}
    assert "C5" not in ids
    # 25k buys C1 (10) + C4 connect (3) = 13 > C2 (5) + C4 ... best: C1 + C4
    assert ids == {"C1", "C4"}
    assert rep["covered_weight"] == 7 + 10 + 3
    assert {s["action"] for s in rep["chosen"]} == {"install", "connect"}
    curve = [p["covered_weight"] for p in rep["curve"]]
    assert curve == sorted(curve) and curve[-1] == rep["covered_weight"]


def test_sector_candidate_sees_only_its_direction():
    inputs = planning.PlanInputs(
        planning.read_candidates(DATA / "candidates_small.csv"),
        planning.read_demand(DATA / "demand_small.csv"),
        radius=100,
    )
    p = planning.build_problem(inputs, 1e6)
    col = p.coverage[:, 2].toarray().ravel()  # C3 looks east: sees D3 (east of it)
    assert col[2]
    assert not col[0]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("site_id,lat,lon,cost\nA,50.8,4.3,abc\n", "candidates.csv:1: field 'cost': not a number"),
        ("site_id,lat,lon,cost\nA,50.8,4.3,10\nA,50.8,4.3,10\n", "duplicate id"),
        ("site_id,lat,cost\nA,50.8,10\n", "'lon': required column is missing"),
        ("site_id,lat,lon,cost\nA,95,4.3,10\n", "field 'lat': out of range"),
        ("site_id,lat,lon,cost,direction\nA,50.8,4.3,10,90\n", "needs an opening angle"),
        ("site_id,lat,lon,cost\nA,50.8,4.3,-1\n", "field 'cost': out of range"),
        ("", "empty"),
    ],
)
def test_bad_candidates(tmp_path, content, needle):
    f = tmp_path / "candidates.csv"
    f.write_text(content)
    with pytest.raises(InputError) as exc:
        planning.read_candidates(f)
    assert needle in str(exc.value)


def test_semicolon_bom_candidates(tmp_path):
    f = tmp_path / "c.csv"
    f.write_bytes("\ufeffsite_id;lat;lon;cost\nA;50,85;4,35;1000\n".encode())
    df = planning.read_candidates(f)
    assert df.loc[0, "lat"] == pytest.approx(50.85)


def test_cli_plan_json(tmp_path):
    out = tmp_path / "chosen.csv"
    gj = tmp_path / "chosen.geojson"
    res = CliRunner().invoke(
        build_app(),
        ["cameras", "plan", "--budget", "25000", "--candidates", str(DATA / "candidates_small.csv"),
         "--demand", str(DATA / "demand_small.csv"), "--radius", "50", "--alternatives", "2",
         "--json", "--out", str(out), "--geojson", str(gj)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    for key in ("solver", "chosen", "curve", "alternatives", "manifest", "covered_weight"):
        assert key in doc
    assert doc["solver"]["status"] == "optimal"
    assert doc["manifest"]["solver"]["bound"] >= doc["covered_weight"] - 1e-9
    # Issue 17 item 5 keys: absolute gap, presolve counts, components, warm start.
    assert doc["solver"]["abs_gap"] == pytest.approx(0.0, abs=1e-9)
    model = doc["model"]
    assert model["components"] >= 1 and 1 <= model["largest_component_sites"] <= model["sites"]
    assert set(model["presolve"]) == {"sites_existing", "sites_unaffordable",
                                      "points_covered_existing", "points_uncoverable",
                                      "points_merged", "sites_dominated",
                                      "sites_covering_nothing", "groups_single_site"}  # fmt: skip
    assert model["warm_start"]["method"] == "greedy+swap"  # small: no support sub-MIP
    assert model["warm_start"]["objective"] <= doc["solver"]["main"]["objective"] + 1e-9
    assert set(doc["manifest"]["inputs"]) == {"candidates", "demand"}
    assert out.read_text().startswith("site_id,")
    assert json.loads(gj.read_text())["type"] == "FeatureCollection"


def test_cli_plan_bad_file_is_one_line(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "bad.csv"
    f.write_text("site_id,lat,lon,cost\nA,x,4.3,1\n")
    r = subprocess.run(
        [sys.executable, "-c", MAIN, "cameras", "plan", "--budget", "1",
         "--candidates", str(f), "--demand", str(DATA / "demand_small.csv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0
    assert "bad.csv:1: field 'lat'" in r.stderr


def test_plan_from_database(db_env):
    from safecities.cameras import dbplan
    from safecities.register import reference

    st = reference.stations("brussels").iloc[0]
    app = build_app()
    pos = ["--set", f"lat={st.geometry.y}", "--set", f"lon={st.geometry.x}"]
    r = CliRunner().invoke(
        app, ["cameras", "add", st["municipality"], *pos, "--set", "connected=yes"]
    )
    assert r.exit_code == 0, r.output
    demand = dbplan.demand_from_reference(None)
    assert set(demand["kind"]) >= {"station", "zone"}
    assert (
        demand.loc[demand["kind"] == "station", "weight"].min()
        > demand["weight"][demand["kind"] != "station"].max()
    )
    res = CliRunner().invoke(app, ["cameras", "plan", "--budget", "100000", "--curve-steps", "0",
                                   "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["source"] == "database"
    assert doc["n_existing_connected"] == 1 and doc["existing_weight"] >= 10
    assert len(doc["chosen"]) == 4 and doc["solver"]["optimal"]


@pytest.mark.parametrize("seed", range(6))
def test_equal_costs_dominance_keeps_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    sxy = rng.uniform(0, 600, (11, 2))
    sxy[1] = sxy[0]  # an exact twin: ties must not drop both
    dxy = rng.uniform(0, 600, (50, 2))
    a = build_coverage(sxy, dxy, 200)
    w = rng.integers(1, 5, 50).astype(float)
    c = np.ones(11)
    fixed = np.zeros(11, bool)
    full = BudgetedMaxCover.from_coverage(a, w, c, 3, fixed, drop_dominated=False).solve()
    red = BudgetedMaxCover.from_coverage(a, w, c, 3, fixed).solve()
    best = brute_force(a, w, c, 3, fixed)
    assert full.result.objective == pytest.approx(best)
    assert red.result.objective == pytest.approx(best)
    assert len(red.model.site_idx) <= len(full.model.site_idx)


@pytest.mark.parametrize("seed", range(8))
def test_support_start_keeps_the_exact_optimum(seed, monkeypatch):
    """The national-scale warm start (LP, then the MIP on the LP's support plus the greedy
    layout) only seeds HiGHS: forced onto small instances, the optimum is still brute force's,
    the start never beats it and the solver time includes the start."""
    from safecities.cameras import planner

    monkeypatch.setattr(planner, "SUPPORT_START_MIN_SITES", 1)
    rng = np.random.default_rng(300 + seed)
    ns, nd = 11, 80
    sxy = rng.uniform(0, 900, (ns, 2))
    dxy = rng.uniform(0, 900, (nd, 2))
    a = build_coverage(sxy, dxy, 280)
    w = rng.integers(1, 10, nd).astype(float)
    c = rng.integers(12, 46, ns).astype(float) * 1000  # euros, like the README instance
    fixed = rng.random(ns) < 0.1
    budget = float(rng.integers(40, 120) * 1000)
    p = BudgetedMaxCover.from_coverage(a, w, c, budget, fixed).solve()
    best = brute_force(a, w, c, budget, fixed)
    assert p.start["method"] in ("greedy+swap", "support sub-MIP")
    assert p.start["objective"] <= best + 1e-9
    assert p.result.seconds >= p.start["seconds"]
    assert p.result.optimal and p.result.objective == pytest.approx(best)
    assert p.result.cost <= budget + 1e-9


def test_presolve_counts_and_components():
    """Each reduction says what it removed; far-apart clusters are separate components."""
    # Two clusters 5 km apart; site 3 is dearer than the budget; site 2 is a cheaper twin's copy.
    sxy = np.array([[0, 0], [40, 0], [40, 0], [5000, 0], [5030, 0], [5060, 0]], float)
    dxy = np.array([[0, 10], [20, 0], [20, 0], [45, 5], [5000, 20], [5040, 0], [9000, 0],
                    [5030, 10]], float)  # fmt: skip
    a = build_coverage(sxy, dxy, 50)
    w = np.array([3, 2, 2, 4, 5, 1, 9, 2], float)
    c = np.array([10, 10, 12, 99, 10, 10], float)
    p = BudgetedMaxCover.from_coverage(a, w, c, 30.0).solve()
    ps = p.model.presolve
    assert ps["sites_unaffordable"] == 1  # site 3 costs more than the whole budget
    assert ps["points_uncoverable"] == 1  # the point at 9 km
    assert ps["points_merged"] >= 1  # the two identical points at (20, 0)
    assert ps["sites_dominated"] >= 1  # site 2: same cover as site 1, dearer
    stats = p.component_stats()
    assert stats["components"] == 2 and stats["largest_component_sites"] >= 1
    assert p.result.optimal
    assert p.result.objective == pytest.approx(brute_force(a, w, c, 30.0, np.zeros(6, bool)))
