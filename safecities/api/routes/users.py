"""Accounts: list, create, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from safecities.api import accounts
from safecities.api.accounts import Principal
from safecities.api.deps import DbSession, require
from safecities.api.permissions import Action
from safecities.api.schemas import UserCreate, UserOut

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def list_users(
    db: DbSession, user: Annotated[Principal, Depends(require(Action.USERS_READ))]
) -> list[UserOut]:
    """All accounts (never their password hashes)."""
    return [UserOut.model_validate(u) for u in accounts.list_users(db, actor_role=user.role)]


@router.post("", response_model=UserOut, status_code=201, responses={400: {}})
def create_user(
    body: UserCreate,
    db: DbSession,
    user: Annotated[Principal, Depends(require(Action.USERS_MANAGE))],
) -> UserOut:
    """Create an account (camera operators need municipality_id)."""
    new = accounts.create_user(
        db,
        actor=user.name,
        actor_role=user.role,
        name=body.name,
        role=body.role,
        password=body.password,
        municipality=body.municipality_id,
    )
    db.commit()
    return UserOut.model_validate(new)


Manager = Annotated[Principal, Depends(require(Action.USERS_MANAGE))]
UserName = Annotated[str, Path(max_length=120)]


def _set_active(db, user: Principal, name: str, active: bool) -> UserOut:
    u = accounts.set_active(db, actor=user.name, actor_role=user.role, name=name, active=active)
    db.commit()
    return UserOut.model_validate(u)


@router.post("/{name}/deactivate", response_model=UserOut, responses={400: {}, 404: {}})
def deactivate_user(db: DbSession, user: Manager, name: UserName) -> UserOut:
    """Deactivate an account and end its sessions (400 for the last active admin)."""
    return _set_active(db, user, name, False)


@router.post("/{name}/reactivate", response_model=UserOut, responses={404: {}})
def reactivate_user(db: DbSession, user: Manager, name: UserName) -> UserOut:
    """Reactivate a deactivated account (it signs in again with its old password)."""
    return _set_active(db, user, name, True)
