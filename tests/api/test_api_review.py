"""Review API: the report from the register (synthetic demo scenario), its HTML/PDF downloads,
synthetic control and DiD on uploaded panels, power; bad uploads answer 400 with row errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safecities.domain import Role

DATA = Path(__file__).parents[1] / "data" / "api"
WINDOW = "intervention=2025-05-05&pre_from=2025-01-06&post_until=2025-08-10"


@pytest.fixture(scope="module")
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    return load_demo(api_engine, var_dir=tmp_path_factory.mktemp("review-var"))


def _panel(name="review_panel.csv"):
    return {"file": (name, (DATA / name).read_bytes(), "text/csv")}


def test_report_json_has_the_cli_keys_and_plausible_figures(client, tokens, auth, demo):
    r = client.get(f"/api/review/report?{WINDOW}", headers=auth(tokens[Role.ANALYST]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"out", "lang", "plan_sha256", "lines", "results", "references", "manifest"} <= set(body)
    res = body["results"]
    assert {"counts", "power", "its_zones", "its_city", "did", "displacement", "adherence"} <= set(
        res
    )
    c = res["counts"]
    assert 0 < c["city_pre"] + c["city_post"] <= 57 and c["freq"] == "week"
    assert c["treated_pre"] + c["treated_post"] <= c["city_pre"] + c["city_post"]
    its = res["its_city"]
    assert its["rate_ratio"] > 0 and its["rate_ratio_ci_95"][0] <= its["rate_ratio_ci_95"][1]
    assert sum(its["observed"].values()) == c["city_pre"] + c["city_post"]
    assert 0 <= res["power"]["detection_probability"] <= 1
    assert res["did"]["event_study"] and "pretrend_test" in res["did"]
    assert [ring["from_m"] for ring in res["displacement"]["rings"]] == [0, 250]
    assert res["adherence"]["registered"] is False
    assert body["lines"][0].startswith("SYNTHETIC")
    assert any("Bernal" in ref for ref in body["references"])
    assert body["manifest"]["command"] == "review report"
    assert body["downloads"]["pdf"].startswith("/api/review/report.pdf?")
    nl = client.get(f"/api/review/report?{WINDOW}&lang=nl", headers=auth(tokens[Role.ANALYST]))
    assert nl.status_code == 200 and nl.json()["lines"][0].startswith("SYNTHETISCHE")


def test_report_downloads_html_and_pdf(client, tokens, auth, demo):
    h = auth(tokens[Role.MINISTERIAL_STAFF])
    r = client.get(f"/api/review/report.html?{WINDOW}", headers=h)  # cached from the JSON test
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    assert '<html lang="en">' in r.text and "data:image/png;base64" in r.text
    r = client.get(f"/api/review/report.pdf?{WINDOW}", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content[:4] == b"%PDF"
    assert 'filename="review-en.pdf"' in r.headers["content-disposition"]
    pages = len(re.findall(rb"/Type\s*/Page\b", r.content))
    assert pages >= 3  # the text, then the trend/ITS chart and the DiD charts


def test_report_of_a_registered_plan(client, tokens, auth, demo, api_engine):
    from safecities.review.plan import register_plan
    from safecities.review.service import plan_from_params

    plan = plan_from_params(units="Clemenceau,Peterbos", intervention=__import__("datetime").date(
        2025, 5, 5), method="did", freq="week")  # fmt: skip
    reg = register_plan(api_engine, plan, actor="analyst-1")
    h = auth(tokens[Role.AUDITOR])
    r = client.get(f"/api/review/report?plan={reg['sha256']}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan_sha256"] == reg["sha256"] and body["results"]["adherence"]["registered"]
    assert body["plan"]["method"] == "did"
    assert client.get("/api/review/report?plan=" + "0" * 64, headers=h).status_code == 404


def test_report_bad_parameters_are_400_or_422(client, tokens, auth, demo):
    h = auth(tokens[Role.ANALYST])
    r = client.get("/api/review/report?units=Atlantis", headers=h)
    assert r.status_code == 400 and "Atlantis" in r.json()["detail"]
    assert client.get("/api/review/report?method=scm", headers=h).status_code == 422
    r = client.get("/api/review/report?intervention=2025-05-05&post_until=2025-01-01", headers=h)
    assert r.status_code == 400
    r = client.get("/api/review/report?intervention=9999-12-31", headers=h)
    assert r.status_code == 400
    r = client.get("/api/review/report?kinds=no_such_kind", headers=h)
    assert r.status_code == 400


def test_report_roles(client, tokens, auth, demo):
    assert (
        client.get("/api/review/report", headers=auth(tokens[Role.CAMERA_OPERATOR])).status_code
        == 403
    )
    assert client.get("/api/review/report").status_code == 401
    for role in (Role.DEFENCE_LIAISON, Role.INTERIOR_APPROVER):
        assert client.get(f"/api/review/report?{WINDOW}", headers=auth(tokens[role])).is_success


def test_power_matches_the_readme_example(client, tokens, auth):
    h = auth(tokens[Role.ANALYST])
    r = client.get(
        "/api/review/power?baseline_per_month=8&months=8&effect=-30&sims=2000", headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"method", "reference", "design", "detection_probability", "mde", "mde_pct", "words",
            "manifest", "n_sim"} <= set(body)  # fmt: skip
    assert 0.35 < body["detection_probability"] < 0.75 and body["n_sim"] == 2000
    assert -100 < body["mde_pct"] < -30
    r = client.get("/api/review/power?baseline_per_month=2&months=6&effect=20&dispersion=0.5",
                   headers=h)  # fmt: skip
    assert r.status_code == 200 and r.json()["effect_pct"] == 20 and r.json()["n_sim"] == 2000
    for bad in ("baseline_per_month=0&months=8&effect=-30",
                "baseline_per_month=8&months=8&effect=-30&design=its",  # CLI only: cost
                "baseline_per_month=8&months=61&effect=-30",
                "baseline_per_month=8&months=8&effect=-30&sims=5000"):  # fmt: skip
        assert client.get(f"/api/review/power?{bad}", headers=h).status_code == 422, bad
    assert client.get("/api/review/power?baseline_per_month=8&months=8&effect=-30",
                      headers=auth(tokens[Role.CAMERA_OPERATOR])).status_code == 403  # fmt: skip


def test_scm_on_an_uploaded_panel(client, tokens, auth):
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents",
            "treated": "zone-A", "intervention": "2018"}  # fmt: skip
    r = client.post("/api/review/scm", data=form, files=_panel(),
                    headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "synthetic_control" and body["treated"] == "zone-A"
    assert abs(sum(body["donor_weights"].values()) - 1) < 1e-6
    assert body["placebo"]["n_units"] == 7 and 1 <= body["placebo"]["rank"] <= 7
    assert body["effect"] < 0  # the fixture's treated zone drops by 4 from 2018
    assert body["manifest"]["command"] == "review scm" and body["manifest"]["inputs"]["panel"]
    assert body["manifest"]["solver"]["objective"] == body["pre_period_loss"]
    r = client.post("/api/review/scm", data=form | {"placebo": "false", "donors": "zone-B,zone-C"},
                    files=_panel(), headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 200 and r.json()["placebo"] is None
    r = client.post("/api/review/scm", data=form | {"treated": "zone-Z"}, files=_panel(),
                    headers=auth(tokens[Role.ANALYST]))  # fmt: skip
    assert r.status_code == 400 and "zone-Z" in r.json()["detail"]
    assert "tmp" not in r.json()["detail"]


def test_bad_uploads_give_400_with_every_bad_row(client, tokens, auth):
    h = auth(tokens[Role.ANALYST])
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents",
            "treated": "zone-A", "intervention": "2018"}  # fmt: skip
    for route in ("scm", "did"):
        r = client.post(f"/api/review/{route}", data=form,
                        files=_panel("review_panel_bad.csv"), headers=h)  # fmt: skip
        assert r.status_code == 400, r.text
        errs = r.json()["errors"]
        assert [(e["row"], e["field"]) for e in errs] == [
            (4, "incidents"),
            (15, "year"),
            (21, "incidents"),
        ]
        assert all(e["file"] == "review_panel_bad.csv" for e in errs)
        assert errs[0]["value"] == "lots"
    r = client.post("/api/review/did", data=form | {"outcome": "missing_col"}, files=_panel(),
                    headers=h)  # fmt: skip
    assert r.status_code == 400 and "missing column" in r.json()["detail"]
    junk = {"file": ("x.csv", b"\x00\xff\xfe garbage \x00", "text/csv")}
    assert client.post("/api/review/did", data=form, files=junk, headers=h).status_code == 400
    empty = {"file": ("e.csv", b"", "text/csv")}
    r = client.post("/api/review/scm", data=form, files=empty, headers=h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"
    assert client.post("/api/review/scm", data=form, headers=h).status_code == 422
    assert client.post("/api/review/scm", data=form, files=_panel(),
                       headers=auth(tokens[Role.CAMERA_OPERATOR])).status_code == 403  # fmt: skip


def test_did_one_date_and_staggered(client, tokens, auth):
    h = auth(tokens[Role.PLANNER])
    form = {"unit_col": "zone", "time_col": "year", "outcome": "incidents",
            "treated": "zone-A", "intervention": "2018", "n_controls": "3"}  # fmt: skip
    r = client.post("/api/review/did", data=form, files=_panel(), headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "difference_in_differences" and len(body["controls"]) == 3
    assert body["effect"] < 0 and body["conf_int_95"][0] <= body["effect"] <= body["conf_int_95"][1]
    assert {"event_time", "coef", "se", "lo", "hi"} <= set(body["event_study"][0])
    assert {"p_value", "passed"} <= set(body["pretrend_test"])
    # the fixture's outcome has decimals (not counts): no count-data power sentence
    assert body["power"] is None and body["manifest"]["parameters"]["boot"] == 199
    st = {"unit_col": "zone", "time_col": "year", "outcome": "incidents",
          "adoption_col": "adopted", "boot": "99", "control_group": "never"}  # fmt: skip
    r = client.post("/api/review/did", data=st, files=_panel(), headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "callaway_santanna" and body["att_gt"] and body["event_study"]
    r = client.post("/api/review/did", data={k: v for k, v in form.items() if k != "treated"},
                    files=_panel(), headers=h)  # fmt: skip
    assert r.status_code == 400 and "adoption_col" in r.json()["detail"]


def test_its_on_an_uploaded_series(client, tokens, auth):
    h = auth(tokens[Role.ANALYST])
    form = {"date_col": "month", "count_col": "n", "intervention": "2024-07-01", "freq": "month"}
    files = {"file": ("series.csv", (DATA / "review_series.csv").read_bytes(), "text/csv")}
    r = client.post("/api/review/its", data=form, files=files, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rate_ratio"] < 0.8 and body["rate_ratio_ci_95"][1] < 1  # the fixture halves
    assert body["events_averted"] > 0 and len(body["observed"]) == 42
    assert {"placebo_in_time", "power", "manifest"} <= set(body)
    assert body["manifest"]["command"] == "review its" and body["manifest"]["inputs"]["series"]
    bad = {"file": ("bad.csv", (DATA / "review_series_bad.csv").read_bytes(), "text/csv")}
    r = client.post("/api/review/its", data=form, files=bad, headers=h)
    assert r.status_code == 400
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "month"), (10, "n")]
    r = client.post("/api/review/its", data=form | {"date_col": "when"}, files=files, headers=h)
    assert r.status_code == 400 and "missing column" in r.json()["detail"]
    assert client.post("/api/review/its", data=form, files=files,
                       headers=auth(tokens[Role.CAMERA_OPERATOR])).status_code == 403  # fmt: skip


PLAN_YAML = b"""title: Joint patrols at the hotspots
outcome: shootings
kinds: [shooting, shots_fired]
units: [Clemenceau, Peterbos]
controls: auto
intervention: 2030-09-02
pre_period: [2025-01-01, 2030-09-01]
post_period: [2030-09-02, 2031-02-28]
method: its
freq: week
rings_m: [250, 500]
city: brussels
"""


def test_register_a_plan_by_upload_before_the_post_period(client, tokens, auth):
    files = {"file": ("patrols-plan.yaml", PLAN_YAML, "application/yaml")}
    staff = auth(tokens[Role.MINISTERIAL_STAFF])
    assert client.post("/api/review/plans", headers=staff, files=files).status_code == 403
    h = auth(tokens[Role.ANALYST])
    r = client.post("/api/review/plans", headers=h, files=files)
    assert r.status_code == 201, r.text
    reg = r.json()
    assert len(reg["sha256"]) == 64 and reg["plan"]["units"] == ["Clemenceau", "Peterbos"]
    assert reg["registered_before_post_period"] is True  # a plan for a measure still to come
    again = client.post("/api/review/plans", headers=h, files=files).json()
    assert again["already_registered"] and again["sha256"] == reg["sha256"]
    audit = client.get("/api/audit", headers=auth(tokens[Role.AUDITOR])).text
    assert reg["sha256"] in audit
    bad = {"file": ("broken.yaml", b"title: x\n", "application/yaml")}
    r = client.post("/api/review/plans", headers=h, files=bad)
    assert r.status_code == 400 and r.json()["detail"].startswith("broken.yaml: missing field")
