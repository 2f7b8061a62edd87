"""Endpoints of capabilities whose libraries have not landed yet: they answer 503 with a clear
"not available yet" until their thin route module replaces the entry here."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from safecities.api.accounts import Principal
from safecities.api.deps import require
from safecities.api.permissions import Action

router = APIRouter(tags=["pending"])


def _unavailable(capability: str) -> HTTPException:
    return HTTPException(503, f"{capability} is not available yet in this installation")


def pending(path: str, capability: str, action: Action, method: str = "get") -> None:
    def endpoint(_: Annotated[Principal, Depends(require(action))]) -> None:
        raise _unavailable(capability)

    endpoint.__name__ = f"pending_{capability}_{method}_{path.strip('/').replace('/', '_')}"
    endpoint.__doc__ = f"{capability}: not available yet (answers 503)."
    getattr(router, method)(path, responses={503: {}}, name=endpoint.__name__)(endpoint)


#: (path, capability, action, method) of each not-yet-available endpoint.
PENDING = []
for _args in PENDING:
    pending(*_args)


def add_pending(app, capability: str) -> None:
    """Fallback when a capability's library is missing: its list endpoint answers 503."""
    action = {
        "cameras": Action.CAMERAS_READ,
        "patrols": Action.PATROLS_READ,
        "hotspots": Action.HOTSPOTS_READ,
        "review": Action.REVIEW_READ,
    }[capability]
    extra = APIRouter(tags=["pending"])

    def endpoint(_: Annotated[Principal, Depends(require(action))]) -> None:
        raise _unavailable(capability)

    path = {
        "patrols": "/api/patrols/plans",
        "hotspots": "/api/hotspots/forecast",
        "review": "/api/review/report",
    }.get(capability, f"/api/{capability}")
    extra.get(path, responses={503: {}})(endpoint)
    app.include_router(extra)
