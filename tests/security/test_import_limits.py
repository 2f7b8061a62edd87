"""Issue 18, item 3 (second part): imports of files where every row is bad keep bounded memory
(the first problems, exact counts per field and reason, every problem streamed to errors.csv),
Parquet uploads are checked against the workbook limits from their footer, the camera import
API answers `?report=csv`, and one function names uploaded files.

Sent through the in-process app (loopback only); memory itself is measured in
benchmarks/import_errors_memory.py, not here."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from safecities import safeio
from safecities.api import limits
from safecities.cameras.models import Camera
from safecities.cameras.service import verbs
from safecities.domain import Role, RowError
from safecities.errors import InputError, ProblemLog
from safecities.register.service import import_incidents
from safecities.store.db import session_scope
from safecities.store.models import Incident

HEADER = "id,occurred_at,lat,lon,kind\n"
CAMERA_HEADER = "cameranummer;breedtegraad;lengtegraad;soort plaats;type camera;status\n"


def _all_bad_incidents(n: int) -> bytes:
    """n rows, each with exactly one problem: an unparseable time (first and last row too)."""
    return (HEADER + "".join(f"t-{i},not-a-date-{i},50.85,4.35,shooting\n"
                             for i in range(n))).encode()  # fmt: skip


def _count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# -- the problem log -------------------------------------------------------------------------


def test_problem_log_keeps_the_first_counts_all_and_streams_every_one(tmp_path):
    out = tmp_path / "errors.csv"
    with ProblemLog(out, keep=3, file_name="upload.csv") as log:
        for i in range(1, 1001):
            log.add(RowError("/tmp/x/upload.csv", i, "id", f"duplicate id (first at row {i})"))
        log.add(RowError("/tmp/x/upload.csv", 1001, "kind", "unknown kind", "=1+1"))
    assert [e.row for e in log.kept] == [1, 2, 3] and log.total == len(log) == 1001
    assert log.counts() == [
        {"field": "id", "reason": "duplicate id (first at row #)", "count": 1000},
        {"field": "kind", "reason": "unknown kind", "count": 1},
    ]
    rows = _csv_rows(out.read_bytes())
    assert rows[0] == ["file", "row", "field", "reason", "value"] and len(rows) == 1 + 1001
    assert rows[1][0] == "upload.csv"  # the upload's own name, not the temporary path
    assert rows[-1] == ["upload.csv", "1001", "kind", "unknown kind", "'=1+1"]
    exc = log.error("refused")
    assert isinstance(exc, InputError) and len(exc.errors) == 3 and exc.errors_total == 1001


def test_incident_import_keeps_n_problems_and_writes_the_full_report(tmp_path, sqlite_engine):
    f = tmp_path / "bad.csv"
    f.write_bytes(_all_bad_incidents(5000))
    report = tmp_path / "errors.csv"
    with pytest.raises(InputError) as info:
        import_incidents(sqlite_engine, f, report=report, keep=200)
    exc = info.value
    assert len(exc.errors) == 200 and exc.errors_total == 5000
    assert exc.counts == [{"field": "occurred_at", "reason": "unparseable time", "count": 5000}]
    rows = _csv_rows(report.read_bytes())
    assert len(rows) == 1 + 5000
    assert rows[1][1] == "1" and rows[-1][1] == "5000"  # first and last row both reported
    assert _count(sqlite_engine, Incident) == 0


def test_a_file_level_refusal_still_writes_its_report(tmp_path, sqlite_engine):
    f = tmp_path / "nocols.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    report = tmp_path / "errors.csv"
    with pytest.raises(InputError):
        import_incidents(sqlite_engine, f, report=report)
    rows = _csv_rows(report.read_bytes())
    assert len(rows) == 2 and rows[1][2] == "file" and "missing column" in rows[1][3]


# -- the incident import API -----------------------------------------------------------------


def test_50000_bad_rows_answer_a_capped_body_and_a_complete_report(
    client, tokens, auth, api_engine
):
    data = _all_bad_incidents(50_000)
    before = _count(api_engine, Incident)
    files = {"file": ("all_bad.csv", data, "text/csv")}
    r = client.post("/api/incidents/import", files=files, headers=auth(tokens[Role.ANALYST]))
    assert r.status_code == 422
    out = r.json()
    assert len(out["errors"]) == limits.MAX_LISTED_ERRORS and out["errors_total"] == 50_000
    assert out["error_counts"] == [
        {"field": "occurred_at", "reason": "unparseable time", "count": 50_000}
    ]
    assert len(r.content) < 30_000  # kilobytes, whatever the file

    r = client.post("/api/incidents/import", params={"report": "csv"}, files=files,
                    headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="errors.csv"' in r.headers["content-disposition"]
    rows = _csv_rows(r.content)
    assert len(rows) == 1 + 50_000 and {row[0] for row in rows[1:]} == {"all_bad.csv"}
    assert rows[1][1] == "1" and rows[-1][1] == "50000"
    assert _count(api_engine, Incident) == before  # all or nothing


def test_a_good_import_with_report_csv_answers_json(client, tokens, auth, api_engine):
    data = (HEADER + "ok-1,2025-03-01T22:10:00+01:00,50.84,4.33,shooting\n").encode()
    r = client.post("/api/incidents/import", params={"report": "csv"},
                    files={"file": ("good.csv", data, "text/csv")},
                    headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 200 and r.json()["ok"] and r.json()["errors_total"] == 0


# -- Parquet ---------------------------------------------------------------------------------


def _parquet(table: pa.Table, **kwargs) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kwargs)
    return buf.getvalue()


def test_parquet_declaring_too_many_rows_or_columns_is_refused_unread(tmp_path, monkeypatch):
    rows = tmp_path / "rows.parquet"
    rows.write_bytes(_parquet(pa.table({"id": pa.array(range(safeio.XLSX_MAX_ROWS + 1))})))
    cols = tmp_path / "cols.parquet"
    cols.write_bytes(_parquet(pa.table({f"c{i}": [1] for i in range(safeio.XLSX_MAX_COLUMNS + 1)})))
    read = []
    monkeypatch.setattr(pq.ParquetFile, "read", lambda *a, **k: read.append(1))
    for f, what in ((rows, "200001 rows"), (cols, "201 columns")):
        with pytest.raises(safeio.SpreadsheetTooLarge, match=what):
            safeio.parquet_frame(f)
    assert read == []  # refused from the footer, no data page read


def test_parquet_declaring_a_large_uncompressed_size_is_refused(tmp_path, monkeypatch):
    f = tmp_path / "big.parquet"
    f.write_bytes(_parquet(pa.table({"v": ["x" * 1000] * 3000}), use_dictionary=False))
    monkeypatch.setattr(safeio, "XLSX_MAX_EXPANDED", 1024 * 1024)  # 1 MB; the file holds 3 MB
    with pytest.raises(safeio.SpreadsheetTooLarge, match="uncompressed"):
        safeio.parquet_frame(f)


def test_parquet_dictionary_bomb_is_refused_before_expanding(tmp_path):
    # One 1 MB value repeated on 300 rows: 1 MB declared, 300 MB once decoded.
    bomb = pa.DictionaryArray.from_arrays(pa.array([0] * 300, pa.int32()), pa.array(["x" * 2**20]))
    f = tmp_path / "bomb.parquet"
    f.write_bytes(_parquet(pa.table({"id": bomb})))
    with pytest.raises(safeio.SpreadsheetTooLarge, match="expands to 300 MB"):
        safeio.parquet_frame(f)


def test_parquet_within_limits_reads_as_before(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"id": ["a", "a", None], "lat": [50.8, 50.9, None]})
    f = tmp_path / "ok.parquet"
    df.to_parquet(f)
    pd.testing.assert_frame_equal(safeio.parquet_frame(f), pd.read_parquet(f))


def test_parquet_upload_over_the_limits_answers_422_naming_the_file(client, tokens, auth):
    bomb = pa.DictionaryArray.from_arrays(pa.array([0] * 300, pa.int32()), pa.array(["x" * 2**20]))
    files = {"file": ("bomb.parquet", _parquet(pa.table({"id": bomb})), "application/octet-stream")}
    r = client.post("/api/incidents/import", files=files, headers=auth(tokens[Role.ANALYST]))
    assert r.status_code == 422
    reason = r.json()["errors"][0]["reason"]
    assert "bomb.parquet" in reason and "too large" in reason


# -- the camera import API -------------------------------------------------------------------


def _all_bad_cameras(n: int) -> bytes:
    """n rows, each with one problem: a latitude that is not a number."""
    return (CAMERA_HEADER + "".join(f"A-{i};noord;4,3093;niet-besloten plaats;vast;actief\n"
                                    for i in range(n))).encode()  # fmt: skip


def test_camera_import_api_caps_errors_and_counts_them(client, tokens, auth, api_engine):
    before = _count(api_engine, Camera)
    files = {"file": ("inventaris.csv", _all_bad_cameras(300), "text/csv")}
    r = client.post("/api/cameras/import", data={"municipality": "21001"}, files=files,
                    headers=auth(tokens[Role.ADMIN]))  # fmt: skip
    assert r.status_code == 400
    out = r.json()
    assert len(out["errors"]) == limits.MAX_LISTED_ERRORS and out["errors_total"] == 300
    assert sum(c["count"] for c in out["error_counts"]) == 300
    assert _count(api_engine, Camera) == before


def test_camera_import_api_report_csv_lists_every_problem(client, tokens, auth, api_engine):
    before = _count(api_engine, Camera)
    files = {"file": ("inventaris.csv", _all_bad_cameras(300), "text/csv")}
    r = client.post("/api/cameras/import", params={"report": "csv"},
                    data={"municipality": "21001"}, files=files,
                    headers=auth(tokens[Role.ADMIN]))  # fmt: skip
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="errors.csv"' in r.headers["content-disposition"]
    rows = _csv_rows(r.content)
    assert rows[0] == ["file", "row", "field", "reason", "value"] and len(rows) == 1 + 300
    assert {row[0] for row in rows[1:]} == {"inventaris.csv"}
    assert [int(row[1]) for row in rows[1:]] == list(range(1, 301))
    assert _count(api_engine, Camera) == before


def test_camera_import_api_report_csv_for_a_file_level_refusal(client, tokens, auth):
    files = {"file": ("leeg.csv", b"a;b\n", "text/csv")}
    r = client.post("/api/cameras/import", params={"report": "csv"},
                    data={"municipality": "21001"}, files=files,
                    headers=auth(tokens[Role.ADMIN]))  # fmt: skip
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/csv")
    rows = _csv_rows(r.content)
    assert len(rows) == 2 and rows[1][:3] == ["leeg.csv", "0", "file"]


def test_camera_cli_report_is_streamed_and_complete(tmp_path, sqlite_engine):
    f = tmp_path / "inventaris.csv"
    f.write_bytes(_all_bad_cameras(1000))
    report = tmp_path / "errors.csv"
    req = verbs.ImportRequest(f, "21001", report=report, keep=20)
    with session_scope(sqlite_engine) as s, pytest.raises(InputError) as info:
        verbs.import_file(s, verbs.Caller.of("root", "admin"), req)
    assert len(info.value.errors) == 20 and info.value.errors_total == 1000
    body = verbs.import_error(req, info.value).to_dict()
    assert body["errors_total"] == 1000 and len(body["errors"]) == 20
    assert len(_csv_rows(report.read_bytes())) == 1 + 1000
    assert _count(sqlite_engine, Camera) == 0


# -- one safe upload name --------------------------------------------------------------------


def test_one_upload_name_function():
    assert not hasattr(verbs, "safe_name")
    assert limits.upload_name is safeio.upload_name is verbs.upload_name


def test_camera_upload_with_a_hostile_name_lands_under_its_plain_name(tmp_path, sqlite_engine):
    data = (CAMERA_HEADER + "A-1;50,8366;4,3093;niet-besloten plaats;vast;actief\n").encode()
    with session_scope(sqlite_engine) as s:
        res = verbs.import_upload(s, verbs.Caller.of("root", "admin"), "../../etc/inv\x00.csv",
                                  data, "21001")  # fmt: skip
    assert res.to_dict()["file"] == "inv_.csv"


@pytest.mark.parametrize(
    "text",
    ['a;b\r\n1;"x\r\ny"\r\n\r\n2;3', "a;b\n1;x\n2;3\n", "a;b\r1;2\r3;4\r", "a;b", ""],
)
def test_text_lines_reads_as_stringio_does(text):
    # CRLF with a quoted line break, LF, old Mac CR, no final newline, empty.
    assert list(csv.reader(safeio.text_lines(text), delimiter=";")) == list(
        csv.reader(io.StringIO(text, newline=""), delimiter=";")
    )


def test_import_pages_list_200_problems_and_give_the_total(client, demo_accounts):
    acc = demo_accounts[Role.ADMIN]
    client.post("/login", data={"name": acc["name"], "password": acc["password"]})
    r = client.post("/incidents/import", files={"file": ("bad.csv", _all_bad_incidents(250),
                                                         "text/csv")})  # fmt: skip
    assert r.status_code in (200, 422)
    assert "250 problem(s)" in r.text and "Only the first 200 are listed" in r.text
    assert r.text.count("not-a-date-") == 200
    r = client.post(
        "/cameras/import",
        data={"municipality": "21001"},
        files={"file": ("inventaris.csv", _all_bad_cameras(250), "text/csv")},
    )
    assert r.status_code == 422
    assert "250 problem(s)" in r.text and "Only the first 200 are listed" in r.text
    assert r.text.count("noord") == 200
