"""The CLI contract: `safecities hotspots forecast|backtest ...` (other tools rely on it)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from safecities.cli import build_app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(build_app(), ["hotspots", *args], catch_exceptions=True)


def test_forecast_writes_geojson(events_csv, tmp_path):
    out = tmp_path / "risk.geojson"
    r = run(
        "forecast", "--events", str(events_csv), "--method", "sepp", "--cell-size", "150",
        "--at", "2025-11-01T00:00", "--horizon", "1d", "--out", str(out), "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["method"] == "sepp" and doc["horizon_days"] == 1.0
    assert doc["grid"]["cell_size_m"] == 150.0 and doc["n_events_used"] > 100
    assert doc["manifest"]["command"] == "hotspots forecast" and doc["manifest"]["inputs"]
    assert {"theta", "sigma", "mean_delay_days"} <= doc["fitted"].keys()
    gj = json.loads(out.read_text())
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == doc["grid"]["n_cells"]
    props = gj["features"][0]["properties"]
    assert props["rank"] == 1 and {"cell_id", "risk", "area_pct"} <= props.keys()
    # only training events before --at were used
    early = run("forecast", "--events", str(events_csv), "--method", "naive",
                "--at", "2025-02-01", "--json")  # fmt: skip
    assert json.loads(early.stdout)["n_events_used"] < doc["n_events_used"]


def test_backtest_json_contract(events_csv):
    r = run(
        "backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end", "2025-10-15",
        "--horizon", "1d", "--cell-size", "250", "--methods", "naive,kde,prospective,sepp",
        "--coverage", "1,5,10,20", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc["methods"]) == ["naive", "kde", "prospective", "sepp"]
    for m in doc["methods"].values():
        assert m["n_windows"] == 14 and m["seconds"] >= 0
        assert list(m["coverage"]) == ["1", "5", "10", "20"]
        for c in m["coverage"].values():
            assert {"hit_rate", "pai", "pei", "hit_rate_ci", "pai_ci", "pei_ci"} <= c.keys()
    assert doc["best"]["method"] in doc["methods"]
    assert len(doc["table"]) == 16 and doc["manifest"]["command"] == "hotspots backtest"
    plain = run("backtest", "--events", str(events_csv), "--start", "2025-10-01",
                "--end", "2025-10-03", "--methods", "naive")  # fmt: skip
    assert plain.exit_code == 0 and "naive" in plain.stdout


def test_mapping_file_and_collapse(hs_data):
    r = run(
        "backtest", "--events", str(hs_data / "nypd_sample.csv"), "--mapping", "nypd",
        "--start", "2019-06-01", "--end", "2019-06-03", "--methods", "naive", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_events"] == 38 and doc["n_collapsed"] == 12
    assert doc["start"].endswith("-04:00")  # dates read in the data's time zone (New York)


def test_bad_input_is_one_line_not_a_traceback(events_csv, tmp_path):
    from safecities.errors import InputError

    cases = [
        ("forecast", "--events", str(tmp_path / "nope.csv"), "--at", "2025-01-01"),
        ("forecast", "--events", str(events_csv), "--method", "magic", "--at", "2025-06-01"),
        ("forecast", "--events", str(events_csv), "--horizon", "soon"),
        ("forecast", "--events", str(events_csv), "--at", "2020-01-01"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end", "2025-09-01"),
        ("backtest", "--events", str(events_csv), "--start", "x", "--end", "2025-09-01"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end",
         "2025-10-02", "--coverage", "0,500"),
        ("backtest", "--events", str(events_csv), "--start", "2025-10-01", "--end",
         "2025-10-02", "--methods", "naive,oracle"),
        ("forecast", "--events", str(events_csv), "--cell-size", "-5"),
    ]  # fmt: skip
    for args in cases:
        r = run(*args)
        assert r.exit_code != 0, args
        assert isinstance(r.exception, InputError), (args, repr(r.exception))
        assert "\n" not in str(r.exception)
