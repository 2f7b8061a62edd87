"""No leaks (issue 17 item 2): a camera operator walks every camera route, page and command and
finds no other municipality's camera id, position or attribute, while a duplicate candidate
across the border exists (the finding: an Anderlecht operator saw an Ixelles camera's id, its
distance of 4.02 m to a point they chose and its direction)."""

from __future__ import annotations

import json
import math

from fastapi.routing import APIRoute
from shapely.geometry import Point
from typer.testing import CliRunner

from safecities.domain import BELGIAN_LAMBERT_2008, Role
from safecities.geo import to_wgs84
from safecities.register import reference

SECRET = "BXL-SECRET-PURPOSE"


def _across_border(metres: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """A point `metres` inside Anderlecht and one `metres` inside Brussels, across their border."""
    m = reference.municipalities(None).to_crs(BELGIAN_LAMBERT_2008).set_index("nis")
    a, b = m.geometry["21001"], m.geometry["21004"]
    p = a.boundary.intersection(b.buffer(1.0)).interpolate(0.5, normalized=True)
    out = []
    for geom in (a, b):
        for k in range(72):
            q = Point(p.x + metres * math.cos(k * math.pi / 36),
                      p.y + metres * math.sin(k * math.pi / 36))  # fmt: skip
            if geom.contains(q) and geom.boundary.distance(q) > 0.8 * metres:
                lon, lat = to_wgs84(q.x, q.y)
                out.append((round(float(lat), 7), round(float(lon), 7)))
                break
    return out[0], out[1]


def test_operator_walks_every_camera_route_and_command(store, tmp_path):
    (and_lat, and_lon), (bxl_lat, bxl_lon) = _across_border(8)
    other = store.cli("add", "21004", "--set", "id=SECRET9", "--set", f"lat={bxl_lat}",
                      "--set", f"lon={bxl_lon}", "--set", f"purpose={SECRET}",
                      "--set", "fov_direction=91", "--set", "fov_angle=61",
                      "--set", "retention_days=29")["camera"]  # fmt: skip
    assert other["id"] == "21004-SECRET9"
    # its position at the register's precision (shorter prefixes occur in the public border
    # polygons of the map layers, a few metres away)
    markers = [other["id"], "SECRET9", SECRET, str(bxl_lat), str(bxl_lon)]
    op = Role.CAMERA_OPERATOR
    seen: list[str] = []

    def cli(*args: str) -> None:
        who = ["--as", "op", "--role", "camera_operator", "--as-municipality", "21001"]
        r = CliRunner().invoke(store_app(), ["cameras", *args, *who])
        seen.append(r.stdout + (r.stderr if r.stderr_bytes is not None else "") +
                    str(r.exception or ""))  # fmt: skip

    inv = tmp_path / "own.csv"
    inv.write_text("id;lat;lon;richting;openingshoek;purpose\n"
                   f"Z1;{and_lat};{and_lon};90;60;public order\n")  # fmt: skip
    r = CliRunner().invoke(store_app(), ["cameras", "import", str(inv), "--municipality", "21001",
                                         "--as", "op", "--role", "camera_operator",
                                         "--as-municipality", "21001", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    seen.append(r.stdout)
    found = json.loads(r.stdout)["duplicate_candidates"]
    assert found == [{"camera_a": "21001-own-Z1", "camera_b": None, "distance_m": None,
                      "score": None, "cross_municipality": True,
                      "reasons": ["possible duplicate with another municipality: the federal"
                                  " register decides"]}]  # fmt: skip
    # admins see both sides (and can decide)
    pairs = store.api("GET", "/api/cameras/duplicates")
    assert pairs[0]["camera_b"] == other["id"] or pairs[0]["camera_a"] == other["id"]
    assert pairs[0]["cross_municipality"] is True and pairs[0]["distance_m"] > 0
    dup_id = str(pairs[0]["id"])

    # -- every command, as the operator --------------------------------------------------------
    for args in (["list", "--json"], ["list"], ["list", "--municipality", "21004"],
                 ["counts", "--json"], ["show", other["id"], "--json"],
                 ["show", other["id"], "--at", "2030-01-01T00:00+00:00"],
                 ["show", "21004-nothing"], ["history", other["id"], "--json"],
                 ["edit", other["id"], "--set", "purpose=x"],
                 ["add", "21004", "--set", f"lat={bxl_lat}", "--set", f"lon={bxl_lon}"],
                 ["add", "21001", "--set", "id=21004-SECRET9", "--set", f"lat={and_lat}",
                  "--set", f"lon={and_lon}"],
                 ["duplicates", "list", "--status", "all", "--json"], ["duplicates", "list"],
                 ["duplicates", "confirm", dup_id, "--json"],
                 ["duplicates", "confirm", dup_id, "--keep", other["id"]],
                 ["duplicates", "reject", dup_id],
                 ["coverage", "--json", "--geojson", str(tmp_path / "layers.geojson")],
                 ["import", str(inv), "--municipality", "21004", "--json"]):  # fmt: skip
        cli(*args)
    seen.append((tmp_path / "layers.geojson").read_text())
    commands = {c.name for c in cli_commands()}
    assert commands <= {"plan", "list", "counts", "show", "history", "edit", "add", "duplicates",
                        "coverage", "import"}  # fmt: skip

    # -- every API route of the capability, as the operator ------------------------------------
    app = store.client.app
    visited: set[str] = set()
    h = store.headers[op]
    oid = other["id"]
    calls = [
        ("GET", "/api/cameras", {}), ("GET", "/api/cameras?format=csv", {}),
        ("GET", "/api/cameras?format=geojson", {}), ("GET", "/api/cameras?municipality=21004", {}),
        ("GET", "/api/cameras/geojson", {}), ("GET", "/api/cameras/counts", {}),
        ("GET", "/api/cameras/duplicates?status=candidate", {}),
        ("POST", f"/api/cameras/duplicates/{dup_id}/confirm", {}),
        ("POST", f"/api/cameras/duplicates/{dup_id}/reject", {}),
        ("POST", "/api/cameras/import", {"data": {"municipality": "21001"},
                                         "files": {"file": ("own.csv", inv.read_bytes())}}),
        ("GET", "/api/cameras/coverage", {}), ("GET", "/api/cameras/coverage/geojson", {}),
        ("POST", "/api/cameras/plan", {"json": {"budget": 1000}}),
        ("GET", f"/api/cameras/{oid}", {}), ("GET", "/api/cameras/21004-nothing", {}),
        ("GET", f"/api/cameras/{oid}/at?moment=2030-01-01T00:00%2B00:00", {}),
        ("GET", f"/api/cameras/{oid}/history", {}),
        ("PATCH", f"/api/cameras/{oid}", {"json": {"purpose": "x"}}),
        ("POST", "/api/cameras?municipality=21001", {"json": {"id": "21004-SECRET9",
                                                               "lat": and_lat, "lon": and_lon}}),
    ]  # fmt: skip
    statuses = {}
    for method, url, kw in calls:
        r = store.client.request(method, url, headers=h, **kw)
        assert r.status_code < 500, (url, r.text)
        statuses[(method, url)] = r.status_code
        seen.append(r.text)
        for route in app.routes:
            path = url.split("?")[0]
            if isinstance(route, APIRoute) and method in route.methods \
                    and route.path_regex.match(path):  # fmt: skip
                visited.add(f"{method} {route.path}")
                break
    api_routes = {f"{m} {r.path}" for r in app.routes if isinstance(r, APIRoute)
                  and r.path.startswith("/api/cameras") for m in r.methods}  # fmt: skip
    assert api_routes <= visited, api_routes - visited
    same = statuses[("GET", "/api/cameras/21004-nothing")]
    assert statuses[("GET", f"/api/cameras/{oid}")] == same  # no probing by id
    assert statuses[("POST", "/api/cameras/plan")] == 403

    # -- the camera pages, as the operator (cookie session) ------------------------------------
    acc = store.accounts[op]
    r = store.client.post("/login", data={"name": acc["name"], "password": acc["password"],
                                           "next": "/"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    for url in ("/cameras", "/cameras/duplicates", "/cameras/plan"):
        r = store.client.get(url)
        assert r.status_code < 500, url
        seen.append(r.text)
    # by id: one answer for another municipality's camera and for none (the page echoes only
    # the requested path, in its language form)
    r, none = store.client.get(f"/cameras/{oid}"), store.client.get("/cameras/21004-nothing")
    assert r.status_code == none.status_code == 403
    assert r.text.replace(oid, "X") == none.text.replace("21004-nothing", "X")

    text = "\n".join(seen)
    leaked = [(k, m, t[max(0, t.index(m) - 80):t.index(m) + 40]) for k, t in enumerate(seen)
              for m in markers if m in t]  # fmt: skip
    assert leaked == [], leaked
    # the operator's own camera and the neutral note are there
    assert "21001-own-Z1" in text and "federal register decides" in text


def store_app():
    import typer

    from safecities.cameras import cli

    app = typer.Typer(pretty_exceptions_enable=False)
    cli.mount(app)
    return app


def cli_commands():
    from safecities.cameras import cli

    out = list(cli.app.registered_commands)
    for group in cli.app.registered_groups:
        out += [type("G", (), {"name": group.name})()]
    return out
