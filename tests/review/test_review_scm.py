"""Synthetic control reproduces the published Proposition 99 and Basque results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.errors import InputError
from safecities.review.panel import normalise_times
from safecities.review.scm import SyntheticControl, parse_predictor, simplex_least_squares

DATA = Path(__file__).resolve().parents[1] / "data" / "review"
PROP99 = DATA / "prop99_smoking_data.csv"
BASQUE = DATA / "basque_pysyncon.csv"
PROP99_SPEC = [
    "lnincome:1980-1988",
    "age15to24:1980-1988",
    "retprice:1980-1988",
    "beer:1984-1988",
    "cigsale:1975",
    "cigsale:1980",
    "cigsale:1988",
]
PUBLISHED_P99 = {
    "Utah": 0.33,
    "Nevada": 0.23,
    "Montana": 0.20,
    "Colorado": 0.16,
    "Connecticut": 0.07,
}
TOL = 0.03  # stated tolerance on published weights
# Abadie and Gardeazabal's (2003) Basque predictors
BASQUE_SPEC = [f"{c}:1964-1969" for c in ["school.illit", "school.prim", "school.med",
               "school.high", "school.post.high", "invest"]]  # fmt: skip
BASQUE_SPEC += ["gdpcap:1960-1969", "popdens:1969"]
BASQUE_SPEC += [f"sec.{s}:1961,1963,1965,1967,1969" for s in ["agriculture", "energy",
                "industry", "construction", "services.venta", "services.nonventa"]]  # fmt: skip


def _prop99() -> pd.DataFrame:
    df = pd.read_csv(PROP99)
    df["year"] = normalise_times(df["year"], "prop99", "year")
    return df


@pytest.fixture(scope="module")
def prop99_fit():
    df = _prop99()
    model = SyntheticControl(
        df, unit_col="state", time_col="year", outcome="cigsale", treated="California",
        intervention=1989, predictors=[parse_predictor(s, df["year"]) for s in PROP99_SPEC],
    )  # fmt: skip
    return model.fit(n_starts=3, placebo=True, seed=0, preset="fast")


def test_simplex_least_squares_matches_brute_force():
    rng = np.random.default_rng(3)
    C = rng.normal(size=(3, 6))
    w = simplex_least_squares(C)
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12
    best = min(float(np.sum((C @ x) ** 2)) for x in rng.dirichlet(np.ones(6) * 0.3, size=20000))
    assert float(np.sum((C @ w) ** 2)) <= best + 1e-12


def test_prop99_weights_gap_loss(prop99_fit):
    res = prop99_fit
    for state, w in PUBLISHED_P99.items():
        assert abs(res.weights[state] - w) <= TOL, (state, res.weights[state])
    others = res.weights.drop(list(PUBLISHED_P99))
    assert others.max() <= TOL
    # pysyncon-style loss (MSPE over 1970-1988): ADH report ~3.3; our optimiser finds <= that.
    assert 2.7 <= res.loss <= 3.35
    assert res.loss >= res.loss_lower_bound - 1e-9
    assert res.gaps.loc[2000] == pytest.approx(-26, abs=2.5)
    assert res.effect < -10
    assert res.hull["ok"]


def test_prop99_placebo_rank(prop99_fit):
    pl = prop99_fit.placebo
    assert pl.n_units == 39
    assert pl.rank == 1
    assert pl.p_value == pytest.approx(1 / 39)
    # no placebo-quantile "confidence interval": the placebo distribution and p are reported
    lo, hi = prop99_fit.conf_int()
    assert np.isnan(lo) and np.isnan(hi)
    out = prop99_fit.to_dict()
    assert len(out["placebo"]["effects"]) == 38 and out["placebo"]["n_excluded"] == 0


def test_basque_weights():
    df = pd.read_csv(BASQUE)
    df["year"] = normalise_times(df["year"], "basque", "year")
    spec = BASQUE_SPEC
    model = SyntheticControl(
        df, unit_col="regionname", time_col="year", outcome="gdpcap",
        treated="Basque Country (Pais Vasco)", intervention=1970,
        predictors=[parse_predictor(s, df["year"]) for s in spec],
        fit_period=list(range(1960, 1970)),
    )  # fmt: skip
    res = model.fit(n_starts=4, placebo=False, seed=1)
    assert res.weights["Cataluna"] == pytest.approx(0.85, abs=TOL)
    assert res.weights["Madrid (Comunidad De)"] == pytest.approx(0.15, abs=TOL)


def test_hull_check_flags_extreme_unit():
    df = _prop99()
    df.loc[df.state == "California", "cigsale"] *= 3  # far above every donor
    model = SyntheticControl(
        df, unit_col="state", time_col="year", outcome="cigsale", treated="California",
        intervention=1989,
    )  # fmt: skip
    assert not model.hull_check()["ok"]


def test_predictor_spec_errors():
    df = _prop99()
    with pytest.raises(InputError):
        parse_predictor("cigsale", df["year"])
    with pytest.raises(InputError):
        parse_predictor("cigsale:1960", df["year"])
    assert parse_predictor("beer:1984-1988", df["year"]).periods == (1984, 1985, 1986, 1987, 1988)
    assert parse_predictor("cigsale:1975,1980", df["year"]).periods == (1975, 1980)


def test_cli_scm_json_basque_no_placebo():
    args = ["review", "scm", "--panel", str(BASQUE), "--unit-col", "regionname",
            "--time-col", "year", "--outcome", "gdpcap",
            "--treated", "Basque Country (Pais Vasco)", "--intervention", "1970",
            "--covariates", "invest", "--predictor", "gdpcap:1960-1969",
            "--predictor", "popdens:1969", "--fit-period", "1960-1969",
            "--no-placebo", "--starts", "2", "--json"]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    for key in ("donor_weights", "predictor_weights", "pre_period_loss", "gaps",
                "placebo_p_value", "reference", "manifest"):  # fmt: skip
        assert key in out
    assert abs(sum(out["donor_weights"].values()) - 1) < 1e-6
    assert out["manifest"]["inputs"]["panel"]


def test_cli_scm_bad_input(tmp_path):
    args = ["review", "scm", "--panel", str(PROP99), "--unit-col", "state",
            "--time-col", "year", "--outcome", "cigsale", "--treated", "Atlantis",
            "--intervention", "1989", "--json"]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)


def _zones_with_empty_ones() -> pd.DataFrame:
    """12 zones x 30 weeks of counts; zone Z-T drops after week 20; four zones never have an
    event (their 0/0 post/pre RMSPE ratio used to rank above the treated zone)."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(12):
        lam = 0.0 if i >= 8 else 4 + i
        for t in range(30):
            y = rng.poisson(lam * (0.4 if i == 0 and t >= 20 else 1.0))
            rows.append({"zone": "Z-T" if i == 0 else f"Z{i:02d}", "week": t, "n": y})
    return pd.DataFrame(rows)


