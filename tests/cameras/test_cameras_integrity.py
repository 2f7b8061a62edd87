"""Register integrity (issue 17 item 1) and ids that cannot be taken over (issue 18 item 4, M1):
positions inside the municipality (25 m border tolerance) on import, add, edit and move; ids
minted by the register; imports that never land in a manual camera or another source's; updated
cameras with before/after; identical rows; every problem at once, JSON and --report on error."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import typer
from shapely.geometry import Point
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecities.cameras import cli, importers
from safecities.cameras import service as svc
from safecities.cameras.models import Camera
from safecities.domain import BELGIAN_LAMBERT_2008
from safecities.errors import InputError, PermissionDenied
from safecities.geo import to_wgs84
from safecities.register import reference
from safecities.store.db import session_scope

ADMIN = svc.Caller.of("root", "admin")
AND_OP = svc.Caller.of("op-and", "camera_operator", "Anderlecht")
BXL_OP = svc.Caller.of("op-bxl", "camera_operator", "Brussel")


def border_points(inside: str, outside: str, metres: float) -> tuple[tuple, tuple]:
    """(lat, lon) `metres` inside municipality `inside` and `metres` across the border into
    `outside`, at a point of their shared border (from the bundled boundaries)."""
    m = reference.municipalities(None).to_crs(BELGIAN_LAMBERT_2008).set_index("nis")
    a, b = m.geometry[inside], m.geometry[outside]
    shared = a.boundary.intersection(b.buffer(1.0))
    p = shared.interpolate(0.5, normalized=True)
    out = []
    for geom in (a, b):
        for k in range(72):
            t = 2 * math.pi * k / 72
            q = Point(p.x + metres * math.cos(t), p.y + metres * math.sin(t))
            if geom.contains(q) and geom.boundary.distance(q) > 0.8 * metres:
                lon, lat = to_wgs84(q.x, q.y)
                out.append((round(float(lat), 7), round(float(lon), 7)))
                break
    return out[0], out[1]


def _count(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Camera)).scalar_one()


def test_position_must_lie_inside_the_municipality(sqlite_engine):
    in_and, across10 = border_points("21001", "21004", 10)
    _, across60 = border_points("21001", "21004", 60)
    pos = lambda p: {"lat": str(p[0]), "lon": str(p[1])}  # noqa: E731
    with session_scope(sqlite_engine) as s:
        svc.create_camera(s, AND_OP, "21001", {"id": "in", **pos(in_and)})
        svc.create_camera(s, AND_OP, "21001", {"id": "tol", **pos(across10)})  # within 25 m
    with pytest.raises(InputError, match="not inside municipality 21001"), \
            session_scope(sqlite_engine) as s:  # fmt: skip
        svc.create_camera(s, AND_OP, "21001", {"id": "far", **pos(across60)})
    # an Ixelles position for an Anderlecht camera (the finding): refused on add and on edit
    ixl = {"lat": "50.8275", "lon": "4.3720"}
    with pytest.raises(InputError, match="not inside"), session_scope(sqlite_engine) as s:
        svc.create_camera(s, AND_OP, "21001", {"id": "x", **ixl})
    with pytest.raises(InputError, match="not inside"), session_scope(sqlite_engine) as s:
        svc.update_camera(s, AND_OP, "21001-in", dict(ixl))
    # a move to another municipality keeps the position: refused unless it lies there
    with pytest.raises(InputError, match="not inside municipality 21009"), \
            session_scope(sqlite_engine) as s:  # fmt: skip
        svc.update_camera(s, ADMIN, "21001-in", {"municipality": "Ixelles"})
    with session_scope(sqlite_engine) as s:
        cam = svc.update_camera(s, ADMIN, "21001-in", {"municipality": "Ixelles", **ixl})
        assert cam.municipality_id == "21009"
    assert _count(sqlite_engine) == 2


def test_ids_are_minted_and_cannot_enter_another_namespace(sqlite_engine):
    """M1: an operator created in their own municipality a camera with another municipality's
    id pattern; that municipality's later import landed in the record the operator owned."""
    cam = {"lat": "50.8366", "lon": "4.3093"}
    with pytest.raises(InputError, match="namespace of municipality 21004"), \
            session_scope(sqlite_engine) as s:  # fmt: skip
        svc.create_camera(s, AND_OP, "21001", {"id": "21004-bxl_inv-W-1", **cam})
    for bad in ("a/b", "<script>", "x y", "../etc", "é"):
        with pytest.raises(InputError, match="not allowed"), session_scope(sqlite_engine) as s:
            svc.create_camera(s, AND_OP, "21001", {"id": bad, **cam})
    with session_scope(sqlite_engine) as s:
        assert svc.create_camera(s, AND_OP, "21001", {"id": "AND-7", **cam}).id == "21001-AND-7"
        assert svc.create_camera(s, AND_OP, "21001", {"id": "21001-B", **cam}).id == "21001-B"
        assert svc.create_camera(s, AND_OP, "21001", dict(cam)).id.startswith("21001-")
    assert _count(sqlite_engine) == 3


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("id;lat;lon;status;purpose\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_import_never_overwrites_a_manual_camera(sqlite_engine, tmp_path):
    """The finding: an import row `00028` overwrote the manual camera 21001-00028, moving it
    5 km, reported as "written 1"."""
    with session_scope(sqlite_engine) as s:
        manual = svc.create_camera(s, AND_OP, "21001", {"lat": "50.8366", "lon": "4.3093"}).id
    local = manual.split("-", 1)[1]
    f = _csv(tmp_path / "inv.csv", [f"{local};50.8380;4.3110;actief;x"])
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, AND_OP, f, "21001")
    assert (rep.inserted, rep.updated) == (1, 0)
    with session_scope(sqlite_engine) as s:
        assert svc.get_camera(s, AND_OP, manual)["lat"] == 50.8366  # untouched
        assert svc.get_camera(s, AND_OP, f"21001-inv-{local}")["source"] == "inv"


