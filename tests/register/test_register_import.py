"""Imports: good files of every format, bad files of every kind, all-or-nothing, idempotency."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from safecities.errors import InputError
from safecities.register.demo import generate
from safecities.register.events import read_events
from safecities.register.service import import_incidents, incidents_frame
from safecities.store import audit
from safecities.store.db import session_scope
from safecities.store.models import AuditEvent, Incident

DATA = Path(__file__).parents[1] / "data" / "register"

# Real Brussels places: Clemenceau metro, Brussels-North station, Parc Bonnevie.
GOOD = """id,occurred_at,lat,lon,kind,injured,killed,lines_closed,disruption_minutes
BXL-1,2025-02-05T19:40:00+01:00,50.84069,4.331467,shooting,1,0,2;6,180
BXL-2,2025-02-15 22:10,50.8401,4.3302,shooting,0,1,,
BXL-3,2025-07-01T01:15:00+02:00,50.859663,4.360846,shots_fired,0,0,,
BXL-4,2025-07-20T23:05:00+02:00,50.8556,4.3318,shooting,2,0,,
"""


def count(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Incident)).scalar_one()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


def test_import_standard_csv_assigns_municipality_and_is_idempotent(engine, tmp_path):
    f = write(tmp_path, "incidents.csv", GOOD)
    rep = import_incidents(engine, f, source="parquet-test")
    assert (rep.rows_read, rep.inserted, rep.unchanged) == (4, 4, 0)
    df = incidents_frame(engine).set_index("incident_id")
    assert df.loc["parquet-test:BXL-1", "municipality_id"] == "21001"  # Anderlecht
    assert df.loc["parquet-test:BXL-4", "municipality_id"] == "21012"  # Molenbeek
    assert df.loc["parquet-test:BXL-1", "lines_closed"] == ["2", "6"]
    # A naive local time is read as Europe/Brussels (winter: UTC+1).
    assert df.loc["parquet-test:BXL-2", "occurred_at"].isoformat() == "2025-02-15T22:10:00+01:00"
    rep2 = import_incidents(engine, f, source="parquet-test")
    assert (rep2.inserted, rep2.unchanged, rep2.updated) == (0, 4, 0)
    assert count(engine) == 4
    # A corrected row updates in place, with before/after in the audit log.
    old = "50.8556,4.3318,shooting,2"
    write(tmp_path, "incidents.csv", GOOD.replace(old, old[:-1] + "3"))
    rep3 = import_incidents(engine, f, source="parquet-test")
    assert (rep3.inserted, rep3.unchanged, rep3.updated) == (0, 3, 1)
    with session_scope(engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
        assert last.action == "incident.import"
        assert last.before["updated"][0]["before"]["injured"] == 2
        assert last.before["updated"][0]["after"]["injured"] == 3
        assert audit.verify(s).ok


def test_belgian_excel_export_with_bom_semicolons_and_decimal_commas(engine, tmp_path):
    rows = (
        GOOD.replace("2;6", '"2;6"')
        .replace(",", ";")
        .replace("50.84069", "50,84069")
        .replace("4.331467", "4,331467")
    )
    f = write(tmp_path, "export.csv", b"\xef\xbb\xbf" + rows.encode("utf-8"))
    assert import_incidents(engine, f).inserted == 4


def test_geojson_and_parquet(engine, tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str).fillna("")
    df.to_parquet(tmp_path / "x.parquet")
    assert import_incidents(engine, tmp_path / "x.parquet", source="pq").inserted == 4
    feats = [
        {
            "type": "Feature",
            "properties": {k: r[k] for k in ("id", "occurred_at", "kind", "injured", "killed")},
            "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
        }
        for _, r in df.iterrows()
    ]
    fc = json.dumps({"type": "FeatureCollection", "features": feats})
    f = write(tmp_path, "x.geojson", fc)
    assert import_incidents(engine, f, source="gj").inserted == 4
    assert count(engine) == 8


BAD_CASES = {
    "unparseable time": ("BXL-1,yesterday evening,50.84069,4.331467,shooting,1,0,,", "occurred_at"),
    "outside the city": ("BXL-1,2025-02-05T19:40:00+01:00,51.2172,4.421101,shooting,1,0,,", "lat"),
    "outside Belgium": ("BXL-1,2025-02-05T19:40:00+01:00,48.8566,2.3522,shooting,1,0,,", "lat"),
    "negative count": (
        "BXL-1,2025-02-05T19:40:00+01:00,50.84069,4.331467,shooting,-1,0,,",
        "injured",
    ),
    "not a number": ("BXL-1,2025-02-05T19:40:00+01:00,fifty,4.331467,shooting,1,0,,", "lat"),
    "unknown kind": ("BXL-1,2025-02-05T19:40:00+01:00,50.84069,4.331467,stabbing,1,0,,", "kind"),
    "future": ("BXL-1,2099-02-05T19:40:00+01:00,50.84069,4.331467,shooting,1,0,,", "occurred_at"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_row_names_file_row_field_and_writes_nothing(engine, tmp_path, case):
    line, fld = BAD_CASES[case]
    header, *good = GOOD.strip().splitlines()
    content = "\n".join([header, good[1], good[2], line.replace("BXL-1", "BXL-9")]) + "\n"
    f = write(tmp_path, "bad.csv", content)
    report = tmp_path / "errors.csv"
    with pytest.raises(InputError) as exc:
        import_incidents(engine, f, report=report)
    err = exc.value.errors[0]
    assert (err.file, err.row, err.field) == (str(f), 3, fld)
    assert "bad.csv:3" in str(exc.value)
    assert count(engine) == 0
    rows = list(csv.DictReader(report.open()))
    assert rows[0]["row"] == "3" and rows[0]["field"] == fld


def test_duplicate_ids_are_reported_with_both_rows(engine, tmp_path):
    header, *good = GOOD.strip().splitlines()
    f = write(tmp_path, "dup.csv", "\n".join([header, good[0], good[1], good[0]]) + "\n")
    with pytest.raises(InputError) as exc:
        import_incidents(engine, f)
    e = exc.value.errors[0]
    assert (e.row, e.field) == (3, "id") and "first at row 1" in e.reason
    assert count(engine) == 0


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("random.csv", os.urandom(1 << 20), "not a text file"),
        ("empty.csv", "", "empty file"),
        ("ragged.csv", GOOD.strip() + ",extra,fields\n", "fields where the header has"),
        ("nocols.csv", "a,b,c\n1,2,3\n", "missing column"),
        ("broken.geojson", '{"type": "FeatureCollection", "features": [', "invalid JSON"),
        ("fake.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
    ],
)
def test_malformed_files_fail_cleanly(engine, tmp_path, name, content, message):
    f = write(tmp_path, name, content)
    with pytest.raises(InputError, match=message):
        import_incidents(engine, f)
    assert count(engine) == 0


def test_nypd_layout_by_mapping_collapses_victim_rows(sqlite_engine):
    rep = import_incidents(sqlite_engine, DATA / "nypd_sample.csv", mapping="nypd")
    ev = read_events(DATA / "nypd_sample.csv", "nypd")
    assert rep.rows_read == 300
    assert rep.collapsed == 300 - rep.inserted == ev.attrs["collapsed"] > 0
    assert len(ev) == rep.inserted
    with session_scope(sqlite_engine) as s:
        victims = s.execute(select(func.sum(Incident.injured + Incident.killed))).scalar_one()
        assert victims == 300  # every victim row is counted once, in its incident
        assert (
            s.execute(select(func.count()).where(Incident.city_id.is_(None))).scalar_one()
            == rep.inserted
        )


def test_read_events_standard_columns(tmp_path):
    f = write(
        tmp_path,
        "events.csv",
        "occurred_at,lat,lon,other\n2025-01-02T03:04:05+01:00,50.84,4.33,x\n",
    )
    ev = read_events(f)
    assert list(ev.columns) == ["incident_id", "occurred_at", "lat", "lon"]
    assert ev["occurred_at"].iloc[0].isoformat() == "2025-01-02T02:04:05+00:00"


def test_killed_import_leaves_database_unchanged(tmp_path, db_env):
    """Kill -9 the importer after half the rows are written in its transaction: nothing lands."""
    df = pd.concat([generate(seed=s) for s in range(1, 41)], ignore_index=True)
    df["id"] = [f"K-{i}" for i in range(len(df))]
    big = tmp_path / "big.csv"
    df.to_csv(big, index=False)
    env = {**os.environ, "SAFECITIES_TEST_IMPORT_PAUSE": "60"}
    cmd = [sys.executable, "-m", "safecities", "incidents", "import", str(big)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline and "pausing" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            pytest.fail(f"importer ended early: {proc.stderr.read()}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    from safecities.store.db import make_engine

    engine = make_engine(db_env)
    assert count(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    # The same file then imports completely.
    rep = import_incidents(engine, big)
    assert rep.inserted == len(df)


def test_store_zones_follow_zone_imports(engine, tmp_path):
    """With an engine, analyses see the store's zones: the bundled ones once loaded, then as a
    zones import redrew or added them; without one (or before loading), the bundled file."""
    from safecities.register import reference
    from safecities.register.service import import_zones, load_reference

    bundled = reference.zones("brussels")
    empty = reference.zones("brussels", engine=engine)  # nothing loaded yet: the bundled zones
    assert list(empty["id"]) == list(bundled["id"])
    with session_scope(engine) as s:
        load_reference(s)
    stored = reference.zones("brussels", engine=engine)
    assert list(stored["id"]) == list(bundled["id"])  # same zones, same order
    clem = bundled.set_index("id").loc["clemenceau"]
    square = [[4.3295, 50.8395], [4.3325, 50.8395], [4.3325, 50.8420], [4.3295, 50.8420]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
                "properties": {
                    "id": "clemenceau",
                    "name": "Clemenceau",
                    "kind": "hotspot",
                    "command_post": clem["command_post"],
                    "drawn_how": "redrawn by the analyst around the station exits",
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
                "properties": {
                    "id": "clemenceau-exits",
                    "name": "Clemenceau exits",
                    "kind": "approved_patrol_area",
                    "drawn_how": "the same square, as a patrol area",
                },
            },
        ],
    }
    f = tmp_path / "zones.geojson"
    f.write_text(json.dumps(doc))
    assert import_zones(engine, f, actor="analyst") == {"zones": 2}
    after = reference.zones("brussels", engine=engine).set_index("id")
    assert len(after) == len(bundled) + 1 and "clemenceau-exits" in after.index
    assert after.loc["clemenceau", "drawn_how"].startswith("redrawn")
    assert after.loc["clemenceau", "geometry"].area < clem["geometry"].area
    assert (
        reference.zones("brussels").set_index("id").loc["clemenceau", "drawn_how"]
        == (clem["drawn_how"])
    )  # the bundled file is untouched
    with session_scope(engine) as s:  # reloading the reference data keeps the redraw
        load_reference(s)
    again = reference.zones("brussels", engine=engine).set_index("id")
    assert again.loc["clemenceau", "drawn_how"].startswith("redrawn") and len(again) == len(after)
