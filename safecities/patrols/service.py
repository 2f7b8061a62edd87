# ruff: noqa: E501  (option help texts are kept on one line)
"""Library entry points behind the CLI: make a plan (always checked before it is written)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from safecities.errors import InputError, SafecitiesError
from safecities.patrols.check import check_plan
from safecities.patrols.planner import Planner, PlanResult, write_plan
from safecities.patrols.protocol import Protocol
from safecities.patrols.risk import default_profile, read_risk


class PlanRejected(SafecitiesError):
    """The planner produced a plan that the independent checker rejects (a bug: nothing written)."""


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from exc


def make_plan(
    protocol: Protocol,
    protocol_path: str | Path,
    first: date,
    last: date,
    out: str | Path,
    *,
    risk_path: str | Path | None = None,
    seed: int = 0,
    time_limit: float = 120.0,
    workers: int = 2,
    progress=None,
    planner_kwargs: dict[str, Any] | None = None,
    extra_rows: list[list[Any]] | None = None,
    prepare=None,
    check_path: str | Path | None = None,
) -> tuple[PlanResult, dict[str, Any]]:
    """Plan, check with the independent checker, and only then write `out` (atomically)."""
    notes: list[str] = []
    if risk_path is not None:
        risk, missing, ignored = read_risk(risk_path, protocol)
        if missing:
            notes.append(f"zones with no risk in {risk_path} (risk 0): {', '.join(missing)}")
        if ignored:
            notes.append(f"{len(ignored)} zone(s) in {risk_path} not in the protocol, skipped")
    else:
        risk = default_profile(protocol)
        notes.append("no --risk file: default profile (evening and night heavier) used")
    planner = Planner(
        protocol,
        first,
        last,
        risk,
        seed=seed,
        time_limit=time_limit,
        workers=workers,
        **(planner_kwargs or {}),
    )
    if prepare is not None:
        prepare(planner)
    result = planner.run(progress=progress)
    result.notes.extend(notes)
    rows = (extra_rows or []) + result.rows
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plan-", suffix=".csv", dir=out.parent)
    os.close(fd)
    try:
        write_plan(rows, tmp)
        report = check_plan(tmp, check_path or protocol_path)
        if not report.ok:
            first_v = report.violations[0]
            raise PlanRejected(
                f"the checker rejected the planner's output ({len(report.violations)} violations, first: "
                f"{first_v.rule}: {first_v.message}); nothing written"
            )
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return result, report.to_dict()
