"""The ONE permission table: which role may do which action.

Every API route and web page declares exactly one `Action` (see `deps.require`), and the service
functions of this package check the same table with `check()`, so a permission can never be
granted in one place and refused in another. Camera operators are further bound to their own
municipality (`check(..., municipality=...)`).
"""

from __future__ import annotations

import enum

from safecities.domain import Role
from safecities.errors import PermissionDenied


class Action(enum.StrEnum):
    SESSION = "session"  # any signed-in user: own profile, sign out, language
    REFERENCE_READ = "reference.read"  # municipalities, stations, zones (map base layers)
    REFERENCE_EDIT = "reference.edit"  # redraw or add named zones (zones import)
    INCIDENTS_READ = "incidents.read"  # incident list (points, times, counts)
    INCIDENTS_SUMMARY = "incidents.summary"  # aggregated trend only
    INCIDENTS_IMPORT = "incidents.import"
    HOTSPOTS_READ = "hotspots.read"
    HOTSPOTS_RUN = "hotspots.run"
    PATROLS_READ = "patrols.read"
    PATROLS_PLAN = "patrols.plan"
    PATROLS_APPROVE_INTERIOR = "patrols.approve_interior"
    PATROLS_APPROVE_DEFENCE = "patrols.approve_defence"
    CAMERAS_READ = "cameras.read"
    CAMERAS_EDIT = "cameras.edit"  # camera operators: own municipality only
    CAMERAS_HISTORY = "cameras.history"  # who changed what, when (operators: own municipality)
    CAMERAS_PLAN = "cameras.plan"
    REVIEW_READ = "review.read"
    REVIEW_PLAN = "review.plan"  # pre-register an analysis plan (its hash into the audit log)
    AUDIT_READ = "audit.read"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"


A = Action
_READ_ALL = {
    A.REFERENCE_READ,
    A.INCIDENTS_READ,
    A.INCIDENTS_SUMMARY,
    A.HOTSPOTS_READ,
    A.PATROLS_READ,
    A.CAMERAS_READ,
    A.REVIEW_READ,
}

#: role -> actions it may perform. Approvals are never granted to admin: only the ministries sign.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(
        _READ_ALL
        | {
            A.REFERENCE_EDIT,
            A.INCIDENTS_IMPORT,
            A.HOTSPOTS_RUN,
            A.PATROLS_PLAN,
            A.CAMERAS_EDIT,
            A.CAMERAS_PLAN,
            A.REVIEW_PLAN,
            A.AUDIT_READ,
            A.USERS_READ,
            A.USERS_MANAGE,
            A.CAMERAS_HISTORY,
        }
    ),
    Role.ANALYST: frozenset(_READ_ALL | {A.INCIDENTS_IMPORT, A.HOTSPOTS_RUN, A.REVIEW_PLAN}),
    Role.PLANNER: frozenset(_READ_ALL | {A.PATROLS_PLAN, A.CAMERAS_PLAN}),
    Role.POLICE_COMMANDER: frozenset(_READ_ALL | {A.PATROLS_PLAN}),
    Role.DEFENCE_LIAISON: frozenset(
        {A.REFERENCE_READ, A.INCIDENTS_SUMMARY, A.HOTSPOTS_READ, A.PATROLS_READ, A.REVIEW_READ}
    ),
    Role.INTERIOR_APPROVER: frozenset(
        {
            A.REFERENCE_READ,
            A.INCIDENTS_SUMMARY,
            A.HOTSPOTS_READ,
            A.PATROLS_READ,
            A.REVIEW_READ,
            A.PATROLS_APPROVE_INTERIOR,
        }
    ),
    Role.DEFENCE_APPROVER: frozenset(
        {
            A.REFERENCE_READ,
            A.INCIDENTS_SUMMARY,
            A.HOTSPOTS_READ,
            A.PATROLS_READ,
            A.REVIEW_READ,
            A.PATROLS_APPROVE_DEFENCE,
        }
    ),
    Role.CAMERA_OPERATOR: frozenset(
        {A.REFERENCE_READ, A.CAMERAS_READ, A.CAMERAS_EDIT, A.CAMERAS_HISTORY}
    ),
    Role.AUDITOR: frozenset(_READ_ALL | {A.AUDIT_READ, A.USERS_READ, A.CAMERAS_HISTORY}),
    # Read-only reports, and the national camera picture ("police and ministry roles read all",
    # as the cameras service layer also allows).
    Role.MINISTERIAL_STAFF: frozenset(
        {A.REFERENCE_READ, A.INCIDENTS_SUMMARY, A.REVIEW_READ, A.CAMERAS_READ}
    ),
}

for _role in PERMISSIONS:
    PERMISSIONS[_role] = PERMISSIONS[_role] | {A.SESSION}

#: Roles whose accounts must name the municipality they work for.
MUNICIPALITY_BOUND = frozenset({Role.CAMERA_OPERATOR})


def allowed(role: str | Role, action: str | Action) -> bool:
    try:
        return Action(action) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def check(
    role: str | Role,
    action: str | Action,
    *,
    user_municipality: str | None = None,
    municipality: str | None = None,
) -> None:
    """Raise PermissionDenied unless `role` may do `action` (on `municipality`, if given)."""
    if not allowed(role, action):
        raise PermissionDenied(f"role {role!s} may not {Action(action).value}")
    bound = municipality is not None and Role(role) in MUNICIPALITY_BOUND
    if bound and user_municipality != municipality:
        raise PermissionDenied(
            f"role {role!s} is bound to municipality {user_municipality}, not {municipality}"
        )


def table() -> dict[str, list[str]]:
    """The table as plain data (for the API, the docs and tests)."""
    return {r.value: sorted(a.value for a in PERMISSIONS[r]) for r in Role}