def test_placebos_without_a_defined_pre_fit_are_excluded_and_counted():
    df = _zones_with_empty_ones()
    res = SyntheticControl(df, unit_col="zone", time_col="week", outcome="n", treated="Z-T",
                           intervention=20).fit(n_starts=1, seed=0, preset="fast")  # fmt: skip
    pl = res.placebo
    assert set(pl.excluded) >= {"Z08", "Z09", "Z10", "Z11"}
    assert all(np.isfinite(pl.ratios))
    assert pl.n_units == 12 - len(pl.excluded) and pl.rank <= 3
    out = res.to_dict()
    assert out["placebo"]["n_excluded"] == len(pl.excluded)
    assert out["conf_int_95"] == [None, None] or all(np.isnan(out["conf_int_95"]))
    assert any("left out of the placebo distribution" in w for w in res.warnings)


def test_periods_after_the_intervention_are_refused():
    df = _prop99()
    with pytest.raises(InputError, match="after the intervention"):
        SyntheticControl(df, unit_col="state", time_col="year", outcome="cigsale",
                         treated="California", intervention=1989,
                         predictors=[parse_predictor("cigsale:1985-1992", df["year"])])  # fmt: skip
    args = ["review", "scm", "--panel", str(PROP99), "--unit-col", "state", "--time-col", "year",
            "--outcome", "cigsale", "--treated", "California", "--intervention", "1989",
            "--fit-period", "1980-1995", "--no-placebo", "--json"]  # fmt: skip
    r = CliRunner().invoke(build_app(), args)
    assert r.exit_code != 0 and "--fit-period" in str(r.exception)


