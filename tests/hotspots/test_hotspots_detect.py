"""Detection (counts, KDE, Gi* with FDR), emerging hotspots, Knox near-repeat, zone profiles."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from safecities.hotspots.detect import detect, fdr_mask
from safecities.hotspots.emerging import classify, emerging_hotspots, mann_kendall
from safecities.hotspots.events import EventArray
from safecities.hotspots.nearrepeat import knox
from safecities.hotspots.profile import PROFILE_COLUMNS, zone_profiles
from safecities.hotspots.simulate import planted_hotspots

CENTRE = (650_125.0, 666_625.0)


def test_gi_star_finds_the_planted_cluster_and_nothing_in_noise(square_grid, t0):
    ev = planted_hotspots(
        centres=[CENTRE], per_hotspot=80, background=400,
        bounds=(648_000, 664_000, 653_000, 669_000), spread_m=120.0, days=365, t0=t0, seed=5,
    )  # fmt: skip
    frame, info = detect(ev, square_grid, alpha=0.05)
    c = int(square_grid.locate(np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0])
    assert frame.loc[c, "gi_class"] == "hot"
    hot = frame.index[frame["gi_class"] == "hot"]
    cx, cy = square_grid.centroids()
    assert (np.hypot(cx[hot] - CENTRE[0], cy[hot] - CENTRE[1]) < 700).all()
    assert info["bandwidth_rule"] == "likelihood cross-validation" and info["n_hot"] >= 3
    assert frame["count"].sum() == len(ev)
    # pure noise: FDR control keeps false hot spots rare
    noise = planted_hotspots(
        centres=[], per_hotspot=0, background=480, bounds=(648_000, 664_000, 653_000, 669_000),
        spread_m=1.0, days=365, t0=t0, seed=6,
    )  # fmt: skip
    f2, i2 = detect(noise, square_grid, bandwidth=200.0)
    assert i2["n_hot"] <= 4 and i2["bandwidth_m"] == 200.0


def test_fdr_mask_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert fdr_mask(p, 0.05).sum() == 2
    assert not fdr_mask(np.array([np.nan]), 0.05).any()


def test_emerging_classes():
    tau, p = mann_kendall(np.arange(12.0))
    assert tau == pytest.approx(1.0) and p < 0.01
    n = 12
    hot = np.ones(n, bool)
    cold = np.zeros(n, bool)
    assert classify(hot, cold, 0.8, 0.001) == "intensifying"
    assert classify(hot, cold, -0.8, 0.001) == "diminishing"
    assert classify(hot, cold, 0.1, 0.6) == "persistent"
    last = np.zeros(n, bool)
    last[-1] = True
    assert classify(last, cold, 0, 1) == "new"
    run = np.zeros(n, bool)
    run[-4:] = True
    assert classify(run, cold, 0, 1) == "consecutive"
    onoff = np.zeros(n, bool)
    onoff[[2, 5, 11]] = True
    assert classify(onoff, cold, 0, 1) == "sporadic"
    c2 = cold.copy()
    c2[0] = True
    assert classify(onoff, c2, 0, 1) == "oscillating"
    hist = np.ones(n, bool)
    hist[-1] = False
    hist = np.concatenate([np.ones(10, bool), [False]])
    assert classify(hist, np.zeros(11, bool), 0, 1) == "historical"
    assert classify(np.zeros(n, bool), cold, 0, 1) == "no_pattern"


def test_emerging_hotspots_sees_a_new_cluster(square_grid, t0):
    rng = np.random.default_rng(7)
    # 12 slices of 30 days of background; a cluster appears in the last slice only
    n_bg = 1200
    t = rng.uniform(0, 360, n_bg)
    x = rng.uniform(648_000, 653_000, n_bg)
    y = rng.uniform(664_000, 669_000, n_bg)
    tn = rng.uniform(331, 359, 40)
    t = np.concatenate([t, tn])
    x = np.concatenate([x, CENTRE[0] + rng.normal(0, 60, 40)])
    y = np.concatenate([y, CENTRE[1] + rng.normal(0, 60, 40)])
    o = np.argsort(t)
    ev = EventArray(t[o] + t0, x[o], y[o], "EPSG:3812")
    frame, info = emerging_hotspots(ev, square_grid, t0, t0 + 360, 30.0)
    c = int(square_grid.locate(np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0])
    assert info["n_slices"] == 12
    assert frame.loc[c, "category"] == "new_hotspot"
    assert (frame["category"] == "new_hotspot").sum() <= 12


def test_knox_detects_near_repeats_and_not_in_poisson(sepp_events, t0):
    ev = sepp_events.between(t0, t0 + 365)
    res = knox(ev, 100.0, 3, 7.0, 3, permutations=49, seed=1)
    assert res.ratio[1, 0] > 2.0 and res.p_value[1, 0] <= 0.05  # 0-100 m, 0-7 days
    assert res.observed.shape == (4, 3) and res.space_bands[0] == (0.0, 1.0)
    d = res.to_dict()
    assert {"observed", "expected", "ratio", "p_value", "space_bands_m"} <= d.keys()
    rng = np.random.default_rng(2)
    n = len(ev)
    flat = EventArray(np.sort(rng.uniform(0, 365, n)), rng.uniform(0, 5000, n),
                      rng.uniform(0, 5000, n), "EPSG:3812")  # fmt: skip
    r2 = knox(flat, 100.0, 3, 7.0, 3, permutations=49, seed=1)
    assert np.nanmax(r2.ratio[1:, 0]) < 1.6
    assert len(res.rows()) == 12


def test_zone_profiles_contract():
    tz = "Europe/Brussels"
    # 30 events in zone A on Friday nights, 5 scattered in zone B, some outside any zone
    base = pd.Timestamp("2025-01-03 22:30")  # a Friday; local wall time across DST
    times = [(base + pd.Timedelta(weeks=k)).tz_localize(tz) for k in range(30)]
    times += [pd.Timestamp("2025-03-04 10:00", tz=tz) + pd.Timedelta(days=9 * k) for k in range(5)]
    times += [pd.Timestamp("2025-02-01 12:00", tz=tz)] * 3
    lat = [50.8400] * 30 + [50.8600] * 5 + [50.9000] * 3
    lon = [4.3300] * 30 + [4.3600] * 5 + [4.4000] * 3
    ev = pd.DataFrame({"occurred_at": times, "lat": lat, "lon": lon})
    zones = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"]},
        geometry=[
            shapely.box(4.325, 50.835, 4.335, 50.845),
            shapely.box(4.355, 50.855, 4.365, 50.865),
            shapely.box(4.0, 50.0, 4.01, 50.01),
        ],
        crs="EPSG:4326",
    )
    prof = zone_profiles(ev, zones, tz=tz, window_days=365)
    assert list(prof.columns) == PROFILE_COLUMNS
    assert len(prof) == 3 * 7 * 24
    assert prof["weekday"].between(0, 6).all() and prof["hour"].between(0, 23).all()
    assert (prof["risk"] > 0).all()
    a = prof[prof["zone_id"] == "A"]
    peak = a.loc[a["risk"].idxmax()]
    assert (peak["weekday"], peak["hour"]) == (4, 22)  # Friday 22h
    weeks = 365 / 7
    assert a["risk"].sum() == pytest.approx(30.5 / weeks)
    c = prof[prof["zone_id"] == "C"]
    assert c["risk"].sum() == pytest.approx(0.5 / weeks)  # quiet zone: small, not zero
