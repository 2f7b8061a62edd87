"""The review of the Brussels measures from the database, as HTML or PDF, in NL, FR or EN.

Incidents come from the register (`incidents_frame`, kinds filtered by the plan), zones from
`safecities.register.reference.zones`. The report runs the plan's analyses on weekly or monthly
counts: ITS for the treated zones and the city, DiD of treated zones against similar zones that do
not touch them, synthetic control when the plan asks for it, the WDQ for the plan's rings, and the
power of the design; it says whether the analysis followed a pre-registered plan. Every section
cites its method. Any failure of one analysis is reported as "not estimable (reason)" rather than
stopping the report.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from safecities.errors import InputError, SafecitiesError
from safecities.review.catalogue import LANGS, num, t
from safecities.review.its import ITS, aggregate_counts
from safecities.review.methods import REFERENCES
from safecities.review.plan import Plan, adherence
from safecities.review.power import power_analysis


@dataclass
class Review:
    plan: Plan
    lang: str
    lines: list[str] = field(default_factory=list)  # plain-language paragraphs, in order
    figures: list[bytes] = field(default_factory=list)  # PNGs
    figs_mpl: list[Any] = field(default_factory=list)  # matplotlib figures (for PDF)
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable results
    references: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # executive summary (plain words)
    estimates: list[dict[str, str]] = field(default_factory=list)  # the table of estimates
    limits: list[str] = field(default_factory=list)  # "what these data cannot tell you"
    captions: list[str] = field(default_factory=list)  # one per figure


def _zones_for(plan: Plan, engine: Engine | None = None):
    from safecities.register.reference import zones

    z = zones(plan.city, engine=engine)
    if z.empty:
        raise InputError(f"plan: city {plan.city!r} has no zones")
    by = {str(n).lower(): i for i, n in z["name"].items()}
    by.update({str(n).lower(): i for i, n in z["id"].items()})
    missing = [u for u in plan.units if u.lower() not in by]
    if missing:
        raise InputError(f"plan: field units: unknown zone(s) {', '.join(missing)}")
    treated_idx = sorted({by[u.lower()] for u in plan.units})
    return z, treated_idx


def _events(engine: Engine, plan: Plan) -> pd.DataFrame:
    from safecities.register.service import incidents_frame

    ev = incidents_frame(engine, plan.city)
    if plan.kinds:
        ev = ev[ev["kind"].isin(plan.kinds)]
    return ev.reset_index(drop=True)


def _in_zone(ev: pd.DataFrame, geom) -> np.ndarray:
    import shapely

    pts = shapely.points(ev["lon"].to_numpy(float), ev["lat"].to_numpy(float))
    return shapely.contains(geom, pts) if len(ev) else np.zeros(0, bool)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def build_review(engine: Engine, plan: Plan, *, lang: str = "en", seed: int = 0) -> Review:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely

    if lang not in LANGS:
        raise InputError(f"--lang: {lang!r} must be one of {', '.join(LANGS)}")
    rv = Review(plan=plan, lang=lang)
    freq = plan.freq
    per_month = 1.0 if freq == "month" else 52.1775 / 12
    z, tidx = _zones_for(plan, engine)
    treated_geom = shapely.union_all(list(z.loc[tidx, "geometry"]))
    ev = _events(engine, plan)
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"], utc=True).dt.tz_convert("Europe/Brussels")
    start = pd.Timestamp(plan.pre_period[0]) if plan.pre_period else None
    if start is None and len(ev):
        start = ev["occurred_at"].min().tz_localize(None).normalize()
    last = ev["occurred_at"].max().tz_localize(None).normalize() if len(ev) else None
    end = pd.Timestamp(plan.post_period[1])
    if last is not None:
        end = min(end, last)
    t_int = pd.Timestamp(plan.intervention)
    synthetic = bool(len(ev) and ev.get("synthetic", pd.Series(False)).astype(bool).any())
    if synthetic:
        rv.lines.append(t("synthetic", lang))
    pre_s = f"{(start.date() if start is not None else '-')} - {plan.intervention}"
    rv.lines.append(
        t("design", lang, outcome=plan.outcome, units=", ".join(plan.units),
          intervention=plan.intervention.isoformat(), pre=pre_s,
          post=f"{plan.post_period[0]} - {end.date()}", method=plan.method.upper())
    )  # fmt: skip
    # -- plan adherence (filled in at the end with what was used)
    used: dict[str, Any] = {"method": plan.method, "freq": freq, "units": list(plan.units)}
    if start is None:
        raise InputError("no incidents in the database for this plan's city and kinds")
    in_treated = _in_zone(ev, treated_geom)
    d = ev["occurred_at"].dt.tz_localize(None)
    city_counts = aggregate_counts(d, None, freq, start, end)
    zone_counts = aggregate_counts(d[in_treated], None, freq, start, end)
    pre_mask = city_counts.index < t_int
    n_pre_periods, n_post_periods = int(pre_mask.sum()), int((~pre_mask).sum())
    pre_n, post_n = int(zone_counts[pre_mask].sum()), int(zone_counts[~pre_mask].sum())
    pre_months = max(n_pre_periods / per_month, 1e-9)
    post_months = max(n_post_periods / per_month, 1e-9)
    rv.lines.append(
        t("counts", lang, pre_n=pre_n, pre_rate=pre_n / pre_months, post_n=post_n,
          post_rate=post_n / post_months if n_post_periods else 0.0,
          city_pre=int(city_counts[pre_mask].sum()), city_post=int(city_counts[~pre_mask].sum()))
    )  # fmt: skip
    rv.data["counts"] = {
        "treated_pre": pre_n, "treated_post": post_n,
        "city_pre": int(city_counts[pre_mask].sum()),
        "city_post": int(city_counts[~pre_mask].sum()),
        "periods_pre": n_pre_periods, "periods_post": n_post_periods, "freq": freq,
    }  # fmt: skip
    # -- power, stated next to every estimate
    base = max(pre_n / pre_months, 0.05)
    months = (
        max(round(post_months), 1)
        if n_post_periods
        else max(round((pd.Timestamp(plan.post_period[1]) - t_int).days / 30.44), 1)
    )
    pw = power_analysis(base, months, -0.3, pre_months=max(round(pre_months), 1), seed=seed)
    mde = t("mde_none", lang) if pw.mde is None else f"{abs(pw.mde) * 100:.0f}%"
    power_line = t("power", lang, base=base, eff=30, months=months, p=pw.detection_probability,
                   mde=mde)  # fmt: skip
    rv.data["power"] = pw.to_dict()
    rv.references.append(REFERENCES["power"])
    if n_post_periods == 0:
        rv.lines.append(t("no_post", lang))
        rv.lines.append(power_line)
        rv.data["adherence"] = adherence(engine, plan, used)
        _plan_lines(rv)
        return rv
    # -- ITS (treated zones, then city)
    primary_rr = None
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(city_counts.index, city_counts.to_numpy(), color="#999", lw=1,
            label=t("scope_city", lang))  # fmt: skip
    ax.plot(zone_counts.index, zone_counts.to_numpy(), color="#1f4e9c", lw=1.5,
            label=t("chart_treated", lang))  # fmt: skip
    for scope, series in (("scope_zones", zone_counts), ("scope_city", city_counts)):
        key = "its_zones" if scope == "scope_zones" else "its_city"
        try:
            res = ITS(series, t_int, freq=freq).fit(seed=seed, n_sim=1000)
        except (SafecitiesError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            # numpy/statsmodels refuse some series (e.g. all zeros over a long pre-period):
            # the report says the estimate is not available instead of failing
            rv.lines.append(t("not_estimable", lang, what=f"ITS ({t(scope, lang)})",
                              reason=str(exc)))  # fmt: skip
            rv.data[key] = {"error": str(exc)}
            continue
        lo, hi = res.rate_ratio_ci
        alo, ahi = res.events_averted_ci
        spw, spw_line = _series_power(series, res, freq, lang, seed)
        rv.lines.append(
            t("its", lang, scope=t(scope, lang), rr=res.rate_ratio, lo=lo, hi=hi,
              averted=res.events_averted, alo=alo, ahi=ahi)
            + " " + spw_line
        )  # fmt: skip
        rv.data[key] = {**res.to_dict(), "power": spw}
        cred = [t("cred_few", lang)] if res.warnings and not res.slope_model else []
        if res.autocorrelation.get("corrected"):
            cred.append(t("cred_autocorr", lang))
        _row(rv, f"ITS ({t(scope, lang)})", num(res.rate_ratio, lang),
             f"{num(lo, lang)} – {num(hi, lang)}", _direction(lo, hi, 1.0, lang),
             "; ".join(cred) or t("cred_ok", lang))  # fmt: skip
        if scope == "scope_zones":
            primary_rr = (res.rate_ratio, lo, hi)
            post_idx = series.index >= res.intervention
            ax.plot(series.index[post_idx], res.counterfactual[post_idx], "--", color="#c0392b",
                    label=t("chart_counterfactual", lang))  # fmt: skip
            ax.fill_between(series.index[post_idx], res.counterfactual_lo[post_idx],
                            res.counterfactual_hi[post_idx], color="#c0392b",
                            alpha=0.15)  # fmt: skip
    rv.references.append(REFERENCES["its"])
    ax.axvline(t_int, color="k", lw=1)
    ax.set_title(t("chart_trend", lang, freq=t(freq, lang)))
    ax.set_xlabel(t("axis_time", lang))
    ax.set_ylabel(t("axis_events", lang, freq=t(freq, lang)))
    ax.legend(fontsize=8)
    rv.captions.append(t("caption_trend", lang, freq=t(freq, lang)))
    fig.autofmt_xdate()
    rv.figures.append(_png(fig))
    rv.figs_mpl.append(fig)
    # -- DiD against similar zones that do not touch the treated ones
    _did_section(rv, z, tidx, treated_geom, ev, d, start, end, t_int, used, seed)
    # -- synthetic control when planned
    if plan.method == "scm":
        _scm_section(rv, z, tidx, treated_geom, ev, d, start, end, t_int, seed)
    # -- displacement
    try:
        from safecities.register.reference import city_boundary
        from safecities.review.wdq import MIN_EVENTS, displacement

        disp = displacement(
            ev, [z.loc[i, "geometry"] for i in tidx], t_int, city=city_boundary(plan.city),
            rings=plan.rings_m, before=(start, t_int), after=(t_int, end + pd.Timedelta(days=1)),
        )  # fmt: skip
        rv.data["displacement"] = disp.to_dict()
        for (lo_m, hi_m), w in zip(disp.rings, disp.by_ring, strict=True):
            q = "-" if w is None or w.quotient is None else num(w.quotient, lang)
            reading = t(f"reading_{w.reading}", lang, n=MIN_EVENTS) if w else disp.note
            rv.lines.append(t("wdq", lang, lo=lo_m, hi=hi_m, wdq=q, reading=reading))
        rv.references.append(REFERENCES["wdq"])
        rv.references.append(REFERENCES["wdd"])
    except SafecitiesError as exc:
        rv.lines.append(t("not_estimable", lang, what="WDQ", reason=str(exc)))
    _summary_and_limits(rv, primary_rr, zone_counts, pre_mask, pre_n)
    # -- verdict in plain words
    if primary_rr is not None:
        rr, lo, hi = primary_rr
        key = (
            "verdict_inconclusive"
            if lo <= 1 <= hi
            else ("verdict_down" if hi < 1 else "verdict_up")
        )
        rv.lines.append(t(key, lang))
    rv.data["adherence"] = adherence(engine, plan, used)
    _plan_lines(rv)
    return rv


def _series_power(series: pd.Series, res, freq: str, lang: str, seed: int):
    """The power sentence of this series: the ITS design itself (segmented GLM, Wald test of the
    level change), its own mean before, its periods and the dispersion its ITS estimated (0 =
    Poisson) -- the same computation as the JSON of `review its` (service.its_power)."""
    from safecities.review.service import its_power

    t0 = int((series.index < res.intervention).sum())
    n_post = len(series) - t0
    pw = its_power(series, t0, res, -0.3, seed, freq)
    mde = t("mde_none", lang) if pw.mde is None else f"{num(abs(pw.mde) * 100, lang, '.0f')}%"
    disp = t("overdispersed", lang) if res.alpha_nb > 0 else ""
    line = t("power_series", lang, base=pw.baseline_per_month, period=t(freq, lang), pre=t0,
             post=n_post, disp=disp, eff=30, p=pw.detection_probability, mde=mde)  # fmt: skip
    return pw.to_dict(), line


def _direction(lo: float, hi: float, null: float, lang: str) -> str:
    if lo <= null <= hi or not (np.isfinite(lo) and np.isfinite(hi)):
        return t("dir_unclear", lang)
    return t("dir_down" if hi < null else "dir_up", lang)


def _row(rv: Review, method: str, estimate: str, interval: str, direction: str, cred: str):
    rv.estimates.append({"method": method, "estimate": estimate, "interval": interval,
                         "direction": direction, "credibility": cred})  # fmt: skip
    rv.data["estimates"] = rv.estimates


def _summary_and_limits(rv: Review, primary, zone_counts: pd.Series, pre_mask, pre_n: int):
    """The executive summary (the primary estimate, its credibility, its power) and what the
    data cannot tell: concurrent measures, regression to the mean, spill-over, small numbers,
    methods that disagree."""
    lang = rv.lang
    if primary is not None:
        rr, lo, hi = primary
        row = next((r for r in rv.estimates if r["method"].startswith("ITS")), None)
        cred = (row or {}).get("credibility", t("cred_ok", lang))
        p = (rv.data.get("its_zones") or {}).get("power", {}).get("detection_probability")
        tail = f"{cred}; " + (t("summary_power", lang, p=p) if p is not None else "")
        key = "summary_unclear" if lo <= 1 <= hi else ("summary_down" if hi < 1 else "summary_up")
        rv.summary.append(t(key, lang, rr=rr, lo=lo, hi=hi, cred=tail))
    rv.limits.append(t("limit_concurrent", lang))
    pre = zone_counts[pre_mask]
    rtm = t("limit_rtm", lang)
    if len(pre) >= 8 and pre.mean() > 0:
        last = pre.iloc[-max(len(pre) // 4, 1) :].mean() / pre.mean()
        if last > 1.2:
            rtm += t("limit_rtm_seen", lang, ratio=last)
    rv.limits.append(rtm)
    rv.limits.append(t("limit_spill", lang))
    if pre_n < 50:
        rv.limits.append(t("limit_small", lang, n=pre_n))
    # the treated zones' ITS (the first ITS row) against the DiD
    its_d = next((r["direction"] for r in rv.estimates if r["method"].startswith("ITS")), None)
    did_d = next((r["direction"] for r in rv.estimates if r["method"] == "DiD"), None)
    unclear = t("dir_unclear", lang)
    if its_d and did_d and unclear not in (its_d, did_d) and its_d != did_d:
        rv.limits.append(t("limit_disagree", lang, its=its_d, did=did_d))
    rv.data["summary"] = rv.summary
    rv.data["limits"] = rv.limits


def _zone_panel(z, idx, ev, d, start, end, freq) -> pd.DataFrame:
    """Counts per zone and period: one period index for all events, then a bincount per zone."""
    import shapely

    ones = aggregate_counts(d, None, freq, start, end)
    periods = ones.index
    dd = pd.to_datetime(d)
    if freq == "week":
        k = (dd - pd.to_timedelta(dd.dt.day_of_week, unit="D")).dt.normalize()
    else:
        k = dd.dt.to_period("M").dt.to_timestamp()
    pos = periods.get_indexer(k)
    ok = pos >= 0
    pts = shapely.points(ev["lon"].to_numpy(float), ev["lat"].to_numpy(float))
    frames = []
    for i in idx:
        m = shapely.contains(z.loc[i, "geometry"], pts) & ok
        c = np.bincount(pos[m], minlength=len(periods)).astype(float)
        frames.append(pd.DataFrame({"unit": z.loc[i, "name"], "time": periods, "y": c}))
    return pd.concat(frames, ignore_index=True)


def _pool(z, tidx, treated_geom) -> list[int]:
    return [
        i for i in z.index if i not in tidx and not z.loc[i, "geometry"].intersects(treated_geom)
    ]


def _did_section(rv, z, tidx, treated_geom, ev, d, start, end, t_int, used, seed) -> None:
    from safecities.review.did import DiD

    plan, lang = rv.plan, rv.lang
    try:
        pool = _pool(z, tidx, treated_geom)
        if plan.controls != "auto":
            names = {str(n).lower(): i for i, n in z["name"].items()}
            pool = [names[c.lower()] for c in plan.controls if c.lower() in names]
        if len(pool) < 1:
            raise InputError("no control zone that does not touch the treated zones")
        panel = _zone_panel(z, list(tidx) + pool, ev, d, start, end, plan.freq)
        treated_names = [z.loc[i, "name"] for i in tidx]
        res = DiD(panel, unit_col="unit", time_col="time", outcome="y", treated=treated_names,
                  intervention=t_int, controls=None if plan.controls == "auto" else
                  [z.loc[i, "name"] for i in pool]).fit()  # fmt: skip
    except SafecitiesError as exc:
        rv.lines.append(t("not_estimable", lang, what="DiD", reason=str(exc)))
        rv.data["did"] = {"error": str(exc)}
        return
    lo, hi = res.conf_int()
    p = res.pretrend_p if np.isfinite(res.pretrend_p) else float("nan")
    # "similar" only when the controls are: otherwise the line says they are the closest ones
    did_key = "did" if res.controls_similar else "did_dissimilar"
    rv.lines.append(t(did_key, lang, n=len(res.controls), eff=res.effect, freq=t(plan.freq, lang),
                      lo=lo, hi=hi, p=p))  # fmt: skip
    cred = []
    if np.isfinite(p):
        reading = "pretrend_bad" if p < 0.05 else ("pretrend_weak" if p < 0.10 else "pretrend_ok")
        rv.lines.append(t(reading, lang, p=p))
        if p < 0.05:
            cred.append(t("cred_pretrend", lang))
    if not res.controls_similar:
        rv.lines.append(t("did_no_similar", lang))
        cred.append(t("cred_no_similar", lang))
    _row(rv, "DiD", num(res.effect, lang, "+.2f"), f"{num(lo, lang, '+.2f')} – "
         f"{num(hi, lang, '+.2f')}", _direction(lo, hi, 0.0, lang),
         "; ".join(cred) or t("cred_ok", lang))  # fmt: skip
    rv.data["did"] = res.to_dict()
    rv.references.append(REFERENCES["did"])
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(res.means.index, res.means["treated"], label=t("chart_treated", lang))
    a1.plot(res.means.index, res.means["control"], label=t("chart_control", lang))
    a1.axvline(t_int, color="k", lw=1)
    a1.set_xlabel(t("axis_time", lang))
    a1.set_ylabel(t("axis_events", lang, freq=t(plan.freq, lang)))
    a1.legend(fontsize=8)
    es = res.event_study
    a2.errorbar(es.index, es["coef"], yerr=[es["coef"] - es["lo"], es["hi"] - es["coef"]],
                fmt="o", ms=3)  # fmt: skip
    a2.axhline(0, color="k", lw=0.8)
    a2.axvline(-0.5, color="k", lw=0.8, ls=":")
    a2.set_title(t("chart_event", lang), fontsize=9)
    a2.set_xlabel(t("axis_event_time", lang, freq=t(plan.freq, lang)))
    a2.set_ylabel(t("axis_difference", lang))
    rv.captions.append(t("caption_did", lang, freq=t(plan.freq, lang)))
    fig.autofmt_xdate()
    rv.figures.append(_png(fig))
    rv.figs_mpl.append(fig)


def _scm_section(rv, z, tidx, treated_geom, ev, d, start, end, t_int, seed) -> None:
    from safecities.review.scm import SyntheticControl

    lang = rv.lang
    try:
        pool = _pool(z, tidx, treated_geom)
        panel = _zone_panel(z, list(tidx) + pool, ev, d, start, end, rv.plan.freq)
        tr = "treated zones"
        agg = panel[panel["unit"].isin([z.loc[i, "name"] for i in tidx])]
        agg = agg.groupby("time", as_index=False)["y"].sum().assign(unit=tr)
        panel = pd.concat([agg, panel[~panel["unit"].isin(agg["unit"])]], ignore_index=True)
        panel = panel[~panel["unit"].isin([z.loc[i, "name"] for i in tidx])]
        res = SyntheticControl(panel, unit_col="unit", time_col="time", outcome="y", treated=tr,
                               intervention=t_int)  # fmt: skip
        res = res.fit(seed=seed, preset="fast", n_starts=2)
    except SafecitiesError as exc:
        rv.lines.append(t("not_estimable", lang, what="SCM", reason=str(exc)))
        rv.data["scm"] = {"error": str(exc)}
        return
    pl = res.placebo
    rv.lines.append(t("scm", lang, eff=res.effect, p=pl.p_value, rank=pl.rank, n=pl.n_units))
    cred = [t("cred_placebo", lang, p=pl.p_value)]
    if not res.hull["ok"]:
        rv.lines.append(t("scm_hull", lang))
        cred.insert(0, t("cred_hull", lang))
    _row(rv, "SCM", num(res.effect, lang, "+.2f"), "–", "–", "; ".join(cred))
    rv.data["scm"] = res.to_dict()
    rv.references.append(REFERENCES["scm"])


def _plan_lines(rv: Review) -> None:
    a = rv.data["adherence"]
    lang = rv.lang
    sha = a["plan_sha256"][:16]
    if not a["registered"]:
        rv.lines.insert(1, t("plan_not_registered", lang, sha=sha))
    elif not a["registered_before_post_period"]:
        rv.lines.insert(1, t("plan_late", lang, at=a["registered_at"]))
    else:
        rv.lines.insert(1, t("plan_ok", lang, at=a["registered_at"], sha=sha))
    for dev in a["deviations"]:
        rv.lines.insert(2, t("plan_deviation", lang, **dev))


def render_html(rv: Review) -> str:
    title = html.escape(t("title", rv.lang, title=rv.plan.title))
    parts = [
        f'<!doctype html><html lang="{rv.lang}"><head><meta charset="utf-8"><title>{title}</title>',
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
        "p.warn{background:#fde2e2;padding:.5em}img{max-width:100%}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    lang, esc = rv.lang, html.escape
    if rv.summary:
        parts.append(f"<h2>{esc(t('summary_heading', lang))}</h2>")
        parts += [f"<p><strong>{esc(x)}</strong></p>" for x in rv.summary]
    if rv.estimates:
        cols = ("method", "estimate", "interval", "direction", "credibility")
        head = "".join(f"<th>{esc(t('col_' + c, lang))}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(r[c])}</td>" for c in cols) + "</tr>" for r in rv.estimates
        )
        parts.append(f"<h2>{esc(t('table_heading', lang))}</h2><table border='1' "
                     f"cellpadding='4'><tr>{head}</tr>{body}</table>")  # fmt: skip
    for i, line in enumerate(rv.lines):
        cls = ' class="warn"' if i == 0 and line.startswith(t("synthetic", rv.lang)[:10]) else ""
        parts.append(f"<p{cls}>{html.escape(line)}</p>")
    for i, png in enumerate(rv.figures):
        cap = rv.captions[i] if i < len(rv.captions) else ""
        parts.append(
            f'<figure><img alt="{esc(cap) or "chart"}" '
            f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            f"<figcaption>{esc(cap)}</figcaption></figure>"
        )
    if rv.limits:
        parts.append(f"<h2>{esc(t('limits_heading', lang))}</h2><ul>")
        parts += [f"<li>{esc(x)}</li>" for x in rv.limits]
        parts.append("</ul>")
    parts.append(f"<h2>{html.escape(t('methods', rv.lang))}</h2><ul>")
    for ref in dict.fromkeys(rv.references):
        parts.append(f"<li>{html.escape(ref)}</li>")
    parts.append(
        f"</ul><p><small>{date.today().isoformat()} - safecities</small></p></body></html>"
    )
    return "\n".join(parts)


def render_pdf(rv: Review, path: Path) -> None:
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        lines = [t("title", rv.lang, title=rv.plan.title), ""]
        if rv.summary:
            lines += [t("summary_heading", rv.lang)]
            for line in rv.summary:
                lines += textwrap.wrap(line, 95) + [""]
        if rv.estimates:
            lines += [t("table_heading", rv.lang)]
            for r in rv.estimates:
                lines += textwrap.wrap(" | ".join(r.values()), 95)
            lines += [""]
        for line in rv.lines:
            lines += textwrap.wrap(line, 95) + [""]
        if rv.limits:
            lines += [t("limits_heading", rv.lang)]
            for line in rv.limits:
                lines += textwrap.wrap("- " + line, 95)
            lines += [""]
        lines += [t("methods", rv.lang)] + [
            w for ref in dict.fromkeys(rv.references) for w in textwrap.wrap("- " + ref, 95)
        ]
        per_page = 52
        for k in range(0, len(lines), per_page):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.06, 0.96, "\n".join(lines[k : k + per_page]), va="top", fontsize=8.5,
                     family="DejaVu Sans")  # fmt: skip
            pdf.savefig(fig)
            plt.close(fig)
        for i, fig in enumerate(rv.figs_mpl):
            if i < len(rv.captions):
                fig.subplots_adjust(bottom=0.3)
                fig.text(0.02, 0.02, "\n".join(textwrap.wrap(rv.captions[i], 120)), fontsize=7,
                         va="bottom")  # fmt: skip
            pdf.savefig(fig)
    for fig in rv.figs_mpl:
        plt.close(fig)


def write_report(rv: Review, out: Path) -> None:
    suffix = out.suffix.lower()
    if suffix == ".html":
        out.write_text(render_html(rv), encoding="utf-8")
    elif suffix == ".pdf":
        render_pdf(rv, out)
    else:
        raise InputError(f"--out {out}: must end in .html or .pdf")
