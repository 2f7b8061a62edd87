"""Review: the outcome report of the measures with its charts (NL/FR/EN).

The page shows `safecities review report` for a plan chosen in the form (intervention day,
periods, treated zones): the report's plain-language paragraphs (in the page's language, from the
review catalogue), and one accessible inline SVG per chart: the trend since 1 January and since
summer, the interrupted time series (observed against the counterfactual, treated zones and city),
the difference-in-differences means and event study, displacement per ring, and the power curve
with the minimum detectable effect. Links download the same report as HTML or PDF.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import read_upload, upload_name
from safecities.api.permissions import Action
from safecities.web import i18n
from safecities.web.labels import N_
from safecities.web.pages.core import _day, language, render

router = APIRouter()  # pages are hidden from the schema one by one (the API router is not)

BLUE, ORANGE, RED, GREY, GREEN = "#1f4e79", "#b35806", "#a4001d", "#595959", "#1b7837"
SUMMER = date(2025, 6, 21)
DEFAULT_UNITS = "Clemenceau,Peterbos,Matonge"
CURVE_STEPS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)  # percent falls on the power curve


def _(text: str) -> str:
    """Marks a msgid for extraction (i18n.extract_messages); translated when the page renders."""
    return text


# -- charts: accessible inline SVG (role=img, <title> and <desc>) ------------------------------


def _svg(id_: str, title: str, desc: str, w: int, h: int, body: str) -> str:
    return (
        f'<svg class="chart" id="{id_}" role="img" aria-labelledby="{id_}-title {id_}-desc" '
        f'viewBox="0 0 {w} {h}" width="100%"><title id="{id_}-title">{escape(title)}</title>'
        f'<desc id="{id_}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2f}"


def _legend(items: list[tuple[str, str, str]], x: float, y: float) -> str:
    out = []
    for label, color, dash in items:
        out.append(
            f'<line x1="{x:.0f}" y1="{y:.0f}" x2="{x + 18:.0f}" y2="{y:.0f}" stroke="{color}" '
            f'stroke-width="3"{dash}/><text x="{x + 22:.0f}" y="{y + 4:.0f}" font-size="11">'
            f"{escape(label)}</text>"
        )
        x += 34 + 7.2 * len(label)
    return "".join(out)


def series_svg(
    id_: str,
    title: str,
    desc: str,
    keys: list[str],
    *,
    bars: tuple[dict, str, str] | None = None,
    lines: list[tuple[dict, str, str, str]] = (),
    band: dict | None = None,
    marks: list[tuple[str, str, str]] = (),
    hlines: list[tuple[float, str, str]] = (),
    top: float | None = None,
    bottom: float | None = None,
    pct: bool = False,
    centre_marks: bool = False,
) -> str:
    """Periods on x: optional bars (values, colour, label), lines (values, colour, dash, label),
    a band {key: [lo, hi]}, vertical marks (key, colour, label) and horizontal lines."""
    if not keys:
        return ""
    w, h, left, right, up, low = 720, 240, 44, 12, 28, 34
    vals = [_num(v) for d, *_ in ([bars] if bars else []) + list(lines) for v in d.values()]
    vals += [_num(x) for pair in (band or {}).values() for x in (pair or [])]
    vals = [v for v in vals if v is not None] + [hv for hv, *_ in hlines]
    hi = top if top is not None else max(vals + [1.0])
    lo = bottom if bottom is not None else min(vals + [0.0])
    hi = hi if hi > lo else lo + 1
    n = len(keys)
    step = (w - left - right) / n

    def x(i: float) -> float:
        return left + (i + 0.5) * step

    def y(v: float) -> float:
        return h - low - (h - up - low) * (v - lo) / (hi - lo)

    def label(v: float) -> str:
        return f"{v * 100:.0f}%" if pct else _fmt(v)

    p = [
        f'<line x1="{left}" y1="{y(lo):.1f}" x2="{w - right}" y2="{y(lo):.1f}" stroke="#333"/>',
        f'<line x1="{left}" y1="{up}" x2="{left}" y2="{h - low}" stroke="#333"/>',
        f'<text x="{left - 4}" y="{y(hi) + 4:.1f}" font-size="11" text-anchor="end">'
        f"{label(hi)}</text>",
        f'<text x="{left - 4}" y="{y(lo) + 4:.1f}" font-size="11" text-anchor="end">'
        f"{label(lo)}</text>",
    ]
    if lo < 0 < hi:
        p.append(f'<line x1="{left}" y1="{y(0):.1f}" x2="{w - right}" y2="{y(0):.1f}" '
                 'stroke="#999"/>')  # fmt: skip
    if band:
        upper = [(i, _num((band.get(k) or [None, None])[1])) for i, k in enumerate(keys)]
        lower = [(i, _num((band.get(k) or [None, None])[0])) for i, k in enumerate(keys)]
        pts = [(i, v) for i, v in upper if v is not None]
        pts += [(i, v) for i, v in reversed(lower) if v is not None]
        if len(pts) > 2:
            poly = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
            p.append(f'<polygon points="{poly}" fill="{ORANGE}" fill-opacity="0.18"/>')
    if bars:
        values, color, name = bars
        for i, k in enumerate(keys):
            v = _num(values.get(k))
            if v is None:
                continue
            top_y, base = y(max(v, lo)), y(max(lo, 0))
            p.append(
                f'<rect x="{x(i) - step * 0.4:.1f}" y="{min(top_y, base):.1f}" '
                f'width="{step * 0.8:.1f}" height="{abs(base - top_y):.1f}" fill="{color}">'
                f"<title>{escape(name)} {escape(k)}: {label(v)}</title></rect>"
            )
    for values, color, dash, name in lines:
        pts = [(i, _num(values.get(k))) for i, k in enumerate(keys)]
        pts = [(i, v) for i, v in pts if v is not None]
        if not pts:
            continue
        poly = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
        p.append(
            f'<polyline points="{poly}" fill="none" stroke="{color}" stroke-width="2.5"{dash}>'
            f"<title>{escape(name)}</title></polyline>"
        )
    for hv, color, name in hlines:
        p.append(
            f'<line x1="{left}" y1="{y(hv):.1f}" x2="{w - right}" y2="{y(hv):.1f}" '
            f'stroke="{color}" stroke-dasharray="6 3"><title>{escape(name)}</title></line>'
        )
    for key, color, name in marks:
        later = [i for i, k in enumerate(keys) if k >= key]
        if not later:
            continue
        xm = x(later[0]) - (0 if centre_marks else step / 2)
        right_half = xm > w / 2
        anchor, dx = ("end", -3) if right_half else ("start", 3)
        p.append(
            f'<line x1="{xm:.1f}" y1="{up}" x2="{xm:.1f}" y2="{h - low}" stroke="{color}" '
            f'stroke-width="2" stroke-dasharray="4 3"><title>{escape(name)}</title></line>'
            f'<text x="{xm + dx:.1f}" y="{up + 10 + 12 * (marks.index((key, color, name)))}" '
            f'font-size="11" fill="{color}" text-anchor="{anchor}">{escape(name)}</text>'
        )
    for i in sorted({0, n // 2, n - 1}):
        anchor = "start" if i == 0 else ("end" if i == n - 1 else "middle")
        xi = x(i) - step / 2 if i == 0 else (x(i) + step / 2 if i == n - 1 else x(i))
        p.append(f'<text x="{xi:.1f}" y="{h - low + 16}" font-size="11" '
                 f'text-anchor="{anchor}">{escape(keys[i])}</text>')  # fmt: skip
    legend = [(bars[2], bars[1], "")] if bars else []
    legend += [(name, color, dash) for _v, color, dash, name in lines]
    p.append(_legend(legend, left + 6, 12))
    return _svg(id_, title, desc, w, h, "".join(p))


def event_study_svg(id_: str, title: str, desc: str, rows: list[dict]) -> str:
    """Coefficients by event time with 95 % whiskers; 0 line; the measure starts at 0."""
    rows = [r for r in rows if _num(r.get("coef")) is not None]
    if not rows:
        return ""
    w, h, left, right, up, low = 720, 220, 44, 12, 16, 30
    vals = [_num(r.get(k)) for r in rows for k in ("coef", "lo", "hi")]
    vals = [v for v in vals if v is not None] + [0.0]
    lo, hi = min(vals), max(vals)
    hi = hi if hi > lo else lo + 1
    ts = [int(r["event_time"]) for r in rows]
    t0, t1 = min(ts), max(ts)
    span = max(t1 - t0, 1)

    def x(t: float) -> float:
        return left + (w - left - right) * (t - t0 + 0.5) / (span + 1)

    def y(v: float) -> float:
        return h - low - (h - up - low) * (v - lo) / (hi - lo)

    p = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{w - right}" y2="{y(0):.1f}" stroke="#333"/>',
        f'<line x1="{x(-0.5):.1f}" y1="{up}" x2="{x(-0.5):.1f}" y2="{h - low}" stroke="{RED}" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{left - 4}" y="{y(hi) + 4:.1f}" font-size="11" text-anchor="end">'
        f"{_fmt(hi)}</text>",
        f'<text x="{left - 4}" y="{y(lo) + 4:.1f}" font-size="11" text-anchor="end">'
        f"{_fmt(lo)}</text>",
    ]
    for r in rows:
        t, c = int(r["event_time"]), _num(r["coef"])
        a, b = _num(r.get("lo")), _num(r.get("hi"))
        whisk = (
            f'<line x1="{x(t):.1f}" y1="{y(a):.1f}" x2="{x(t):.1f}" y2="{y(b):.1f}" '
            f'stroke="{BLUE}"/>'
            if a is not None and b is not None
            else ""
        )
        ci = f" [{_fmt(a)}, {_fmt(b)}]" if a is not None and b is not None else ""
        p.append(
            f"<g><title>{t}: {c:.2f}{ci}</title>{whisk}"
            f'<circle cx="{x(t):.1f}" cy="{y(c):.1f}" r="3.5" fill="{BLUE}"/></g>'
        )
    for t in sorted({t0, 0, t1} & set(ts) | {t0, t1}):
        p.append(f'<text x="{x(t):.1f}" y="{h - low + 16}" font-size="11" '
                 f'text-anchor="middle">{t}</text>')  # fmt: skip
    return _svg(id_, title, desc, w, h, "".join(p))


def pair_bars_svg(
    id_: str, title: str, desc: str, groups: list[tuple[str, float, float]], names: tuple[str, str]
) -> str:
    """Before/after bars for each group (e.g. the treated zones, each ring, the rest)."""
    if not groups:
        return ""
    w, h, left, up, low = 720, 220, 44, 26, 34
    top = max([max(a, b) for _, a, b in groups] + [1.0])
    step = (w - left - 12) / len(groups)
    p = [f'<line x1="{left}" y1="{h - low}" x2="{w - 12}" y2="{h - low}" stroke="#333"/>']
    for i, (name, before, after) in enumerate(groups):
        for j, (v, color, which) in enumerate(((before, GREY, names[0]), (after, BLUE, names[1]))):
            bh = (h - up - low) * v / top
            xx = left + i * step + step * (0.12 + 0.38 * j)
            p.append(
                f'<rect x="{xx:.1f}" y="{h - low - bh:.1f}" width="{step * 0.36:.1f}" '
                f'height="{bh:.1f}" fill="{color}"><title>{escape(name)}, {escape(which)}: '
                f'{_fmt(v)}</title></rect><text x="{xx + step * 0.18:.1f}" '
                f'y="{h - low - bh - 3:.1f}" font-size="11" text-anchor="middle">{_fmt(v)}</text>'
            )
        p.append(f'<text x="{left + (i + 0.5) * step:.1f}" y="{h - low + 16}" font-size="11" '
                 f'text-anchor="middle">{escape(name)}</text>')  # fmt: skip
    p.append(_legend([(names[0], GREY, ""), (names[1], BLUE, "")], left + 6, 12))
    return _svg(id_, title, desc, w, h, "".join(p))


# -- the page ---------------------------------------------------------------------------------


def _power_curve(rv) -> dict[str, float]:
    """Detection probability of each fall in CURVE_STEPS under the report's design."""
    from safecities.review.power import detection_probability

    pw = rv.data.get("power") or {}
    base, months, pre = pw.get("baseline_per_month"), pw.get("months"), pw.get("pre_months")
    if not (base and months and pre):
        return {}
    return {
        f"-{k}%": detection_probability(
            base, int(months), -k / 100, pre_months=int(pre), n_sim=1000, seed=0
        )
        for k in CURVE_STEPS
    }


