"""Thin adapter to safecities.review: interrupted time series of the register's incidents around
an intervention date (e.g. the start of joint patrols)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from safecities.errors import InputError


def its(
    engine: Engine, *, intervention: date, freq: str = "week", city: str = "brussels", seed: int = 0
) -> dict[str, Any]:
    from safecities.register.events import events_from_db
    from safecities.review.its import ITS, aggregate_counts

    df = events_from_db(engine, city=city)
    if len(df) == 0:
        raise InputError(f"no incidents recorded for {city}: import some first")
    counts = aggregate_counts(df["occurred_at"], None, freq)
    try:
        res = ITS(counts, intervention, freq=freq, family="auto").fit(seed=seed)
    except (ValueError, ZeroDivisionError) as exc:
        raise InputError(f"interrupted time series: {exc}") from exc
    out = res.to_dict()
    keep = (
        "method",
        "reference",
        "model",
        "family",
        "freq",
        "intervention",
        "rate_ratio",
        "rate_ratio_ci_95",
        "level_change_rr",
        "slope_change_rr_per_period",
        "p_level_change",
        "p_slope_change",
        "events_observed",
        "events_expected_counterfactual",
        "events_averted",
        "events_averted_pi_95",
        "observed",
        "counterfactual",
        "fitted",
    )
    return {k: out.get(k) for k in keep} | {"synthetic_note": None}
