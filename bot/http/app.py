"""The HTTP API and chat page: `create_app(settings)` for tests, `run_server` for `newsdesk serve`.

The model and index load in the lifespan, never at import. Sessions live in the service's
memory (TTL + LRU cap), which is why the server runs as one process. Something else that should
run in the same event loop and answer from the same service (the Telegram bot, for
`serve --telegram`) is passed in as a `Companion` by whoever starts the server; this package
knows nothing of it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bot.http.errors import install_error_handlers
from bot.http.routes import admin_routes, public_routes
from bot.http.state import ApiState
from bot.settings import Settings
from index.errors import NewsdeskError

if TYPE_CHECKING:
    from bot.service import NewsdeskService

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Companion:
    """Something that runs beside the API for the server's lifetime, answering from its
    service: `run(service)` is entered after the index loads and left at shutdown."""

    name: str
    run: Callable[[NewsdeskService], AbstractAsyncContextManager[object]]


class CompanionNeedsIndex(NewsdeskError):
    """A companion without a loadable index: the HTTP API could wait for one, it cannot."""


def create_app(
    settings: Settings | None = None,
    *,
    service: NewsdeskService | None = None,
    companion: Companion | None = None,
) -> FastAPI:
    """The app; nothing heavy happens until the lifespan starts. Pass `service` to share one
    already loaded (tests). A `companion` runs in the same event loop and answers from the same
    service, so one process serves both (and a reindex reaches both)."""
    settings = settings or Settings()
    state = ApiState(settings, service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        if companion is None:
            yield
            return
        if state.service is None:
            raise CompanionNeedsIndex(f"{companion.name} cannot start: {state.unavailable}")
        async with companion.run(state.service):
            logger.info("%s started", companion.name)
            yield
        logger.info("%s stopped", companion.name)

    app = FastAPI(
        title="newsdesk",
        summary="Questions answered from a folder of news articles, with cited sources.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.newsdesk = state
    install_error_handlers(app)
    app.include_router(public_routes())
    if state.admin_token is not None:
        app.include_router(admin_routes())

    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def run_server(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    access_log: bool = True,
    companion: Companion | None = None,
) -> None:
    """Serve `create_app(settings)` with uvicorn until interrupted (one process: the sessions
    and the model live in its memory), with its `companion` if one is given."""
    import uvicorn

    _check_port_free(host, port)  # a busy port fails now, not after the model has loaded
    config = uvicorn.Config(
        create_app(settings, companion=companion),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


def _check_port_free(host: str, port: int) -> None:
    """Bind and release `host:port` the way the server will (address reuse on, as asyncio does)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise NewsdeskError(
                f"Cannot listen on {host}:{port}: {error.strerror or error}. "
                "Stop what is using it or pick another --port."
            ) from None
