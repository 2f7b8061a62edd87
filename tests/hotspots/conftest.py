"""Fixtures for the hotspot tests: simulated events with known structure (fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from safecities.geo import to_wgs84
from safecities.hotspots.events import DAY_SECONDS, EventArray
from safecities.hotspots.grid import Grid
from safecities.hotspots.simulate import simulate_sepp

HS_DATA = Path(__file__).resolve().parents[1] / "data" / "hotspots"
#: A 5 km x 5 km square in Brussels (Belgian Lambert 2008 metres).
X0, Y0 = 648_000.0, 664_000.0
BOUNDS = (X0, Y0, X0 + 5000.0, Y0 + 5000.0)
T0 = pd.Timestamp("2024-01-01", tz="Europe/Brussels").value / 1e9 / DAY_SECONDS

#: The self-exciting process the tests simulate and try to recover.
TRUE = {"theta": 0.5, "omega": 0.2, "sigma": 80.0, "background_rate": 2.0}


@pytest.fixture(scope="session")
def t0() -> float:
    return T0


@pytest.fixture(scope="session")
def true_params() -> dict[str, float]:
    return dict(TRUE)


@pytest.fixture(scope="session")
def hs_data() -> Path:
    return HS_DATA


@pytest.fixture(scope="session")
def frame_of():
    return to_frame


@pytest.fixture(scope="session")
def square_grid() -> Grid:
    return Grid.covering(
        np.array([]), np.array([]), 250.0, "EPSG:3812", boundary=shapely.box(*BOUNDS)
    )


@pytest.fixture(scope="session")
def sepp_events() -> EventArray:
    return simulate_sepp(bounds=BOUNDS, days=730, t0=T0, seed=1, **TRUE)


def to_frame(ev: EventArray) -> pd.DataFrame:
    lon, lat = to_wgs84(ev.x, ev.y, ev.crs)
    ts = pd.to_datetime(np.round(ev.t * DAY_SECONDS * 1e9).astype("int64"), utc=True)
    return pd.DataFrame({"occurred_at": ts.tz_convert("Europe/Brussels"), "lat": lat, "lon": lon})


@pytest.fixture(scope="session")
def events_csv(tmp_path_factory: pytest.TempPathFactory, sepp_events: EventArray) -> Path:
    """The last 400 days of the simulated process as a standard occurred_at,lat,lon CSV."""
    ev = sepp_events.between(T0 + 330, np.inf)
    df = to_frame(ev)
    df["occurred_at"] = df["occurred_at"].map(lambda t: t.isoformat())
    path = tmp_path_factory.mktemp("hs") / "events.csv"
    df.to_csv(path, index=False)
    return path
