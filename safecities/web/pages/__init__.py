"""Web pages served by the API process: Jinja2 templates, NL/FR/EN, one permission per page.

`core` holds what every page shares (rendering, language, sign-in, dashboard); each capability has
its own module and router. A capability whose library is missing shows a "not available yet" page.
"""

import importlib
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from safecities.api.accounts import Principal
from safecities.api.deps import require
from safecities.api.permissions import Action
from safecities.web import i18n, labels
from safecities.web.labels import N_
from safecities.web.pages import core

#: Shown when a form comes back without a valid CSRF token (safecities.api.csrf).
STALE_FORM = N_("The form has expired or did not come from this site: reload it and try again.")
#: Page modules of this package, mounted in this order.
PAGE_MODULES = ("incidents", "hotspots", "patrols", "cameras", "review", "audit", "users")
HERE = core.HERE


def _pending_page(slug: str, action: Action):
    def page(request: Request, _: Annotated[Principal, Depends(require(action))]) -> HTMLResponse:
        return core.render(
            request,
            "message.html",
            heading=labels.CAPABILITY_PAGES[slug][0],
            message="This part of the application is not available yet in this installation.",
            css="notice",
            detail=None,
        )

    page.__name__ = f"{slug}_page"
    return page


def mount(app: FastAPI, *, warmup: bool = False) -> None:
    """Pages, static files and error pages on `app`; `warmup`: precompute the heavy sections at
    start-up and after each write (the served application; see safecities.web.warmup)."""
    i18n.compile_catalogues()
    app.include_router(core.router)
    pending = APIRouter(include_in_schema=False)
    for name in PAGE_MODULES:
        if core.available(name) if name in labels.CAPABILITY_PAGES else True:
            module = importlib.import_module(f"safecities.web.pages.{name}")
            app.include_router(module.router)
        else:
            pending.get(f"/{name}", response_class=HTMLResponse)(
                _pending_page(name, labels.CAPABILITY_PAGES[name][1])
            )
    app.include_router(pending)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    default = app.exception_handlers.get(StarletteHTTPException)

    async def http_errors(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith(("/api", "/docs", "/openapi", "/static")):
            from fastapi.exception_handlers import http_exception_handler

            return await (default or http_exception_handler)(request, exc)
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={path}", status_code=303)
        if exc.status_code == 403:
            from safecities.api.csrf import CsrfRefused

            stale = isinstance(exc, CsrfRefused)
            return core.render(
                request,
                "message.html",
                status_code=403,
                heading="Not allowed",
                message=STALE_FORM if stale else "Your role does not allow this page.",
                css="error",
                detail=None,
            )
        if exc.status_code == 404:
            return core.render(
                request,
                "message.html",
                status_code=404,
                heading="Page not found",
                message="There is no such page.",
                css="error",
                detail=None,
            )
        from fastapi.exception_handlers import http_exception_handler

        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_errors)

    from fastapi.exceptions import RequestValidationError

    from safecities.api.limits import validation_errors

    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(("/api", "/docs", "/openapi")):
            return await validation_errors(request, exc)
        errors = exc.errors()  # never the input: field and message only, the first 20
        detail = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}" for e in errors[:20]
        ) + (f" (+{len(errors) - 20})" if len(errors) > 20 else "")
        return core.render(
            request,
            "message.html",
            status_code=400,
            heading="Invalid request",
            message="The form was not filled in correctly.",
            css="error",
            detail=detail,
        )

    app.add_exception_handler(RequestValidationError, invalid_request)

    from safecities.web import warmup as _warmup

    _warmup.install(app, enabled=warmup)
