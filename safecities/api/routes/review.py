"""Review: outcome evaluation of the measures (the `safecities review` commands as routes).

Every route needs `review.read`. Results that come from the register are cached until the next
write; uploads are analysed by the CLI's own service functions (`safecities.review.service`)
with the API's cost bounds (`API_LIMITS`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import Day, read_upload, upload_name
from safecities.api.permissions import Action
from safecities.domain import CITIES
from safecities.errors import InputError
from safecities.review import service as svc
from safecities.review.service import API_LIMITS as LIMITS
from safecities.review.service import Upload
from safecities.store import cache as inc

router = APIRouter(prefix="/api/review", tags=["review"])
City = Literal[CITIES]  # type: ignore[valid-type]
Lang = Literal["nl", "fr", "en"]
Reader = Annotated[Principal, Depends(require(Action.REVIEW_READ))]
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
Seed = Annotated[int, Query(ge=0, le=2**31 - 1, description="Random seed.")]


@router.get("/its", responses={400: {}})
def its(
    request: Request,
    db: DbSession,
    _: Reader,
    intervention: Day = Query(..., description="Intervention day, e.g. start of joint patrols."),
    freq: Literal["week", "month"] = Query("week"),
    city: City = Query("brussels"),
) -> dict[str, Any]:
    """Interrupted time series: rate ratio after/before with 95 % interval, events averted."""
    engine = request.app.state.engine
    key = ("review-its", str(engine.url), city, intervention, freq)
    return inc.cached(
        db, key, lambda: svc.its_register(engine, intervention=intervention, freq=freq, city=city)
    )


@router.post("/its", responses={400: {}})
def its_upload(
    _: Reader,
    file: UploadFile = File(..., description="CSV/Parquet of dated counts or one row per event."),
    date_col: str = Form(..., min_length=1, max_length=100, description="Date column."),
    intervention: str = Form(..., min_length=1, max_length=40, description="Intervention date."),
    count_col: str | None = Form(
        None, max_length=100, description="Count column (omit: each row is one event)."
    ),
    freq: Literal["week", "month"] = Form("month"),
    family: Literal["auto", "poisson", "negbin"] = Form("auto"),
    power_effect: float = Form(-30.0, gt=-100, le=500, description="Effect (%) whose power."),
    seed: int = Form(0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    """Interrupted time series (`safecities review its --json`) on an uploaded series."""
    req = svc.ItsRequest(
        series=_upload(file), date_col=date_col, intervention=intervention,
        count_col=count_col or None, freq=freq, family=family, power_effect=power_effect,
        seed=seed,
    )  # fmt: skip
    return svc.its(req, limits=LIMITS).to_dict()


def _upload(file: UploadFile) -> Upload:
    """The upload's bytes (one byte over the cap, so the service can refuse it by size)."""
    return Upload(file.file.read(LIMITS.max_upload_bytes + 1), file.filename)


# -- the review report ------------------------------------------------------------------------


class ReportQuery:
    """The plan of the report as parameters (or `plan`: the SHA-256 of a registered plan)."""

    def __init__(
        self,
        plan: str | None = Query(
            None,
            pattern=r"^[0-9a-f]{64}$",
            description="SHA-256 of a plan registered with `safecities review register-plan`; "
            "when given, the other plan parameters are ignored.",
        ),
        units: str = Query(
            svc.DEFAULT_UNITS, max_length=300, description="Treated zones (comma list)."
        ),
        intervention: Day = Query(svc.DEFAULT_INTERVENTION, description="Start of the measure."),
        post_until: Day | None = Query(None, description="End of the post-period."),
        pre_from: Day | None = Query(None, description="Start of the pre-period."),
        method: Literal["its", "did"] = Query("its", description="Primary method."),
        freq: Literal["week", "month"] = Query("week"),
        kinds: str | None = Query(None, max_length=200, description="Incident kinds counted."),
        controls: str | None = Query(None, max_length=500, description="Control zones."),
        rings: str | None = Query(None, max_length=60, description="Displacement rings (m)."),
        city: City = Query("brussels"),
        title: str | None = Query(None, max_length=200),
        lang: Lang = Query("en", description="Language of the report."),
        seed: Seed = 0,
    ) -> None:
        for name, day in (("intervention", intervention), ("post_until", post_until),
                          ("pre_from", pre_from)):  # fmt: skip
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise InputError(f"{name}: {day} is outside {FIRST_DAY} - {LAST_DAY}")
        if pre_from is not None and not 0 < (intervention - pre_from).days <= 5 * 366:
            raise InputError("pre_from: within 5 years before the intervention")
        if post_until is not None and not 0 <= (post_until - intervention).days <= 3 * 366:
            raise InputError("post_until: within 3 years after the intervention")
        self.sha = plan
        self.params = dict(
            units=units, intervention=intervention, post_until=post_until, pre_from=pre_from,
            method=method, freq=freq, kinds=kinds, controls=controls, rings=rings, city=city,
            title=title,
        )  # fmt: skip
        self.lang, self.seed = lang, seed

    def key(self, engine) -> tuple:
        p = self.params
        return ("review-report", str(engine.url), self.sha, *(p[k] for k in sorted(p)),
                self.lang, self.seed)  # fmt: skip

    def query_string(self, request: Request) -> str:
        return str(request.url.query)


