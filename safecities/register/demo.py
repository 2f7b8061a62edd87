"""The SYNTHETIC demonstration scenario: Brussels shootings, 1 January - 12 August 2025.

No public geocoded list of Brussels shootings exists, so the demo draws one from a space-time
clustered (self-exciting, Hawkes) process around the named hotspots and metro stations, calibrated
to what is public: 57 shootings from 1 January to 12 August 2025, 20 of them since the start of
summer (21 June); a shooting near Clemenceau station on 5 February 2025 with temporary closures of
several metro lines; a fatal shooting in the same area on 15 February 2025.

Every row is labelled synthetic (source `demo-synthetic`, summary prefix `SYNTHETIC`, and the
`synthetic` flag in the store). The same seed and period always give the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import shapely

from safecities.domain import BRUSSELS_TZ
from safecities.geo import to_metres, to_wgs84
from safecities.register import reference

SOURCE = "demo-synthetic"
DEFAULT_START = date(2025, 1, 1)
DEFAULT_END = date(2025, 8, 12)
SUMMER_START = date(2025, 6, 21)
PUBLIC_TOTAL, PUBLIC_SINCE_SUMMER = 57, 20
LABEL = "SYNTHETIC demo data (not real incidents)"

# Background weight of each cluster centre (named hotspots first, then a few metro stations).
CENTRES = {
    "clemenceau": 0.24, "peterbos": 0.20, "gare-du-nord": 0.14, "parc-bonnevie": 0.12,
    "matonge": 0.07, "metro-gare-du-midi": 0.06, "metro-ribaucourt": 0.04,
    "metro-jacques-brel": 0.04, "metro-comte-de-flandre": 0.03, "metro-simonis": 0.03,
    "metro-rogier": 0.03,
}  # fmt: skip
BACKGROUND_SD_M = 180.0  # spread of background events around a centre
OFFSPRING_SD_M = 120.0  # near-repeat distance scale
OFFSPRING_MEAN_DAYS = 6.0  # near-repeat time scale
BRANCHING = 0.35  # expected direct offspring per event
# Hour-of-day weights: shootings concentrate in the evening and at night.
HOUR_WEIGHTS = np.array(
    [6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 8, 7], float
)


def _centres() -> tuple[list[str], np.ndarray, np.ndarray]:
    z = reference.zones("brussels").set_index("id")
    names = [n for n in CENTRES if n in z.index]
    cx, cy = to_metres([z.loc[n].geometry.centroid.x for n in names],
                       [z.loc[n].geometry.centroid.y for n in names])  # fmt: skip
    return names, np.asarray(cx), np.asarray(cy)


Event = tuple[float, float, float, str]  # day offset, x, y (metres), cluster centre


def _hawkes(rng: np.random.Generator, t0: float, t1: float, rate_per_day: float,
            names: list[str], cx: np.ndarray, cy: np.ndarray) -> list[Event]:  # fmt: skip
    """Cluster representation: Poisson background, then generations of offspring."""
    w = np.array([CENTRES[n] for n in names])
    w = w / w.sum()
    n_bg = rng.poisson(rate_per_day * (1 - BRANCHING) * (t1 - t0))
    ts = rng.uniform(t0, t1, n_bg)
    ks = rng.choice(len(names), n_bg, p=w)
    events = [(t, cx[k] + rng.normal(0, BACKGROUND_SD_M), cy[k] + rng.normal(0, BACKGROUND_SD_M),
               names[k]) for t, k in zip(ts, ks, strict=True)]  # fmt: skip
    frontier = list(events)
    while frontier:
        nxt = []
        for t, x, y, name in frontier:
            for _ in range(rng.poisson(BRANCHING)):
                tc = t + rng.exponential(OFFSPRING_MEAN_DAYS)
                if tc < t1:
                    nxt.append((tc, x + rng.normal(0, OFFSPRING_SD_M),
                                y + rng.normal(0, OFFSPRING_SD_M), name))  # fmt: skip
        events.extend(nxt)
        frontier = nxt
    return events


def generate(
    seed: int = 2025, start: date = DEFAULT_START, end: date = DEFAULT_END
) -> pd.DataFrame:
    """Draw the synthetic scenario as a DataFrame in the standard import columns."""
    if end < start:
        raise ValueError("end before start")
    rng = np.random.default_rng(seed)
    names, cx, cy = _centres()
    boundary = reference.city_boundary("brussels")
    days = (end - start).days + 1
    calibrated = (
        start <= SUMMER_START <= end and start <= date(2025, 2, 15) and end >= date(2025, 2, 15)
    )
    rate = PUBLIC_TOTAL / ((DEFAULT_END - DEFAULT_START).days + 1)
    # Targets per sub-period: the public counts when the period is the default one.
    if (start, end) == (DEFAULT_START, DEFAULT_END):
        periods = [(start, SUMMER_START - timedelta(days=1), PUBLIC_TOTAL - PUBLIC_SINCE_SUMMER),
                   (SUMMER_START, end, PUBLIC_SINCE_SUMMER)]  # fmt: skip
    else:
        periods = [(start, end, max(1, round(rate * days)))]
    fixed = _fixed_events(cx, cy, names) if calibrated else []
    rows: list[dict] = []
    for p0, p1, target in periods:
        t0 = (p0 - start).days
        t1 = (p1 - start).days + 1
        keep_fixed = [f for f in fixed if t0 <= (f["day"]) < t1]
        need = target - len(keep_fixed)
        pool: list = []
        for _ in range(200):  # draw until the process yields enough events, then thin exactly
            cand = _hawkes(rng, t0, t1, rate * 1.3, names, cx, cy)
            lon, lat = to_wgs84([c[1] for c in cand], [c[2] for c in cand])
            inside = shapely.contains_xy(boundary, np.asarray(lon), np.asarray(lat))
            pool = [(c, lo, la) for c, lo, la, ok in zip(cand, lon, lat, inside, strict=True) if ok]
            if len(pool) >= need:
                break
        pick = sorted(rng.choice(len(pool), need, replace=False)) if need > 0 else []
        for f in keep_fixed:
            rows.append(f["row"])
        for i in pick:
            (t, _x, _y, name), lo, la = pool[i]
            rows.append(_row(rng, start, t, lo, la, name))
    df = pd.DataFrame(rows).sort_values("occurred_at").reset_index(drop=True)
    df.insert(0, "id", [f"SYN-{start:%Y%m%d}-{i + 1:03d}" for i in range(len(df))])
    df["occurred_at"] = [t.isoformat() for t in df["occurred_at"]]
    return df


def _local(start: date, t: float, hour: int | None = None, rng=None) -> datetime:
    day = start + timedelta(days=int(t))
    if hour is None:
        hour = int(rng.choice(24, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
    minute = int(rng.integers(0, 60)) if rng is not None else 0
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS_TZ)


def _row(
    rng: np.random.Generator, start: date, t: float, lon: float, lat: float, near: str
) -> dict:
    hit = rng.random()
    killed = int(hit < 0.12)
    injured = 0 if killed else int(rng.choice([0, 1, 1, 1, 2]))
    kind = "shooting" if killed or injured else "shots_fired"
    lines, minutes = [], 0
    if (near.startswith("metro-") or near == "clemenceau") and rng.random() < 0.25:
        st = reference.stations("brussels", "metro")
        sid = near.removeprefix("metro-")
        match = st[st["name"].str.lower().str.replace(" ", "-").str.replace("'", "-") == sid]
        lines = list(match["lines"].iloc[0]) if len(match) else []
        minutes = int(rng.integers(30, 150)) if lines else 0
    return {"occurred_at": _local(start, t, rng=rng), "lat": round(float(lat), 6),
            "lon": round(float(lon), 6), "kind": kind, "injured": injured, "killed": killed,
            "lines_closed": ";".join(lines), "disruption_minutes": minutes,
            "summary": f"{LABEL}: near {near}"}  # fmt: skip


def _fixed_events(cx: np.ndarray, cy: np.ndarray, names: list[str]) -> list[dict]:
    """The two public anchor events near Clemenceau (times of day are illustrative)."""
    k = names.index("clemenceau")
    lon, lat = to_wgs84([cx[k] + 60, cx[k] - 90], [cy[k] + 40, cy[k] - 70])
    start = DEFAULT_START
    out = []
    for (d, hh, mm, inj, kil, lines, mins, what), lo, la in zip(
        [(date(2025, 2, 5), 19, 40, 1, 0, "2;6;1;5", 180,
          "shooting near Clemenceau station; metro lines temporarily closed"),
         (date(2025, 2, 15), 22, 10, 0, 1, "", 0, "fatal shooting in the Clemenceau area")],
        lon, lat, strict=True,
    ):  # fmt: skip
        out.append({"day": (d - start).days, "row": {
            "occurred_at": datetime(d.year, d.month, d.day, hh, mm, tzinfo=BRUSSELS_TZ),
            "lat": round(float(la), 6), "lon": round(float(lo), 6), "kind": "shooting",
            "injured": inj, "killed": kil, "lines_closed": lines, "disruption_minutes": mins,
            "summary": f"{LABEL}: {what} (public anchor event)"}})  # fmt: skip
    return out


def load_demo(engine, *, seed: int = 2025, start: date = DEFAULT_START, end: date = DEFAULT_END,
              var_dir=None) -> dict:  # fmt: skip
    """Reference data + the synthetic scenario into the store; returns the trend summary."""
    from pathlib import Path

    from safecities.config import get_settings
    from safecities.manifest import RunManifest
    from safecities.register.service import import_incidents, load_reference
    from safecities.register.summary import plot_monthly, summarise
    from safecities.store.db import session_scope

    with session_scope(engine) as s:
        load_reference(s, "demo")
    var = Path(var_dir or get_settings().var_dir)
    var.mkdir(parents=True, exist_ok=True)
    csv_path = var / "demo_incidents.csv"
    generate(seed=seed, start=start, end=end).to_csv(csv_path, index=False)
    rep = import_incidents(engine, csv_path, source=SOURCE, actor="demo", synthetic=True)
    summary = summarise(engine)
    plot_monthly(summary, var / "trend.png")
    manifest = RunManifest(command="demo", parameters={"from": start, "to": end}, seed=seed)
    manifest.add_input_file("demo_incidents.csv", csv_path)
    summary["import"] = rep.to_dict()
    summary["plot"] = str(var / "trend.png")
    summary["manifest"] = manifest.to_dict()
    return summary
