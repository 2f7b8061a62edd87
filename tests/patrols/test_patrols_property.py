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
    # field realism: travel between the zones (slow or urban), a handover where shifts allow it
    travel = draw(st.sampled_from([None, {"speed_kmh": 5}, {"speed_kmh": 25}]))
    if travel is not None:
        doc["travel"] = travel
    if wt["shift_lengths"][0] < wt["shift_max_hours"]:
        doc["handover_minutes"] = draw(st.sampled_from([0, 15, 30]))
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


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=protocols(), seed=st.integers(0, 1000), more=st.integers(0, 2))
def test_chains_of_plans_and_replans_never_violate(tmp_path: Path, case, seed: int, more: int):
    """A plan, its continuation (`--after`) and a re-plan of the continuation with a zone closed:
    each is explained-infeasible or, judged with its predecessor (and changes), has no violation;
    the two plans joined have none either."""
    from safecities.patrols.planner import Grid
    from safecities.patrols.replan import load_old_plan, load_previous_plan

    doc, first, last = case
    f = tmp_path / f"p{seed}.yaml"
    f.write_text(dump_yaml(doc))
    p = load_protocol(f)
    a = tmp_path / "a.csv"
    try:
        write_plan(
            Planner(p, first, last, default_profile(p), seed=seed, time_limit=6).run().rows, a
        )
    except InfeasiblePlan:
        event("first plan infeasible, explained")
        return
    first2 = last + timedelta(days=1)
    last2 = first2 + timedelta(days=more)
    prev = load_previous_plan(a, p, first2, last2)
    b = tmp_path / "b.csv"
    try:
        res = Planner(
            p, first2, last2, default_profile(p), seed=seed, time_limit=6,
            history=prev["history"], frozen_until=prev["frozen_until"],
        ).run()  # fmt: skip
    except InfeasiblePlan as exc:
        event("continuation infeasible, explained")
        assert exc.reasons and exc.reasons[0]["message"]
        return
    write_plan(res.rows, b)
    assert check_plan(b, f, after=a).ok, [v.message for v in check_plan(b, f, after=a).violations][
        :5
    ]
    joined = tmp_path / "joined.csv"
    joined.write_text(a.read_text() + "".join(b.read_text().splitlines(True)[1:]))
    assert check_plan(joined, f).ok, [v.message for v in check_plan(joined, f).violations][:5]
    event("chained and checked")
    # re-plan the continuation from its first day with the first zone closed that day
    from datetime import datetime

    zone = doc["zones"][0]["id"]
    s = datetime.combine(first2, datetime.min.time(), tzinfo=p.tz)
    changes = {"close_zone": [{"zone": zone, "from": s, "to": s + timedelta(days=1)}]}
    old = load_old_plan(b, Grid(p, first2, last2), p.handover_minutes // 15)
    try:
        res2 = Planner(
            p, first2, last2, default_profile(p), seed=seed, time_limit=6,
            history=prev["history"], frozen_until=prev["frozen_until"],
            closures=[(zone, s, s + timedelta(days=1))],
        ).run()  # fmt: skip
    except InfeasiblePlan:
        event("re-plan infeasible, explained")
        return
    assert old["kept"] == []  # nothing of the continuation lies before its own first day
    c = tmp_path / "c.csv"
    write_plan(res2.rows, c)
    rep = check_plan(c, f, after=a, changes=changes)
    assert rep.ok, [v.message for v in rep.violations][:5]
    event("re-planned and checked")
