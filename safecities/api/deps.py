"""FastAPI dependencies: database session, current user and the permission check.

Routes list what they need as typed parameters (`DbSession`, `Annotated[Principal,
Depends(require(Action.X))]`); `require` is the only way a route names its permission, so the
route-by-role test can read every route's action from the app itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from safecities.api import accounts, csrf
from safecities.api.accounts import Principal
from safecities.api.permissions import Action, allowed

COOKIE = csrf.SESSION_COOKIE  # "safecities_session"
_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login")


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]


class NotSignedIn(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED,
            "not signed in or session expired",
            headers={"WWW-Authenticate": "Bearer"},
        )


def session_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    return request.cookies.get(COOKIE)


def current_user(
    request: Request, db: DbSession, token: Annotated[str | None, Depends(session_token)]
) -> Principal:
    user = accounts.resolve(db, token)
    if user is None:
        raise NotSignedIn()
    request.state.user = user
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(action: Action) -> Callable[..., Principal]:
    """Dependency: the signed-in user, if the permission table lets their role do `action`."""

    def dependency(user: CurrentUser, _csrf: Annotated[None, Depends(csrf.protect)]) -> Principal:
        if not allowed(user.role, action):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {user.role.value} may not {action.value}"
            )
        return user

    dependency.permission_action = action  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{action.value.replace('.', '_')}"
    return dependency


def public(func: Callable) -> Callable:
    """Mark a route as deliberately open to anyone (login, health)."""
    func.public_route = True  # type: ignore[attr-defined]
    return func