def _charts(rv, tr, summary_observed: dict | None) -> dict[str, str]:
    g = tr.gettext
    data = rv.data
    charts: dict[str, str] = {}
    intervention = rv.plan.intervention.isoformat()
    measure = (intervention, RED, g(_("Start of the measure")))
    city = data.get("its_city") or {}
    observed = city.get("observed") or summary_observed or {}
    keys = sorted(observed)
    marks = [measure]
    if keys and keys[0] <= SUMMER.isoformat() <= keys[-1]:
        marks.insert(0, (SUMMER.isoformat(), GREEN, g(_("Start of summer"))))
    charts["trend"] = series_svg(
        "chart-trend",
        g(_("Incidents per period since 1 January")),
        g(_("Bars: incidents in the city per period; dashed: summer, the measure.")),
        keys, bars=(observed, BLUE, g(_("Incidents"))), marks=marks,
    )  # fmt: skip
    for scope, key in (("zones", "its_zones"), ("city", "its_city")):
        res = data.get(key) or {}
        obs, cf = res.get("observed") or {}, res.get("counterfactual") or {}
        if not obs:
            continue
        post = {k: v for k, v in cf.items() if k >= intervention}
        charts[f"its_{scope}"] = series_svg(
            f"chart-its-{scope}",
            g(_("Observed incidents and the counterfactual"))
            + (f" ({g(_('treated zones'))})" if scope == "zones" else f" ({g(_('whole city'))})"),
            g(_("Bars: observed; line and band: expected without the measure (95 %).")),
            sorted(obs),
            bars=(obs, BLUE, g(_("Observed"))),
            lines=[(post, ORANGE, ' stroke-dasharray="6 3"', g(_("Without the measure")))],
            band=res.get("counterfactual_pi_95"),
            marks=[measure],
        )  # fmt: skip
    did = data.get("did") or {}
    if did.get("means"):
        means = did["means"]
        charts["did_means"] = series_svg(
            "chart-did-means",
            g(_("Treated and control zones: mean incidents per zone")),
            g(_("Lines: mean incidents per zone and period, treated and control zones.")),
            sorted(means),
            lines=[
                ({k: v.get("treated") for k, v in means.items()}, BLUE, "", g(_("Treated"))),
                ({k: v.get("control") for k, v in means.items()}, GREY, "", g(_("Control"))),
            ],
            marks=[measure],
        )  # fmt: skip
        charts["did_events"] = event_study_svg(
            "chart-did-events",
            g(_("Event study: difference per period relative to the last period before")),
            g(_("Points: treated minus control per period, with 95 % intervals.")),
            did.get("event_study") or [],
        )
    disp = data.get("displacement") or {}
    counted = [r for r in disp.get("rings") or [] if r.get("counts")]
    if counted:
        first = counted[0]["counts"]
        groups = [(g(_("Treated zones")), first.get("A0") or 0, first.get("A1") or 0)]
        for ring in counted:
            name = f"{ring['from_m']:.0f}-{ring['to_m']:.0f} m"
            groups.append((name, ring["counts"].get("B0") or 0, ring["counts"].get("B1") or 0))
        groups.append((g(_("Rest of the city")), first.get("C0") or 0, first.get("C1") or 0))
        charts["displacement"] = pair_bars_svg(
            "chart-displacement",
            g(_("Displacement: incidents before and after, per ring around the treated zones")),
            g(_("Incidents before and after: treated zones, each ring, rest of the city.")),
            groups, (g(_("Before")), g(_("After"))),
        )  # fmt: skip
    return charts


