"""Imports: NL/FR headers, ';' + BOM, GeoJSON, Excel, mapping, all-or-nothing, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from safecities.cameras import duplicates, importers
from safecities.cameras import service as svc
from safecities.cameras.models import Camera
from safecities.errors import InputError, NotFound, PermissionDenied
from safecities.store.db import session_scope

DATA = Path(__file__).resolve().parents[1] / "data" / "cameras"
ADMIN = svc.Caller.of("root", "admin")
AND_OP = svc.Caller.of("op-and", "camera_operator", "Anderlecht")
IXL_OP = svc.Caller.of("op-ixl", "camera_operator", "Ixelles")
# Imported ids: <NIS>-<source (the file stem)>-<id in the file>
A001, ZP17 = "21001-anderlecht_nl-A-001", "21001-anderlecht_police_fr-ZP-17"


def _count(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Camera)).scalar_one()


def test_dutch_semicolon_bom_import_and_reimport(sqlite_engine):
    with session_scope(sqlite_engine) as s:
        rep, dups = importers.import_cameras(s, AND_OP, DATA / "anderlecht_nl.csv", "Anderlecht")
    assert (rep.rows_read, rep.inserted, rep.unchanged) == (2, 2, 0)
    with session_scope(sqlite_engine) as s:
        cam = svc.get_camera(s, AND_OP, "21001-anderlecht_nl-A-001")
        assert cam["lat"] == pytest.approx(50.8366) and cam["intelligent"] is True
        assert cam["mobility"] == "fixed" and cam["fov_direction"] == 90
        assert cam["declared_on"] == "2024-01-15" and cam["source_ref"] == "A-001"
        assert svc.get_camera(s, AND_OP, "21001-anderlecht_nl-A-002")["status"] == "planned"
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, AND_OP, DATA / "anderlecht_nl.csv", "21001")
    assert (rep.inserted, rep.unchanged) == (0, 2)


def test_french_source_finds_duplicate_then_confirm(engine):
    with session_scope(engine) as s:
        importers.import_cameras(s, AND_OP, DATA / "anderlecht_nl.csv", "Anderlecht")
    with session_scope(engine) as s:
        _, dups = importers.import_cameras(s, ADMIN, DATA / "anderlecht_police_fr.csv",
                                           "Anderlecht")  # fmt: skip
    assert [(d["camera_a"], d["camera_b"]) for d in dups] == [(A001, ZP17)]
    with session_scope(engine) as s:
        listed = duplicates.list_duplicates(s, AND_OP)
        assert len(listed) == 1
        assert duplicates.list_duplicates(s, IXL_OP) == []
        with pytest.raises(NotFound):  # not theirs: as if it did not exist
            duplicates.confirm(s, IXL_OP, listed[0]["id"])
    with session_scope(engine) as s:
        out = duplicates.confirm(s, AND_OP, listed[0]["id"])
        assert out["removed"] == "21001-anderlecht_police_fr-ZP-17"
    with session_scope(engine) as s:
        assert svc.get_camera(s, ADMIN, ZP17)["status"] == "removed"
        assert svc.history(s, ADMIN, ZP17)[-1]["action"] == "duplicate"
        assert duplicates.list_duplicates(s, ADMIN) == []


def test_reject_is_not_proposed_again(sqlite_engine):
    with session_scope(sqlite_engine) as s:
        importers.import_cameras(s, AND_OP, DATA / "anderlecht_nl.csv", "Anderlecht")
        importers.import_cameras(s, ADMIN, DATA / "anderlecht_police_fr.csv", "Anderlecht")
    with session_scope(sqlite_engine) as s:
        dup = duplicates.list_duplicates(s, ADMIN)[0]
        duplicates.reject(s, AND_OP, dup["id"])
    with session_scope(sqlite_engine) as s:
        _, again = importers.import_cameras(s, ADMIN, DATA / "anderlecht_police_fr.csv",
                                            "Anderlecht")  # fmt: skip
        assert again == []


def test_geojson_and_excel(sqlite_engine, tmp_path):
    from openpyxl import Workbook

    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, IXL_OP, DATA / "ixelles.geojson", "Elsene")
    assert rep.inserted == 2
    wb = Workbook()
    ws = wb.active
    ws.append(["Identifiant", "Latitude", "Longitude", "Statut", "Coût annuel"])
    ws.append(["XL-1", 50.8300, 4.3650, "actif", 1500])
    ws.append(["XL-2", 50.8310, 4.3660, "prévu", None])
    wb.save(tmp_path / "inv.xlsx")
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, IXL_OP, tmp_path / "inv.xlsx", "Ixelles")
    assert rep.inserted == 2
    with session_scope(sqlite_engine) as s:
        assert svc.get_camera(s, IXL_OP, "21009-inv-XL-1")["cost_yearly"] == 1500
        assert svc.get_camera(s, IXL_OP, "21009-inv-XL-2")["status"] == "planned"
        assert svc.get_camera(s, IXL_OP, "21009-ixelles-IX-2")["status"] == "out_of_service"


def test_mapping_file(sqlite_engine, tmp_path):
    f = tmp_path / "odd.csv"
    f.write_text("nr,N,E,state\n9,50.8366,4.3093,active\n")
    m = tmp_path / "map.yaml"
    m.write_text("id: nr\nlat: N\nlon: E\nstatus: state\n")
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, ADMIN, f, "Anderlecht", m)
    assert rep.inserted == 1
    m.write_text("lat: Nope\n")
    with pytest.raises(InputError, match="not in the file"), session_scope(sqlite_engine) as s:
        importers.import_cameras(s, ADMIN, f, "Anderlecht", m)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("id;lat;lon;status\n1;50.83;4.30;actief\n2;50.83;abc;actief\n", "bad.csv:2: field 'lon'"),
        ("id;lat;lon;status\n1;50.83;4.30;kapot\n", "bad.csv:1: field 'status': unknown value"),
        ("id;lat;lon\n1;50.83;4.30\n1;50.84;4.31\n", "bad.csv:2: field 'id': duplicate"),
        ("id;lat;lon\n1;40.0;4.30\n", "outside Belgium"),
        ("id;foo\n1;2\n", "bad.csv: field 'lat': no column"),
        ("id;lat;lon;bewaartermijn\n1;50.83;4.30;-3\n", "field 'retention_days': out of range"),
        ("id;lat;lon\n1;50.83;4.30;x\n", "bad.csv:1: field '*'"),
    ],
)
def test_bad_rows_write_nothing(sqlite_engine, tmp_path, content, needle):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(InputError) as exc, session_scope(sqlite_engine) as s:
        importers.import_cameras(s, ADMIN, f, "Anderlecht")
    assert needle in str(exc.value)
    assert _count(sqlite_engine) == 0


def test_random_bytes_and_wrong_municipality(sqlite_engine, tmp_path):
    import os

    f = tmp_path / "noise.csv"
    f.write_bytes(os.urandom(20000))
    with pytest.raises(InputError), session_scope(sqlite_engine) as s:
        importers.import_cameras(s, ADMIN, f, "Anderlecht")
    with pytest.raises(PermissionDenied), session_scope(sqlite_engine) as s:
        importers.import_cameras(s, IXL_OP, DATA / "anderlecht_nl.csv", "Anderlecht")
    assert _count(sqlite_engine) == 0
