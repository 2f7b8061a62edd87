"""Joint patrols: protocol governance (request, Interior and Defence approval) and plans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.limits import Day, read_upload, upload_name
from safecities.api.permissions import Action
from safecities.patrols import service
from safecities.patrols.service import saved as svc

router = APIRouter(prefix="/api/patrols", tags=["patrols"])
ProtoId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PlanIn(BaseModel):
    from_: date = Field(alias="from")
    to: date
    seed: int = Field(0, ge=0, le=2**31 - 1)
    time_limit: float = Field(30.0, gt=0, le=svc.MAX_TIME_LIMIT)
    protocol_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="A stored protocol (another city's); default: bundled"
    )
    continue_latest: bool = Field(
        True,
        description="continue the newest saved plan of the same protocol that ends the day "
        "before `from` (as `plan make --after`); false: a fresh plan",
    )
    risk: Literal["register", "default"] = Field(
        "register",
        description="register: zones and hours weighed by the hotspot profile of the register's "
        "incidents; default: the protocol's default profile",
    )


class SpanIn(BaseModel):
    from_: datetime = Field(alias="from", description="ISO 8601; without an offset: local time")
    to: datetime


class ZoneClosedIn(SpanIn):
    zone: str = Field(min_length=1, max_length=80)


class UnitAwayIn(SpanIn):
    unit: str = Field(min_length=1, max_length=80)


class CapIn(BaseModel):
    value: int = Field(ge=0, le=10_000)
    from_: datetime = Field(alias="from")


class ChangesIn(BaseModel):
    """The changes of a re-plan (the keys of `plan make --changes`; a new FIPA is a protocol
    amendment, so `fipa` lists FIPA of the plan's own, approved protocol)."""

    close_zone: list[ZoneClosedIn] = Field(default_factory=list, max_length=200)
    unit_unavailable: list[UnitAwayIn] = Field(default_factory=list, max_length=2000)
    cap: CapIn | None = None
    units_out: list[str] = Field(default_factory=list, max_length=2000)
    fipa: list[str] = Field(default_factory=list, max_length=200)

    def document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_defaults=True, mode="json")


class ReplanIn(BaseModel):
    from_: date = Field(alias="from", description="from this day (00:00 local) to the plan's end")
    changes: ChangesIn = Field(default_factory=ChangesIn)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    time_limit: float = Field(30.0, gt=0, le=svc.MAX_TIME_LIMIT)
    risk: Literal["register", "default"] = "register"


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/protocols")
def protocols(
    db: DbSession, _: Annotated[Principal, Depends(require(Action.PATROLS_READ))]
) -> list[dict[str, Any]]:
    """Protocols with their status and each approver's decision."""
    return service.list_protocols(db)


@router.post("/protocols", status_code=201, responses={400: {}})
def request_protocol(
    body: Reason, db: DbSession, user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))]
) -> dict[str, Any]:
    """Request joint patrols under the bundled protocol document (awaits both approvals)."""
    out = service.request(db, svc.protocol_path(), reason=body.reason, actor=user.name)
    db.commit()
    return out


@router.post("/protocols/validate", responses={400: {}})
def validate_protocol(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    file: UploadFile = File(..., description="Protocol document (YAML or JSON)"),
) -> dict[str, Any]:
    """`protocol validate`: every schema and cross-reference error with its JSON path
    (`valid` true when there is none)."""
    data = read_upload(file, 1024 * 1024)
    return service.validate_upload(data, upload_name(file.filename, "protocol.yaml")).to_dict()


@router.post("/protocols/upload", status_code=201, responses={400: {}})
def request_protocol_upload(
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    file: UploadFile = File(..., description="Protocol document (YAML or JSON), any city"),
    reason: str = Form(..., min_length=1, max_length=2000),
) -> dict[str, Any]:
    """A city (Antwerp, Ghent, Liege, Charleroi, Mons, ...) requests joint patrols under its own
    protocol document; no plan exists for it until Interior and Defence have both approved."""
    out = service.request_upload(
        db,
        read_upload(file, 1024 * 1024),
        upload_name(file.filename, "protocol.yaml"),
        reason=reason,
        actor=user.name,
    )
    db.commit()
    return out


