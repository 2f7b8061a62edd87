"""CLI and API are two doors onto one service (safecities.review.service): the same inputs give
the same JSON for every verb both offer (the manifest's time, file paths and hashes of temporary
copies aside)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.domain import Role

DATA = Path(__file__).parents[1] / "data" / "api"
PANEL = DATA / "review_panel.csv"
SERIES = DATA / "review_series.csv"


def _cli(args: list[str]) -> dict:
    r = CliRunner().invoke(build_app(), ["review", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _untimed(doc):
    """The document without wall-clock figures (`elapsed_s`), which differ run to run."""
    if isinstance(doc, dict):
        return {k: _untimed(v) for k, v in doc.items() if k != "elapsed_s"}
    if isinstance(doc, list):
        return [_untimed(v) for v in doc]
    return doc


def _same(cli: dict, api: dict, *, file_param: str | None = None) -> None:
    """Equal documents; manifests agree on command, seed and parameters (file names aside)."""
    mc, ma = cli.pop("manifest"), api.pop("manifest")
    assert _untimed(cli) == _untimed(api)
    assert (mc["command"], mc["seed"], mc.get("solver")) == (ma["command"], ma["seed"],
                                                            ma.get("solver"))  # fmt: skip
    pc, pa = dict(mc["parameters"]), dict(ma["parameters"])
    if file_param:
        assert Path(pc.pop(file_param)).name == pa.pop(file_param)
    assert pc == pa


def _upload_parity(client, headers, verb: str, file_opt: str, path: Path, form: dict) -> None:
    """POST the file and form to /api/review/<verb>; run `review <verb> --<file_opt> path` with
    the same options; the two JSON documents must agree."""
    files = {"file": (path.name, path.read_bytes(), "text/csv")}
    r = client.post(f"/api/review/{verb}", data=form, files=files, headers=headers)
    assert r.status_code == 200, r.text
    cli = _cli([verb, f"--{file_opt}", str(path), *_options(form)])
    _same(cli, r.json(), file_param=file_opt)


def _options(form: dict) -> list[str]:
    """CLI options of a form: repeatable fields are lists, `true` booleans are flags."""
    out: list[str] = []
    for k, v in form.items():
        flag = f"--{k.replace('_', '-')}"
        if v == "true":
            out.append(flag)
        else:
            out += [x for item in (v if isinstance(v, list) else [v]) for x in (flag, item)]
    return out


def test_scm_parity(client, tokens, auth):
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents", "treated": "zone-A",
            "intervention": "2018", "starts": "1", "preset": "fast", "seed": "3"}  # fmt: skip
    _upload_parity(client, auth(tokens[Role.ANALYST]), "scm", "panel", PANEL, form)


def test_scm_parity_cross_validated_v_in_time_placebo_leave_one_out(client, tokens, auth):
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents", "treated": "zone-A",
            "intervention": "2018", "predictor": ["incidents:2014-2017", "incidents:2016"],
            "train_predictor": ["incidents:2010-2013", "incidents:2012"],
            "train_fit_period": "2014-2017", "in_time_placebo": "2015", "leave_one_out": "true",
            "no_placebo": "true", "starts": "1", "preset": "fast"}  # fmt: skip
    api_form = {k: v for k, v in form.items() if k != "no_placebo"} | {"placebo": "false"}
    files = {"file": (PANEL.name, PANEL.read_bytes(), "text/csv")}
    r = client.post("/api/review/scm", data=api_form, files=files,
                    headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 200, r.text
    api = r.json()
    assert api["v_selection"]["method"].startswith("cross-validated")
    assert api["in_time_placebo"]["fake_intervention"] == 2015 and api["leave_one_out"]["effects"]
    cli = _cli(["scm", "--panel", str(PANEL), *_options(form)])
    _same(cli, api, file_param="panel")


@pytest.mark.parametrize(
    "form",
    [
        {"treated": "zone-A", "intervention": "2018", "n_controls": "3"},
        {"adoption_col": "adopted", "control_group": "never", "boot": "49"},
        {"adoption_col": "adopted", "control_group": "notyet", "anticipation": "1"},
    ],
    ids=["one-date", "staggered", "staggered-anticipation"],
)
def test_did_parity(client, tokens, auth, form):
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents", "boot": "99",
            "seed": "5"} | form  # fmt: skip
    _upload_parity(client, auth(tokens[Role.ANALYST]), "did", "panel", PANEL, form)


def test_its_parity(client, tokens, auth):
    form = {"date_col": "month", "count_col": "n", "intervention": "2024-07-01",
            "freq": "month", "power_effect": "-25.0", "seed": "2"}  # fmt: skip
    _upload_parity(client, auth(tokens[Role.ANALYST]), "its", "series", SERIES, form)


def test_power_parity(client, tokens, auth):
    q = {"baseline_per_month": "6.5", "months": "9", "effect": "-25.0", "pre_months": "18",
         "alpha": "0.05", "dispersion": "0.0", "sims": "300", "seed": "4"}  # fmt: skip
    r = client.get("/api/review/power", params=q, headers=auth(tokens[Role.ANALYST]))
    assert r.status_code == 200, r.text
    api = r.json()
    cli = _cli(["power", *_options(q)])
    _same(cli, api)


@pytest.fixture(scope="module")
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    return load_demo(api_engine, var_dir=tmp_path_factory.mktemp("review-parity-var"))


def test_register_plan_and_report_parity(client, tokens, auth, demo, api_engine, tmp_path,
                                         monkeypatch):  # fmt: skip
    """A plan registered from the CLI, then its report from the CLI (a file) and from the API
    (its SHA-256): the same plan, lines, results and references."""
    from safecities.review.service import plan_from_params
    from safecities.store import db

    monkeypatch.setattr(db, "get_engine", lambda url=None: api_engine)
    from datetime import date

    plan = plan_from_params(units="Clemenceau,Matonge", intervention=date(2025, 5, 5),
                            pre_from=date(2025, 1, 6), post_until=date(2025, 8, 10))  # fmt: skip
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan.canonical(), sort_keys=False), encoding="utf-8")
    reg_cli = _cli(["register-plan", str(path), "--actor", "analyst-1"])
    files = {"file": ("plan.yaml", path.read_bytes(), "application/yaml")}
    r = client.post("/api/review/plans", files=files, headers=auth(tokens[Role.ANALYST]))
    assert r.status_code == 201, r.text
    reg_api = r.json()
    assert reg_cli.pop("already_registered", False) is False and reg_api.pop("already_registered")
    reg_api.pop("manifest"), reg_cli.pop("manifest")
    assert reg_cli == reg_api

    out = tmp_path / "review.html"
    rep_cli = _cli(["report", "--plan", str(path), "--out", str(out), "--lang", "fr"])
    r = client.get(f"/api/review/report?plan={plan.sha256}&lang=fr",
                   headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 200, r.text
    rep_api = r.json()
    keys = ("lang", "plan_sha256", "lines", "results", "references")
    assert {k: rep_cli[k] for k in keys} == {k: rep_api[k] for k in keys}
    assert rep_cli["out"] == str(out) and rep_api["out"] is None and out.is_file()
