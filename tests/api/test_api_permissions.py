"""Walk EVERY route with EVERY role and assert the permission table (one place: permissions.py)."""

from __future__ import annotations

import re

import pytest
from api_fixtures import flat_routes

from safecities.api.permissions import PERMISSIONS, Action, allowed, check, table
from safecities.domain import Role
from safecities.errors import PermissionDenied


def _actions_of(dependant) -> list[Action]:
    found = []
    for dep in dependant.dependencies:
        act = getattr(dep.call, "permission_action", None)
        if act is not None:
            found.append(act)
        found.extend(_actions_of(dep))
    return found


_flat = flat_routes  # APIRoutes, also inside included routers (tests/api_fixtures.py)


def _routes(app):
    for route in _flat(app.routes):
        public = getattr(route.endpoint, "public_route", False)
        actions = _actions_of(route.dependant)
        for method in sorted(route.methods):
            yield route, method, public, actions


def _url(path: str) -> str:
    # a camera of the operator's own municipality (made by _own_camera): an unknown id is refused
    # to an operator (403) whether or not it exists elsewhere, so that ids cannot be probed
    path = path.replace("{cam_id}", OWN_CAMERA)
    return re.sub(r"\{[^}]+\}", "x1", path)


OWN_CAMERA = "21001-perm-walk"


@pytest.fixture(scope="module", autouse=True)
def _own_camera(api_engine):
    """A camera of the operator's municipality for the `{cam_id}` routes."""
    from safecities.cameras import service as cams
    from safecities.errors import SafecitiesError
    from safecities.store.db import session_scope

    try:
        with session_scope(api_engine) as s:
            cams.create_camera(
                s, cams.Caller("t", Role.ADMIN), "21001",
                {"id": OWN_CAMERA, "lat": 50.8366, "lon": 4.3093},
            )  # fmt: skip
    except SafecitiesError:  # already made by an earlier module of the session
        pass


def test_every_route_declares_exactly_one_action_or_is_public(app):
    seen = 0
    for route, method, public, actions in _routes(app):
        seen += 1
        if public:
            assert not actions, f"{method} {route.path} is public but names {actions}"
        else:
            assert len(set(actions)) == 1, f"{method} {route.path}: actions {actions}"
    assert seen > 15


def test_public_routes_are_only_login_and_health(app):
    public = {(m, r.path) for r, m, p, _ in _routes(app) if p}
    assert {p for _, p in public} <= {"/api/auth/login", "/api/health", "/login", "/lang", "/docs"}


def test_every_route_refuses_anonymous(app, client):
    for route, method, public, _ in _routes(app):
        if public:
            continue
        r = client.request(method, _url(route.path), follow_redirects=False)
        assert r.status_code == 401 or (
            r.status_code in (302, 303) and "/login" in r.headers.get("location", "")
        ), (method, route.path)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_route_with_every_role_matches_the_table(app, client, demo_accounts, auth, role):
    acc = demo_accounts[role]
    login = client.post("/api/auth/login", json={"name": acc["name"], "password": acc["password"]})
    token = login.json()["token"]
    # sign-out last: it ends the session the other requests use
    walk = sorted(_routes(app), key=lambda x: x[0].path.endswith("/logout"))
    for route, method, public, actions in walk:
        if public:
            continue
        (action,) = set(actions)
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = client.request(
            method, _url(route.path), headers=auth(token), follow_redirects=False, **kwargs
        )
        where = f"{role.value} {method} {route.path} -> {r.status_code} {r.text[:200]}"
        if allowed(role, action):
            assert r.status_code not in (401, 403), where
            assert r.status_code < 500 or r.status_code == 503, where
        else:
            assert r.status_code == 403, where


def test_table_covers_every_role_and_session_for_all():
    assert set(PERMISSIONS) == set(Role)
    for role in Role:
        assert Action.SESSION in PERMISSIONS[role]
    assert table()["ministerial_staff"] == sorted(
        ["cameras.read", "incidents.summary", "reference.read", "review.read", "session"]
    )


def test_approvals_are_split_between_ministries_and_never_admin():
    assert allowed(Role.INTERIOR_APPROVER, Action.PATROLS_APPROVE_INTERIOR)
    assert not allowed(Role.INTERIOR_APPROVER, Action.PATROLS_APPROVE_DEFENCE)
    assert allowed(Role.DEFENCE_APPROVER, Action.PATROLS_APPROVE_DEFENCE)
    assert not allowed(Role.ADMIN, Action.PATROLS_APPROVE_INTERIOR)
    assert not allowed(Role.ADMIN, Action.PATROLS_APPROVE_DEFENCE)


def test_camera_operator_is_bound_to_its_municipality():
    check(
        Role.CAMERA_OPERATOR, Action.CAMERAS_EDIT, user_municipality="21001", municipality="21001"
    )
    with pytest.raises(PermissionDenied, match="bound to municipality 21001"):
        check(
            Role.CAMERA_OPERATOR,
            Action.CAMERAS_EDIT,
            user_municipality="21001",
            municipality="21004",
        )
    # other roles are not municipality-bound
    check(Role.ADMIN, Action.CAMERAS_EDIT, user_municipality=None, municipality="21004")
    with pytest.raises(PermissionDenied):
        check(Role.MINISTERIAL_STAFF, Action.CAMERAS_EDIT)
    assert not allowed("no-such-role", Action.SESSION)
