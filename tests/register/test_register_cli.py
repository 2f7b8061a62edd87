"""The CLI of the register: demo, summary (JSON contract), import errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.register.demo import generate

runner = CliRunner()


def run(*args: str):
    return runner.invoke(build_app(), list(args), catch_exceptions=False)


def test_demo_scenario_matches_public_figures_and_is_deterministic():
    df = generate(seed=2025)
    ts = pd.to_datetime(df["occurred_at"], utc=True).dt.tz_convert("Europe/Brussels")
    assert len(df) == 57
    assert (ts.dt.date >= pd.Timestamp("2025-06-21").date()).sum() == 20
    assert ts.min() >= pd.Timestamp("2025-01-01", tz="Europe/Brussels")
    assert ts.max() < pd.Timestamp("2025-08-13", tz="Europe/Brussels")
    anchors = df[df["summary"].str.contains("public anchor")]
    assert list(anchors["occurred_at"].str[:10]) == ["2025-02-05", "2025-02-15"]
    assert anchors["lines_closed"].iloc[0].count(";") >= 1  # several metro lines closed
    assert anchors["killed"].iloc[1] == 1
    assert df["summary"].str.startswith("SYNTHETIC").all()
    pd.testing.assert_frame_equal(df, generate(seed=2025))
    assert not generate(seed=7).equals(df)
    # Clustered: most events lie within 600 m of a named hotspot or a metro station.
    other = generate(
        seed=3, start=pd.Timestamp("2024-01-01").date(), end=pd.Timestamp("2024-12-31").date()
    )
    assert 60 <= len(other) <= 110


def test_demo_then_summary_json_contract(db_env, tmp_path):
    res = run("demo", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    # The demo also activates the Brussels protocol (two approvals) and seeds synthetic cameras.
    assert d["protocol"]["status"] in ("active", "expired")  # expired after 20 September 2026
    assert d["protocol"]["city"] == "brussels"
    assert d["cameras"]["cameras"] > 50
    res = run("incidents", "summary", "--json", "--plot", str(tmp_path / "trend.png"))
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["synthetic"] is True and "SYNTHETIC" in s["note"]
    assert s["totals"]["incidents"] == 57
    assert s["since_1_january"]["incidents"] == 57 and s["since_1_january"]["from"] == "2025-01-01"
    assert s["since_summer"]["incidents"] == 20 and s["since_summer"]["from"] == "2025-06-21"
    assert sum(m["incidents"] for m in s["by_month"]) == 57
    assert [m["month"] for m in s["by_month"]][0] == "2025-01"
    assert sum(m["incidents"] for m in s["by_municipality"]) == 57
    assert {"nis", "name_nl", "name_fr", "incidents", "injured", "killed"} <= set(
        s["by_municipality"][0]
    )
    assert (tmp_path / "trend.png").stat().st_size > 10_000
    man = s["manifest"]
    assert man["command"] == "incidents summary" and len(man["inputs"]["incidents"]) == 64
    assert "numpy" in man["versions"]
    # Same inputs give the same figures (the manifest hash included).
    again = json.loads(run("incidents", "summary", "--json").stdout)
    assert again["by_month"] == s["by_month"]
    assert again["manifest"]["inputs"] == man["inputs"]
    # Filters
    anderlecht = json.loads(
        run("incidents", "summary", "--json", "--municipality", "Anderlecht").stdout
    )
    assert 0 < anderlecht["totals"]["incidents"] < 57
    assert {m["nis"] for m in anderlecht["by_municipality"]} == {"21001"}
    since = json.loads(run("incidents", "summary", "--json", "--since", "2025-06-21").stdout)
    assert since["totals"]["incidents"] == 20
    # Re-running the demo is idempotent.
    again = json.loads(run("demo", "--json").stdout)
    assert again["import"]["inserted"] == 0 and again["import"]["unchanged"] == 57


def test_cli_errors_exit_nonzero_with_one_line(tmp_path, db_env):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,occurred_at,lat,lon,kind,injured,killed\nA,2025-13-01,50.84,4.33,shooting,0,0\n"
    )
    cmds = [
        ["incidents", "import", str(bad)],
        ["incidents", "import", str(tmp_path / "missing.csv")],
        ["incidents", "summary", "--since", "last week"],
        ["incidents", "summary", "--municipality", "Atlantis"],
    ]
    for args in cmds:
        proc = subprocess.run(
            [sys.executable, "-m", "safecities", *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 1, (args, proc.stderr)
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("safecities: error: "), proc.stderr
        assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "safecities",
            "incidents",
            "import",
            str(bad),
            "--report",
            str(tmp_path / "e.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert "bad.csv:1: field 'occurred_at': unparseable time" in proc.stderr
    assert "bad.csv,1,occurred_at,unparseable time" in (tmp_path / "e.csv").read_text()


def test_every_command_has_help():
    app = build_app()
    commands = [
        ["incidents"],
        ["incidents", "import"],
        ["incidents", "summary"],
        ["demo"],
        ["db", "upgrade"],
        ["reference", "load"],
        ["incidents", "demo-data"],
        [],
    ]
    for args in (c + ["--help"] for c in commands):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and "Usage" in res.output, args


def test_reference_data_is_bundled_with_sources():
    from safecities.register import reference

    m = reference.municipalities()
    assert len(m) == 19 and set(m["nis"]) == {f"210{i:02d}" for i in range(1, 20)}
    assert reference.stations(kind="metro").shape[0] == 70
    clem = reference.stations(kind="metro").set_index("name").loc["Clemenceau"]
    assert clem["lines"] == ["2", "6"]
    z = reference.zones().set_index("id")
    for zid in ("clemenceau", "peterbos", "gare-du-nord", "parc-bonnevie", "matonge",
                "railway-north", "railway-central", "railway-south"):  # fmt: skip
        assert zid in z.index and z.loc[zid, "drawn_how"] and z.loc[zid, "command_post"]
    rail = reference.stations(kind="railway")
    assert {"Brussel-Noord/Bruxelles-Nord", "Brussel-Zuid/Bruxelles-Midi"} <= set(rail["name"])
    # The other cities have their railway stations bundled (Walloon boundaries are not).
    for city in ("antwerp", "ghent", "liege", "charleroi", "mons"):
        assert len(reference.stations(city, "railway")) >= 1
    sources = (Path(reference.__file__).parents[1] / "data" / "SOURCES.md").read_text()
    assert "Statbel" in sources and "STIB-MIVB" in sources and "CC0" in sources


def test_zones_can_be_replaced_from_geojson(db_env, tmp_path):
    ring = [
        [4.3300, 50.8400],
        [4.3330, 50.8400],
        [4.3330, 50.8420],
        [4.3300, 50.8420],
        [4.3300, 50.8400],
    ]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": "clemenceau",
                    "name": "Clemenceau",
                    "kind": "hotspot",
                    "command_post": "ZP Midi",
                    "drawn_how": "outline drawn by the local police",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    f = tmp_path / "zones.geojson"
    f.write_text(json.dumps(fc))
    res = run("reference", "zones-import", str(f), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == {"zones": 1}
    fc["features"][0]["properties"]["kind"] = "castle"
    f.write_text(json.dumps(fc))
    proc = subprocess.run(
        [sys.executable, "-m", "safecities", "reference", "zones-import", str(f)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "zones.geojson:1: field 'kind'" in proc.stderr


def test_summary_of_a_city_without_incidents(db_env):
    for args in (["--since", "2025-06-21"], ["--city", "antwerp"], []):
        res = run("incidents", "summary", "--json", *args)
        assert res.exit_code == 0, res.output
        s = json.loads(res.stdout)
        assert s["totals"]["incidents"] == 0 and s["by_month"] == []
