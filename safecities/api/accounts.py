"""Accounts service: users, password hashing (Argon2), sessions, rate-limited login.

Every write goes through a function here that appends to the hash-chained audit log in the same
transaction. Tokens are random; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from safecities.api import signin
from safecities.api.permissions import MUNICIPALITY_BOUND, Action, check
from safecities.domain import Role
from safecities.errors import InputError, SafecitiesError
from safecities.store import audit
from safecities.store.db import session_scope
from safecities.store.models import ApiSession, LoginAttempt, User

SESSION_TTL = timedelta(hours=8)
MIN_PASSWORD_LENGTH = signin.MIN_PASSWORD_LENGTH
#: Wrong passwords for one (name, client) before each further attempt must wait (signin).
MAX_FAILURES_PER_NAME = signin.FREE_FAILURES

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3, p=4)
# A valid hash to verify against when the user does not exist (same timing either way).
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


def configure_hasher(**params) -> None:
    """Change the Argon2 cost parameters (tests use cheap ones; keep the defaults in production).

    Hashes made with other parameters still verify and are upgraded at the next sign-in.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(**params)
    _DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


class AuthError(SafecitiesError):
    """Wrong name or password (the message never says which)."""


class RateLimited(SafecitiesError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the rest of the application sees it (no password hash)."""

    id: int
    name: str
    role: Role
    municipality_id: str | None

    def can(self, action: Action | str) -> bool:
        from safecities.api.permissions import allowed

        return allowed(self.role, action)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def user_public(user: User) -> dict:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "municipality_id": user.municipality_id,
        "active": user.active,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def create_user(
    session: Session,
    *,
    actor: str,
    actor_role: Role | str | None,
    name: str,
    role: Role | str,
    password: str,
    municipality: str | None = None,
) -> User:
    """Create an account. `actor_role=None` means the local command line (trusted operator)."""
    if actor_role is not None:
        check(actor_role, Action.USERS_MANAGE)
    name = (name or "").strip()
    if not name or len(name) > 120 or any(c.isspace() for c in name):
        raise InputError(f"user name {name!r}: give 1-120 characters without spaces")
    try:
        role = Role(role)
    except ValueError:
        raise InputError(
            f"role {role!r} is not one of: {', '.join(r.value for r in Role)}"
        ) from None
    if role in MUNICIPALITY_BOUND and not municipality:
        raise InputError(f"role {role.value} needs --municipality (NIS code, e.g. 21001)")
    if role not in MUNICIPALITY_BOUND and municipality:
        raise InputError(f"role {role.value} is not bound to a municipality")
    if municipality is not None and not (municipality.isdigit() and len(municipality) == 5):
        raise InputError(f"municipality {municipality!r}: give the 5-digit NIS code, e.g. 21001")
    signin.check_password(password, name)
    if session.execute(select(User.id).where(User.name == name)).first():
        raise InputError(f"user {name!r} already exists")
    user = User(
        name=name,
        role=role.value,
        municipality_id=municipality,
        password_hash=hash_password(password),
        active=True,
        created_at=_now(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=str(user.id),
        after=user_public(user),
    )
    return user


def set_active(
    session: Session, *, actor: str, actor_role: Role | str | None, name: str, active: bool
) -> User:
    if actor_role is not None:
        check(actor_role, Action.USERS_MANAGE)
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        from safecities.errors import NotFound

        raise NotFound(f"no user {name!r}")
    before = user_public(user)
    if not active and user.active and user.role == Role.ADMIN.value:
        others = session.execute(
            select(func.count()).where(
                User.role == Role.ADMIN.value, User.active, User.id != user.id
            )
        ).scalar_one()
        if not others:
            raise InputError(f"{name!r} is the last active admin: activate another admin first")
    user.active = active
    if not active:
        for s in session.execute(select(ApiSession).where(ApiSession.user_id == user.id)).scalars():
            s.revoked = True
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        entity="user",
        entity_id=str(user.id),
        before=before,
        after=user_public(user),
    )
    return user


def list_users(session: Session, *, actor_role: Role | str) -> list[User]:
    check(actor_role, Action.USERS_READ)
    return list(session.execute(select(User).order_by(User.name)).scalars())


def login(
    session: Session, *, name: str, password: str, client: str = "local"
) -> tuple[str, datetime, Principal]:  # noqa: E501
    """Check the password and open a session; returns (token, expires_at, principal).

    Throttled per (name, client) with growing delays (safecities.api.signin): a refused attempt
    (RateLimited) is not checked at all. The attempt is recorded and committed before the
    password check, so parallel guesses cannot all slip under the limit.
    """
    now = _now()
    name, client = name[:120], client[:64]
    with signin.LOCK:
        wait = signin.wait_seconds(session, name, client, now)
        if wait:
            raise RateLimited("too many failed sign-ins; try again later", wait)
        attempt = LoginAttempt(name=name, client=client, at=now, success=False)
        session.add(attempt)
        session.commit()
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    attempt.success = ok
    if not ok:
        session.flush()
        audit.record(
            session,
            actor=name[:120] or "?",
            action="session.login_failed",
            entity="session",
            after={"client": client[:64]},
        )
        raise AuthError("wrong user name or password")
    token = secrets.token_urlsafe(32)
    expires = now + SESSION_TTL
    session.add(
        ApiSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires,
            revoked=False,
        )
    )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    audit.record(
        session,
        actor=user.name,
        action="session.login",
        entity="session",
        entity_id=_token_hash(token)[:16],
        after={"client": client[:64], "expires_at": expires.isoformat()},
    )
    return token, expires, _principal(user)


def _principal(user: User) -> Principal:
    return Principal(user.id, user.name, Role(user.role), user.municipality_id)


def resolve(session: Session, token: str | None) -> Principal | None:
    """The principal of a valid, unexpired, unrevoked session token, else None."""
    if not token:
        return None
    row = session.execute(
        select(ApiSession, User)
        .join(User, User.id == ApiSession.user_id)
        .where(ApiSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    s, user = row
    if s.revoked or not user.active or s.expires_at <= _now():
        return None
    return _principal(user)


def logout(session: Session, token: str, *, actor: str) -> None:
    s = session.get(ApiSession, _token_hash(token))
    if s is None or s.revoked:
        return
    s.revoked = True
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="session.logout",
        entity="session",
        entity_id=_token_hash(token)[:16],
    )


def demo_account_name(role: Role) -> str:
    return f"demo-{role.value.replace('_', '-')}"


def create_demo_accounts(
    engine: Engine, *, municipality: str = "21001", actor: str = "demo"
) -> list[dict]:
    """One account per role with a fresh random password; returns them (print them once).

    Existing demo accounts keep their name but get a new password (the old one was never stored).
    """
    out: list[dict] = []
    with session_scope(engine) as session:
        for role in Role:
            name = demo_account_name(role)
            password = secrets.token_urlsafe(12)
            muni = municipality if role in MUNICIPALITY_BOUND else None
            user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                create_user(
                    session,
                    actor=actor,
                    actor_role=None,
                    name=name,
                    role=role,
                    password=password,
                    municipality=muni,
                )
            else:
                before = user_public(user)
                user.password_hash = hash_password(password)
                user.active = True
                session.flush()
                audit.record(
                    session,
                    actor=actor,
                    action="user.reset_password",
                    entity="user",
                    entity_id=str(user.id),
                    before=before,
                    after=user_public(user),
                )
            out.append(
                {"name": name, "role": role.value, "municipality": muni, "password": password}
            )
    return out
