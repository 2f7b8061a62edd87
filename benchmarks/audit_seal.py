"""Cost of the audit seal (issue 18 item 1) as the register grows, on a scratch SQLite store.

    python benchmarks/audit_seal.py --rows 100000 --writers 8 --writes 12 [--json]

Measures, with SYNTHETIC incidents inserted straight into a fresh store under a temporary folder:
- `digest_s`: the incident-table digest an `incident.*` audit entry seals (and `verify` redoes),
  O(rows): the extra cost of one import into a register of that size;
- `verify_s`: `audit verify` of the whole log and both covered tables;
- `append_ms_p50/p99`: one sealed audit append (lock, last hash, HMAC, insert, commit) while
  `--writers` threads each append `--writes` entries at once, and whether the chain verifies after.
Report the machine load (`uptime`) with the figures: the box is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from safecities.store import audit
from safecities.store.db import make_engine, session_scope, upgrade
from safecities.store.models import Incident


def _fill(engine, rows: int) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 50_000
    with session_scope(engine) as s:
        for start in range(0, rows, batch):
            s.execute(insert(Incident), [
                {"source": "bench", "source_id": str(i), "occurred_at": t0 + timedelta(minutes=i),
                 "lat": 50.84, "lon": 4.35, "city_id": None, "municipality_id": None,
                 "kind": "shooting", "injured": i % 3, "killed": 0, "lines_closed": [],
                 "disruption_minutes": 0, "summary": "SYNTHETIC", "synthetic": True}
                for i in range(start, min(rows, start + batch))
            ])  # fmt: skip


def run(rows: int, writers: int, writes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        _fill(engine, rows)
        with session_scope(engine) as s:
            a = time.perf_counter()
            audit.record(s, actor="bench", action="incident.import", entity="bench")
            digest_s = time.perf_counter() - a
        lat: list[float] = []

        def writer(w: int) -> None:
            for k in range(writes):
                a = time.perf_counter()
                with session_scope(engine) as s:
                    audit.record(s, actor=f"w{w}", action="bench.write", entity="bench",
                                 entity_id=str(k))  # fmt: skip
                lat.append((time.perf_counter() - a) * 1000)

        a = time.perf_counter()
        with ThreadPoolExecutor(writers) as pool:  # all writers at once
            list(pool.map(writer, range(writers)))
        burst_s = time.perf_counter() - a
        with session_scope(engine) as s:
            a = time.perf_counter()
            rep = audit.verify(s)
            verify_s = time.perf_counter() - a
        engine.dispose()
    lat.sort()
    return {
        "rows": rows, "digest_s": round(digest_s, 3), "verify_s": round(verify_s, 3),
        "verify_ok": rep.ok, "entries": rep.entries, "writers": writers, "writes": writes,
        "burst_s": round(burst_s, 3), "append_ms_p50": round(statistics.median(lat), 1),
        "append_ms_p99": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000, help="incidents in the register")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--writes", type=int, default=12, help="appends per writer")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    out = run(a.rows, a.writers, a.writes)
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
