"""Reading events, one event per incident, grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from safecities.errors import InputError
from safecities.hotspots.events import (
    collapse_incidents,
    parse_horizon,
    read_events,
    to_days,
    to_event_array,
)
from safecities.hotspots.grid import Grid, H3Grid


def test_nypd_victim_rows_collapse_to_incidents(hs_data):
    raw = pd.read_csv(hs_data / "nypd_sample.csv", dtype=str)
    for mapping in ("nypd", hs_data / "nypd.yaml"):  # foundation's and our local mapping
        df = read_events(hs_data / "nypd_sample.csv", mapping=mapping)
        out, n = collapse_incidents(df)
        assert len(out) == raw["INCIDENT_KEY"].nunique() == 38
        assert n == len(raw) - 38
        assert out["occurred_at"].is_monotonic_increasing
        assert out.attrs["timezone"] == "America/New_York"


def test_same_time_and_place_collapses_without_ids():
    t = pd.Timestamp("2025-02-05T21:10", tz="Europe/Brussels")
    df = pd.DataFrame(
        {
            "occurred_at": [t, t, t, t + pd.Timedelta("1h")],
            "lat": [50.8466, 50.8466, 50.8500, 50.8466],
            "lon": [4.3370, 4.3370, 4.3370, 4.3370],
            "incident_id": pd.array([pd.NA] * 4, dtype="string"),
        }
    )
    out, n = collapse_incidents(df)
    assert n == 1 and len(out) == 3


def test_standard_csv_and_bad_rows(tmp_path):
    p = tmp_path / "ev.csv"
    p.write_text("occurred_at,lat,lon,kind\n2025-02-05T21:10:00+01:00,50.84,4.33,shooting\n")
    df = read_events(p)
    assert len(df) == 1 and str(df["occurred_at"].dt.tz) == "UTC"
    bad = tmp_path / "bad.csv"
    bad.write_text("occurred_at,lat,lon\nyesterday,50.84,4.33\n")
    with pytest.raises(InputError, match="bad.csv"):
        read_events(bad)
    with pytest.raises(InputError, match="not found"):
        read_events(tmp_path / "missing.csv")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(InputError):
        read_events(junk)


def test_horizon_and_days():
    assert parse_horizon("1d") == 1.0
    assert parse_horizon("12h") == 0.5
    assert parse_horizon("1w") == 7.0
    with pytest.raises(InputError):
        parse_horizon("soon")
    with pytest.raises(InputError):
        parse_horizon("-1d")
    assert to_days("1970-01-02T00:00Z") == 1.0


def test_event_array_time_slices(sepp_events):
    ev = sepp_events
    s = float(ev.t[100])
    assert ev.before(s).t.max() < s
    win = ev.between(s, s + 1)
    assert (win.t >= s).all() and (win.t < s + 1).all()


def test_square_grid_clips_to_boundary():
    # an L-shaped boundary: cells in the missing quarter are not part of the study area
    boundary = shapely.Polygon([(0, 0), (1000, 0), (1000, 500), (500, 500), (500, 1000), (0, 1000)])
    g = Grid.covering(np.array([]), np.array([]), 100.0, "EPSG:3812", boundary=boundary)
    assert g.n_cells == 75
    assert g.locate(np.array([750.0, 250.0]), np.array([750.0, 250.0])).tolist()[0] == -1
    assert g.locate(np.array([250.0]), np.array([250.0]))[0] >= 0
    # kernel mass of one point sums to ~1 when far from the edge
    m = g.gaussian_mass(np.array([250.0]), np.array([250.0]), None, 60.0, 300.0)
    assert m.sum() == pytest.approx(1.0, abs=1e-3)
    w = g.neighbours()
    assert w.n == 75 and max(w.cardinalities.values()) == 8


def test_grid_from_events_and_h3(frame_of, sepp_events):
    df = frame_of(sepp_events.between(sepp_events.t[0], sepp_events.t[0] + 30))
    ev = to_event_array(df, "EPSG:3812")
    g = Grid.covering(ev.x, ev.y, 150.0, "EPSG:3812", buffer_m=300.0)
    assert (g.locate(ev.x, ev.y) >= 0).all()
    h = H3Grid.from_wgs84(df["lon"].to_numpy(), df["lat"].to_numpy(), 9, "EPSG:3812")
    assert (h.locate(ev.x, ev.y) >= 0).all()
    assert h.counts(ev.x, ev.y).sum() == len(ev)
    assert h.gaussian_mass(ev.x, ev.y, None, 200.0, 800.0).sum() == pytest.approx(len(ev), rel=0.1)
    gdf = h.to_geodataframe()
    assert len(gdf) == h.n_cells and gdf.crs.to_epsg() == 4326
