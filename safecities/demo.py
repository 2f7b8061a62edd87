"""`safecities demo`: the whole demonstration, end to end, on the embedded store.

Orchestration only (presentation layer): it calls each capability's own services in data-flow
order: register (reference data, SYNTHETIC incidents) -> patrols (the Brussels protocol, recorded
as approved by the demo Interior and Defence approvers) -> cameras (a SYNTHETIC municipal camera
inventory) -> the dashboard. Every write goes through those services, so all of it is audited.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from safecities.clitools import console, echo_json, progress
from safecities.errors import InputError

DEMO_INTERIOR = "demo-interior-approver"
DEMO_DEFENCE = "demo-defence-approver"
# Municipalities that get a SYNTHETIC camera inventory (the districts of the named hotspots).
CAMERA_MUNICIPALITIES = ("21001", "21012", "21015", "21004", "21009", "21014", "21013")


def activate_brussels_protocol(engine) -> dict[str, Any]:
    """Register the bundled Brussels protocol and record both approvals (idempotent)."""
    from safecities.patrols import governance
    from safecities.store.db import session_scope

    path = Path(str(resources.files("safecities.patrols") / "protocols" / "brussels-2026.yaml"))
    with session_scope(engine) as s:
        for p in governance.list_protocols(s, "brussels"):
            if p["status"] in governance.APPROVED:
                return p
        rec = governance.request_protocol(
            s, path, reason="Protocol approved by the Council of Ministers on 20 March 2026 "
            "(recorded by the demo)", actor="demo",
        )  # fmt: skip
        governance.approve(s, rec["id"], actor=DEMO_INTERIOR, role="interior_approver")
        governance.approve(s, rec["id"], actor=DEMO_DEFENCE, role="defence_approver")
        # the status people see: `expired` once 20 September 2026 has passed
        return next(p for p in governance.list_protocols(s, "brussels") if p["id"] == rec["id"])


def synthetic_cameras(seed: int, nis: str) -> pd.DataFrame:
    """A SYNTHETIC inventory: a few cameras around each metro station of a municipality."""
    from safecities.cameras.service import outside_municipality
    from safecities.geo import to_metres, to_wgs84
    from safecities.register import reference

    rng = np.random.default_rng([seed, int(nis)])
    st = reference.stations("brussels", "metro")
    st = st[st["municipality"] == nis]
    rows = []
    for _, r in st.iterrows():
        x0, y0 = to_metres([r["lon"]], [r["lat"]])
        for _k in range(int(rng.integers(1, 4))):
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(20, 140)
            lon, lat = to_wgs84(x0 + dist * np.cos(ang), y0 + dist * np.sin(ang))
            if outside_municipality(nis, lat, lon)[0]:
                continue  # the register refuses a camera outside its municipality
            rows.append({
                "id": f"DEMO-{nis}-{len(rows) + 1:03d}", "controller": f"municipality {nis}",
                "lat": round(float(lat[0]), 6), "lon": round(float(lon[0]), 6),
                "place_kind": "open", "mobility": "fixed", "intelligent": "no",
                "purpose": "SYNTHETIC demo camera: public order around the metro station",
                "viewing_location": "municipal control room", "live_viewing": "yes",
                "retention_days": 30, "pictogram": "yes", "declared_on": "2024-06-01",
                "status": "active" if rng.random() < 0.85 else "out_of_service",
                "fov_direction": round(float(rng.uniform(0, 360)), 0), "fov_angle": 90,
                "fov_range_m": 60, "connected": "yes" if rng.random() < 0.4 else "no",
                "cost_installation": 12000, "cost_connection": 3500, "cost_yearly": 900,
            })  # fmt: skip
    return pd.DataFrame(rows)


def seed_cameras(engine, seed: int, var_dir: Path) -> dict[str, int]:
    from safecities.cameras import importers, service
    from safecities.domain import Role
    from safecities.store.db import session_scope

    caller = service.Caller("demo", Role.ADMIN)
    total = 0
    for nis in CAMERA_MUNICIPALITIES:
        df = synthetic_cameras(seed, nis)
        if df.empty:
            continue
        path = var_dir / f"demo_cameras_{nis}.csv"
        df.to_csv(path, index=False)
        with session_scope(engine) as s:
            report, _dups = importers.import_cameras(s, caller, path, nis)
        total += len(df)
    return {"cameras": total}


DEMO_PLAN_DAY = date(2026, 4, 6)  # a Monday inside the Brussels protocol's six months


def demo_plan(engine) -> dict[str, Any]:
    """One day's joint patrol plan under the (now active) Brussels protocol, so the plan calendar
    and the dashboard's plan layer have something to show; kept if it already exists."""
    from safecities.patrols.service import saved as psvc

    name = f"plan-brussels-{DEMO_PLAN_DAY}-{DEMO_PLAN_DAY}-s0.csv"
    if (psvc.plans_dir() / name).exists():
        return {"name": name, "made": False}
    with progress("planning one day of joint patrols", total=None):
        out = psvc.make_saved(
            engine, psvc.SavedPlanOptions(DEMO_PLAN_DAY, DEMO_PLAN_DAY, seed=0, time_limit=20)
        )
    psvc.audit_saved(engine, out, actor="demo", seed=0)  # like every demo write
    return {
        "name": out["name"],
        "made": True,
        "rows": out["rows"],
        "status": out["status"],
        "check_ok": out["check"]["ok"],
        "risk": out["risk"],
    }


def demo(
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic scenario.")] = 2025,
    from_: Annotated[str, typer.Option("--from", help="First day of the scenario.")] = "2025-01-01",
    to: Annotated[str, typer.Option("--to", help="Last day of the scenario.")] = "2025-08-12",
    serve: Annotated[bool, typer.Option(help="End by serving the dashboard.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """Store, Brussels reference data, SYNTHETIC incidents and cameras, the Brussels protocol;
    print the trend (and serve the dashboard with --serve)."""
    from safecities.config import get_settings
    from safecities.register.cli import print_summary
    from safecities.register.demo import load_demo
    from safecities.store.db import migrated_engine

    try:
        start, end = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        raise InputError(f"--from/--to: not dates (YYYY-MM-DD): {from_!r}, {to!r}") from None
    engine = migrated_engine()
    var = get_settings().var_dir
    summary = load_demo(engine, seed=seed, start=start, end=end, var_dir=var)
    protocol = activate_brussels_protocol(engine)
    summary["protocol"] = {k: protocol.get(k) for k in ("id", "city", "version", "status")}
    summary["cameras"] = seed_cameras(engine, seed, Path(var))
    summary["plan"] = demo_plan(engine)
    if as_json:
        echo_json(summary)
    else:
        print_summary(summary)
        console.print(f"trend chart: {summary['plot']}")
        n_cams = summary["cameras"]["cameras"]
        console.print(
            f"Brussels protocol {protocol['version']}: {protocol['status']}; "
            f"{n_cams} SYNTHETIC cameras in the register; patrol plan {summary['plan']['name']}"
        )
    if serve:
        from safecities.api.cli import serve_demo

        serve_demo()


def mount(root: typer.Typer) -> None:
    root.command("demo")(demo)
