"""DiD and Callaway-Sant'Anna recover planted effects (including heterogeneous staggered ones)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.errors import InputError
from safecities.review.did import CallawaySantAnna, DiD


def _panel(effect: float, seed: int = 0, n: int = 24, T: int = 30, t0: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.uniform(5, 15, n)
    rows = []
    for i in range(n):
        for t in range(T):
            y = level[i] + 0.1 * t + rng.normal(0, 1)
            if i < 4 and t >= t0:
                y += effect
            rows.append({"zone": f"Z{i:02d}", "week": t, "y": y})
    return pd.DataFrame(rows)


def test_did_recovers_planted_effect_and_passes_pretrend():
    df = _panel(-2.0)
    res = DiD(
        df,
        unit_col="zone",
        time_col="week",
        outcome="y",
        treated=["Z00", "Z01", "Z02", "Z03"],
        intervention=20,
        n_controls=10,
    ).fit()
    lo, hi = res.conf_int()
    assert lo < -2.0 < hi and hi < 0
    assert res.pretrend_p > 0.05
    es = res.event_study
    assert es.loc[-1, "coef"] == 0
    assert es.loc[5, "coef"] == pytest.approx(-2.0, abs=1.0)
    assert len(res.controls) == 10 and not set(res.controls) & set(res.treated)


def test_did_detects_pretrend_violation():
    df = _panel(0.0)
    df.loc[df.zone.isin(["Z00", "Z01", "Z02", "Z03"]), "y"] += 0.3 * df["week"]
    res = DiD(df, unit_col="zone", time_col="week", outcome="y",
              treated=["Z00", "Z01", "Z02", "Z03"], intervention=20).fit()  # fmt: skip
    assert res.pretrend_p < 0.05


def _staggered(seed: int = 0) -> tuple[pd.DataFrame, pd.Series, float]:
    """Cohorts adopt at 10, 15, 20 (and some never); effect grows with time since adoption."""
    rng = np.random.default_rng(seed)
    n, T = 60, 30
    cohorts = np.array([10] * 15 + [15] * 15 + [20] * 15 + [np.nan] * 15)
    level = rng.normal(10, 2, n)
    rows, truth = [], []
    for i in range(n):
        for t in range(T):
            eff = 0.0
            if not np.isnan(cohorts[i]) and t >= cohorts[i]:
                eff = -1.0 - 0.2 * (t - cohorts[i])
                truth.append(eff)
            rows.append(
                {"unit": f"U{i}", "t": t, "y": level[i] + 0.05 * t + eff + rng.normal(0, 0.5)}
            )
    adoption = pd.Series(cohorts, index=[f"U{i}" for i in range(n)])
    return pd.DataFrame(rows), adoption, float(np.mean(truth))


@pytest.mark.parametrize("control_group", ["never", "notyet"])
def test_callaway_santanna_heterogeneous_staggered(control_group):
    df, adoption, truth = _staggered()
    res = CallawaySantAnna(df, unit_col="unit", time_col="t", outcome="y", adoption=adoption,
                           control_group=control_group).fit(n_boot=300, seed=1)  # fmt: skip
    lo, hi = res.conf_int()
    assert lo < truth < hi
    es = res.event_study
    assert es.loc[0, "att"] == pytest.approx(-1.0, abs=0.3)
    assert es.loc[5, "att"] == pytest.approx(-2.0, abs=0.4)
    assert abs(es.loc[-3, "att"]) < 0.4
    assert res.pretrend_p > 0.01


def test_callaway_santanna_single_cohort_equals_2x2():
    df, adoption, _ = _staggered()
    adoption[adoption.notna()] = 15
    res = CallawaySantAnna(df, unit_col="unit", time_col="t", outcome="y", adoption=adoption,
                           control_group="never").fit(n_boot=50)  # fmt: skip
    w = df.pivot(index="unit", columns="t", values="y")
    tr = adoption.notna()
    d = (w.loc[tr, 15] - w.loc[tr, 14]).mean() - (w.loc[~tr, 15] - w.loc[~tr, 14]).mean()
    row = res.att_gt[(res.att_gt["group"] == 15) & (res.att_gt["time"] == 15)]
    assert float(row["att"].iloc[0]) == pytest.approx(d)


def test_did_unbalanced_panel_is_input_error():
    df = _panel(0.0).iloc[1:]
    with pytest.raises(InputError):
        DiD(df, unit_col="zone", time_col="week", outcome="y", treated=["Z00"], intervention=20)


def test_cli_did_json_both_modes(tmp_path):
    df = _panel(-2.0)
    path = tmp_path / "panel.csv"
    df.to_csv(path, index=False)
    base = ["review", "did", "--panel", str(path), "--unit-col", "zone", "--time-col", "week",
            "--outcome", "y"]  # fmt: skip
    r = CliRunner().invoke(build_app(), [*base, "--treated", "Z00,Z01,Z02,Z03",
                                         "--intervention", "20", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for key in ("effect", "conf_int_95", "event_study", "pretrend_test", "controls", "manifest"):
        assert key in out
    sdf, adoption, _ = _staggered()
    sdf["adopt"] = sdf["unit"].map(adoption)
    spath = tmp_path / "stag.csv"
    sdf.to_csv(spath, index=False)
    r = CliRunner().invoke(
        build_app(),
        [
            "review",
            "did",
            "--panel",
            str(spath),
            "--unit-col",
            "unit",
            "--time-col",
            "t",
            "--outcome",
            "y",
            "--adoption-col",
            "adopt",
            "--boot",
            "99",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["method"] == "callaway_santanna" and out["att_gt"]
    assert "Callaway" in out["reference"]