def _build(request: Request, q: ReportQuery, *, pdf: bool = False):
    engine = request.app.state.engine
    plan = svc.registered_plan(engine, q.sha) if q.sha else svc.plan_from_params(**q.params)
    return svc.build_report(engine, plan, lang=q.lang, seed=q.seed, keep_figs=pdf)


def cached_report(request: Request, db, q: ReportQuery):
    """The Review object (lines, data, PNG figures) for these parameters, cached until a write
    (without its matplotlib figures: the PDF route builds its own and caches the bytes)."""
    return inc.cached(db, q.key(request.app.state.engine), lambda: _build(request, q))


Report = Annotated[ReportQuery, Depends()]


@router.get("/report", responses={400: {}, 404: {}})
def report(request: Request, db: DbSession, _: Reader, q: Report) -> dict[str, Any]:
    """The review of the measures from the register (`safecities review report --json`):
    plain-language lines, results {counts, power, its_zones, its_city, did, displacement,
    adherence}, references; `downloads` links the HTML and PDF of the same report."""
    rv = cached_report(request, db, q)
    return svc.report_dict(rv, out=None, seed=q.seed, query=q.query_string(request))


@router.get("/report.html", response_class=HTMLResponse, responses={400: {}, 404: {}})
def report_html(request: Request, db: DbSession, _: Reader, q: Report) -> HTMLResponse:
    """The same report as a self-contained HTML file (download)."""
    rv = cached_report(request, db, q)
    return HTMLResponse(
        svc.report_html(rv),
        headers={"Content-Disposition": f'attachment; filename="review-{q.lang}.html"'},
    )


@router.get(
    "/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 400: {}, 404: {}},
)
def report_pdf(request: Request, db: DbSession, _: Reader, q: Report) -> Response:
    """The same report as PDF (download)."""
    cached_report(request, db, q)  # a bad plan fails here, fast and cached
    engine = request.app.state.engine
    pdf = inc.cached(
        db,
        ("review-report-pdf", *q.key(engine)),
        lambda: svc.report_pdf(_build(request, q, pdf=True)),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="review-{q.lang}.pdf"'},
    )


# -- uploaded panels and parameters -----------------------------------------------------------


