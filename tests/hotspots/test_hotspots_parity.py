"""CLI and API parity: every verb both offer gives the same JSON on the same inputs (the
register's demo incidents, read by the CLI with --from-db), timings and the manifest's
timestamp aside. Both doors call `safecities.hotspots.service`, so this guards the doors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from safecities.domain import Role

#: Wall-clock figures: the only keys allowed to differ between two runs.
TIMINGS = {"seconds", "wall_seconds", "cpu_seconds", "created_at"}


@pytest.fixture(scope="module", autouse=True)
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    load_demo(api_engine, var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture
def cli_on_register(api_engine, monkeypatch):
    """Run `safecities hotspots ... --from-db --json` against the API's store."""
    from safecities.cli import build_app
    from safecities.config import get_settings
    from safecities.store.db import get_engine

    monkeypatch.setenv("SAFECITIES_DATABASE_URL", str(api_engine.url))
    get_settings.cache_clear()
    get_engine.cache_clear()
    app, runner = build_app(), CliRunner()

    def run(*args: str) -> dict[str, Any]:
        res = runner.invoke(app, ["hotspots", *args, "--from-db", "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout[res.stdout.index("{") :])

    yield run
    monkeypatch.delenv("SAFECITIES_DATABASE_URL")
    get_settings.cache_clear()
    get_engine.cache_clear()


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in TIMINGS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def h(tokens):
    return {"Authorization": f"Bearer {tokens[Role.ANALYST]}"}


CASES = [
    (
        "detect",
        {"start": "2025-02-01", "end": "2025-08-01", "cell_size": 250, "alpha": 0.1},
        ["--start", "2025-02-01", "--end", "2025-08-01", "--cell-size", "250", "--alpha", "0.1",
         "--city", "brussels"],
    ),
    (
        "emerging",
        {"slice": "30d", "cell_size": 300},
        ["--slice", "30d", "--cell-size", "300", "--city", "brussels"],
    ),
    (
        "near-repeat",
        {"permutations": 19, "space_band": 150, "seed": 3},
        ["--permutations", "19", "--space-band", "150", "--seed", "3"],
    ),
    (
        "profile",
        {"until": "2025-08-01", "window_days": 120},
        ["--until", "2025-08-01", "--window-days", "120", "--city", "brussels"],
    ),
]  # fmt: skip


@pytest.mark.parametrize("verb, params, args", CASES, ids=[c[0] for c in CASES])
def test_read_verbs_give_the_same_json(client, h, cli_on_register, verb, params, args):
    api = client.get(f"/api/hotspots/{verb}", headers=h, params=params)
    assert api.status_code == 200, api.text
    cli = cli_on_register(verb, *args)
    assert _strip(cli) == _strip(api.json())
    assert cli["manifest"]["inputs"]["incidents"]  # the same rows were hashed by both


def test_backtest_gives_the_same_json(client, h, cli_on_register):
    body = {"start": "2025-06-01", "end": "2025-07-13", "horizon": "7d",
            "methods": ["naive", "kde"], "coverage": [1, 5, 20], "cell_size": 250}  # fmt: skip
    api = client.post("/api/hotspots/backtest", headers=h, json=body)
    assert api.status_code == 200, api.text
    cli = cli_on_register(
        "backtest", "--start", "2025-06-01", "--end", "2025-07-13", "--horizon", "7d",
        "--methods", "naive,kde", "--coverage", "1,5,20", "--cell-size", "250",
        "--city", "brussels",
    )  # fmt: skip
    assert _strip(cli) == _strip(api.json())


def test_forecast_gives_the_same_json_plus_the_map_cells(client, h, cli_on_register):
    params = {"method": "kde", "horizon": "7d", "at": "2025-07-01", "cell_size": 250, "top": 5}
    api = client.get("/api/hotspots/forecast", headers=h, params=params).json()
    cli = cli_on_register(
        "forecast", "--method", "kde", "--horizon", "7d", "--at", "2025-07-01",
        "--cell-size", "250", "--top", "5", "--city", "brussels",
    )  # fmt: skip
    map_only = {"cells", "cell_size_m", "top_pct"}
    assert set(api) - set(cli) == map_only
    assert _strip(cli) == _strip({k: v for k, v in api.items() if k not in map_only})
    assert api["cells"]["features"][0]["properties"]["rank"] == 1
