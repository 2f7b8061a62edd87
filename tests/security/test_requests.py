"""Findings H2 and L of issue 18: no request can freeze the server or make it answer 500.

Loopback only (the ASGI app in-process through TestClient), bounded sizes. Before the fix: the
upload handlers were `async def` and parsed on the event loop, no size limit existed, a 422
echoed the request body, and the inputs below answered 500.
"""

from __future__ import annotations

import inspect
import json

import pytest
from api_fixtures import flat_routes
from fastapi import params
from fastapi.routing import APIRoute

from safecities.api import limits
from safecities.domain import Role


def _upload_routes(app) -> list[APIRoute]:
    return [
        r
        for r in flat_routes(app.routes)
        if any(isinstance(p.field_info, params.File) for p in r.dependant.body_params)
    ]


def test_every_upload_handler_runs_off_the_event_loop(app):
    routes = _upload_routes(app)
    assert len(routes) >= 12, [r.path for r in routes]
    on_loop = [r.path for r in routes if inspect.iscoroutinefunction(r.endpoint)]
    assert on_loop == []  # plain `def`: FastAPI runs them in its thread pool


def test_oversized_upload_refused_from_content_length(client, tokens, auth, monkeypatch):
    monkeypatch.setattr(limits, "max_upload_bytes", lambda: 1000)
    body = b"occurred_at,lat,lon\n" + b"2025-01-01T00:00:00,50.85,4.35\n" * 100
    r = client.post(
        "/api/incidents/import",
        files={"file": ("big.csv", body, "text/csv")},
        headers=auth(tokens[Role.ANALYST]),
    )
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_oversized_chunked_upload_refused_while_streaming(app, tokens, monkeypatch):
    """No Content-Length (chunked): the bytes are counted as they arrive."""
    from fastapi.testclient import TestClient

    monkeypatch.setattr(limits, "max_upload_bytes", lambda: 5000)
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def chunks():
        yield head
        for _ in range(100):
            yield b"2025-01-01T00:00:00,50.85,4.35\n" * 10
        yield f"\r\n--{boundary}--\r\n".encode()

    with TestClient(app) as c:
        r = c.post(
            "/api/incidents/import",
            content=chunks(),
            headers={
                "Authorization": f"Bearer {tokens[Role.ANALYST]}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert r.status_code == 413


def test_large_json_body_refused_and_422_never_echoes_input(client, monkeypatch):
    monkeypatch.setattr(limits, "max_body_bytes", lambda: 100_000)
    r = client.post("/api/auth/login", json={"name": "x", "password": "p" * 200_000})
    assert r.status_code == 413
    secret = "s3cr3t-" + "q" * 2000  # longer than the 1,000 characters a password may have
    r = client.post("/api/auth/login", json={"name": "x", "password": secret})
    assert r.status_code == 422
    assert secret not in r.text and "input" not in json.dumps(r.json())


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"name": "a", "password": NaN}', "NaN"),
        ('{"name": "a", "password": Infinity}', "Infinity"),
        ('{"name": "a", "n": 99999999999999999999}', "64-bit"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
    ],
)
def test_hostile_json_bodies_answer_400(client, body, reason):
    r = client.post("/api/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and reason in r.json()["detail"]


def test_json_nan_never_reaches_a_route(client, tokens, auth):
    """A camera plan with a NaN budget used to crash serialising the result."""
    r = client.post(
        "/api/cameras/plan",
        content='{"budget": NaN, "sites": []}',
        headers={**auth(tokens[Role.ADMIN]), "Content-Type": "application/json"},
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    "filename", ["..", "../../etc/passwd", "a" * 256 + ".csv", "x\x00y.csv", "", "con\\..\\x.csv"]
)
def test_hostile_upload_names_never_500(client, tokens, auth, filename):
    body = b"occurred_at,lat,lon,kind\n2025-01-01T00:00:00,50.85,4.35,shooting\n"
    for path, role in (("/api/incidents/import", Role.ANALYST), ("/api/review/plans", Role.ANALYST),
                       ("/api/patrols/protocols/validate", Role.PLANNER)):  # fmt: skip
        r = client.post(
            path, files={"file": (filename, body, "text/csv")}, headers=auth(tokens[role])
        )
        assert r.status_code < 500, (path, filename, r.status_code, r.text[:200])


def test_upload_name_is_a_plain_short_file_name():
    assert limits.upload_name("..") == "upload.csv"
    assert limits.upload_name("../../etc/passwd") == "passwd"
    assert limits.upload_name("C:\\x\\inv.xlsx") == "inv.xlsx"
    long = limits.upload_name("a" * 300 + ".geojson")
    assert len(long) == limits.MAX_NAME and long.endswith(".geojson")


def test_error_list_is_capped_with_a_count(client, tokens, auth):
    rows = "".join(f"t-{i},not-a-date-{i},50.85,4.35,shooting\n" for i in range(500))
    r = client.post(
        "/api/incidents/import",
        files={"file": ("bad.csv", ("id,occurred_at,lat,lon,kind\n" + rows).encode(), "text/csv")},
        headers=auth(tokens[Role.ANALYST]),
    )
    assert r.status_code == 422
    out = r.json()
    assert len(out["errors"]) == limits.MAX_LISTED_ERRORS and out["errors_total"] >= 500


def test_the_full_error_list_is_a_downloadable_report(client, tokens, auth):
    rows = "".join(f"t-{i},not-a-date-{i},50.85,4.35,shooting\n" for i in range(120))
    rows += "=cmd,2025-01-01T00:00:00+01:00,50.85,4.35,@SUM(1)\n"
    r = client.post(
        "/api/incidents/import",
        params={"report": "csv"},
        files={"file": ("bad.csv", ("id,occurred_at,lat,lon,kind\n" + rows).encode(), "text/csv")},
        headers=auth(tokens[Role.ANALYST]),
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/csv")
    assert "errors.csv" in r.headers["content-disposition"]
    lines = r.content.decode("utf-8-sig").splitlines()
    assert len(lines) >= 1 + 121  # header + every problem, not the first 50
    assert "'@SUM(1)" in r.content.decode("utf-8-sig")  # formula cells neutralised
