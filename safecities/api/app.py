"""The FastAPI application: API under /api, OpenAPI at /docs, web pages from safecities.web."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

import safecities
from safecities.api import limits
from safecities.api.deps import public
from safecities.api.limits import RequestLimits, validation_errors
from safecities.errors import (
    CapabilityUnavailable,
    InputError,
    NotFound,
    PermissionDenied,
    SafecitiesError,
    StoreBusy,
)

#: Only our own scripts and styles (Leaflet sets inline styles on map elements).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def create_app(
    engine: Engine | None = None, *, migrate: bool = True, warmup: bool | None = None
) -> FastAPI:
    """Build the app on `engine` (default: the configured database, migrated to the newest).
    `warmup` (default: only when the app builds its own engine, i.e. `safecities serve`) keeps
    the heavy page sections precomputed after each write (safecities.web.warmup)."""
    warmup = engine is None if warmup is None else warmup
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
        docs_url=None,  # served below from the bundled Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)

    @app.get("/api/health", tags=["meta"])
    @public
    def health() -> dict[str, str]:
        """Liveness check (no sign-in needed)."""
        return {"status": "ok", "version": safecities.__version__}

    @app.get("/docs", include_in_schema=False)
    @public
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="safecities API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        from safecities.store.db import API_WRITE_WAIT, write_wait

        write_wait.set(API_WRITE_WAIT)  # a request waits briefly for the store, then 503
        response = await call_next(request)
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/docs"):  # Swagger UI needs its inline script
            h.setdefault("Content-Security-Policy", CSP)
        return response

    # Size limits before any body is read; 422s without the input (safecities.api.limits).
    app.add_middleware(RequestLimits)
    app.add_exception_handler(RequestValidationError, validation_errors)

    for module in (auth, users, audit, reference, incidents, capabilities):
        app.include_router(module.router)
    for name in (
        "cameras",
        "patrols",
        "hotspots",
        "review",
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
        mount_web(app, warmup=warmup)

    _errors(app)

    # Serialise the reference layers once before the first request (fast map loads).
    from safecities.register.reference import LAYERS, layer_bytes

    for layer in LAYERS:
        layer_bytes(layer, "brussels")

    return app


def _errors(app: FastAPI) -> None:
    def handler(status: int):
        async def handle(_request: Request, exc: Exception) -> JSONResponse:
            body = {"detail": str(exc)}
            if isinstance(exc, InputError) and exc.errors:
                rows = [
                    {
                        "file": e.file,
                        "row": e.row,
                        "field": e.field,
                        "reason": e.reason,
                        "value": e.value,
                    }
                    for e in exc.errors[: limits.MAX_LISTED_ERRORS]
                ]
                body.update(limits.capped(rows) | {"errors_total": exc.errors_total,
                                                   "error_counts": exc.counts})  # fmt: skip
            if isinstance(exc, CapabilityUnavailable):
                body["capability"] = exc.capability
            return JSONResponse(body, status_code=status)

        return handle

    app.add_exception_handler(PermissionDenied, handler(403))
    app.add_exception_handler(NotFound, handler(404))
    app.add_exception_handler(CapabilityUnavailable, handler(503))
    app.add_exception_handler(InputError, handler(400))

    async def busy(_request: Request, exc: Exception) -> JSONResponse:
        """Another writer holds the store: 503 + Retry-After, never a 500 (M5)."""
        from safecities.store.db import RETRY_AFTER_SECONDS, is_busy

        if not is_busy(exc):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return JSONResponse(
            {"detail": str(exc) if isinstance(exc, StoreBusy) else "the store is busy; try again"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    app.add_exception_handler(StoreBusy, busy)
    app.add_exception_handler(DBAPIError, busy)
    app.add_exception_handler(SafecitiesError, handler(400))
