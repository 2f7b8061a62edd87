"""The review report from the database (synthetic demo scenario), in three languages."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from safecities.cli import build_app
from safecities.review.plan import load_plan, register_plan
from safecities.review.report import build_review, render_html

PLAN = """\
title: Joint patrols at the hotspots
outcome: shootings
units: [Clemenceau, Peterbos, Matonge]
controls: auto
intervention: 2025-05-05
pre_period: [2025-01-06, 2025-05-04]
post_period: [2025-05-05, 2025-08-10]
method: its
freq: week
rings_m: [300, 800]
"""


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    from safecities.register.demo import SOURCE, generate
    from safecities.register.service import import_incidents, load_reference
    from safecities.store.db import make_engine, session_scope, upgrade

    tmp = tmp_path_factory.mktemp("review_report")
    engine = make_engine(f"sqlite:///{tmp / 'r.db'}")
    upgrade(engine)
    with session_scope(engine) as s:
        load_reference(s, "test")
    csv = tmp / "demo.csv"
    generate(seed=2025, start=date(2025, 1, 1), end=date(2025, 8, 12)).to_csv(csv, index=False)
    import_incidents(engine, csv, source=SOURCE, actor="test", synthetic=True)
    yield engine
    engine.dispose()


def test_review_html_all_languages(demo_engine, tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN)
    plan = load_plan(p)
    register_plan(demo_engine, plan, actor="analyst-1")
    texts = {}
    for lang in ("en", "nl"):
        rv = build_review(demo_engine, plan, lang=lang, seed=0)
        texts[lang] = render_html(rv)
        assert rv.figures
        assert "power" in rv.data and "adherence" in rv.data
    assert "SYNTHETIC" in texts["en"] and "SYNTHETISCHE" in texts["nl"]
    assert "Bowers" in texts["en"] and "Bernal" in texts["en"]
    # Registered after the post-period began (we are past 2025): the report must say so.
    assert "AFTER" in texts["en"] and "NA het begin" in texts["nl"]
    assert "data:image/png;base64" in texts["nl"]


def test_cli_report_pdf_and_html(demo_engine, tmp_path, monkeypatch):
    from safecities.store import db

    monkeypatch.setattr(db, "get_engine", lambda url=None: demo_engine)
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN)
    out = tmp_path / "review.pdf"
    r = CliRunner().invoke(build_app(), ["review", "report", "--plan", str(p), "--out", str(out),
                                         "--lang", "fr", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:4] == b"%PDF"
    res = json.loads(r.output)
    assert res["results"]["its_zones"] or res["results"]["its_city"]
    bad = CliRunner().invoke(build_app(), ["review", "report", "--plan", str(p), "--out",
                                           str(tmp_path / "x.docx")])  # fmt: skip
    assert bad.exit_code != 0


def test_report_has_summary_table_limits_and_localised_numbers(demo_engine, tmp_path):
    """An adviser's report: summary, estimates with direction and credibility in words, a
    power sentence per series, 'what these data cannot tell you', captions and axis labels,
    decimal commas in Dutch."""
    p = tmp_path / "plan.yaml"
    p.write_text(PLAN)
    plan = load_plan(p)
    rv = build_review(demo_engine, plan, lang="nl", seed=0)
    assert rv.summary and rv.limits and len(rv.captions) == len(rv.figures)
    methods = [r["method"] for r in rv.estimates]
    assert methods[0].startswith("ITS") and "DiD" in methods
    assert all(r["direction"] and r["credibility"] for r in rv.estimates)
    its_lines = [x for x in rv.lines if x.startswith("Onderbroken tijdreeks")]
    assert len(its_lines) == 2 and all("deze reeks" in x for x in its_lines)
    zones, city = (rv.data[k]["power"]["baseline_per_period"] for k in ("its_zones", "its_city"))
    assert zones < city  # each series its own power, not the treated zones' for both
    for k in ("its_zones", "its_city"):  # the ITS design and that series' own dispersion
        pw = rv.data[k]["power"]
        assert pw["design"] == "its" and pw["dispersion"] == rv.data[k]["nb_alpha"]
    assert all("geanalyseerd als deze onderbroken tijdreeks" in x for x in its_lines)
    # the DiD line calls the controls similar only when they are
    did_line = next(x for x in rv.lines if x.startswith("Verschil-in-verschillen"))
    similar = rv.data["did"]["controls_similar"]
    assert ("vergelijkbare controlezones:" in did_line) == similar
    assert ("geen ervan is vergelijkbaar" in did_line) == (not similar)
    assert any("," in r["estimate"] for r in rv.estimates)  # 0,80 not 0.80
    assert any("patrouilles" in x for x in rv.limits)
    html = render_html(rv)
    assert "<figcaption>Figuur 1." in html and "Wat deze gegevens u niet kunnen vertellen" in html
