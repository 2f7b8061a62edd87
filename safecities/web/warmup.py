"""Precompute the heavy page sections after a write, so the next visitor finds them warm.

Forecasts, Gi*, the risk profile, the Knox table, emerging hotspots, the trend summary and the
review report are cached until the next data write (`safecities.api.incidents.cached`, keyed on the
newest audit entry). Without this module the first visitor after an import pays for all of them
(the review page alone takes 1.5-2 s on the demo data). Here a single background thread recomputes
them, with the very keys the pages and the API routes use, once at start-up and after every
successful write request; writes arriving while it runs are coalesced into one more pass.

Only the served application warms (`create_app()` without an engine, i.e. `safecities serve`):
tests build their app on their own engine and stay free of background work. The review report is
warmed in the languages the review page was asked in (English at start-up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Requests that write only sign-in records (no data): they change no cached figure.
NOT_DATA = ("/login", "/logout", "/lang", "/api/auth/")


class Warmer:
    """One background thread that runs every warming step; `kick()` asks for one more pass."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.languages: set[str] = {"en"}
        self.passes = 0  # completed passes (tests and the benchmark read it)
        self._again = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        with self._lock:
            self._again.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="page-warmup", daemon=True)
                self._thread.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the current pass ends (for tests and benchmarks); True when idle."""
        t = self._thread
        if t is not None:
            t.join(timeout)
        return t is None or not t.is_alive()

    def _run(self) -> None:
        while self._again.is_set():
            self._again.clear()
            self.warm()
            self.passes += 1

    def warm(self) -> None:
        from safecities.store.db import session_scope

        engine = self.app.state.engine
        for name, step in steps(self):
            try:
                with session_scope(engine) as db:
                    step(db, engine)
            except Exception as exc:  # noqa: BLE001 - a cold section is computed on request instead
                log.debug("warm-up step %s failed: %s", name, exc)


def steps(w: Warmer) -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """The warming steps, each `(name, step(db, engine))`, for the capabilities installed."""
    from safecities.api import incidents as inc
    from safecities.web.pages.core import available

    def summary(db, engine):
        key = ("summary", str(engine.url), "brussels", None, None)
        inc.cached(db, key, lambda: inc.summary(engine, city="brussels"))

    out: list[tuple[str, Callable]] = [("summary", summary)]
    if available("hotspots"):
        from safecities.api import hotspots as hsvc
        from safecities.web.pages import hotspots as page

        def forecast(method: str):
            def step(db, engine):
                key = ("hotspots", str(engine.url), "brussels", method, "7d", None, 250.0, 5.0)
                inc.cached(db, key, lambda: hsvc.forecast(engine, method=method, horizon="7d"))

            return step

        # the emerging route's defaults (the hotspots page asks for them)
        emerging = dict(city="brussels", start=None, end=None, slice_="30d", cell_size=300.0,
                        alpha=0.05, seed=0, geojson=True)  # fmt: skip
        out += [
            ("forecast-naive", forecast("naive")),  # the dashboard's layer
            ("forecast-kde", forecast("kde")),  # the hotspots page's default
            ("detect", lambda db, e: hsvc.cached(db, e, "detect", **page.DETECT)),
            ("profile", lambda db, e: hsvc.cached(db, e, "profile", **page.PROFILE)),
            ("near-repeat", lambda db, e: hsvc.cached(db, e, "near-repeat", **page.NEAR_REPEAT)),
            ("emerging", lambda db, e: hsvc.cached(db, e, "emerging", **emerging)),
        ]
    if available("review"):
        for lang in sorted(w.languages):
            out.append((f"review-{lang}", _review_step(w.app, lang)))
    return out


def _review_step(app: FastAPI, lang: str) -> Callable[[Any, Any], Any]:
    def step(db, engine):
        from safecities.api import incidents as inc
        from safecities.api.routes.review import cached_report
        from safecities.web.pages import review as page

        q = page.default_query(lang)
        rv = cached_report(SimpleNamespace(app=app), db, q)
        inc.cached(db, ("review-power-curve", *q.key(engine)), lambda: page._power_curve(rv))

    return step


def install(app: FastAPI, *, enabled: bool) -> Warmer | None:
    """Warm once now and after every successful write request (`enabled`: the served app)."""
    if not enabled:
        return None
    warmer = Warmer(app)
    app.state.warmer = warmer

    @app.middleware("http")
    async def warm_after_writes(request: Request, call_next):
        response = await call_next(request)
        path = request.url.path
        if path == "/review":
            from safecities.web.pages.core import language

            lang = language(request)
            if lang not in warmer.languages:
                warmer.languages.add(lang)
                warmer.kick()
        elif (
            request.method in WRITE_METHODS
            and response.status_code < 400
            and not path.startswith(NOT_DATA)
        ):
            warmer.kick()
        return response

    warmer.kick()  # the first visitor after start-up finds the pages warm too
    return warmer
