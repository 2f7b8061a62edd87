"""Request limits shared by every route and page (issue 18, finding H2 and L).

- `RequestLimits`: an ASGI middleware refusing a body larger than the configured limit *before*
  reading it (Content-Length) and while streaming it (counted bytes, for chunked requests), and
  refusing JSON bodies the standard parser would accept but the application cannot handle
  (NaN/Infinity, integers outside 64 bits, nesting deeper than the parser's stack: 100,000
  levels used to crash it).
- `read_upload` / `upload_name`: what an upload handler needs to read a file off the event loop
  (call them from a plain `def` route, which FastAPI runs in its thread pool) under a safe name.
- `validation_errors`: the 422 handler that never echoes the input and caps the list.

Written as a pure ASGI middleware rather than `@app.middleware("http")` because the latter
cannot see (or stop) the request body as it streams in.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import AfterValidator
from starlette.background import BackgroundTask

from safecities.config import get_settings
from safecities.safeio import MAX_NAME, upload_name  # noqa: F401 - one rule, used here too

#: Problems listed in one error response; the rest are counted (`more`).
MAX_LISTED_ERRORS = 50
_INT64 = 2**63


def max_upload_bytes() -> int:
    return int(get_settings().max_upload_mb * 1024 * 1024)


def max_body_bytes() -> int:
    return int(get_settings().max_body_mb * 1024 * 1024)


def _bounded_int(text: str) -> int:
    value = int(text)
    if not -_INT64 <= value < _INT64:
        raise ValueError(f"integer {text[:20]}... is outside the 64-bit range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_problem(body: bytes) -> str | None:
    """Why a JSON body is refused (None when it is fine or not JSON at all: the route's own
    parser then answers as usual)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:  # the C parser: a Python scan of a 2 MB body would hold the event loop itself
        json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int)
    except json.JSONDecodeError:
        return None  # malformed JSON: FastAPI answers 422 with its own message
    except ValueError as exc:
        return str(exc)
    except RecursionError:
        return "JSON nested too deeply"
    return None


class _TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware: 413 for bodies over the limit (multipart uploads: `max_upload_mb`, other
    bodies: `max_body_mb`), 400 for JSON bodies with NaN, huge integers or deep nesting."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        limit = max_upload_bytes() if ctype == "multipart/form-data" else max_body_bytes()
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await _send(send, 400, "invalid Content-Length")
                return
            if int(length) > limit:
                await _send(send, 413, _too_large(limit))
                return
        is_json = ctype == "application/json" or ctype.endswith("+json")
        if is_json:
            # JSON bodies are small (limit above): read, check, then replay to the app.
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                size += len(message.get("body", b""))
                if size > limit:
                    await _send(send, 413, _too_large(limit))
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            problem = json_problem(body)
            if problem:
                await _send(send, 400, problem)
                return
            replayed = False

            async def replay() -> dict:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return

        state = {"too_large": False, "started": False, "size": 0}

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                if state["size"] > limit:
                    state["too_large"] = True
                    raise _TooLarge
            return message

        async def guarded_send(message: dict) -> None:
            if state["too_large"]:  # replace whatever error the app made of the cut stream
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await _send(send, 413, _too_large(limit))
                return
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except _TooLarge:
            if not state["started"]:
                state["started"] = True
                await _send(send, 413, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body larger than {limit / 2**20:g} MB"


async def _send(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- dates ----------------------------------------------------------------------------------

#: Days the application can compute with: a forecast at year 1 or a window ending in 9999
#: overflowed pandas' nanosecond timestamps and SQLite's date conversions (500s before).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


def _plausible(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a day between {FIRST_DAY} and {LAST_DAY}")
    return value


#: A date query parameter or field within FIRST_DAY..LAST_DAY (422 otherwise).
Day = Annotated[date, AfterValidator(_plausible)]


# -- uploads ----------------------------------------------------------------------------------


def read_upload(file: UploadFile, limit: int | None = None) -> bytes:
    """The bytes of an uploaded file, read synchronously: call it from a plain `def` route (run
    in a worker thread) so parsing never blocks the event loop. The request size was already
    checked by `RequestLimits`; `limit` bounds one file again (InputError over it)."""
    from safecities.errors import InputError

    limit = limit or max_upload_bytes()
    file.file.seek(0)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{upload_name(file.filename)}: larger than {limit / 2**20:g} MB")
    return data


class ReportDownload:
    """`?report=csv` of an import: a temporary errors.csv the import streams every problem to
    (bounded memory however many rows are bad), sent as the response and deleted once sent.

        dl = ReportDownload(report == "csv")
        try:
            res = service_import(..., report=dl.path)
            if dl.path and not res.ok:
                return dl.response()
        finally:
            dl.discard()
    """

    def __init__(self, wanted: bool) -> None:
        self.path: Path | None = None
        if wanted:
            fd, name = tempfile.mkstemp(prefix="safecities-errors-", suffix=".csv")
            os.close(fd)
            self.path = Path(name)

    def response(self, status_code: int = 422) -> FileResponse:
        """The report as an errors.csv download; the file is deleted after it was sent."""
        assert self.path is not None
        path, self.path = self.path, None
        return FileResponse(
            path,
            status_code=status_code,
            media_type="text/csv; charset=utf-8",
            filename="errors.csv",
            background=BackgroundTask(path.unlink, True),
        )

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def capped(rows: list[Any], limit: int = MAX_LISTED_ERRORS) -> dict[str, Any]:
    """`{"errors": the first `limit` rows, "errors_total": how many there were}`: an import with
    a million bad rows answers in kilobytes (finding H2: a 139 MB error body)."""
    return {"errors": rows[:limit], "errors_total": len(rows)}


# -- validation errors ------------------------------------------------------------------------


def public_errors(errors: Any) -> dict[str, Any]:
    """Pydantic errors without the `input` (a 50 MB body must not come back) nor `url`, at most
    MAX_LISTED_ERRORS of them, plus how many more there were."""
    items = list(errors)
    shown = [
        {k: v for k, v in e.items() if k not in ("input", "url", "ctx")}
        | ({"ctx": {k: str(v)[:200] for k, v in e["ctx"].items()}} if e.get("ctx") else {})
        for e in items[:MAX_LISTED_ERRORS]
    ]
    body: dict[str, Any] = {"detail": jsonable_encoder(shown)}
    if len(items) > MAX_LISTED_ERRORS:
        body["more"] = len(items) - MAX_LISTED_ERRORS
    return body


async def validation_errors(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(public_errors(exc.errors()), status_code=422)