def default_query(lang: str, day=None, freq: str = "week", units: str = DEFAULT_UNITS):
    """The report the page shows (also warmed after each write by safecities.web.warmup)."""
    from safecities.api.routes.review import ReportQuery
    from safecities.review import service as rsvc

    return ReportQuery(
        plan=None, units=units, intervention=day or rsvc.DEFAULT_INTERVENTION, post_until=None,
        pre_from=None, method="its", freq=freq, kinds=None, controls=None, rings=None,
        city="brussels", title=None, lang=lang, seed=0,
    )  # fmt: skip


def review_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.REVIEW_READ))],
    intervention: str = Query("2025-06-21", max_length=10),
    freq: str = Query("week", max_length=5),
    units: str = Query(DEFAULT_UNITS, max_length=300),
) -> HTMLResponse:
    from safecities.api.routes.review import cached_report
    from safecities.errors import SafecitiesError
    from safecities.register import service as register_svc
    from safecities.review import service as rsvc
    from safecities.store import cache as inc

    day = _day(intervention) or rsvc.DEFAULT_INTERVENTION
    freq = freq if freq in ("week", "month") else "week"
    lang = language(request)
    tr = i18n.translations(lang)
    engine = request.app.state.engine
    rv, error, charts, curve, summary = None, None, {}, "", None
    try:
        q = default_query(lang, day, freq, units)
        rv = cached_report(request, db, q)
    except SafecitiesError as exc:
        error = str(exc)
    if user.can(Action.INCIDENTS_SUMMARY):
        try:
            req = register_svc.SummaryRequest(city="brussels")
            summary = register_svc.summary_cached(db, engine, req)
        except SafecitiesError:
            summary = None
    if rv is not None:
        try:
            charts = _charts(rv, tr, None)
            points = inc.cached(
                db, ("review-power-curve", *q.key(engine)), lambda: _power_curve(rv)
            )
        except (KeyError, TypeError, ValueError, SafecitiesError) as exc:  # a chart, not the page
            charts, points = {}, {}
            error = f"{type(exc).__name__}: {exc}"
        pw = rv.data.get("power") or {}
        mde = pw.get("mde")
        g = tr.gettext
        curve = series_svg(
            "chart-power",
            g(_("Power: chance of detecting a fall of each size")),
            g(_("Line: chance that a fall of that size is detected; dashed: 80 % target.")),
            list(points),
            lines=[(points, BLUE, "", g(_("Detection probability")))],
            hlines=[(0.8, RED, "80 %")],
            marks=[] if mde is None else [
                (f"-{min(CURVE_STEPS, key=lambda k: abs(k - abs(mde) * 100))}%", GREEN,
                 g(_("Minimum detectable effect")))
            ],
            top=1.0, bottom=0.0, pct=True, centre_marks=True,
        ) if points else ""  # fmt: skip
        if not error:
            for key in ("its_city", "its_zones"):
                if (rv.data.get(key) or {}).get("error"):
                    error = f"{g(_('Not estimable'))}: {rv.data[key]['error']}"
                    break
    api_query = urlencode(
        {"intervention": day.isoformat(), "freq": freq, "units": units, "lang": lang}
    )
    return render(
        request,
        "review.html",
        rv=rv,
        data=rv.data if rv else {},
        lines=rv.lines if rv else [],
        references=list(dict.fromkeys(rv.references)) if rv else [],
        its=(rv.data.get("its_city") if rv else None) or None,
        its_zones=(rv.data.get("its_zones") if rv else None) or None,
        did=(rv.data.get("did") if rv else None) or None,
        disp=(rv.data.get("displacement") if rv else None) or None,
        power=(rv.data.get("power") if rv else None) or None,
        synthetic=bool(rv and rv.lines and rv.lines[0][:10] == _synthetic_prefix(lang)),
        error=error,
        charts=charts,
        power_chart=curve,
        summary=summary,
        intervention=day.isoformat(),
        freq=freq,
        units=units,
        html_url=f"/api/review/report.html?{api_query}",
        pdf_url=f"/api/review/report.pdf?{api_query}",
        json_url=f"/api/review/report?{api_query}",
        can_register=user.can(Action.REVIEW_PLAN),
        report_summary=rv.summary if rv else [],
        estimates=rv.estimates if rv else [],
        limits=rv.limits if rv else [],
        rt=_report_text(lang),
    )


