"""Precompute the heavy page sections after a write, so the next visitor finds them warm.

Forecasts, Gi*, the risk profile, the Knox table, emerging hotspots, the trend summary and the
review report are cached until the next write (`safecities.store.cache.cached`, keyed on the
newest audit entry; a sign-in is audited, so it counts as a write). Without this module the first
visitor after a write pays for all of them (the review page alone takes 1.5-2 s on the demo data).
Here one background thread recomputes them, with the very requests (hence cache keys) the pages
and the API routes use, once at start-up and after every successful write request; writes arriving
while it runs are coalesced into one more pass.

The cameras page's coverage is cached per role and municipality: it is warmed for each one that
has opened the page since start-up. The thread runs at a lower CPU priority (nice 10) than the
requests.

While a pass runs, a browser opening the hotspots, review or cameras page gets at once a shell
saying the figures are being recomputed (`loading.html`); `progressive.js` fetches the page in
full and puts it in place (without JavaScript, `?full=1` is loaded instead).

Only the served application warms (`create_app()` without an engine, i.e. `safecities serve`):
tests build their app on their own engine and stay free of background work. The review report is
warmed in the languages the review page was asked in (English at start-up).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Warmer:
    """One background thread that runs every warming step; `kick()` asks for one more pass."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.languages: set[str] = {"en"}
        #: (role, municipality) -> a user who opened /cameras (the coverage is cached per scope)
        self.camera_users: dict[tuple, Any] = {}
        self.passes = 0  # completed passes (tests and the benchmark read it)
        self.busy = False  # a pass is running: the figures of the newest data are being made
        self._again = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        with self._lock:
            self._again.set()
            if self._thread is None:
                # not a daemon: at exit the interpreter waits for the pass to end (seconds)
                # instead of killing the thread inside a C extension (std::terminate, exit 134)
                self._thread = threading.Thread(target=self._run, name="page-warmup")
                self._thread.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no pass is due (for tests and benchmarks); True when idle."""
        with self._lock:
            t = self._thread
        if t is not None:
            t.join(timeout)
        return not t or not t.is_alive()

    def _run(self) -> None:
        # Linux schedules threads as tasks: the requests go first when the cores are busy
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            with self._lock:  # deciding to stop and a kick arriving cannot interleave
                if not self._again.is_set():
                    self._thread = None
                    return
                self._again.clear()
            self.busy = True
            try:
                self.warm()
            finally:
                self.busy = False
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
    """The warming steps, each `(name, step(db, engine))`, for the capabilities installed; each
    builds the very request (hence cache key) of its page or map layer."""
    from safecities.register import service as register_svc
    from safecities.web.pages.core import available

    def summary(db, engine):
        register_svc.summary_cached(db, engine, register_svc.SummaryRequest(city="brussels"))

    out: list[tuple[str, Callable]] = [("summary", summary)]
    if available("hotspots"):
        from safecities.api.routes import hotspots as api
        from safecities.hotspots import service as hsvc
        from safecities.web.pages.hotspots import DETECT, PROFILE
        from safecities.web.pages.hotspots import NEAR_REPEAT as KNOX

        def forecast(method: str):
            def step(db, engine):
                req = api.forecast_request(engine, "brussels", method, "7d", None, 250.0, 5.0)
                api.answer(db, "forecast", req)

            return step

        def emerging(db, engine):  # the route's defaults with geojson, as the page's layer asks
            req = hsvc.EmergingRequest(
                source=api.register(engine, "brussels"), area=api.city_area("brussels", 300.0),
                start=None, end=None, slice_="30d", alpha=0.05, seed=0, geojson=True,
                max_slices=hsvc.API_MAX_EMERGING_SLICES,
            )  # fmt: skip
            api.answer(db, "emerging", req)

        out += [
            ("forecast-naive", forecast("naive")),  # the dashboard's layer
            ("forecast-auto", forecast("auto")),  # the hotspots page's default
            ("detect", lambda db, e: api.answer(db, "detect", api.detect_request(e, **DETECT))),
            ("profile", lambda db, e: api.answer(db, "profile", api.profile_request(e, **PROFILE))),
            ("near-repeat",
             lambda db, e: api.answer(db, "near-repeat", api.near_repeat_request(e, **KNOX))),
            ("emerging", emerging),
        ]  # fmt: skip
    if available("review"):
        for lang in sorted(w.languages):
            out.append((f"review-{lang}", _review_step(w.app, lang)))
    if available("cameras"):
        from safecities.api.routes import cameras as cam_api

        for scope, user in list(w.camera_users.items()):
            out.append((f"coverage-{scope}", lambda db, e, u=user: cam_api.coverage_cached(
                db, e, u, cam_api.coverage_request(u))))  # fmt: skip
    return out


def _review_step(app: FastAPI, lang: str) -> Callable[[Any, Any], Any]:
    def step(db, engine):
        from safecities.api.routes.review import cached_report
        from safecities.store import cache
        from safecities.web.pages import review as page

        q = page.default_query(lang)
        rv = cached_report(SimpleNamespace(app=app), db, q)
        cache.cached(db, ("review-power-curve", *q.key(engine)), lambda: page._power_curve(rv))

    return step


#: Pages whose figures take seconds to compute: while the warm-up recomputes them after a write,
#: a browser opening one gets a shell at once and the page follows by fetch (progressive.js).
PROGRESSIVE = frozenset({"/hotspots", "/review", "/cameras"})


def _wants_shell(request: Request) -> bool:
    """A browser navigating to a heavy page (not the shell's own fetch, nor `?full=1`)."""
    return (
        request.method == "GET"
        and request.url.path in PROGRESSIVE
        and request.headers.get("sec-fetch-mode") == "navigate"
        and "x-safecities-full" not in request.headers
        and "full" not in request.query_params
    )


def _shell(request: Request):
    """The "computing the latest figures" page: no data, so it needs no permission (the page it
    fetches checks the caller's role, and a signed-out visitor is sent to the sign-in)."""
    from safecities.web.pages.core import render

    url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    sep = "&" if request.url.query else "?"
    return render(request, "loading.html", user=None, src=url, fallback=f"{url}{sep}full=1")


def install(app: FastAPI, *, enabled: bool) -> Warmer | None:
    """Warm once now and after every successful write request (`enabled`: the served app)."""
    if not enabled:
        return None
    warmer = Warmer(app)
    app.state.warmer = warmer

    @app.middleware("http")
    async def warm_after_writes(request: Request, call_next):
        if warmer.busy and _wants_shell(request):
            return _shell(request)
        response = await call_next(request)
        path = request.url.path
        user = getattr(request.state, "user", None)
        if path == "/cameras" and user is not None and response.status_code == 200:
            scope = (user.role, user.municipality_id)
            if scope not in warmer.camera_users and len(warmer.camera_users) < 20:
                warmer.camera_users[scope] = user
        if path == "/review":
            from safecities.web.pages.core import language

            lang = language(request)
            if lang not in warmer.languages:
                warmer.languages.add(lang)
                warmer.kick()
        elif request.method in WRITE_METHODS and response.status_code < 400:
            # any write appends an audit entry, the cache's version: sign-ins included
            warmer.kick()
        return response

    warmer.kick()  # the first visitor after start-up finds the pages warm too
    return warmer
