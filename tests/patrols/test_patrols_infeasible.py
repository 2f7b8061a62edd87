# ruff: noqa: E501
"""When a request cannot be met, the model's core says which rules clash, with the numbers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from patrols_cli import activate, run_cli

from safecities.patrols.planner import InfeasiblePlan, Planner
from safecities.patrols.protocol import load_protocol
from safecities.patrols.risk import default_profile


def _doc() -> dict:
    rail = "cp-rail"
    return {
        "schema": "safecities.patrol-protocol/1",
        "city": "brussels",
        "version": "test.infeasible",
        "timezone": "Europe/Brussels",
        "period": {"start": "2026-03-20", "end": "2026-09-20"},
        "soldier_cap": 45,
        "patrol": {"police_min_per_mixed_patrol": 2, "soldiers_max_per_patrol": 2},
        "defence_liaison": {"required": True},
        "command_posts": [
            {"id": rail, "name": "SPC", "liaisons": ["DL-1", "DL-2", "DL-3", "DL-4"]},
            {
                "id": "cp-matonge",
                "name": "ZP Ixelles",
                "liaisons": ["DL-5", "DL-6", "DL-7", "DL-8"],
            },
        ],
        "zones": [
            {"id": z, "command_post": rail, "min_mixed_patrols": 4}
            for z in ("railway-north", "railway-central", "railway-south")
        ]
        + [{"id": "matonge", "command_post": "cp-matonge"}],
        "fipa": [
            {
                "id": "fipa-matonge",
                "date": "2026-05-02",
                "start": "20:00",
                "end": "23:00",
                "zone": "matonge",
                "soldiers": 30,
            }
        ],
        "working_time": {
            f: {
                "shift_min_hours": 6,
                "shift_max_hours": 10,
                "min_rest_hours": 11,
                "max_hours_per_week": 48,
            }
            for f in ("police", "defence")
        },
        # zone capacity not binding in these small protocols (4 zones)
        "planning": {
            "diminishing_returns": 0.5,
            "max_patrols_per_zone": 12,
            "mixed_patrol_bonus": 0.25,
        },
        "unit_series": [
            {"prefix": "POL", "force": "police", "count": 200, "size": 2},
            {"prefix": "DEF", "force": "defence", "count": 100, "size": 2},
        ],
    }


def test_fipa_against_cap_and_railway_minimum_is_explained(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(_doc()))
    p = load_protocol(f)
    planner = Planner(
        p, date(2026, 5, 1), date(2026, 5, 2), default_profile(p), seed=0, time_limit=30
    )
    with pytest.raises(InfeasiblePlan) as info:
        planner.run()
    msg = str(info.value)
    assert msg.startswith("FIPA fipa-matonge on 2026-05-02 20:00-23:00 needs 30 soldiers")
    # soldiers go in pairs: the 45-soldier cap allows 22 pairs (44), the minimum holds 24
    assert "railway zones" in msg and "24 soldiers" in msg and "the 45-soldier cap leaves 20" in msg
    reason = info.value.reasons[0]
    assert reason["rule"] == "soldier_cap" and reason["numbers"]["left"] == 20
    assert reason["verified"] is True


def test_liaisons_in_the_cap_are_named_in_the_explanation(tmp_path: Path) -> None:
    doc = _doc()
    doc["defence_liaison"]["counts_in_cap"] = True  # 2 posts: 2 liaisons on duty, 43 left
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(doc))
    p = load_protocol(f)
    planner = Planner(
        p, date(2026, 5, 1), date(2026, 5, 2), default_profile(p), seed=0, time_limit=30
    )
    with pytest.raises(InfeasiblePlan) as info:
        planner.run()
    # 43 soldiers make 21 pairs (42); the railway minimum holds 24: 18 left for the FIPA's 30
    assert "the 45-soldier cap less 2 liaisons on duty leaves 18" in str(info.value)
    reason = info.value.reasons[0]
    assert reason["numbers"]["left"] == 18 and reason["numbers"]["liaisons"] == 2
    assert reason["verified"] is True


def test_cli_infeasible_json(tmp_path: Path, db_env) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(_doc()))
    activate(f)
    out = tmp_path / "x.csv"
    res = run_cli(
        [
            "plan",
            "make",
            "--protocol",
            str(f),
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-02",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert res.exit_code == 1 and not out.exists()
    payload = json.loads(res.stdout)
    assert payload["status"] == "INFEASIBLE"
    assert "45-soldier cap leaves 20" in payload["reasons"][0]["message"]


def _set(doc: dict, path: str, value) -> dict:
    node = doc
    *head, last = path.split(".")
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def _rail_min(doc: dict, k: int) -> dict:
    for z in doc["zones"][:3]:
        z["min_mixed_patrols"] = k
    return doc


def _odd_fipa(d: dict) -> dict:
    d = _rail_min(d, 1)
    d["fipa"][0]["soldiers"] = 39
    return d


def _few_defence(d: dict) -> dict:
    d = _rail_min(d, 1)
    d["fipa"] = []
    d["unit_series"][1]["count"] = 5
    return d


def _few_police(d: dict) -> dict:
    d = _rail_min(d, 2)
    d["fipa"] = []
    d["unit_series"][0]["count"] = 6
    return d


def _first_day_fipa(d: dict) -> dict:
    d = _rail_min(d, 1)
    d["fipa"][0].update(date="2026-03-20", start="02:00", end="04:00", soldiers=4)
    return d


def _rest(d: dict) -> dict:
    d = _rail_min(d, 1)
    d["fipa"] = []
    d["unit_series"][1]["count"] = 16
    for f in ("police", "defence"):
        d["working_time"][f]["min_rest_hours"] = 20
    return d


def _no_night_template(d: dict) -> dict:
    d = _rail_min(d, 1)
    d["fipa"] = []
    for f in ("police", "defence"):
        d["working_time"][f].update(shift_starts=[6], shift_lengths=[8])
    return d


def _minima_above_cap(d: dict) -> dict:
    d["fipa"] = []
    d["soldier_cap"] = 20
    return d


# (protocol change, first day, last day, rule of the explanation, words it must contain)
INFEASIBLE = {
    "fipa above the cap": (lambda d: d, "2026-05-01", "2026-05-02", "soldier_cap",
                           ["needs 30 soldiers", "cap leaves 20"]),
    "pairs vs an odd FIPA": (_odd_fipa, "2026-05-01", "2026-05-02", "soldier_cap",
                             ["needs 40 soldiers", "holding 6 soldiers", "cap leaves 38"]),
    "too few Defence pairs": (_few_defence, "2026-05-04", "2026-05-10", "working_time",
                              ["Defence units", "(5 units"]),
    "zone minima above the police staff": (_few_police, "2026-05-04", "2026-05-10", "working_time",
                                           ["police units", "(6 units"]),
    "zone minima above the cap": (_minima_above_cap, "2026-05-01", "2026-05-01", "soldier_cap",
                                  ["needs 24 soldiers at once", "20-soldier cap"]),
    "FIPA before the first shift": (_first_day_fipa, "2026-03-20", "2026-03-21", "fipa_uncovered",
                                    ["FIPA fipa-matonge on 2026-03-20 02:00-04:00",
                                     "protocol's first day"]),
    "rest rules that cannot hold": (_rest, "2026-05-04", "2026-05-10", "rest",
                                    ["with 20 h of rest", "consecutive days leave 16 h"]),
    "no shift template at night": (_no_night_template, "2026-05-01", "2026-05-01", "no_shift",
                                   ["no shift template covers", "railway zones"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(INFEASIBLE))
def test_each_explanation_is_true(case: str, tmp_path: Path) -> None:
    """The explanation names the binding rule with its numbers and is verified: relaxing exactly
    what it names makes the model feasible."""
    change, first, last, rule, words = INFEASIBLE[case]
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(change(_doc())))
    p = load_protocol(f)
    planner = Planner(
        p, date.fromisoformat(first), date.fromisoformat(last), default_profile(p), seed=0,
        time_limit=30, workers=1,
    )  # fmt: skip
    with pytest.raises(InfeasiblePlan) as info:
        planner.run()
    (reason,) = info.value.reasons
    assert reason["rule"] == rule, reason
    assert reason["verified"] is True
    for w in words:
        assert w in reason["message"], (w, reason["message"])
    # the web shows it in Dutch and French: the whole sentence and each phrase in it translated
    from safecities.web import i18n, server_text

    assert server_text.match(reason["message"]) is not None, reason["message"]
    for lang in ("nl", "fr"):
        text = server_text.translate(reason["message"], i18n.translations(lang).gettext)
        for english in ("the patrol minimum", "railway zones", " and ", "soldiers", "units",
                        "shift", "the request", "protocol's"):  # fmt: skip
            assert english not in text, (lang, english, text)
