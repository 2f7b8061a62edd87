# ruff: noqa: E501
"""Property: whatever the protocol and demand, the planner either explains why it cannot, or
writes a plan in which the independent checker finds no violation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
    # from the protocol's first day (20 March) over the DST change (29 March), up to a week long
    first = date(2026, 3, 20) + timedelta(days=draw(st.integers(0, 20)))
    last = first + timedelta(days=draw(st.integers(0, 6)))
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


@st.composite
def replans(draw, doc: dict, first: date, last: date) -> tuple[date, dict]:
    """A re-plan of the continuation `first`..`last`: its start day (the first or a later one) and
    the changes (`parse_changes` keys, as a changes file gives them): a zone closed for part of a
    day, a unit unavailable for a while, a lower cap from a moment, or none."""
    start = first + timedelta(days=draw(st.integers(0, (last - first).days)))

    def moment(day_from: date) -> datetime:
        d = day_from + timedelta(days=draw(st.integers(0, (last - day_from).days)))
        return datetime.combine(d, time(draw(st.integers(0, 23))))

    kind = draw(st.sampled_from(["close_zone", "unit_unavailable", "cap", "none"]))
    changes: dict = {}
    if kind == "close_zone":
        s = moment(start)
        e = s + timedelta(hours=draw(st.integers(1, 12)))
        zone = draw(st.sampled_from([z["id"] for z in doc["zones"]]))
        changes["close_zone"] = [{"zone": zone, "from": s.isoformat(), "to": e.isoformat()}]
    elif kind == "unit_unavailable":
        series = draw(st.sampled_from(doc["unit_series"]))
        unit = f"{series['prefix']}-{draw(st.integers(1, series['count'])):03d}"
        s = moment(start)
        e = s + timedelta(hours=draw(st.integers(1, 30)))
        changes["unit_unavailable"] = [{"unit": unit, "from": s.isoformat(), "to": e.isoformat()}]
    elif kind == "cap" and doc["soldier_cap"] > 0:
        value = draw(st.integers(0, doc["soldier_cap"] - 1))
        changes["cap"] = {"value": value, "from": moment(start).isoformat()}
    return start, changes


@st.composite
def chains(draw) -> tuple[dict, date, date, date, date, dict]:
    """A protocol, a plan's days, its continuation's last day and a re-plan of the continuation,
    all drawn before anything is planned (a draw inside the test may be cut short by hypothesis
    after the plans were made)."""
    doc, first, last = draw(protocols())
    first2 = last + timedelta(days=1)
    last2 = first2 + timedelta(days=draw(st.integers(0, 8)))  # across an ISO week's seam
    start, raw = draw(replans(doc, first2, last2))
    return doc, first, last, last2, start, raw


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chain=chains(), seed=st.integers(0, 1000))
def test_chains_of_plans_and_replans_never_violate(tmp_path: Path, chain, seed: int) -> None:
    """A plan, its continuation (`--after`) and a re-plan of the continuation (`--from-plan`,
    `--changes`) from its first day or a later one, through the CLI's own path (`Replan.of`,
    `plan_with_fallback`): each is explained-infeasible or, judged with its predecessor (and the
    changes), has no violation; the two plans joined have none either; an unchanged re-plan
    changes nothing."""
    from safecities.patrols.replan import load_previous_plan, parse_changes
    from safecities.patrols.service.plans import Replan, make_plan, plan_with_fallback

    doc, first, last, last2, start, raw = chain
    f = tmp_path / f"p{seed}.yaml"
    f.write_text(dump_yaml(doc))
    p = load_protocol(f)
    run = {"time_limit": 6, "workers": 1, "seed": seed}
    a = tmp_path / "a.csv"
    try:
        make_plan(p, f, first, last, a, **run)
    except InfeasiblePlan:
        event("first plan infeasible, explained")
        return
    first2 = last + timedelta(days=1)
    prev = load_previous_plan(a, p, first2, last2)
    b = tmp_path / "b.csv"
    try:  # `plan make --after A`: checked together with A before it is written
        make_plan(p, f, first2, last2, b, after=a, planner_kwargs=dict(
            history=prev["history"], frozen_until=prev["frozen_until"]), **run)  # fmt: skip
    except InfeasiblePlan as exc:
        event("continuation infeasible, explained")
        assert exc.reasons and exc.reasons[0]["message"]
        return
    assert check_plan(b, f, after=a).ok, [v.message for v in check_plan(b, f, after=a).violations][
        :5
    ]
    joined = tmp_path / "joined.csv"
    joined.write_text(a.read_text() + "".join(b.read_text().splitlines(True)[1:]))
    assert check_plan(joined, f).ok, [v.message for v in check_plan(joined, f).violations][:5]
    event("chained and checked")
    # `plan make --from-plan B --after A --changes C --from R`, as the CLI wires it
    changes = parse_changes(raw, p)
    event(f"re-plan: {next(iter(raw), 'no change')}")
    rp = Replan.of(p, b, start, last2, changes, after=a)
    c = tmp_path / "c.csv"
    try:
        res, check, fallback = plan_with_fallback(
            rp, p, f, start, last2, c, planner_kwargs=rp.planner_kwargs, after=a, **run
        )
    except InfeasiblePlan as exc:
        # the fallback (a fresh plan of the same days, same past and changes) failed too
        assert raw, "an unchanged re-plan of a plan that was made cannot be infeasible"
        assert exc.reasons and all(r["message"] for r in exc.reasons)
        event("re-plan infeasible, explained")
        return
    assert check["ok"] and c.exists()
    rep = check_plan(c, f, after=a, changes=changes)
    assert rep.ok, [v.message for v in rep.violations][:5]
    if not raw:
        report = rp.report(res, fallback)
        assert (report["changed_shifts"], report["changed_assignments"]) == (0, 0), report
    event("re-planned and checked" + (" (afresh)" if fallback else ""))