def _decide(db, user: Principal, protocol_id: int, decision: str, reason: str | None):
    out = service.decide(
        db,
        protocol_id,
        actor=user.name,
        role=user.role.value,
        approve=decision == "approve",
        reason=reason,
    )
    db.commit()
    return out


@router.post("/protocols/{protocol_id}/approve-interior", responses={400: {}, 404: {}})
def approve_interior(
    protocol_id: ProtoId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
) -> dict[str, Any]:
    """Interior's approval (a different person approves for Defence)."""
    return _decide(db, user, protocol_id, "approve", None)


@router.post("/protocols/{protocol_id}/approve-defence", responses={400: {}, 404: {}})
def approve_defence(
    protocol_id: ProtoId,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
) -> dict[str, Any]:
    """Defence's approval."""
    return _decide(db, user, protocol_id, "approve", None)


@router.post("/protocols/{protocol_id}/refuse-interior", responses={400: {}, 404: {}})
def refuse_interior(
    protocol_id: ProtoId,
    body: Reason,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_INTERIOR))],
) -> dict[str, Any]:
    """Interior refuses, with a reason."""
    return _decide(db, user, protocol_id, "refuse", body.reason)


@router.post("/protocols/{protocol_id}/refuse-defence", responses={400: {}, 404: {}})
def refuse_defence(
    protocol_id: ProtoId,
    body: Reason,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_APPROVE_DEFENCE))],
) -> dict[str, Any]:
    """Defence refuses, with a reason."""
    return _decide(db, user, protocol_id, "refuse", body.reason)


class DraftIn(BaseModel):
    """The request builder's form (see `safecities protocol draft`)."""

    city: Literal["brussels", "antwerp", "ghent", "liege", "charleroi", "mons"]
    version: str = Field("", max_length=40)
    start: str = Field("", max_length=10)
    months: int = Field(6, ge=1, le=24)
    soldier_cap: int = Field(20, ge=-1000, le=10_000)
    stations: list[str] | None = Field(None, max_length=200)
    radius_m: float = Field(250.0, ge=50, le=2000)
    police_units: int = Field(30, ge=1, le=2000)
    defence_units: int = Field(10, ge=1, le=2000)
    unit_size: int = Field(2, ge=1, le=10)
    liaisons_per_post: int = Field(3, ge=1, le=20)
    drawn_zones: dict[str, Any] | None = None
    drawn_zones_admit_soldiers: bool = False
    fipa: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    reason: str = Field("", max_length=2000)

    def draft(self):
        from safecities.errors import InputError
        from safecities.patrols.builder import FipaDraft, RequestDraft

        fields = self.model_dump(exclude={"reason", "fipa"})
        try:
            fipa = [FipaDraft(**f) for f in self.fipa]
        except TypeError as exc:
            raise InputError(f"fipa: {exc}") from None
        return RequestDraft(**fields, fipa=fipa)


@router.get("/protocols/{protocol_id}", responses={404: {}})
def protocol_detail(
    protocol_id: ProtoId,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
) -> dict[str, Any]:
    """`protocol show --json`: the request in full, with its decisions and the diff against the
    version it replaces."""
    return service.show(db, protocol_id)


@router.get("/protocols/{protocol_id}/zones", responses={404: {}})
def protocol_zones(
    protocol_id: ProtoId,
    db: DbSession,
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
) -> Response:
    """The request's zones as GeoJSON (whether and why soldiers are admitted)."""
    import json

    body = json.dumps(service.zones(db, protocol_id))
    return Response(body, media_type="application/geo+json")


