"""CSRF tokens for cookie-authenticated writes (issue 18 item 5; SameSite=Strict stays as
defence in depth).

A write (POST, PUT, PATCH, DELETE) that authenticates with the session cookie must carry a token,
as the form field `csrf_token` or the header `X-CSRF-Token`. Bearer-token callers are exempt: a
browser never adds that header by itself. The token is an HMAC of the session token (signed in)
or of a random pre-session cookie `safecities_csrf` (the sign-in form, so a foreign site cannot
sign a victim into the attacker's account). Nothing is stored: the server recomputes it.
Synchronizer-token pattern, OWASP CSRF Prevention Cheat Sheet ("signed double-submit cookie"
bound to the session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request, Response, status

from safecities.config import get_settings

SESSION_COOKIE = "safecities_session"  # = safecities.api.deps.COOKIE (deps imports this module)
CSRF_COOKIE = "safecities_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(value: str, purpose: str = "session") -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf|{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def expected(cookies: dict[str, str]) -> str | None:
    """The token a request with these cookies must send (None: no cookie to bind it to)."""
    if cookies.get(SESSION_COOKIE):
        return token_for(cookies[SESSION_COOKIE])
    if cookies.get(CSRF_COOKIE):
        return token_for(cookies[CSRF_COOKIE], "pre-session")
    return None


def for_page(request: Request) -> tuple[str, str | None]:
    """(token for the forms of a page being rendered, new pre-session cookie value or None)."""
    token = expected(request.cookies)
    if token is not None:
        return token, None
    fresh = secrets.token_urlsafe(32)
    return token_for(fresh, "pre-session"), fresh


def set_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


async def _sent(request: Request) -> str | None:
    sent = request.headers.get(HEADER)
    if sent:
        return sent
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # parsed once and cached: FastAPI already read it for Form fields; few files on any form
        form = await request.form(max_files=10, max_fields=1000)
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    return None


class CsrfRefused(HTTPException):
    """403 for a write without a valid token (pages show a "reload the form" message)."""

    def __init__(self) -> None:
        super().__init__(
            status.HTTP_403_FORBIDDEN,
            "CSRF token missing or wrong: reload the page and submit the form again",
        )


def _refuse() -> HTTPException:
    return CsrfRefused()


async def protect(request: Request) -> None:
    """Dependency of every permission check: a cookie-authenticated write needs the token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return  # not signed in by cookie: the permission check answers 401
    sent = await _sent(request)
    if not sent or not hmac.compare_digest(sent, token_for(session)):
        raise _refuse()


async def protect_login(request: Request) -> None:
    """Dependency of the sign-in form: the pre-session (or current session) token."""
    want = expected(request.cookies)
    sent = await _sent(request)
    if want is None or not sent or not hmac.compare_digest(sent, want):
        raise _refuse()
