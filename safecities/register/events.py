"""Point events (time and place) for the analysis layers, from a file or from the register.

Columns of the returned DataFrame: incident_id, occurred_at (tz-aware), lat, lon. Files use the
standard columns `occurred_at,lat,lon` (others ignored) or a mapping file (e.g. `nypd`). Rows of
one-row-per-victim files are collapsed to one event per incident; `DataFrame.attrs["collapsed"]`
says how many rows were merged.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from safecities.register.mapping import Mapping, load_mapping
from safecities.register.tables import read_table
from safecities.register.validate import parse_incidents

COLUMNS = ["incident_id", "occurred_at", "lat", "lon"]


def read_events(path: str | Path, mapping: Mapping | str | Path | None = None) -> pd.DataFrame:
    if mapping is None:
        m = Mapping(bounds="none")
        m.columns = {"id": "id", "occurred_at": "occurred_at", "lat": "lat", "lon": "lon"}
        df = read_table(path)
        if "id" not in df.columns:
            m.columns.pop("id")
        if "incident_id" in df.columns:
            m.columns["id"] = "incident_id"
    else:
        m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        df = read_table(path)
    if m.column("id") and m.column("id") in df.columns:
        m.one_row_per_victim = True  # same id = same incident, never an error for events
    parsed = parse_incidents(df, m, str(path), full=False)
    log = parsed.problems
    if log:  # the first 200 problems kept, all of them counted
        raise log.error(f"{log.total} bad row(s); first: {log.kept[0]}")
    out = pd.DataFrame(
        {
            "incident_id": [r["source_id"] for r in parsed.records],
            "occurred_at": pd.to_datetime([r["occurred_at"] for r in parsed.records], utc=True),
            "lat": [r["lat"] for r in parsed.records],
            "lon": [r["lon"] for r in parsed.records],
        },
        columns=COLUMNS,
    )
    out = out.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    out.attrs["collapsed"] = parsed.collapsed
    return out


def events_from_db(engine: Engine, city: str | None = "brussels") -> pd.DataFrame:
    from safecities.register.service import incidents_frame

    df = incidents_frame(engine, city)[COLUMNS].copy()
    df.attrs["collapsed"] = 0
    return df