@router.get("/builder/stations")
def builder_stations(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    city: Literal["brussels", "antwerp", "ghent", "liege", "charleroi", "mons"] = Query(...),
) -> list[dict[str, Any]]:
    """Stations the request builder proposes as zones (main station first)."""
    return service.stations(city)


@router.post("/protocols/draft", responses={400: {}})
def draft_protocol(
    body: DraftIn, _: Annotated[Principal, Depends(require(Action.PATROLS_READ))]
) -> dict[str, Any]:
    """`protocol draft --json`: compose a request from the builder's form; `valid`, every
    error with its JSON path, the document and its YAML."""
    return service.draft(body.draft()).to_dict()


@router.post("/protocols/draft/request", status_code=201, responses={400: {}})
def request_drafted(
    body: DraftIn,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
) -> dict[str, Any]:
    """Submit the builder's request (stored only when valid; awaits both approvals)."""
    from safecities.errors import InputError

    if not body.reason.strip():
        raise InputError("reason: give the reason for the request")
    out = service.request_draft(db, body.draft(), reason=body.reason, actor=user.name)
    db.commit()
    return out


@router.get("/pending")
def pending(
    db: DbSession, user: Annotated[Principal, Depends(require(Action.PATROLS_READ))]
) -> list[dict[str, Any]]:
    """Requests waiting for the caller's decision (empty unless Interior or Defence approver)."""
    return service.pending(db, user.role.value)


@router.get("/plans")
def plans(_: Annotated[Principal, Depends(require(Action.PATROLS_READ))]) -> list[dict[str, Any]]:
    """Plans made so far (newest first)."""
    return svc.list_plans()


@router.post("/plans", status_code=201, responses={400: {}, 403: {}})
def make_plan(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    body: PlanIn = Body(..., examples=[{"from": "2026-04-06", "to": "2026-04-06"}]),
) -> dict[str, Any]:
    """Make a plan under the active protocol (checked by the independent checker before saving);
    the plan file written is audited (name, SHA-256, protocol, period) under the caller's name."""
    opts = service.SavedPlanOptions(
        first=body.from_,
        last=body.to,
        seed=body.seed,
        time_limit=body.time_limit,
        protocol_id=body.protocol_id,
        risk=body.risk,
        continue_latest=body.continue_latest,
    )
    plan = service.make_saved(request.app.state.engine, opts)
    svc.audit_saved(request.app.state.engine, plan, actor=user.name, seed=body.seed)
    return plan


@router.post("/plans/{name}/replan", status_code=201, responses={400: {}, 403: {}, 404: {}})
def replan_plan(
    request: Request,
    user: Annotated[Principal, Depends(require(Action.PATROLS_PLAN))],
    name: str = Path(max_length=100),
    body: ReplanIn = Body(
        ...,
        examples=[
            {
                "from": "2026-04-08",
                "changes": {
                    "close_zone": [
                        {
                            "zone": "metro-clemenceau",
                            "from": "2026-04-08T00:00",
                            "to": "2026-04-09T00:00",
                        }
                    ]
                },
            }
        ],
    ),
) -> dict[str, Any]:
    """Re-plan a saved plan from a day with changes (zones closed, units unavailable, a lower cap):
    a new saved plan `<name>-rN.csv`, checked before it is saved, audited under the caller's name;
    the old plan stays. Falls back to a fresh plan of the same days when keeping the old one fails
    (`replan.fallback`)."""
    opts = svc.SavedReplanOptions(
        name=name,
        first=body.from_,
        changes=body.changes.document(),
        seed=body.seed,
        time_limit=body.time_limit,
        risk=body.risk,
    )
    plan = svc.replan_saved(request.app.state.engine, opts)
    svc.audit_replan(request.app.state.engine, plan, actor=user.name, seed=body.seed)
    return plan


