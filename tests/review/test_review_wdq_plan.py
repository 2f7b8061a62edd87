"""Weighted displacement quotient on known counts and planted points; plan registration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely.geometry import Point
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.errors import InputError
from safecities.geo import to_wgs84
from safecities.review.plan import adherence, find_registration, load_plan, register_plan
from safecities.review.wdq import displacement, wdq

PLAN = """\
title: Joint patrols around Clemenceau and Peterbos
outcome: shootings
kinds: [shooting, shots_fired]
units: [Clemenceau, Peterbos]
controls: auto
intervention: 2025-08-15
pre_period: [2025-01-01, 2025-08-14]
post_period: [2099-08-15, 2099-12-31]
method: its
freq: week
rings_m: [250, 500]
"""


def test_wdq_known_values():
    r = wdq(a0=100, a1=50, b0=80, b1=60, c0=1000, c1=1000)
    assert r.success_measure == pytest.approx(-0.05)
    assert r.buffer_measure == pytest.approx(-0.02)
    assert r.quotient == pytest.approx(0.4)
    assert r.total_net_effect == pytest.approx(70)
    # 80 -> 60 in the ring is within Poisson noise (z = -1.69): no verbal diffusion claim
    assert r.reading == "within_noise" and r.ring_test["p_value"] > 0.05
    assert wdq(100, 50, 80, 50, 1000, 1000).reading == "diffusion"
    assert wdq(100, 50, 80, 120, 1000, 1000).reading == "displacement_smaller_than_effect"
    assert wdq(100, 50, 80, 140, 1000, 1000).reading == "displacement_larger_than_effect"
    assert wdq(100, 120, 80, 80, 1000, 1000).reading == "no_clear_success"
    # one extra event around a handful is not a finding
    assert wdq(6, 2, 4, 5, 1000, 1000).reading == "too_few_events"
    with pytest.raises(InputError):
        wdq(1, 1, 1, 1, 0, 1)


def test_wdd_is_wheeler_and_ratcliffe_with_a_comparable_control():
    """With a control area whose pre-period count equals the treated area's and ring's
    (k = 1), the WDD is Wheeler and Ratcliffe's (2018, Crime Science 7:11) formula
    (T1 - T0) - (Ct1 - Ct0) + (D1 - D0) - (Cd1 - Cd0) with one control, and its variance the
    sum of the counts (Poisson)."""
    r = wdq(a0=60, a1=40, b0=40, b1=45, c0=100, c1=90)
    d = r.wdd
    assert d["wdd"] == pytest.approx((40 - 60) + (45 - 40) - (90 - 100))
    assert d["se"] == pytest.approx(np.sqrt(60 + 40 + 40 + 45 + 100 + 90))
    assert d["p_value"] == pytest.approx(2 * stats.norm.sf(abs(d["wdd"]) / d["se"]))
    assert r.to_dict()["wdd_test"]["reference"].startswith("Weighted displacement difference")


def _events_around(cx: float, cy: float, rng) -> pd.DataFrame:
    """Zone: 200 m disc. Before: 20 inside, 10 in 0-250 ring, 100 far. After: 5, 20, 100."""
    rows = []

    def put(n, rmin, rmax, when):
        r = rng.uniform(rmin, rmax, n)
        a = rng.uniform(0, 2 * np.pi, n)
        lon, lat = to_wgs84(cx + r * np.cos(a), cy + r * np.sin(a))
        for x, y in zip(lon, lat, strict=True):
            rows.append({"occurred_at": when, "lon": x, "lat": y})

    before, after = pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-09-01", tz="UTC")
    put(20, 0, 190, before)
    put(10, 210, 440, before)
    put(100, 800, 3000, before)
    put(5, 0, 190, after)
    put(20, 210, 440, after)
    put(100, 800, 3000, after)
    return pd.DataFrame(rows)


def test_displacement_rings_detect_planted_displacement():
    cx, cy = 649000.0, 666000.0  # central Brussels in EPSG:3812
    zone_lon, zone_lat = to_wgs84(np.array([cx]), np.array([cy]))
    events = _events_around(cx, cy, np.random.default_rng(0))
    # A 200 m disc as a WGS84 polygon (approximate: build in metres, convert vertices).
    ang = np.linspace(0, 2 * np.pi, 64)
    lon, lat = to_wgs84(cx + 200 * np.cos(ang), cy + 200 * np.sin(ang))
    from shapely.geometry import Polygon

    zone = Polygon(zip(lon, lat, strict=True))
    assert zone.contains(Point(zone_lon[0], zone_lat[0]))
    res = displacement(
        events, [zone], "2025-06-01", rings=(250, 500),
        before=("2025-01-01", "2025-06-01"), after=("2025-06-01", "2025-12-31"),
    )  # fmt: skip
    ring = res.by_ring[0]
    assert (ring.a0, ring.a1, ring.c0, ring.c1) == (20, 5, 100, 100)
    assert ring.b0 + res.by_ring[1].b0 == 10 and ring.b1 + res.by_ring[1].b1 == 20
    d = res.to_dict()
    assert d["rings"][0]["from_m"] == 0 and "Bowers" in d["reference"]


def test_plan_load_validation(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN.replace("method: its", "method: magic"))
    with pytest.raises(InputError, match="method"):
        load_plan(p)
    p.write_text("just text")
    with pytest.raises(InputError):
        load_plan(p)


def test_plan_register_and_adherence(tmp_path, engine):
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN)
    plan = load_plan(p)
    assert find_registration(engine, plan) is None
    reg = register_plan(engine, plan, actor="analyst-7")
    assert reg["sha256"] == plan.sha256 and reg["registered_before_post_period"]
    again = register_plan(engine, plan)
    assert again["already_registered"]
    ok = adherence(engine, plan, {"method": "its", "units": ["Clemenceau", "Peterbos"]})
    assert ok["followed"] and ok["registered"]
    dev = adherence(engine, plan, {"method": "did"})
    assert not dev["followed"] and dev["deviations"][0]["field"] == "method"
    p.write_text(PLAN.replace("rings_m: [250, 500]", "rings_m: [300]"))
    assert not adherence(engine, load_plan(p), {})["registered"]
    from safecities.store.audit import verify
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        assert verify(s).ok


def test_cli_register_plan(tmp_path, db_env):
    from safecities.store.db import get_engine, upgrade

    upgrade(get_engine())
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN)
    r = CliRunner().invoke(build_app(), ["review", "register-plan", str(p), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert len(out["sha256"]) == 64 and out["manifest"]["command"] == "review register-plan"
