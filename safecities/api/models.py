"""Accounts tables: users, sessions and login attempts (no personal data beyond a login name)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safecities.store.models import Base
from safecities.store.types import UTCDateTime


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