@router.post("/plans/check", responses={400: {}})
def check_plan(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    file: UploadFile = File(..., description="Plan CSV (as written by plan make)"),
) -> dict[str, Any]:
    """Independent check of a plan against the protocol: every violation with rule, time, zone,
    units and numbers (`ok` true when there is none)."""
    return svc.check_upload(
        read_upload(file, 10 * 1024 * 1024), upload_name(file.filename, "plan.csv")
    )


@router.get("/plans/{name}", response_class=FileResponse, responses={404: {}})
def download_plan(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: str = Path(max_length=100),
) -> FileResponse:
    """The plan as CSV."""
    return FileResponse(svc.plan_file(name), media_type="text/csv", filename=name)


@router.get("/plans/{name}/briefing", response_class=HTMLResponse, responses={404: {}})
def briefing(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: str = Path(max_length=100),
    post: str = Query(..., max_length=80),
    day: Day = Query(...),
    lang: Literal["nl", "fr", "en"] = Query("en"),
) -> HTMLResponse:
    """Printable daily briefing of one command post (HTML, NL/FR/EN)."""
    return HTMLResponse(svc.briefing(name, post, day, lang))


PostQ = Annotated[str, Query(max_length=80, description="Command post id (see the protocol).")]
PlanName = Annotated[str, Path(max_length=100)]


@router.get("/plans/{name}/export", responses={404: {}})
def export_plan(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))], name: PlanName
) -> dict[str, Any]:
    """What `plan export` writes, as download links: an iCalendar per command post, and an HTML
    and a PDF briefing per post and day."""
    return svc.export_index(name)


@router.get(
    "/plans/{name}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: {}},
)
def calendar_ics(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: PlanName,
    post: Annotated[str | None, Query(max_length=80, description="Command post id.")] = None,
    team: Annotated[
        str | None, Query(max_length=40, description="Police crew or Defence unit code.")
    ] = None,
    lang: Literal["nl", "fr", "en"] = Query("en"),
) -> Response:
    """The duties of a command post (`post`) or of one team (`team`) as iCalendar: one event per
    team shift, its route (zone names, in order) in the description, times in UTC; texts in
    `lang`."""
    body = svc.calendar_ics(name, post, team, lang)
    stem = name.removesuffix(".csv")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-{post or team}.ics"'},
    )


@router.get(
    "/plans/{name}/briefing.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {}},
)
def briefing_pdf(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: PlanName,
    post: PostQ,
    day: Day = Query(...),
    lang: Literal["nl", "fr", "en"] = Query("en"),
) -> Response:
    """Printable daily briefing of one command post (PDF, A4 landscape, NL/FR/EN; WeasyPrint)."""
    stem = name.removesuffix(".csv")
    return Response(
        svc.briefing_pdf(name, post, day, lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{stem}-{post}-{day}.pdf"'},
    )


@router.get("/plans/{name}/check", responses={404: {}})
def check_saved_plan(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))], name: PlanName
) -> dict[str, Any]:
    """Independent check of a saved plan against the protocol (same keys as `plan check --json`)."""
    return svc.check_saved(name)


@router.get("/plans/{name}/calendar", responses={404: {}})
def plan_calendar(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))], name: PlanName, post: PostQ
) -> dict[str, Any]:
    """One command post's plan per day and hour: visits (mixed / police-only), FIPA slots, most
    soldiers present at once, liaisons, and the violations touching each hour."""
    return svc.calendar(name, post)


@router.get(
    "/plans/{name}/presence",
    responses={200: {"content": {"application/geo+json": {}}}, 404: {}},
)
def plan_presence(
    _: Annotated[Principal, Depends(require(Action.PATROLS_READ))],
    name: PlanName,
    at: datetime = Query(..., description="Moment, e.g. 2026-04-06T14:00 (local time)"),
) -> dict[str, Any]:
    """The plan at one moment as a map layer: each zone of the protocol with the teams present
    (mixed, police-only, FIPA; police and soldiers) and the city-wide soldiers against the cap."""
    return svc.presence(name, at)
