"""Zone risk per weekday and hour: the weight of presence in the planner's objective.

File format (what the hotspots capability produces): CSV `zone_id,weekday,hour,risk` with weekday
0 = Monday .. 6 = Sunday, hour 0..23 local time, risk >= 0 (any scale; only ratios matter).
Zones missing from the file get risk 0 (they are reported). The protocol's zone `weight` multiplies.
Rows of zones outside the protocol are skipped and reported: a city-wide risk table (e.g. from
`safecities hotspots profile`, which covers every bundled zone) can feed any protocol.

Without a file, `default_profile` is used: the same for every zone (times its weight), heavier in
the evening and at night, heaviest on Friday and Saturday nights, where the 2025 Brussels shootings
concentrated. It is an assumption to be replaced by the hotspots forecast, not evidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from safecities.errors import InputError
from safecities.patrols.protocol import Protocol

#: relative weight of each local hour 0..23 (evening and night heavier)
HOURLY = np.array([0.8, 0.7, 0.6, 0.45, 0.3, 0.25, 0.25, 0.3, 0.35, 0.35, 0.35, 0.4,
                   0.45, 0.45, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 0.9])  # fmt: skip
#: weekday factor 0=Monday..6=Sunday (Friday, Saturday heavier)
WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.15, 1.2, 1.0])


def default_profile(protocol: Protocol) -> dict[str, np.ndarray]:
    """zone id -> array [7, 24] of risk."""
    base = np.outer(WEEKDAY, HOURLY)
    return {z.id: base * z.weight for z in protocol.zones}


def read_risk(
    path: str | Path, protocol: Protocol
) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """Risk table from a CSV: (zone -> [7, 24] array, zones missing from the file, zones in the
    file that the protocol does not list, whose rows were skipped)."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{p}: cannot read risk CSV: {exc}") from exc
    need = ["zone_id", "weekday", "hour", "risk"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)} (need {','.join(need)})")
    zones = {z.id: z for z in protocol.zones}
    out = {z: np.zeros((7, 24)) for z in zones}
    seen: set[str] = set()
    ignored: set[str] = set()
    for i, r in enumerate(df.itertuples(index=False), start=1):
        if r.zone_id not in zones:
            if not str(r.zone_id).strip():
                raise InputError(f"{p}:{i}: field 'zone_id': empty")
            ignored.add(r.zone_id)
            continue
        try:
            wd, hr, risk = int(r.weekday), int(r.hour), float(r.risk)
        except ValueError as exc:
            raise InputError(f"{p}:{i}: weekday, hour and risk must be numbers") from exc
        if not (0 <= wd <= 6 and 0 <= hr <= 23) or not np.isfinite(risk) or risk < 0:
            raise InputError(f"{p}:{i}: weekday 0-6, hour 0-23 and risk >= 0 required")
        out[r.zone_id][wd, hr] = risk * zones[r.zone_id].weight
        seen.add(r.zone_id)
    return out, sorted(set(zones) - seen), sorted(ignored)
