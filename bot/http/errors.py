"""How the HTTP API turns failures into answers: domain errors → 4xx/503, never a bare 500.

- Validation errors become 422 with one readable sentence plus the field list.
- Domain errors from `index.errors` become the status their cause calls for.
- `GuardMiddleware` caps the body size and catches anything that slipped past the handlers: it
  logs the traceback and answers 503 with a short `detail`, so a bug never leaks a stack trace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.errors import (
    BuildInProgress,
    CorpusError,
    IndexCorrupt,
    IndexIncompatible,
    IndexNotFound,
    ModelLoadError,
    NewsdeskError,
    QdrantUnavailable,
)
from retrieval.sessions import SessionsUnavailable

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
BUILD_HINT = "Run `newsdesk index build` first."

_STATUS: tuple[tuple[type[NewsdeskError], int], ...] = (
    (IndexNotFound, 503),
    (IndexIncompatible, 503),
    (IndexCorrupt, 503),  # a file of the loaded index went bad under the server
    (ModelLoadError, 503),
    (CorpusError, 503),
    (QdrantUnavailable, 503),  # the Qdrant cluster holding the index went away; retry later
    (SessionsUnavailable, 503),  # the Redis holding the conversations went away; retry later
    (BuildInProgress, 409),
)


def status_for(exc: NewsdeskError) -> int:
    """The HTTP status for a domain error; an unlisted one is the request's fault (400)."""
    for error_type, status in _STATUS:
        if isinstance(exc, error_type):
            return status
    return 400


def detail_for(exc: NewsdeskError) -> str:
    """The error's own sentence, plus the next step when the index is missing."""
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, IndexNotFound) and "index build" not in message:
        message = f"{message.rstrip('.')}. {BUILD_HINT}"
    return message


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "is invalid"))
    return msg.removeprefix("Value error, ")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e), "type": e.get("type")}
        for e in exc.errors()
    ]
    reasons = "; ".join(f"{_field(tuple(e['loc']))}: {e['msg']}" for e in errors)
    return JSONResponse(
        status_code=422, content={"detail": f"Invalid request: {reasons}", "errors": errors}
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NewsdeskError)
    status = status_for(exc)
    logger.info("%s %s → %d: %s", request.method, request.url.path, status, exc)
    return JSONResponse(status_code=status, content={"detail": detail_for(exc)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NewsdeskError, _domain_error)
    app.add_middleware(GuardMiddleware, max_body_bytes=MAX_BODY_BYTES)


class GuardMiddleware:
    """Refuse oversized bodies (413) and turn any unhandled exception into a logged 503."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _send_json(send, 413, f"Request body over {self.max_body_bytes} bytes.")
            return

        started = False
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_json(send, 413, f"Request body over {self.max_body_bytes} bytes.")
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _send_json(
                    send, 503, "The server could not answer this request; the error was logged."
                )


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so that FastAPI's body parsing passes
    it on as a 413 instead of calling it a malformed body (400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"Request body over {limit} bytes.")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
