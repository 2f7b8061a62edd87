"""Tables of the patrols capability: protocol versions (requests) and their approval decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safecities.store.models import Base
from safecities.store.types import UTCDateTime


class PatrolProtocol(Base):
    """A protocol version a city requested; active once Interior and Defence both approved it."""

    __tablename__ = "patrol_protocol"
    __table_args__ = (UniqueConstraint("city_id", "version", name="uq_patrol_protocol_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # requested | active | refused
    period_start: Mapped[str] = mapped_column(String(10))  # ISO date
    period_end: Mapped[str] = mapped_column(String(10))  # ISO date, exclusive
    zones: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    document: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PatrolProtocolDecision(Base):
    """One approval or refusal of a protocol version by one user in one role."""

    __tablename__ = "patrol_protocol_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("patrol_protocol.id"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))  # interior_approver | defence_approver
    decision: Mapped[str] = mapped_column(String(16))  # approve | refuse
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
