"""Trend summaries of the register: counts, injured and killed by month and municipality."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from safecities.errors import InputError
from safecities.register.service import incidents_frame
from safecities.store.db import session_scope
from safecities.store.models import Municipality

SUMMER_DAY = (6, 21)  # the start of summer used by the plan's public figures
SYNTHETIC_NOTE = "SYNTHETIC demo data: these are not real incidents"


def _totals(df: pd.DataFrame) -> dict[str, int]:
    return {
        "incidents": int(len(df)),
        "injured": int(df["injured"].sum()) if len(df) else 0,
        "killed": int(df["killed"].sum()) if len(df) else 0,
        "with_victims": int(((df["injured"] + df["killed"]) > 0).sum()) if len(df) else 0,
        "metro_disruptions": int((df["disruption_minutes"] > 0).sum()) if len(df) else 0,
        "disruption_minutes": int(df["disruption_minutes"].sum()) if len(df) else 0,
    }


def _from(df: pd.DataFrame, local_day: pd.Series, day: date) -> pd.DataFrame:
    return df[local_day >= day] if len(df) else df


def resolve_municipality(engine: Engine, name: str) -> tuple[str, str, str]:
    key = name.strip().lower()
    with session_scope(engine) as s:
        for m in s.execute(select(Municipality)).scalars():
            if key in (m.id, m.name_nl.lower(), m.name_fr.lower()):
                return m.id, m.name_nl, m.name_fr
    raise InputError(
        f"--municipality: unknown municipality {name!r} (use a Dutch or French name or NIS code)"
    )


def summarise(
    engine: Engine,
    *,
    city: str = "brussels",
    since: date | None = None,
    municipality: str | None = None,
    as_of: date | None = None,
    frame: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """`frame`: the city's incidents already read with `incidents_frame` (read here if None)."""
    df = incidents_frame(engine, city) if frame is None else frame
    muni = None
    if municipality:
        muni = resolve_municipality(engine, municipality)
        df = df[df["municipality_id"] == muni[0]]
    if since:
        df = df[df["occurred_at"].dt.date >= since]
    local_day = df["occurred_at"].dt.date if len(df) else pd.Series([], dtype=object)
    as_of = as_of or (max(local_day) if len(df) else date.today())
    df = df[local_day <= as_of] if len(df) else df
    local_day = df["occurred_at"].dt.date if len(df) else pd.Series([], dtype=object)
    jan1 = date(as_of.year, 1, 1)
    summer = date(as_of.year, *SUMMER_DAY)
    by_month = []
    if len(df):
        month = df["occurred_at"].dt.strftime("%Y-%m")
        for key, g in df.groupby(month, sort=True):
            by_month.append({"month": key, **_totals(g)})
    names: dict[str, tuple[str, str]] = {}
    with session_scope(engine) as s:
        for m in s.execute(select(Municipality)).scalars():
            names[m.id] = (m.name_nl, m.name_fr)
    by_muni = []
    if len(df):
        for key, g in df.groupby(df["municipality_id"].fillna("unknown"), sort=True):
            nl, fr = names.get(key, ("onbekend", "inconnue"))
            by_muni.append({"nis": key, "name_nl": nl, "name_fr": fr, **_totals(g)})
        by_muni.sort(key=lambda r: (-r["incidents"], r["nis"]))
    synthetic = bool(len(df) and df["synthetic"].any())
    return {
        "city": city,
        "synthetic": synthetic,
        "note": SYNTHETIC_NOTE if synthetic else None,
        "filters": {"since": since, "municipality": muni[0] if muni else None},
        "as_of": as_of,
        "first": df["occurred_at"].min() if len(df) else None,
        "last": df["occurred_at"].max() if len(df) else None,
        "totals": _totals(df),
        "since_1_january": {"from": jan1, **_totals(_from(df, local_day, jan1))},
        "since_summer": (
            {"from": summer, **_totals(_from(df, local_day, summer))} if as_of >= summer else None
        ),
        "by_kind": {k: int(v) for k, v in df["kind"].value_counts().sort_index().items()},
        "by_month": by_month,
        "by_municipality": by_muni,
    }


def plot_monthly(summary: dict[str, Any], path: str | Path) -> None:
    """Monthly trend chart (PNG); a synthetic scenario is labelled on the chart itself."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = [m["month"] for m in summary["by_month"]]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    ax.bar(months, [m["incidents"] for m in summary["by_month"]], color="#4a6fa5",
           label="incidents")  # fmt: skip
    ax.plot(months, [m["injured"] for m in summary["by_month"]], "o-", color="#d08c00",
            label="injured")  # fmt: skip
    ax.plot(months, [m["killed"] for m in summary["by_month"]], "s-", color="#a02020",
            label="killed")  # fmt: skip
    ax.set_ylabel("per month")
    ax.set_title(f"Shooting incidents, {summary['city']} (to {summary['as_of']})")
    ax.legend(loc="upper left")
    ax.tick_params(axis="x", rotation=45)
    if summary["synthetic"]:
        ax.text(0.99, 0.97, "SYNTHETIC DEMO DATA", transform=ax.transAxes, ha="right", va="top",
                color="#a02020", fontsize=12, fontweight="bold")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
