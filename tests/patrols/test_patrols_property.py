# ruff: noqa: E501
"""Property: whatever the protocol and demand, the planner either explains why it cannot, or
writes a plan in which the independent checker finds no violation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from safecities.patrols.check import check_plan
from safecities.patrols.planner import InfeasiblePlan, Planner, write_plan
from safecities.patrols.protocol import load_protocol, validate_document
from safecities.patrols.risk import default_profile
from safecities.safeio import dump_yaml

ZONE_IDS = ["clemenceau", "peterbos", "matonge", "railway-north", "railway-south"]


@st.composite
def protocols(draw) -> tuple[dict, date, date]:
    n_zones = draw(st.integers(2, 4))
    zones = []
    for zid in ZONE_IDS[:n_zones]:
        allowed = draw(st.booleans())
        zones.append(
            {
                "id": zid,
                "command_post": "cp-a" if zid < "p" else "cp-b",
                "soldiers_allowed": allowed,
                "min_mixed_patrols": draw(st.integers(0, 1)) if allowed else 0,
                "weight": draw(st.sampled_from([0.5, 1.0, 2.0])),
            }
        )
    first = date(2026, 4, 1) + timedelta(days=draw(st.integers(0, 20)))
    last = first + timedelta(days=draw(st.integers(0, 2)))
    fipa = []
    cap = draw(st.integers(0, 9))
    if cap and draw(st.booleans()):
        d = first + timedelta(days=draw(st.integers(0, (last - first).days)))
        s = draw(st.integers(8, 21))
        fipa.append(
            {
                "id": "f1",
                "date": d.isoformat(),
                "start": f"{s:02d}:00",
                "end": f"{s + draw(st.integers(1, 2)):02d}:00",
                "zone": zones[0]["id"],
                "soldiers": draw(st.integers(1, min(5, cap))),
            }
        )
    starts = sorted(draw(st.sets(st.sampled_from([0, 6, 8, 14, 16, 22]), min_size=1, max_size=3)))
    wt = {
        "shift_min_hours": 6,
        "shift_max_hours": 10,
        "min_rest_hours": draw(st.sampled_from([11, 12])),
        "max_hours_per_week": draw(st.sampled_from([24, 40, 48])),
        "shift_starts": starts,
        "shift_lengths": [draw(st.sampled_from([6, 8, 10]))],
    }
    doc = {
        "schema": "safecities.patrol-protocol/1",
        "city": "brussels",
        "version": "prop",
        "timezone": "Europe/Brussels",
        "period": {"start": "2026-03-20", "end": "2026-09-20"},
        "soldier_cap": cap,
        "patrol": {"police_min_per_mixed_patrol": 2, "soldiers_max_per_patrol": 2},
        "defence_liaison": {"required": True},
        "command_posts": [
            {"id": "cp-a", "name": "A", "liaisons": ["DL-A1", "DL-A2"]},
            {"id": "cp-b", "name": "B", "liaisons": ["DL-B1"]},
        ],
        "zones": zones,
        "fipa": fipa,
        "working_time": {"police": wt, "defence": wt},
        "unit_series": [
            {"prefix": "POL", "force": "police", "count": draw(st.integers(2, 9)), "size": 2},
            {
                "prefix": "DEF",
                "force": "defence",
                "count": draw(st.integers(1, 6)),
                "size": draw(st.integers(1, 2)),
            },
        ],
        "planning": {
            "max_patrols_per_zone": draw(st.integers(2, 3)),
            "diminishing_returns": draw(st.sampled_from([0.3, 0.5, 0.9])),
        },
    }
    return doc, first, last


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=protocols(), seed=st.integers(0, 1000))
def test_planner_output_never_violates(tmp_path: Path, case, seed: int) -> None:
    doc, first, last = case
    assert not validate_document(doc), validate_document(doc)
    f = tmp_path / f"p{seed}.yaml"
    f.write_text(dump_yaml(doc))  # no aliases: protocol readers refuse them
    p = load_protocol(f)
    planner = Planner(p, first, last, default_profile(p), seed=seed, time_limit=6)
    try:
        result = planner.run()
    except InfeasiblePlan as exc:
        event("infeasible, explained")
        assert exc.reasons and all(r["message"] for r in exc.reasons)
        return
    event("planned and checked")
    out = tmp_path / f"plan{seed}.csv"
    write_plan(result.rows, out)
    report = check_plan(out, f)
    assert report.ok, [v.message for v in report.violations][:5]
