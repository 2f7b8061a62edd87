"""Accounts page: admins and auditors list accounts; admins deactivate and reactivate them
(issue 18 item 5). The accounts service refuses to deactivate the last active admin."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safecities.api import accounts
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.errors import InputError, NotFound
from safecities.web.pages.core import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, db, user: Principal, error: str | None = None, status: int = 200):
    users = [accounts.user_public(u) for u in accounts.list_users(db, actor_role=user.role)]
    return render(
        request,
        "users.html",
        status_code=status,
        users=users,
        can_manage=user.can(Action.USERS_MANAGE),
        error=error,
    )


@router.get("/users")
def users_page(
    request: Request, db: DbSession, user: Annotated[Principal, Depends(require(Action.USERS_READ))]
) -> HTMLResponse:
    return _page(request, db, user)


def _set(request, db, user: Principal, name: str, active: bool) -> Response:
    try:
        accounts.set_active(db, actor=user.name, actor_role=user.role, name=name, active=active)
        db.commit()
    except (InputError, NotFound) as exc:
        db.rollback()
        return _page(request, db, user, error=str(exc), status=400)
    return RedirectResponse("/users", status_code=303)


Manager = Annotated[Principal, Depends(require(Action.USERS_MANAGE))]
UserName = Annotated[str, Path(max_length=120)]


@router.post("/users/{name}/deactivate")
def users_deactivate(request: Request, db: DbSession, user: Manager, name: UserName) -> Response:
    return _set(request, db, user, name, False)


@router.post("/users/{name}/reactivate")
def users_reactivate(request: Request, db: DbSession, user: Manager, name: UserName) -> Response:
    return _set(request, db, user, name, True)
