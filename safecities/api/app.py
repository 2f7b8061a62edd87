"""The FastAPI application: API under /api, OpenAPI at /docs, web pages from safecities.web."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

import safecities
from safecities.api.deps import public
from safecities.api.incidents import CapabilityUnavailable
from safecities.errors import InputError, NotFound, PermissionDenied, SafecitiesError


def create_app(engine: Engine | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app on `engine` (default: the configured database, migrated to the newest)."""
    from safecities.api import models as _models  # noqa: F401 - register the tables
    from safecities.api.routes import audit, auth, capabilities, incidents, reference, users
    from safecities.store.db import get_engine, session_factory, upgrade

    engine = engine or get_engine()
    if migrate:
        upgrade(engine)
    app = FastAPI(
        title="safecities",
        version=safecities.__version__,
        description=(
            "Incident register, hotspots, joint patrols, CCTV register and review for the Plan "
            "for Major Cities. Sign in with POST /api/auth/login; send the token as "
            "`Authorization: Bearer ...` or use the session cookie."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)

    @app.get("/api/health", tags=["meta"])
    @public
    def health() -> dict[str, str]:
        """Liveness check (no sign-in needed)."""
        return {"status": "ok", "version": safecities.__version__}

    for module in (auth, users, audit, reference, incidents, capabilities):
        app.include_router(module.router)
    for name in (
        "cameras",
        "patrols",
        "hotspots",
    ):  # capability routes whose library may not be installed
        try:
            module = importlib.import_module(f"safecities.api.routes.{name}")
            importlib.import_module(
                f"safecities.{name}.its" if name == "review" else f"safecities.{name}.service"
            )
            if name == "patrols":
                importlib.import_module("safecities.patrols.governance")
        except ImportError:
            capabilities.add_pending(app, name)
            continue
        app.include_router(module.router)

    try:
        from safecities.web.pages import mount as mount_web
    except ImportError:  # pragma: no cover - web layer absent
        mount_web = None
    if mount_web is not None:
        mount_web(app)

    _errors(app)

    # Serialise the reference layers once before the first request (fast map loads).
    from safecities.api.layers import LAYERS, layer_bytes

    for layer in LAYERS:
        layer_bytes(layer, "brussels")

    return app


def _errors(app: FastAPI) -> None:
    def handler(status: int):
        async def handle(_request: Request, exc: Exception) -> JSONResponse:
            body = {"detail": str(exc)}
            if isinstance(exc, InputError) and exc.errors:
                body["errors"] = [
                    {
                        "file": e.file,
                        "row": e.row,
                        "field": e.field,
                        "reason": e.reason,
                        "value": e.value,
                    }
                    for e in exc.errors
                ]
            if isinstance(exc, CapabilityUnavailable):
                body["capability"] = exc.capability
            return JSONResponse(body, status_code=status)

        return handle

    app.add_exception_handler(PermissionDenied, handler(403))
    app.add_exception_handler(NotFound, handler(404))
    app.add_exception_handler(CapabilityUnavailable, handler(503))
    app.add_exception_handler(InputError, handler(400))
    app.add_exception_handler(SafecitiesError, handler(400))