def _report_text(lang: str) -> dict[str, str]:
    """Headings of the report's summary, estimates table and limits, from its catalogue."""
    from safecities.review.catalogue import t

    keys = ("table_heading", "limits_heading", "col_method", "col_estimate", "col_interval",
            "col_direction", "col_credibility")  # fmt: skip
    return {k: t(k, lang) for k in keys}


def _synthetic_prefix(lang: str) -> str:
    from safecities.review.catalogue import t

    return t("synthetic", lang)[:10]


def register_plan_page(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.REVIEW_PLAN))],
    file: UploadFile = File(...),
) -> HTMLResponse:
    """`review register-plan` from the page: the plan's fingerprint into the audit log."""
    from safecities.errors import SafecitiesError
    from safecities.review import service as rsvc

    try:
        src = rsvc.Upload(read_upload(file, 256 * 1024), upload_name(file.filename, "plan.yaml"))
        reg = rsvc.register_plan(request.app.state.engine, src, actor=user.name).data
    except SafecitiesError as exc:
        return render(
            request,
            "message.html",
            status_code=400,
            heading=N_("The plan was not registered"),
            message=N_("The file was refused:"),
            css="error",
            detail=str(exc),
        )
    if reg.get("already_registered"):
        message = N_("This plan was already registered; nothing changed.")
    elif reg.get("registered_before_post_period"):
        message = N_(
            "Registered before the post-period: the report will say the plan was fixed in advance."
        )
    else:
        message = N_("Registered after the post-period started: the report will say so.")
    return render(
        request,
        "message.html",
        heading=N_("Plan registered"),
        message=message,
        css="success",
        detail=f"sha256 {reg['sha256']}",
    )


router.get("/review", response_class=HTMLResponse, include_in_schema=False)(review_page)
router.post("/review/plans", response_class=HTMLResponse, include_in_schema=False)(
    register_plan_page
)
