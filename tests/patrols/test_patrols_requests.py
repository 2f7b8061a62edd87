"""Issue 14: requests people can judge (detail, computed statuses, diff, waiting-for) and the
request builder that composes another city's protocol without writing YAML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from safecities.patrols import builder
from safecities.patrols import governance as gov
from safecities.patrols.protocol import from_document, validate_document
from safecities.store.db import session_scope

DATA = Path(__file__).resolve().parents[1] / "data" / "patrols"


@pytest.mark.parametrize("city", ["antwerp", "ghent", "liege", "charleroi", "mons"])
def test_builder_composes_a_valid_protocol_from_bundled_stations(city: str) -> None:
    doc, issues = builder.build_document(builder.RequestDraft(city=city, start="2026-12-01"))
    assert issues == []
    assert validate_document(doc) == []
    proto = from_document(doc)
    assert proto.city == city and proto.start == date(2026, 12, 1) and proto.end == date(2027, 6, 1)
    # the main railway station comes first, with a mixed patrol at all times
    main = doc["zones"][0]
    assert main["terrain"] == "railway_station" and main["min_mixed_patrols"] == 1
    # every zone has an outline around its station, in WGS84 inside Belgium
    for z in doc["zones"]:
        ring = z["geometry"]["coordinates"][0]
        assert all(2.5 < lon < 6.5 and 49.4 < lat < 51.6 for lon, lat in ring)
        assert z["soldiers_allowed"] and z["command_post"].startswith("cp-spc-")
    # command posts: the local police zone and the railway police, never a Brussels post
    posts = [p["id"] for p in doc["command_posts"]]
    assert len(posts) == 2 and not any("5341" in p or "brussel" in p for p in posts)
    # the YAML download is the same document
    text = builder.to_yaml(doc)
    assert yaml.safe_load(text) == doc
    assert "&id" not in text and "*id" not in text  # readers refuse YAML aliases


def test_builder_drawn_zones_are_police_only_and_errors_have_paths() -> None:
    square = [[4.42, 51.21], [4.43, 51.21], [4.43, 51.22], [4.42, 51.22], [4.42, 51.21]]
    bowtie = [[4.42, 51.21], [4.43, 51.22], [4.43, 51.21], [4.42, 51.22], [4.42, 51.21]]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Seefhoek"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Bad"},
                "geometry": {"type": "Polygon", "coordinates": [bowtie]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [4.4, 51.2]},
            },
        ],
    }
    draft = builder.RequestDraft(
        city="antwerp",
        start="2026-12-01",
        drawn_zones=fc,
        soldier_cap=-1,
        stations=["nmbs:008821006", "nmbs:000"],
    )
    doc, issues = builder.build_document(draft)
    paths = {i.path for i in issues}
    assert "$.drawn_zones.features[1].geometry" in paths  # crosses itself
    assert "$.drawn_zones.features[2].geometry" in paths  # not a polygon
    assert "$.stations" in paths  # unknown station
    assert "$.soldier_cap" in paths  # the schema's own message
    seef = [z for z in doc["zones"] if z["id"] == "seefhoek"][0]
    assert seef["soldiers_allowed"] is False and seef["terrain"] == "district"
    assert seef["command_post"] == "cp-5345-antwerp"


def test_brussels_renewal_starts_from_the_bundled_protocol() -> None:
    doc, issues = builder.build_document(builder.RequestDraft(city="brussels", soldier_cap=40))
    assert issues == [] and doc["period"] == {"start": "2026-09-20", "end": "2027-03-20"}
    assert doc["soldier_cap"] == 40 and doc["version"] == "2026.2"


def _request(s, doc, actor="clerk"):
    return gov.request_document(s, doc, reason="shootings near the station", actor=actor)


def test_detail_statuses_diff_and_waiting(engine) -> None:
    doc, _ = builder.build_document(builder.RequestDraft(city="antwerp", start="2026-05-01"))
    with session_scope(engine) as s:
        first = _request(s, doc)
        assert [p["id"] for p in gov.pending_for(s, "interior_approver")] == [first["id"]]
        gov.approve(s, first["id"], actor="ana", role="interior_approver")
        assert gov.pending_for(s, "interior_approver") == []
        assert [p["id"] for p in gov.pending_for(s, "defence_approver")] == [first["id"]]
        gov.approve(s, first["id"], actor="bert", role="defence_approver")
    renewal = {**doc, "version": "2026.2", "soldier_cap": 25}
    renewal["period"] = {"start": "2026-11-01", "end": "2027-05-01"}
    renewal["zones"] = [z for z in doc["zones"] if z["id"] != "antwerpen-berchem-railway"]
    with session_scope(engine) as s:
        second = _request(s, renewal)
        d = gov.protocol_detail(s, second["id"], today=date(2026, 10, 1))
        assert d["status"] == "requested" and d["period"]["state"] == "future"
        assert d["replaces"] == {"id": first["id"], "version": doc["version"], "status": "active"}
        changes = {(c["path"], c["change"]) for c in d["diff"]}
        assert ("$.soldier_cap", "changed") in changes
        assert ("$.zones[antwerpen-berchem-railway]", "removed") in changes
        assert ("$.period.start", "changed") in changes
        assert d["waiting_for"] == ["interior_approver", "defence_approver"]
        assert d["units"]["police"] == {"units": 30, "people": 60}
        assert d["zones"][0]["soldiers_why"].startswith("railway police priority terrain")
        # the first version: active during its period, expired after, superseded by the next
        assert gov.protocol_detail(s, first["id"], today=date(2026, 6, 1))["status"] == "active"
        assert gov.protocol_detail(s, first["id"], today=date(2026, 11, 2))["status"] == "expired"
        gov.approve(s, second["id"], actor="ana", role="interior_approver")
        gov.approve(s, second["id"], actor="bert", role="defence_approver")
        st = {p["id"]: p["status"] for p in gov.list_protocols(s, today=date(2026, 10, 31))}
        assert st[first["id"]] == "active"  # the renewal has not started yet
        st = {p["id"]: p["status"] for p in gov.list_protocols(s, today=date(2026, 11, 1))}
        assert st[first["id"]] == "superseded" and st[second["id"]] == "active"
        zones = gov.zones_geojson(s, second["id"])
        assert len(zones["features"]) == len(renewal["zones"])
        assert all(f["properties"]["soldiers_allowed"] for f in zones["features"])
