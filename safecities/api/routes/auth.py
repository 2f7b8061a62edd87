"""Sign in (session cookie or bearer token), sign out, who am I, the permission table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from safecities.api import accounts
from safecities.api.accounts import Principal
from safecities.api.deps import COOKIE, DbSession, public, require, session_token
from safecities.api.permissions import PERMISSIONS, Action, table
from safecities.api.schemas import LoginIn, LoginOut, MeOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def me_of(user: Principal) -> MeOut:
    return MeOut(
        name=user.name,
        role=user.role,
        municipality_id=user.municipality_id,
        actions=sorted(a.value for a in PERMISSIONS[user.role]),
    )


def do_login(db, name: str, password: str, client: str):
    try:
        out = accounts.login(db, name=name, password=password, client=client)
    except accounts.RateLimited as exc:
        db.commit()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except accounts.AuthError as exc:
        db.commit()  # the failed attempt counts towards the rate limit
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    db.commit()
    return out


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post("/login", response_model=LoginOut, responses={401: {}, 429: {}})
@public
def login(body: LoginIn, request: Request, response: Response, db: DbSession) -> LoginOut:
    """Sign in: sets an HttpOnly SameSite=Strict session cookie and returns a bearer token.

    Five failures for a name (or twenty from one address) within 15 minutes lock sign-in for it.
    """
    token, expires, user = do_login(db, body.name, body.password, client_of(request))
    set_session_cookie(response, request, token, int(accounts.SESSION_TTL.total_seconds()))
    return LoginOut(token=token, expires_at=expires, user=me_of(user))


@router.post("/logout", status_code=204)
def logout(
    response: Response,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.SESSION))],
    token: Annotated[str | None, Depends(session_token)],
) -> Response:
    """End this session (the token or cookie stops working at once)."""
    if token:
        accounts.logout(db, token, actor=user.name)
        db.commit()
    response.status_code = 204
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut)
def me(user: Annotated[Principal, Depends(require(Action.SESSION))]) -> MeOut:
    """The signed-in user and the actions their role allows."""
    return me_of(user)


@router.get("/permissions")
def permissions(_: Annotated[Principal, Depends(require(Action.SESSION))]) -> dict[str, list[str]]:
    """The permission table: role -> allowed actions."""
    return table()