@router.post("/scm", responses={400: {}})
def scm(
    _: Reader,
    file: UploadFile = File(..., description="Long panel, CSV (comma or semicolon) or Parquet."),
    unit_col: str = Form(..., min_length=1, max_length=100, description="Column naming the unit."),
    time_col: str = Form(..., min_length=1, max_length=100, description="Column with the period."),
    outcome: str = Form(..., min_length=1, max_length=100, description="Outcome column."),
    treated: str = Form(..., min_length=1, max_length=200, description="The treated unit."),
    intervention: str = Form(..., min_length=1, max_length=40, description="First treated period."),
    covariates: str | None = Form(
        None, max_length=2000, description="Comma list, averaged over the pre-period."
    ),
    predictor: list[str] = Form(
        [], description="Repeatable COLUMN:FROM-TO or COLUMN:T1,T2,... (at most 20)."
    ),
    fit_period: str | None = Form(
        None, max_length=2000, description="FROM-TO pre-periods whose fit chooses V."
    ),
    donors: str | None = Form(
        None, max_length=2000, description="Comma list of donor units (default: all)."
    ),
    starts: int = Form(4, ge=1, le=LIMITS.max_starts, description="Optimiser starts (as CLI)."),
    preset: Literal["fast", "normal"] = Form("normal"),
    placebo: bool = Form(True, description=f"In-space placebos (<= {LIMITS.max_placebo_donors})."),
    train_predictor: list[str] = Form(
        [], description="Repeatable COLUMN:SPEC, one per predictor (ADH 2015 training)."
    ),
    train_fit_period: str | None = Form(
        None, max_length=2000, description="FROM-TO outcome periods that choose V in training."
    ),
    custom_v: UploadFile | None = File(None, description="CSV predictor,v: use this V."),
    in_time_placebo: str | None = Form(
        None, max_length=40, description="A pre-period time used as a fake intervention."
    ),
    leave_one_out: bool = Form(False, description="Refit without each donor of weight >= 1 %."),
    seed: int = Form(0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    """Synthetic control (`safecities review scm --json`) on an uploaded panel, with the CLI's
    settings (same answer on the same data); placebo inference fits every donor once, at most
    `max_placebo_donors` donors."""
    for name, specs in (("predictor", predictor), ("train_predictor", train_predictor)):
        if len(specs) > 20 or any(len(p) > 200 for p in specs):
            raise InputError(f"{name}: at most 20, each at most 200 characters")
    req = svc.ScmRequest(
        panel=_upload(file), unit_col=unit_col, time_col=time_col, outcome=outcome,
        treated=treated, intervention=intervention, covariates=covariates,
        predictor=tuple(predictor), fit_period=fit_period, donors=donors, starts=starts,
        preset=preset, placebo=placebo, train_predictor=tuple(train_predictor),
        train_fit_period=train_fit_period, custom_v=_upload(custom_v) if custom_v else None,
        in_time_placebo=in_time_placebo, leave_one_out=leave_one_out, seed=seed,
    )  # fmt: skip
    return svc.scm(req, limits=LIMITS).to_dict()


@router.post("/did", responses={400: {}})
def did(
    _: Reader,
    file: UploadFile = File(..., description="Long balanced panel, CSV or Parquet."),
    unit_col: str = Form(
        ..., min_length=1, max_length=100, description="Column naming the unit (zone)."
    ),
    time_col: str = Form(..., min_length=1, max_length=100, description="Column with the period."),
    outcome: str = Form(..., min_length=1, max_length=100, description="Outcome column."),
    treated: str | None = Form(None, max_length=2000, description="Comma list of treated units."),
    intervention: str | None = Form(
        None, max_length=40, description="First treated period (one date)."
    ),
    adoption_col: str | None = Form(
        None, max_length=100, description="Column with each unit's first treated period."
    ),
    controls: str | None = Form(None, max_length=2000, description="Comma list of control units."),
    n_controls: int | None = Form(None, ge=1, le=LIMITS.max_units),
    control_group: Literal["never", "notyet"] = Form("notyet"),
    anticipation: int = Form(0, ge=0, le=12, description="Periods of anticipation."),
    covariates: str | None = Form(
        None, max_length=2000, description="Staggered: comma list of covariates."
    ),
    est_method: Literal["dr", "reg"] = Form("dr", description="Staggered with covariates."),
    boot: int = Form(199, ge=9, le=LIMITS.max_boot, description="Bootstrap replications."),
    seed: int = Form(0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    """Difference-in-differences (`safecities review did --json`): event study and pre-trend
    test, or staggered adoption (Callaway-Sant'Anna) with `adoption_col`; plus its power."""
    req = svc.DidRequest(
        panel=_upload(file), unit_col=unit_col, time_col=time_col, outcome=outcome,
        treated=treated, intervention=intervention, adoption_col=adoption_col or None,
        controls=controls, n_controls=n_controls, control_group=control_group,
        anticipation=anticipation, covariates=covariates, est_method=est_method, boot=boot,
        seed=seed,
    )  # fmt: skip
    return svc.did(req, limits=LIMITS).to_dict()


@router.get("/power", responses={400: {}})
def power(
    request: Request,
    db: DbSession,
    _: Reader,
    baseline_per_month: float = Query(..., gt=0, le=10_000, description="Events a month."),
    months: int = Query(..., ge=1, le=60, description="Months observed after the measure."),
    effect: float = Query(..., gt=-100, le=500, description="Change to detect, percent."),
    pre_months: int = Query(12, ge=1, le=60, description="Months observed before."),
    design: Literal["prepost"] = Query(
        "prepost", description="prepost only here (the its design fits a GLM per draw: CLI)."
    ),
    alpha: float = Query(0.05, gt=0, lt=1),
    dispersion: float = Query(0.0, ge=0, le=10, description="Negative binomial alpha."),
    sims: int | None = Query(None, ge=10, le=LIMITS.max_sims, description="Simulated studies."),
    seed: Seed = 0,
) -> dict[str, Any]:
    """Power by simulation (`safecities review power --json`): detection probability of
    `effect` and the minimum detectable effect."""
    req = svc.PowerRequest(
        baseline_per_month=baseline_per_month, months=months, effect=effect,
        pre_months=pre_months, design=design, alpha=alpha, dispersion=dispersion, sims=sims,
        seed=seed,
    )  # fmt: skip
    return inc.cached(db, ("review-power", req), lambda: svc.power(req, limits=LIMITS).to_dict())


@router.post("/plans", status_code=201, responses={400: {}})
def register_plan(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.REVIEW_PLAN))],
    file: UploadFile = File(..., description="Analysis plan (YAML): outcome, units, dates, method"),
) -> dict[str, Any]:
    """`review register-plan`: pre-register an analysis plan; its SHA-256 and canonical form go
    into the audit log (idempotent: an unchanged plan answers `already_registered`). Reports
    then say whether the plan was registered before the post-period."""
    src = Upload(read_upload(file, 256 * 1024), upload_name(file.filename, "plan.yaml"))
    return svc.register_plan(request.app.state.engine, src, actor=user.name).to_dict()
