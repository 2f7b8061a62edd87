"""Field realism as protocol data: days and nights in a row (`max_consecutive_days`,
`max_consecutive_nights`), planned within and checked independently, across a plan's seam too."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
from patrols_cli import planned_and_checked

from safecities.patrols.check import check_plan
from safecities.patrols.planner import HEADER
from safecities.patrols.protocol import load_protocol, read_document

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _limited(tmp_path: Path, days: int = 5, nights: int = 3) -> Path:
    import yaml

    doc = read_document(MINI)[0]
    for wt in doc["working_time"].values():
        wt.update(max_consecutive_days=days, max_consecutive_nights=nights)
    doc["unit_series"][0]["count"] = 24
    doc["unit_series"][1]["count"] = 16
    f = tmp_path / "limited.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def _runs(dates: list[date]) -> int:
    best = cur = 0
    prev = None
    for d in sorted(set(dates)):
        cur = cur + 1 if prev is not None and (d - prev).days == 1 else 1
        best, prev = max(best, cur), d
    return best


def test_two_weeks_keep_days_and_nights_in_a_row_within_the_limits(tmp_path: Path) -> None:
    f = _limited(tmp_path)
    p = load_protocol(f)
    res = planned_and_checked(
        f, date(2026, 4, 6), date(2026, 4, 19), tmp_path / "plan.csv", seed=1, time_limit=60
    )
    per_unit: dict[str, list[date]] = {}
    for s in res.shifts:
        per_unit.setdefault(s.unit, []).append(res.horizon[0] + pd.Timedelta(hours=s.start))
    for unit, starts in per_unit.items():
        local = [t.astimezone(p.tz).date() for t in starts]
        assert _runs(local) <= 5, unit


def test_the_checker_counts_days_and_nights_in_a_row(tmp_path: Path) -> None:
    f = _limited(tmp_path, days=5, nights=3)
    rows = []
    for d in range(6, 12):  # POL-001: six nights in a row, 22:00-06:00
        for q in range(32):
            s = pd.Timestamp(f"2026-04-{d:02d}T22:00:00").tz_localize("Europe/Brussels")
            s = s + pd.Timedelta(minutes=15 * q)
            e = s + pd.Timedelta(minutes=15)
            rows.append([s.isoformat(), e.isoformat(), "peterbos", "POL-001", 2, 0, "cp-south",
                         "patrol", "POL-001", "", ""])  # fmt: skip
    plan = tmp_path / "nights.csv"
    with open(plan, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    rep = check_plan(plan, f)
    days = [v for v in rep.violations if v.rule == "consecutive_days"]
    nights = [v for v in rep.violations if v.rule == "consecutive_nights"]
    assert days and days[0].numbers == {"days": 6, "max": 5} and days[0].units == ["POL-001"]
    assert nights and nights[0].numbers == {"nights": 6, "max": 3}
    assert "6 nights in a row (2026-04-06 to 2026-04-11), maximum 3" in nights[0].message
