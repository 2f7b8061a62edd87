"""CLI helper for the patrols tests: the CLI mounted alone (root app may be mid-change)."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from typer.testing import CliRunner

from safecities.errors import SafecitiesError


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def _app() -> typer.Typer:
    from safecities.patrols.cli import mount

    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    mount(app)
    return app


def run_cli(args: list[str]) -> CliResult:
    """Invoke `safecities <args>` like `safecities.cli.main` does (errors: exit 1, one line)."""
    res = CliRunner().invoke(_app(), args)
    if isinstance(res.exception, SafecitiesError):
        return CliResult(1, res.stdout, f"safecities: error: {res.exception}")
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return CliResult(res.exit_code, res.stdout, "")


def activate(path) -> int:
    """Request a protocol and have it approved by Interior and a different Defence user."""
    import json

    res = run_cli(
        ["protocol", "request", str(path), "--reason", "test", "--as", "city-clerk", "--json"]
    )
    assert res.exit_code == 0, res.stderr
    pid = json.loads(res.stdout)["id"]
    for user, role in (("ana-interior", "interior_approver"), ("bert-defence", "defence_approver")):
        res = run_cli(["protocol", "approve", str(pid), "--as", user, "--role", role])
        assert res.exit_code == 0, res.stderr
    return pid


def planned_and_checked(protocol_path, first, last, out, *, seed: int = 5, time_limit: float = 30):
    """Plan `first`..`last` with the planner, write it to `out`, assert the independent checker
    passes it; the planner's result."""
    from safecities.patrols.check import check_plan
    from safecities.patrols.planner import Planner, write_plan
    from safecities.patrols.protocol import load_protocol
    from safecities.patrols.risk import default_profile

    p = load_protocol(protocol_path)
    res = Planner(
        p, first, last, default_profile(p), seed=seed, time_limit=time_limit, workers=1
    ).run()
    write_plan(res.rows, out)
    rep = check_plan(out, protocol_path)
    assert rep.ok, [v.message for v in rep.violations][:5]
    return res


def plan_checked(protocol_path, first, last, out, *, seed: int = 5):
    """`planned_and_checked`, the plan as a DataFrame (empty fields as '')."""
    import pandas as pd

    planned_and_checked(protocol_path, first, last, out, seed=seed)
    return pd.read_csv(out, keep_default_na=False)


def small_protocol(
    path,
    zones: list[tuple],
    *,
    police: int,
    defence: int,
    defence_size: int,
    cap: int,
    shift_starts: list[int],
    shift_length: int,
    travel: dict | None = None,
    rest: int = 12,
    week: int = 40,
    handover: int = 0,
    max_patrols: int = 2,
    diminishing: float = 0.3,
    fipa: list[dict] | None = None,
):
    """A small protocol file like the property tests draw (posts cp-a and cp-b, the same working
    time for both forces): `zones` are (id, command post, soldiers allowed, weight[, minimum of
    mixed patrols])."""
    from safecities.patrols.protocol import validate_document
    from safecities.safeio import dump_yaml

    wt = {"shift_min_hours": 6, "shift_max_hours": 10, "min_rest_hours": rest,
          "max_hours_per_week": week, "shift_starts": shift_starts,
          "shift_lengths": [shift_length]}  # fmt: skip
    doc = {
        "schema": "safecities.patrol-protocol/1", "city": "brussels", "version": "t",
        "timezone": "Europe/Brussels", "period": {"start": "2026-03-20", "end": "2026-09-20"},
        "soldier_cap": cap,
        "patrol": {"police_min_per_mixed_patrol": 2, "soldiers_max_per_patrol": 2},
        "defence_liaison": {"required": True},
        "command_posts": [{"id": "cp-a", "name": "A", "liaisons": ["DL-A1", "DL-A2"]},
                          {"id": "cp-b", "name": "B", "liaisons": ["DL-B1"]}],
        "zones": [{"id": z[0], "command_post": z[1], "soldiers_allowed": z[2], "weight": z[3],
                   "min_mixed_patrols": z[4] if len(z) > 4 else 0} for z in zones],
        "working_time": {"police": wt, "defence": wt},
        "unit_series": [
            {"prefix": "POL", "force": "police", "count": police, "size": 2},
            {"prefix": "DEF", "force": "defence", "count": defence, "size": defence_size}],
        "planning": {"max_patrols_per_zone": max_patrols, "diminishing_returns": diminishing},
        "handover_minutes": handover,
        "fipa": fipa or [],
    }  # fmt: skip
    if travel is not None:
        doc["travel"] = travel
    assert not validate_document(doc), validate_document(doc)
    path.write_text(dump_yaml(doc))  # no aliases (the two forces share their working time)
    return path
