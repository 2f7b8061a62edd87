"""SQLAlchemy models of the foundation. Geometry is GeoJSON in WGS84 (no PostGIS needed).

No personal data fields exist on purpose: no names, ages, nationalities or descriptions of people.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from safecities.store.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class City(Base):
    __tablename__ = "city"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # e.g. "brussels"
    name_nl: Mapped[str] = mapped_column(String(100))
    name_fr: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    municipalities: Mapped[list[Municipality]] = relationship(back_populates="city")


class Municipality(Base):
    __tablename__ = "municipality"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)  # NIS code, e.g. "21001"
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id"), index=True)
    name_nl: Mapped[str] = mapped_column(String(100))
    name_fr: Mapped[str] = mapped_column(String(100))
    area_m2: Mapped[float]
    geometry: Mapped[dict] = mapped_column(JSON)  # GeoJSON (Multi)Polygon, WGS84
    source: Mapped[str] = mapped_column(String(200))
    city: Mapped[City] = relationship(back_populates="municipalities")


class TransportNode(Base):
    __tablename__ = "transport_node"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "stib:8361", "nmbs:..."
    city_id: Mapped[str | None] = mapped_column(ForeignKey("city.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # TransportKind
    name: Mapped[str] = mapped_column(String(120))
    name_nl: Mapped[str | None] = mapped_column(String(120))
    name_fr: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    lines: Mapped[list] = mapped_column(JSON, default=list)
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipality.id"))
    source: Mapped[str] = mapped_column(String(200))


class Zone(Base):
    __tablename__ = "zone"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, e.g. "clemenceau"
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # ZoneKind
    geometry: Mapped[dict] = mapped_column(JSON)
    drawn_how: Mapped[str] = mapped_column(Text)  # how the polygon was made, so users can redo it
    command_post: Mapped[str | None] = mapped_column(String(120))
    area_m2: Mapped[float]


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # "incidents", "cameras", ...
    file_name: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int]
    inserted: Mapped[int]
    unchanged: Mapped[int]
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_incident_source"),
        Index("ix_incident_city_time", "city_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120))
    source_id: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float]
    lon: Mapped[float]
    city_id: Mapped[str | None] = mapped_column(ForeignKey("city.id"))
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # IncidentKind
    injured: Mapped[int] = mapped_column(Integer, default=0)
    killed: Mapped[int] = mapped_column(Integer, default=0)
    lines_closed: Mapped[list] = mapped_column(JSON, default=list)
    disruption_minutes: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class AuditEvent(Base):
    """Append-only, hash-chained record of every write (database triggers refuse edits)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "incident.import"
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "hmac-sha256:<key id>" (keyed with the deployment's secret); NULL: unkeyed SHA-256 (old)
    alg: Mapped[str | None] = mapped_column(String(40))
    # Digests of tables the entry vouches for, e.g. {"incident": {...}} (see store/audit.py)
    content: Mapped[dict | None] = mapped_column(JSON)


# --- accounts: users, sessions and login attempts (no personal data beyond a login name) ---
class User(Base):
    __tablename__ = "api_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)  # login name or pseudonymous code
    role: Mapped[str] = mapped_column(String(32))  # safecities.domain.Role
    municipality_id: Mapped[str | None] = mapped_column(String(8))  # NIS code, camera operators
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiSession(Base):
    """A login session; only the SHA-256 of the token is stored, never the token itself."""

    __tablename__ = "api_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("api_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "api_login_attempt"
    __table_args__ = (
        Index("ix_api_login_attempt_name_at", "name", "at"),
        Index("ix_api_login_attempt_client_at", "client", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    client: Mapped[str] = mapped_column(String(64))  # client address
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean)
