"""Tables of the national CCTV register: cameras, their history and duplicate candidates.

A camera row holds what a Belgian camera declaration holds (controller, place kind, mobility,
intelligent or not, purpose, viewing, retention, pictogram, declaration date), its status, its
field of view and the national-register connection and costs. Every change writes one
`camera_history` row (who, when, before, after) in the same transaction, plus an audit event, so
any past state of any camera can be rebuilt.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safecities.store.models import Base
from safecities.store.types import UTCDateTime


class PlaceKind(enum.StrEnum):
    OPEN = "open_place"  # niet-besloten plaats / lieu ouvert
    CLOSED_PUBLIC = "closed_public"  # besloten plaats toegankelijk voor het publiek
    CLOSED_PRIVATE = "closed_private"  # besloten plaats niet toegankelijk voor het publiek


class Mobility(enum.StrEnum):
    FIXED = "fixed"
    TEMPORARY_FIXED = "temporary_fixed"
    MOBILE = "mobile"


class CameraStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    OUT_OF_SERVICE = "out_of_service"
    REMOVED = "removed"


class DuplicateStatus(enum.StrEnum):
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Camera(Base):
    __tablename__ = "camera"
    __table_args__ = (Index("ix_camera_municipality_status", "municipality_id", "status"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # unique register id
    # NIS code, checked against the bundled reference municipalities (no foreign key, so the
    # register works before the reference tables are loaded).
    municipality_id: Mapped[str] = mapped_column(String(8))
    controller: Mapped[str] = mapped_column(String(200))  # municipality or operator
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place_kind: Mapped[str] = mapped_column(String(32), default=PlaceKind.OPEN)
    mobility: Mapped[str] = mapped_column(String(32), default=Mobility.FIXED)
    intelligent: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. ANPR
    purpose: Mapped[str | None] = mapped_column(Text)
    viewing_location: Mapped[str | None] = mapped_column(String(200))
    live_viewing: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    pictogram: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default=CameraStatus.ACTIVE)
    fov_direction: Mapped[float | None] = mapped_column(Float)  # degrees clockwise from north
    fov_angle: Mapped[float | None] = mapped_column(Float)  # opening angle, degrees
    fov_range_m: Mapped[float | None] = mapped_column(Float)  # useful range, metres
    connected: Mapped[bool] = mapped_column(Boolean, default=False)  # national shared view
    cost_installation: Mapped[float | None] = mapped_column(Float)
    cost_connection: Mapped[float | None] = mapped_column(Float)
    cost_yearly: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(400))  # e.g. import file name
    source_ref: Mapped[str | None] = mapped_column(String(120))  # id in the source
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(120))


class CameraHistory(Base):
    """One row per change: who, when, what, the full record before and after."""

    __tablename__ = "camera_history"
    __table_args__ = (Index("ix_camera_history_camera_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(80))
    municipality_id: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, import
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class CameraDuplicate(Base):
    """Two register entries that may be the same camera reported twice."""

    __tablename__ = "camera_duplicate"
    __table_args__ = (UniqueConstraint("camera_a", "camera_b", name="uq_camera_duplicate_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_a: Mapped[str] = mapped_column(String(80))
    camera_b: Mapped[str] = mapped_column(String(80))
    distance_m: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=DuplicateStatus.CANDIDATE)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
