"""Pydantic v2 input and output shapes of the API, kept apart from the SQLAlchemy models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safecities.domain import Role


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    role: Role
    municipality_id: str | None = None
    active: bool = True


class MeOut(BaseModel):
    name: str
    role: Role
    municipality_id: str | None
    actions: list[str]


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: MeOut


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120, pattern=r"^\S+$")
    role: Role
    password: str = Field(min_length=12, max_length=1000)
    municipality_id: str | None = Field(default=None, pattern=r"^\d{5}$")


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    total: int
    events: list[AuditEventOut]


class ChainOut(BaseModel):
    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str | None = None


class AuditHeadOut(BaseModel):
    """The newest audit entry (id 0 and the genesis hash when the log is empty)."""

    id: int
    hash: str
    at: datetime | None = None


class IncidentOut(BaseModel):
    id: int
    source: str
    source_id: str
    occurred_at: datetime
    lat: float
    lon: float
    city_id: str | None
    municipality_id: str | None
    kind: str
    injured: int
    killed: int
    lines_closed: list[Any]
    disruption_minutes: int
    summary: str | None
    synthetic: bool


class IncidentPage(BaseModel):
    total: int
    incidents: list[IncidentOut]


class RowErrorOut(BaseModel):
    file: str
    row: int
    field: str
    reason: str
    value: str | None = None


class ErrorCount(BaseModel):
    field: str
    reason: str
    count: int


class ImportOut(BaseModel):
    ok: bool
    file: str
    rows_read: int
    inserted: int
    unchanged: int
    errors: list[RowErrorOut]
    #: How many problems the file has (`errors` lists the first 50: safecities.api.limits).
    errors_total: int = 0
    #: Problems per field and reason over the whole file (digits in reasons shown as #).
    error_counts: list[ErrorCount] = []


class Problem(BaseModel):
    detail: str


class Unavailable(BaseModel):
    detail: str
    capability: str
