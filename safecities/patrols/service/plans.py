# ruff: noqa: E501  (messages are kept on one line)
"""Plan verbs: make (always checked before it is written), check, export.

`make` is the CLI's `plan make` (any protocol file, any output path, re-planning);
`saved.make_saved` is the API's and the web's (the bundled or a stored protocol, plans kept under
<var_dir>/plans/); both build their answer with `plan_payload`, so the keys they share mean the same.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from safecities.errors import InputError, SafecitiesError
from safecities.manifest import RunManifest
from safecities.patrols.check import CheckReport, check_plan
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
    after: str | Path | None = None,
    changes: dict[str, Any] | None = None,
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
        report = check_plan(tmp, check_path or protocol_path, after=after, changes=changes)
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


def soldier_zones(proto: Protocol) -> list[dict[str, Any]]:
    """Which zones admit soldiers and why (the protocol's basis), for plans and pages."""
    return [
        {
            "zone": z.id,
            "name": z.name,
            "command_post": z.command_post,
            "soldiers_allowed": z.soldiers_allowed,
            "terrain": z.terrain,
            "why": z.soldiers_why(),
        }
        for z in proto.zones
    ]


def plan_payload(
    proto: Protocol,
    first: date,
    last: date,
    result: PlanResult,
    check: dict[str, Any],
    protocol_id: int,
) -> dict[str, Any]:
    """The keys every `plan make` answer has (CLI `--json`, API, web)."""
    return {
        "city": proto.city,
        "protocol_id": protocol_id,
        "protocol_version": proto.version,
        "from": first,
        "to": last,
        "rows": len(result.rows),
        "status": result.status,
        "objective": round(result.objective, 4),
        "gap": round(result.gap, 6),
        "check": {"ok": check["ok"], "violation_count": check["violation_count"]},
        "soldier_zones": soldier_zones(proto),
    }


# --- re-planning (CLI, API and web) ----------------------------------------------------------


@dataclass
class Replan:
    """A re-plan of an old plan from `first` with parsed changes (`replan.parse_changes`): the old
    plan is kept before `first` 00:00 local, its shifts and visits after it are what the re-plan
    tries to keep (a bonus for each old shift, unchanged hours verbatim)."""

    changes: dict[str, Any]
    old: dict[str, Any]
    planner_kwargs: dict[str, Any]

    @classmethod
    def of(
        cls,
        proto: Protocol,
        old_plan: Path,
        first: date,
        last: date,
        ch: dict[str, Any],
        after: Path | None = None,
    ) -> Replan:
        """`after`: the plan the old plan continued (`plan make --after`); its shifts count for
        rest and weekly hours, and when the re-plan starts on the old plan's first day, the night
        across the seam stays the predecessor's."""
        from safecities.errors import InputError
        from safecities.patrols.planner import Grid
        from safecities.patrols.replan import continued, duty_gap_q, load_old_plan

        grid = Grid(proto, first, last)
        ho_q, gap_q = proto.handover_minutes // 15, duty_gap_q(proto)
        old = load_old_plan(old_plan, grid, ho_q, gap_q)
        blocked: dict[str, list] = {}
        for c in ch.get("unit_unavailable") or []:
            blocked.setdefault(c["unit"], []).append((c["from"], c["to"]))
        kwargs = {
            "history": old["history"],
            "unavailable": set(ch.get("units_out") or []),
            "closures": [(c["zone"], c["from"], c["to"]) for c in ch.get("close_zone") or []],
            "cap_from": None if not ch.get("cap") else (ch["cap"]["from"], ch["cap"]["value"]),
            "blocked": blocked,
            "before": old["kept"],
        }
        if after is not None:
            pred = load_old_plan(after, grid, ho_q, gap_q)
            kwargs["history"] = pred["history"] + kwargs["history"]
            # the re-plan starts where the old plan started: the seam is the predecessor's (a
            # later start: the old plan's kept rows carry the seam, and this raises)
            with contextlib.suppress(InputError):
                kwargs["frozen_until"] = continued(pred, after, proto, grid, first)["frozen_until"]
        return cls(ch, old, kwargs)

    def keep_old(self, planner: Planner) -> None:
        planner.old_shifts = self.old["old_shifts"]
        # unchanged hours keep their visits verbatim (with routes and handovers: where they hang
        # together with the hour before, `Planner._route_or_keep`)
        planner.reuse = self.old["reuse"]
        # with routes, old hours are weighed against a fresh draw only under a new risk table
        planner.reuse_compare = bool(self.changes.get("risk"))

    def report(self, result: PlanResult, fallback: str | None) -> dict[str, Any]:
        """The `replan` keys: rows kept, visits and shifts changed, and `fallback` (null, or why
        the plan was made afresh from `first`)."""
        from safecities.patrols.replan import changed_assignments, changed_shifts

        return {
            "kept_rows": len(self.old["kept"]),
            **changed_assignments(self.old["after"], result.rows),
            **changed_shifts(self.old["old_shifts"], result.shifts),
            "fallback": fallback,
        }


def plan_with_fallback(
    rp: Replan | None,
    proto: Protocol,
    protocol_path: str | Path,
    first: date,
    last: date,
    out: str | Path,
    **kwargs: Any,
) -> tuple[PlanResult, dict[str, Any], str | None]:
    """`make_plan`, as a re-plan when `rp` is given. A re-plan never fails where a fresh plan of
    the same days succeeds: when keeping the old plan's shifts and visits cannot be planned or
    checked, the days from `first` are planned afresh (same kept past, same changes, no stability
    bonus, no reused visits) and the third value says why; when that fails too, its error is the
    answer (the days themselves cannot be planned)."""
    from safecities.patrols.planner import InfeasiblePlan, NoPlanInTime

    if rp is None:
        return (*make_plan(proto, protocol_path, first, last, out, **kwargs), None)
    common = dict(kwargs, extra_rows=rp.old["kept"], changes=rp.changes)
    try:
        result, check = make_plan(
            proto, protocol_path, first, last, out, prepare=rp.keep_old, **common
        )
        return result, check, None
    except (InfeasiblePlan, NoPlanInTime, PlanRejected) as exc:
        why = (
            f"keeping the old plan failed ({str(exc).splitlines()[0]}); planned afresh from {first}"
        )
    result, check = make_plan(proto, protocol_path, first, last, out, **common)
    result.notes.append(why)
    return result, check, why


# --- plan make (CLI) ---------------------------------------------------------------------------


@dataclass
class MakeOptions:
    """The options of `plan make`."""

    protocol: Path
    first: date
    last: date
    out: Path
    risk: Path | None = None
    seed: int = 0
    time_limit: float = 120.0
    workers: int = 2
    solver: str = "cpsat"
    from_plan: Path | None = None
    changes: Path | None = None
    after: Path | None = None  # the plan this one continues


@dataclass
class MakeResult:
    """A plan written to `options.out`; `to_dict()` is `plan make --json` without the manifest."""

    options: MakeOptions
    protocol: Protocol
    protocol_id: int
    result: PlanResult
    check: dict[str, Any]
    replan: dict[str, Any] | None
    manifest: RunManifest

    def to_dict(self) -> dict[str, Any]:
        o, r = self.options, self.result
        base = plan_payload(self.protocol, o.first, o.last, r, self.check, self.protocol_id)
        return {
            "out": str(o.out),
            **{
                k: base[k]
                for k in (
                    "city",
                    "protocol_version",
                    "from",
                    "to",
                    "rows",
                    "protocol_id",
                    "status",
                    "objective",
                )
            },
            "bound": round(r.bound, 4),
            "gap": base["gap"],
            "solve_seconds": round(r.solve_seconds, 3),
            "chunks": r.chunks,
            "check": base["check"],
            "replan": self.replan,
            "after": None if o.after is None else str(o.after),
            "soldier_zones": base["soldier_zones"],
            "notes": r.notes,
        }

    def summary(self) -> str:
        r = self.result
        admit = [z.id for z in self.protocol.zones if z.soldiers_allowed]
        police = [z.id for z in self.protocol.zones if not z.soldiers_allowed]
        return (
            f"{self.options.out}: {len(r.rows)} visits, {r.status}, objective {r.objective:.2f}, "
            f"bound {r.bound:.2f}, gap {100 * r.gap:.2f} %, solver {r.solve_seconds:.1f} s; "
            "checked: no violation\n"
            f"soldiers admitted in {len(admit)} zones ({', '.join(admit)}) and at FIPA; "
            f"police-only: {', '.join(police) or 'none'} (why: `--json` soldier_zones)"
        )


def infeasible_dict(exc, opts: MakeOptions) -> dict[str, Any]:
    """`plan make --json` when the protocol cannot be met (exit 1)."""
    manifest = RunManifest(
        command="plan make",
        parameters={"protocol": str(opts.protocol), "from": opts.first, "to": opts.last},
        seed=opts.seed,
        solver={"name": "OR-Tools CP-SAT", "status": "INFEASIBLE"},
    )
    manifest.add_input_file("protocol", opts.protocol)
    return {
        "status": "INFEASIBLE",
        "out": None,
        "reasons": exc.reasons,
        "manifest": manifest.to_dict(),
    }


def planned_chunks(first: date, last: date) -> int:
    """How many weekly chunks the planner solves (for a progress bar)."""
    from safecities.patrols.planner import chunks_of

    return len(chunks_of(first, last)) if first <= last else 0


def make(engine: Engine, opts: MakeOptions, *, progress=None) -> MakeResult:
    """`plan make`: a roster under an active protocol file, checked before it is written; with
    `from_plan` (and `changes`) a re-plan that keeps the old plan before `first`."""
    from safecities.patrols.governance import require_active
    from safecities.patrols.protocol import load_protocol, read_document
    from safecities.patrols.replan import read_changes
    from safecities.store.db import session_scope

    proto = load_protocol(opts.protocol)
    with session_scope(engine) as session:
        active = require_active(session, read_document(opts.protocol)[0])
    if opts.changes is not None and opts.from_plan is None:
        raise InputError("--changes needs --from-plan (the plan being changed)")
    check_protocol, rp, ch = opts.protocol, None, {}
    planner_kwargs: dict[str, Any] = {"backend": opts.solver}
    risk = opts.risk
    if opts.from_plan is not None:
        ch = read_changes(opts.changes, proto) if opts.changes else {}
        if ch.get("risk") and risk is None:
            risk = Path(ch["risk"])
        rp = Replan.of(proto, opts.from_plan, opts.first, opts.last, ch, opts.after)
        planner_kwargs.update(rp.planner_kwargs)

    elif opts.after is not None:
        from safecities.patrols.replan import load_previous_plan

        prev = load_previous_plan(opts.after, proto, opts.first, opts.last)
        planner_kwargs.update(history=prev["history"], frozen_until=prev["frozen_until"])

    result, check, fallback = plan_with_fallback(
        rp,
        proto,
        opts.protocol,
        opts.first,
        opts.last,
        opts.out,
        risk_path=risk,
        seed=opts.seed,
        time_limit=opts.time_limit,
        workers=opts.workers,
        progress=progress,
        planner_kwargs=planner_kwargs,
        check_path=check_protocol,
        after=opts.after,
    )
    manifest = RunManifest(
        command="plan make",
        parameters={
            "protocol": str(opts.protocol),
            "from": opts.first,
            "to": opts.last,
            "risk": str(risk) if risk else None,
            "out": str(opts.out),
            "time_limit": opts.time_limit,
            "workers": opts.workers,
            "solver": opts.solver,
            "after": str(opts.after) if opts.after else None,
        },
        seed=opts.seed,
        solver=result.solver_dict(opts.time_limit),
    )
    manifest.add_input_file("protocol", opts.protocol)
    if risk:
        manifest.add_input_file("risk", risk)
    if opts.after:
        manifest.add_input_file("after", opts.after)
    replan = (
        None
        if rp is None
        else {
            "from_plan": str(opts.from_plan),
            "changes": str(opts.changes) if opts.changes else None,
            **rp.report(result, fallback),
        }
    )
    return MakeResult(opts, proto, active["id"], result, check, replan, manifest)


# --- plan check --------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """`plan check --json` without the manifest: the checker's report, the file as the caller
    named it and the protocol it was judged against."""

    report: CheckReport
    file: str
    protocol: str
    manifest: RunManifest | None = None
    after: str | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.report.to_dict(),
            "file": self.file,
            "protocol": self.protocol,
            "after": self.after,
        }


def check(
    plan: Path,
    protocol: Path,
    *,
    file: str | None = None,
    protocol_name: str | None = None,
    after: Path | None = None,
) -> CheckResult:
    """Independent check of any plan CSV against a protocol (with `after`, together with the plan
    it continues); `file`/`protocol_name` are the names shown (an upload's own name rather than
    its temporary path)."""
    report = check_plan(plan, protocol, after=after)
    params = {"plan": file or str(plan), "protocol": protocol_name or str(protocol)}
    if after is not None:
        params["after"] = str(after)
    manifest = RunManifest(command="plan check", parameters=params)
    manifest.add_input_file("plan", plan)
    manifest.add_input_file("protocol", protocol)
    if after is not None:
        manifest.add_input_file("after", after)
    return CheckResult(
        report,
        file or str(plan),
        protocol_name or str(protocol),
        manifest,
        None if after is None else str(after),
    )


def check_upload(data: bytes, filename: str, protocol: Path, protocol_name: str) -> CheckResult:
    """`plan check` of an uploaded plan CSV."""
    name = Path(filename or "plan.csv").name or "plan.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return check(path, protocol, file=name, protocol_name=protocol_name)


# --- plan export -------------------------------------------------------------------------------


@dataclass
class ExportOptions:
    plan: Path
    protocol: Path
    out_dir: Path
    days: list[date] | None = None
    lang: str = "en"  # briefings in nl, fr or en


@dataclass
class ExportResult:
    data: dict[str, Any]
    manifest: RunManifest = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def summary(self) -> str:
        f = self.data["files"]
        return f"{self.data['out_dir']}: {len(f['ics'])} calendars, {len(f['html'])} briefings"


def export(opts: ExportOptions) -> ExportResult:
    """`plan export`: an iCalendar per command post, an HTML and a PDF briefing per post and day."""
    from safecities.patrols.export import export_plan, texts
    from safecities.patrols.protocol import load_protocol

    texts(opts.lang)  # an unknown language is refused before anything is written
    proto = load_protocol(opts.protocol)
    out = export_plan(opts.plan, proto, opts.out_dir, days=opts.days, lang=opts.lang)
    manifest = RunManifest(
        command="plan export",
        parameters={"plan": str(opts.plan), "out": str(opts.out_dir), "days": out["days"]},
    )
    manifest.add_input_file("plan", opts.plan)
    manifest.add_input_file("protocol", opts.protocol)
    return ExportResult(out, manifest)
