"""Exports: iCalendar per command post and a printable daily briefing per post."""

from __future__ import annotations

import json
from pathlib import Path

from patrols_cli import run_cli

from safecities.patrols.check import check_plan
from safecities.patrols.export import _fold
from safecities.patrols.planner import Planner, write_plan
from safecities.patrols.protocol import load_protocol
from safecities.patrols.risk import default_profile

MINI = Path(__file__).resolve().parents[1] / "data" / "patrols" / "mini.yaml"


def _mini_plan(tmp_path: Path, first: str, last: str, seed: int):
    """A plan of the small protocol, written to plan.csv: (protocol, path)."""
    from datetime import date

    p = load_protocol(MINI)
    d1, d2 = date.fromisoformat(first), date.fromisoformat(last)
    res = Planner(p, d1, d2, default_profile(p), seed=seed, time_limit=10).run()
    plan = tmp_path / "plan.csv"
    write_plan(res.rows, plan)
    return p, plan


def test_ics_and_briefing_per_post(tmp_path: Path) -> None:
    _p, plan = _mini_plan(tmp_path, "2026-04-03", "2026-04-04", 5)
    assert check_plan(plan, MINI).ok
    out = run_cli(
        [
            "plan",
            "export",
            str(plan),
            "--protocol",
            str(MINI),
            "--out",
            str(tmp_path / "x"),
            "--json",
        ]
    )
    assert out.exit_code == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["command_posts"] == ["cp-rail", "cp-south"]
    ics = Path(payload["files"]["ics"][0]).read_bytes().decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.rstrip().endswith("END:VCALENDAR")
    assert ics.count("BEGIN:VEVENT") == ics.count("END:VEVENT") > 0
    assert "Mixed patrol" in ics and "Defence liaison: DL-R" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    # the plan starts with the night shift of 2 April (its eve): the briefing of 3 April
    south = Path(
        next(f for f in payload["files"]["html"] if "cp-south-2026-04-03" in f)
    ).read_text()
    assert "Defence liaison on duty" in south and "FIPA" not in south.split("<h2")[0]
    assert "fipa-1" in south  # the FIPA of 3 April in Clemenceau is in the team list
    assert "<svg" in south  # map of the post's zones (bundled Brussels geometry)
    # The same briefing as a printable PDF per post and day.
    assert len(payload["files"]["pdf"]) == len(payload["files"]["html"])
    pdf = Path(next(f for f in payload["files"]["pdf"] if "cp-south" in f)).read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_fold_keeps_utf8_sequences() -> None:
    line = "DESCRIPTION:" + "é" * 80
    folded = _fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_one_event_per_team_shift_with_its_route(tmp_path: Path) -> None:

    import pandas as pd

    from safecities.patrols.export import ics_for_post, ics_for_team, read_plan_rows, team_shifts

    p, plan = _mini_plan(tmp_path, "2026-04-06", "2026-04-06", 2)
    df = read_plan_rows(plan, p)
    shifts = [sh for sh in team_shifts(df, p) if sh["kind"] == "patrol"]
    # a crew works one 8-hour shift a day (3 shifts: the eve's night, the day's, the last night)
    crews = pd.Series([sh["team"] for sh in shifts])
    assert crews.value_counts().max() <= 2
    assert all((sh["end"] - sh["start"]) == pd.Timedelta(hours=8) for sh in shifts)
    n_crew_shifts = len(shifts)
    ics = ics_for_post(df, "cp-rail", p, "plan.csv")
    # one event per team shift visiting the post (not one per 15-minute visit)
    assert 0 < ics.count("BEGIN:VEVENT") <= n_crew_shifts + len(p.fipa) < len(df) / 4
    unfolded = ics.replace("\r\n ", "")
    assert "DESCRIPTION:Route: " in unfolded and "Brussels-South" not in unfolded
    assert "railway-south" in unfolded or "Railway" in unfolded or "metro" in unfolded.lower()
    crew = shifts[0]["team"]
    mine = ics_for_team(df, crew, p, "plan.csv")
    assert mine.count("BEGIN:VEVENT") == sum(sh["team"] == crew for sh in shifts)
    soldier = next(u for sh in shifts for u in sh["soldier_units"])
    assert "Defence unit" in ics_for_team(df, soldier, p, "plan.csv")
    # the command posts' languages: the same events, their texts in Dutch or French
    for lang, words in (
        ("fr", ("X-WR-CALNAME:Patrouilles mixtes cp-rail", "DESCRIPTION:Itinéraire: ",
                "Patrouille mixte ")),
        ("nl", ("X-WR-CALNAME:Gemengde patrouilles cp-rail", "DESCRIPTION:Route: ",
                "Gemengde patrouille ")),
    ):  # fmt: skip
        other = ics_for_post(df, "cp-rail", p, "plan.csv", lang).replace("\r\n ", "")
        assert other.count("BEGIN:VEVENT") == ics.count("BEGIN:VEVENT")
        assert all(w in other for w in words), lang
        assert "Mixed patrol" not in other and "Defence liaison" not in other
    assert "Eenheid Defensie" in ics_for_team(df, soldier, p, "plan.csv", "nl")


def test_briefing_in_three_languages_with_nothing_clipped(tmp_path: Path) -> None:
    """WeasyPrint lays the briefing out on A4: every box stays inside its page (long names and
    routes wrap), in NL, FR and EN, with the map and the zones that admit soldiers."""
    from datetime import date

    from weasyprint import HTML

    from safecities.patrols.export import briefing_html, read_plan_rows, render_pdf

    p, plan = _mini_plan(tmp_path, "2026-04-03", "2026-04-03", 5)
    df = read_plan_rows(plan, p)
    words = {"nl": "Verbindingsofficier Defensie", "fr": "Officier de liaison", "en": "Route"}
    for lang, word in words.items():
        page = briefing_html(df, "cp-south", date(2026, 4, 3), p, "plan.csv", lang)
        assert f'<html lang="{lang}">' in page and word in page and "<svg" in page
        assert "fipa-1" in page  # the FIPA of 3 April in Clemenceau, with its soldiers
        doc = HTML(string=page).render()
        assert len(doc.pages) >= 2
        for pg in doc.pages:
            width = pg.width

            def inside(box, width=width) -> bool:
                right = box.position_x + box.margin_width()
                ok = right <= width + 0.5
                return ok and all(inside(c) for c in getattr(box, "children", []))

            assert inside(pg._page_box), lang
        assert render_pdf(page).startswith(b"%PDF-")