def test_cross_validated_v_and_custom_v(tmp_path):
    """ADH (2015): V chosen on a training specification (predictors of 1970-1979, outcome fit
    over 1980-1988) and reused with the main one; giving that V back with --custom-v reproduces
    the same donor weights without any search."""
    base = ["review", "scm", "--panel", str(PROP99), "--unit-col", "state", "--time-col",
            "year", "--outcome", "cigsale", "--treated", "California", "--intervention", "1989",
            "--no-placebo", "--starts", "2", "--preset", "fast", "--json"]  # fmt: skip
    main = ["--predictor", "cigsale:1980-1988", "--predictor", "retprice:1980-1988",
            "--predictor", "lnincome:1980-1988"]  # fmt: skip
    train = [
        "--train-predictor",
        "cigsale:1970-1979",
        "--train-predictor",
        "retprice:1970-1979",
        "--train-predictor",
        "lnincome:1972-1979",
        "--train-fit-period",
        "1980-1988",
    ]
    r = CliRunner().invoke(build_app(), [*base, *main, *train])
    assert r.exit_code == 0, r.output
    cv = json.loads(r.stdout)
    assert cv["v_selection"]["method"].startswith("cross-validated")
    assert cv["v_selection"]["train_fit_period"][0] == 1980
    # the JSON rounds V to 6 decimals, and a V weight of 1e-8 against 0 changes W when V is
    # nearly degenerate: take V at full precision from the same fit through the library
    df = _prop99()
    spec = [s for s in main if s != "--predictor"]
    tspec = [s for s in train[:-2] if s != "--train-predictor"]
    lib = SyntheticControl(df, unit_col="state", time_col="year", outcome="cigsale",
                           treated="California", intervention=1989,
                           predictors=[parse_predictor(x, df["year"]) for x in spec],
                           train_predictors=[parse_predictor(x, df["year"]) for x in tspec],
                           train_fit_period=list(range(1980, 1989)),
                           ).fit(n_starts=2, placebo=False, seed=0, preset="fast")  # fmt: skip
    for k, w in cv["donor_weights"].items():
        assert lib.weights[k] == pytest.approx(w, abs=1e-6)
    v = tmp_path / "v.csv"
    pd.DataFrame({"predictor": lib.predictor_weights.index,
                  "v": lib.predictor_weights.to_numpy()}).to_csv(v, index=False)  # fmt: skip
    r = CliRunner().invoke(build_app(), [*base, *main, "--custom-v", str(v)])
    assert r.exit_code == 0, r.output
    fixed = json.loads(r.stdout)
    assert fixed["v_selection"]["method"] == "custom V (given)"
    for k, w in cv["donor_weights"].items():
        assert fixed["donor_weights"][k] == pytest.approx(w, abs=2e-3)
    r = CliRunner().invoke(build_app(), [*base, *main, "--train-predictor", "cigsale:1970-1979",
                                         "--train-fit-period", "1980-1988"])  # fmt: skip
    assert r.exit_code != 0 and "one training predictor per predictor" in str(r.exception)


def test_basque_canonical_pool_warns_when_weights_move():
    """Without Spain (which contains the Basque Country) the weights move with the seed
    (Cataluna 0.08-0.65 reported): the result must say so, not print one set silently."""
    df = pd.read_csv(BASQUE)
    df["year"] = normalise_times(df["year"], "basque", "year")
    spec = BASQUE_SPEC
    donors = [u for u in df.regionname.unique()
              if u not in ("Basque Country (Pais Vasco)", "Spain (Espana)")]  # fmt: skip
    model = SyntheticControl(
        df, unit_col="regionname", time_col="year", outcome="gdpcap",
        treated="Basque Country (Pais Vasco)", intervention=1970,
        predictors=[parse_predictor(s, df["year"]) for s in spec],
        fit_period=list(range(1960, 1970)), donors=donors,
    )  # fmt: skip
    res = model.fit(n_starts=4, placebo=False, seed=2)
    assert res.weight_spread > 0.1
    assert any("seed" in w or "start" in w for w in res.warnings)


def test_in_time_placebo_and_leave_one_out(prop99_fit):
    df = _prop99()
    model = SyntheticControl(
        df, unit_col="state", time_col="year", outcome="cigsale", treated="California",
        intervention=1989, predictors=[parse_predictor(s, df["year"]) for s in PROP99_SPEC],
    )  # fmt: skip
    res = model.fit(n_starts=1, placebo=False, seed=0, preset="fast", in_time_placebo=1981,
                    leave_one_out=True)  # fmt: skip
    itp = res.in_time_placebo
    assert itp["fake_intervention"] == 1981 and abs(itp["effect"]) < abs(res.effect) / 2
    assert "cigsale:1988" in itp["dropped_predictors"]
    loo = res.leave_one_out
    assert set(loo["effects"]) >= {"Utah", "Nevada", "Montana"}
    assert loo["max"] < 0  # California's fall survives leaving out any one donor
