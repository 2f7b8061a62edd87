"""Review: the outcome report and its charts."""

from datetime import date
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.web import i18n
from safecities.web.pages.core import _day, language, render

router = APIRouter()  # pages are hidden from the schema one by one (the API router is not)


def its_svg(its: dict, title: str) -> str:
    """Observed counts (bars) and the counterfactual (line) as accessible inline SVG."""
    obs = its.get("observed") or {}
    cf = its.get("counterfactual") or {}
    keys = sorted(obs)
    if not keys:
        return ""
    w, h, pad = 720, 220, 30
    top = max([obs[k] for k in keys] + [cf.get(k, 0) for k in keys]) or 1
    bw = (w - 2 * pad) / len(keys)
    parts = []
    for i, k in enumerate(keys):
        bh = (h - 2 * pad) * obs[k] / top
        parts.append(
            f'<rect x="{pad + i * bw:.1f}" y="{h - pad - bh:.1f}" width="{bw * 0.8:.1f}" '
            f'height="{bh:.1f}" fill="#1f4e79"><title>{escape(k)}: {obs[k]:.0f}</title>'
            "</rect>"
        )
    pts = " ".join(
        f"{pad + i * bw + bw * 0.4:.1f},{h - pad - (h - 2 * pad) * cf[k] / top:.1f}"
        for i, k in enumerate(keys)
        if k in cf
    )
    if pts:
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#d95f02" stroke-width="2"/>')
    try:
        iv = keys.index(min(k for k in keys if k >= its["intervention"]))
        x = pad + iv * bw
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{h - pad}" stroke="#a4001d" '
            'stroke-dasharray="4"/>'
        )
    except ValueError:
        pass
    return (
        f'<svg class="chart" role="img" aria-labelledby="its-title" viewBox="0 0 {w} {h}" '
        f'width="100%"><title id="its-title">{escape(title)}</title>' + "".join(parts) + "</svg>"
    )


def review_page(
    request: Request,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.REVIEW_READ))],
    intervention: str = Query("2025-06-21", max_length=10),
    freq: str = Query("week", max_length=5),
) -> HTMLResponse:
    from safecities.api import incidents as inc
    from safecities.api import review as rsvc
    from safecities.errors import SafecitiesError

    day = _day(intervention) or date(2025, 6, 21)
    freq = freq if freq in ("week", "month") else "week"
    engine = request.app.state.engine
    tr = i18n.translations(language(request))
    its, error, chart = None, None, ""
    try:
        key = ("review-its", str(engine.url), "brussels", day, freq)
        its = inc.cached(db, key, lambda: rsvc.its(engine, intervention=day, freq=freq))
        chart = its_svg(its, tr.gettext("Observed incidents and the counterfactual"))
    except SafecitiesError as exc:
        error = str(exc)
    return render(
        request,
        "review.html",
        its=its,
        error=error,
        chart=chart,
        intervention=day.isoformat(),
        freq=freq,
    )


router.get("/review", response_class=HTMLResponse, include_in_schema=False)(review_page)

# Workaround: safecities/api/app.py does not include the review API router yet (its tuple of
# capability routers lacks "review"); mounted here until it does.
from safecities.api.routes.review import router as _api_router  # noqa: E402

router.include_router(_api_router)
