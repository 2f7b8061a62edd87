"""Review page: the full report with its charts (accessible SVG), caveats and downloads, in NL, FR
and EN, on the synthetic demo scenario."""

from __future__ import annotations

import re

import pytest

from safecities.domain import Role

QUERY = "/review?intervention=2025-05-05&freq=week"


@pytest.fixture(scope="module")
def demo(api_engine, tmp_path_factory):
    from safecities.register.demo import load_demo

    return load_demo(api_engine, var_dir=tmp_path_factory.mktemp("review-page-var"))


def _signin(client, demo_accounts, role):
    acc = demo_accounts[role]
    r = client.post("/login", data={"name": acc["name"], "password": acc["password"], "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def test_review_page_with_three_incidents_never_fails(client, demo_accounts, api_engine):
    """Before the demo is loaded: an empty register, then three incidents (most analyses are
    not estimable): the page answers 200 with the reason, never a server error."""
    from pathlib import Path

    from safecities.register.service import import_incidents

    _signin(client, demo_accounts, Role.ADMIN)
    r = client.get("/review")
    assert r.status_code == 200 and 'id="review-error"' in r.text
    import_incidents(api_engine, Path(__file__).parents[1] / "data" / "api" / "incidents_ok.csv",
                     actor="test")  # fmt: skip
    for q in ("", "?intervention=2025-05-05&freq=month", "?intervention=2025-07-20"):
        r = client.get("/review" + q)
        assert r.status_code == 200 and "<h1>" in r.text, q


CHARTS = ("chart-trend", "chart-its-zones", "chart-its-city", "chart-did-means",
          "chart-did-events", "chart-displacement", "chart-power")  # fmt: skip


@pytest.mark.parametrize(
    "lang, words",
    [
        ("en", ("Download the report", "SYNTHETIC", "Minimum detectable effect", "Few events")),
        (
            "nl",
            (
                "Het rapport downloaden",
                "SYNTHETISCHE",
                "Kleinste aantoonbare effect",
                "Weinig gebeurtenissen",
            ),
        ),  # fmt: skip
        ("fr", ("Télécharger le rapport", "SYNTH", "Effet minimal détectable", "Peu d")),
    ],
)
def test_review_page_full_report_in_three_languages(client, demo_accounts, demo, lang, words):
    _signin(client, demo_accounts, Role.MINISTERIAL_STAFF)
    client.get(f"/lang?code={lang}&next=/")
    r = client.get(QUERY)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert f'lang="{lang}"' in html
    for w in words:
        assert w in html, (lang, w)
    for chart in CHARTS:
        head = rf'<svg class="chart" id="{chart}" role="img" aria-labelledby="{chart}-title '
        m = re.search(head + rf'{chart}-desc"[^>]*><title id="{chart}-title">([^<]+)</title>', html)
        assert m, (lang, chart)
    assert 'id="its-figures"' in html and 'id="did-figures"' in html
    assert 'id="review-synthetic"' in html and 'id="review-caveat"' in html
    # the report's estimates table and "what these data cannot tell you", in the page's language
    from safecities.review.catalogue import t

    assert 'id="review-estimates"' in html and 'id="review-limits"' in html
    assert t("limits_heading", lang).replace("'", "&#39;") in html
    assert "/api/review/report.pdf?intervention=2025-05-05&amp;freq=week" in html
    assert f"lang={lang}" in html
    assert "<caption>" in html and 'id="review-error"' not in html


def test_review_page_labels_every_field_and_reports_errors(client, demo_accounts, demo):
    _signin(client, demo_accounts, Role.ANALYST)
    client.get("/lang?code=en&next=/")
    html = client.get("/review").text
    for field in ("intervention", "freq", "units"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    r = client.get("/review?units=Atlantis")
    assert r.status_code == 200 and 'id="review-error"' in r.text and "Atlantis" in r.text
    assert 'id="download-pdf"' not in r.text


def test_review_page_refuses_camera_operator(client, demo_accounts):
    _signin(client, demo_accounts, Role.CAMERA_OPERATOR)
    assert client.get("/review").status_code == 403


PLAN = b"""title: Joint patrols at the hotspots (page test)
outcome: shootings
units: [Clemenceau, Matonge]
intervention: 2031-03-03
pre_period: [2025-01-01, 2031-03-02]
post_period: [2031-03-03, 2031-08-31]
method: its
freq: week
city: brussels
"""


def test_an_analyst_pre_registers_a_plan_from_the_page(client, demo_accounts, demo):
    _signin(client, demo_accounts, Role.MINISTERIAL_STAFF)
    assert 'id="review-register"' not in client.get("/review").text  # reads reports only
    files = {"file": ("plan.yaml", PLAN, "application/yaml")}
    assert client.post("/review/plans", files=files).status_code == 403
    _signin(client, demo_accounts, Role.ANALYST)
    assert 'id="review-register"' in client.get("/review").text
    r = client.post("/review/plans", files=files)
    assert r.status_code == 200 and "Registered before the post-period" in r.text
    assert "sha256 " in r.text
    r = client.post("/review/plans", files=files)
    assert "already registered" in r.text
    r = client.post("/review/plans", files={"file": ("bad.yaml", b"title: x\n", "text/yaml")})
    assert r.status_code == 400 and "bad.yaml: missing field" in r.text
