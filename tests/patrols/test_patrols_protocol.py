"""The protocol document: the bundled Brussels example validates; every error carries its path."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml

from safecities.errors import InputError
from safecities.patrols.protocol import (
    bundled_protocol_path,
    load_protocol,
    read_document,
    validate_document,
)


def test_brussels_protocol_is_valid_and_holds_the_decision() -> None:
    p = load_protocol(bundled_protocol_path())
    assert p.city == "brussels"
    assert p.start == date(2026, 3, 20) and p.end == date(2026, 9, 20)
    assert p.soldier_cap == 45
    assert p.police_min_mixed == 2 and p.soldiers_max_per_patrol == 2
    assert p.working_time["police"].min_rest_hours == 11
    assert p.working_time["defence"].max_hours_per_week == 48
    ids = {z.id for z in p.zones}
    assert {"clemenceau", "peterbos", "gare-du-nord", "parc-bonnevie", "matonge", "railway-north",
            "railway-central", "railway-south"} <= ids  # fmt: skip
    assert sum(u.size for u in p.units_of("police")) == 300


def test_brussels_zone_ids_match_bundled_zones() -> None:
    reference = pytest.importorskip("safecities.register.reference")
    bundled = set(reference.zones("brussels")["id"])
    p = load_protocol(bundled_protocol_path())
    assert {z.id for z in p.zones} <= bundled


def _bad_doc() -> dict:
    doc, _ = read_document(bundled_protocol_path())
    doc["soldier_cap"] = "lots"
    doc["zones"][3]["command_post"] = "cp-nowhere"
    doc["fipa"][0]["date"] = "2027-01-01"
    doc["fipa"][1]["start"] = "25:00"
    doc["working_time"]["police"]["shift_min_hours"] = 12
    return doc


def test_every_error_has_its_path() -> None:
    paths = {i.path for i in validate_document(_bad_doc())}
    assert "$.soldier_cap" in paths
    assert "$.zones[3].command_post" in paths
    assert "$.fipa[0].date" in paths
    assert "$.fipa[1].start" in paths
    assert "$.working_time.police.shift_min_hours" in paths


def test_cli_validate_json_lists_errors(tmp_path, cli) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(_bad_doc()))
    res = cli(["protocol", "validate", str(f), "--json"])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["valid"] is False and len(out["errors"]) >= 5
    assert out["manifest"]["inputs"]["protocol"]
    ok = cli(["protocol", "validate", str(bundled_protocol_path())])
    assert ok.exit_code == 0, ok.stdout


def test_unreadable_or_garbage_protocol_is_an_input_error(tmp_path) -> None:
    f = tmp_path / "x.yaml"
    f.write_bytes(b"\xff\xfe: [")
    with pytest.raises(InputError):
        load_protocol(f)
    g = tmp_path / "x.json"
    g.write_text("[1, 2]")
    with pytest.raises(InputError):
        load_protocol(g)
    with pytest.raises(InputError):
        load_protocol(tmp_path / "missing.yaml")


def test_bundled_brussels_protocol_admits_soldiers_only_on_railway_terrain() -> None:
    """Decision of 20 March 2026: Defence on the railway police's priority terrain (railway and
    metro stations) and at FIPA; Peterbos, Parc Bonnevie, Matonge and the other districts are
    police-only. Every zone says why."""
    from safecities.patrols.protocol import bundled_protocol_path, load_protocol

    p = load_protocol(bundled_protocol_path())
    admitted = {z.id for z in p.zones if z.soldiers_allowed}
    assert {"peterbos", "parc-bonnevie", "matonge", "clemenceau", "gare-du-nord"}.isdisjoint(
        admitted
    )
    assert {"railway-north", "railway-central", "railway-south", "metro-rogier"} <= admitted
    for z in p.zones:
        assert z.soldiers_basis and "20 March 2026" in z.soldiers_why(), z.id
        station = z.terrain in ("railway_station", "metro_station")
        assert z.soldiers_allowed == station, z.id
    # FIPA may be anywhere, districts included (soldiers secure the perimeter with police)
    assert any(f.zone == "matonge" for f in p.fipa)