def test_import_clash_with_manual_camera_is_a_row_error(sqlite_engine, tmp_path):
    with session_scope(sqlite_engine) as s:
        svc.create_camera(s, AND_OP, "21001", {"id": "inv-A1", "lat": "50.8366", "lon": "4.3093"})
    f = _csv(tmp_path / "inv.csv", ["A1;50.8380;4.3110;actief;y", "A2;50.8381;4.3111;actief;z"])
    with pytest.raises(InputError) as exc, session_scope(sqlite_engine) as s:
        importers.import_cameras(s, AND_OP, f, "21001")
    assert [(e.row, e.field) for e in exc.value.errors] == [(1, "id")]
    assert "added by hand" in exc.value.errors[0].reason
    assert _count(sqlite_engine) == 1  # nothing written
    # another source with the same ids lands in its own namespace
    g = _csv(tmp_path / "police.csv", ["A1;50.8380;4.3110;actief;y"])
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, AND_OP, g, "21001")
        assert rep.inserted == 1 and svc.get_camera(s, AND_OP, "21001-police-A1")
    # the same source again (file renamed, --source given): an update with before/after
    h = _csv(tmp_path / "police_2026.csv", ["A1;50.8390;4.3110;actief;y"])
    with session_scope(sqlite_engine) as s:
        rep, _ = importers.import_cameras(s, AND_OP, h, "21001", source="police")
    assert (rep.inserted, rep.updated, rep.unchanged) == (0, 1, 0)
    assert rep.changes == [{"id": "21001-police-A1", "row": 1, "before": {"lat": 50.838},
                            "after": {"lat": 50.839}}]  # fmt: skip


def _app():
    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


def test_every_problem_at_once_json_and_report(db_env, tmp_path):
    f = _csv(tmp_path / "bad.csv", [
        "A1;50.8366;4.3093;actief;ok",
        "A2;50.8366;4.3093;actief;ok",    # identical camera to row 1 (its id aside)
        "A3;50.8275;4.3720;actief;ok",    # in Ixelles
        "A4;noord;4.3093;actief;ok",      # not a number
        "A5;50.8370;4.3095;=cmd|' /C calc'!A0;ok",  # unknown status, a formula
    ])  # fmt: skip
    report = tmp_path / "errors.csv"
    r = CliRunner().invoke(_app(), ["cameras", "import", str(f), "--municipality", "21001",
                                    "--report", str(report), "--json"])  # fmt: skip
    assert r.exit_code != 0
    doc = json.loads(r.stdout)
    assert doc["command"] == "cameras import" and doc["written"] == 0
    assert [(e["row"], e["field"]) for e in doc["errors"]] == [(2, "*"), (3, "lat"), (4, "lat"),
                                                             (5, "status")]  # fmt: skip
    assert "identical to row 1" in doc["errors"][0]["reason"]
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 4 and rows[3]["value"].startswith("'=")  # neutralised (OWASP)
    r = CliRunner().invoke(_app(), ["cameras", "list", "--json"])
    assert json.loads(r.stdout)["count"] == 0  # nothing written
    # without --json every problem is printed, then one line and a non-zero exit
    r = CliRunner().invoke(_app(), ["cameras", "import", str(f), "--municipality", "21001"])
    assert r.exit_code != 0 and "(and 3 more problems)" in str(r.exception)


def test_operator_cannot_import_into_another_municipality(sqlite_engine, tmp_path):
    f = _csv(tmp_path / "inv.csv", ["A1;50.8466;4.3528;actief;y"])
    with pytest.raises(PermissionDenied), session_scope(sqlite_engine) as s:
        importers.import_cameras(s, AND_OP, f, "21004")
    assert _count(sqlite_engine) == 0


def test_import_row_of_a_camera_moved_away_is_an_error(sqlite_engine, tmp_path):
    f = _csv(tmp_path / "inv.csv", ["A1;50.8380;4.3110;actief;y"])
    with session_scope(sqlite_engine) as s:
        importers.import_cameras(s, AND_OP, f, "21001")
    with session_scope(sqlite_engine) as s:  # an admin moves it to Ixelles (with its position)
        svc.update_camera(
            s, ADMIN, "21001-inv-A1", {"municipality": "Ixelles", "lat": "50.8275", "lon": "4.3720"}
        )
    with pytest.raises(InputError, match="held by another camera") as exc, \
            session_scope(sqlite_engine) as s:  # fmt: skip
        importers.import_cameras(s, AND_OP, f, "21001")
    assert "21009" not in str(exc.value) and "Ixelles" not in str(exc.value)
    with session_scope(sqlite_engine) as s:
        assert svc.get_camera(s, ADMIN, "21001-inv-A1")["municipality_id"] == "21009"


def test_a_row_with_too_many_fields_is_reported_with_the_other_problems(sqlite_engine, tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_text("id;lat;lon;status\nA1;50.8366;4.3093;actief;extra\nA2;noord;4.3093;actief\n"
                 "A3;50.8370;4.3095;kapot\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError) as exc, session_scope(sqlite_engine) as s:
        importers.import_cameras(s, AND_OP, f, "21001")
    assert [(e.row, e.field) for e in exc.value.errors] == [(1, "*"), (2, "lat"), (3, "status")]
    assert _count(sqlite_engine) == 0
