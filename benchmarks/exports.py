"""Benchmark: how long `safecities.exports.export` takes to write N incident rows as CSV, XLSX
and GeoJSON (the bytes a download of GET /api/incidents?format=... sends).

    .venv/bin/python benchmarks/exports.py [--rows 20000] [--json]

The rows are synthetic (the 15 columns of register.service.INCIDENT_COLUMNS, one summary in ten
a formula to neutralise). Prints seconds (wall and CPU) and size per format, with the load
average, so a figure can be compared across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta

from safecities import exports
from safecities.register.service import INCIDENT_COLUMNS


def rows(n: int) -> list[dict]:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        {"id": i, "source": "file:bench.csv", "source_id": f"b-{i}",
         "occurred_at": t0 + timedelta(minutes=i), "lat": 50.84 + i * 1e-6, "lon": 4.35,
         "city_id": "brussels", "municipality_id": "21004", "kind": "shooting",
         "injured": i % 3, "killed": 0, "lines_closed": ["2", "6"], "disruption_minutes": None,
         "summary": "=SUM(A1)" if i % 10 == 0 else "shots near the station", "synthetic": True}
        for i in range(n)
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    data = rows(a.rows)
    out = {"rows": a.rows, "loadavg": os.getloadavg(), "at": datetime.now(UTC).isoformat()}
    for fmt in ("csv", "xlsx", "geojson"):
        w, c = time.perf_counter(), time.process_time()
        body = exports.export(data, fmt, "incidents", INCIDENT_COLUMNS).body
        out[fmt] = {"wall_s": round(time.perf_counter() - w, 3),
                    "cpu_s": round(time.process_time() - c, 3), "bytes": len(body)}  # fmt: skip
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{a.rows} rows, load average {out['loadavg'][0]:.1f}, {out['at']}")
        for fmt in ("csv", "xlsx", "geojson"):
            r = out[fmt]
            print(f"  {fmt:8} {r['wall_s']:7.2f} s wall {r['cpu_s']:7.2f} s CPU "
                  f"{r['bytes'] / 1e6:6.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
