"""The HTTP API and chat page: `create_app(settings)` for tests, `run_server` for `newsdesk serve`.

The model and index load in the lifespan, never at import. Sessions live in the service's
memory (TTL + LRU cap), or in Redis (NEWSDESK_SESSIONS=redis://…) when several replicas serve
one conversation. Something else that should run in the same event loop and answer from the
same service (the Telegram bot, for `serve --telegram`) is passed in as a `Companion` by
whoever starts the server, with any routes of its own (a Telegram webhook); this package knows
nothing of it.

Every response carries `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and
`X-Frame-Options: DENY`; the chat page a strict Content-Security-Policy (its own script and
styles only), JSON and static files `default-src 'none'`. CORS is off unless
NEWSDESK_CORS_ORIGINS lists origins. SECURITY.md has the threat model.
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
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import install_error_handlers
from bot.http.observability import ObservedRequests, metrics_routes
from bot.http.routes import admin_routes, public_routes
from bot.http.state import ApiState, serving_settings
from bot.metrics import Metrics
from bot.redaction import protect
from bot.settings import ANY_ORIGIN, Settings
from index.errors import NewsdeskError

if TYPE_CHECKING:
    from bot.service import NewsdeskService

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
PAGE_CSP = (  # its own script, styles and API only: no inline script, no other origin
    "default-src 'self'; object-src 'none'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
CORS_METHODS = ["GET", "POST", "DELETE"]
CORS_HEADERS = ["Content-Type", "Authorization"]


@dataclass(frozen=True)
class Companion:
    """Something that runs beside the API for the server's lifetime, answering from its
    service: `run(service)` is entered after the index loads and left at shutdown. `check()`,
    if given, raises a domain error when it could not start (its upstream refuses, say); the
    server calls it before it binds, so the refusal is one line, not a failed start-up."""

    name: str
    run: Callable[[NewsdeskService], AbstractAsyncContextManager[object]]
    check: Callable[[], None] | None = None
    routes: tuple[BaseRoute, ...] = ()  # its own routes on the server (a webhook)


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
    protect(settings.admin_token, settings.telegram_token)
    state = ApiState(settings, service)
    metrics = Metrics(lambda: state.service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics.activate()  # the follower and the companion count here too
        await state.start()
        try:
            if companion is None:
                yield
                return
            if state.service is None:
                raise CompanionNeedsIndex(f"{companion.name} cannot start: {state.unavailable}")
            async with companion.run(state.service):
                logger.info("%s started", companion.name)
                yield
            logger.info("%s stopped", companion.name)
        finally:
            await state.stop()

    app = FastAPI(
        title="newsdesk",
        summary="Questions answered from a folder of news articles, with cited sources.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.newsdesk = state
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(public_routes())
    app.include_router(metrics_routes())
    if state.admin_token is not None:
        app.include_router(admin_routes())

    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if companion is not None:
        app.router.routes.extend(companion.routes)
    if settings.cors_origins:
        # Starlette echoes any Origin when * meets credentials; Settings refuses that pair,
        # and this keeps it refused for settings made without validation (model_copy).
        any_origin = ANY_ORIGIN in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials and not any_origin,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)  # every response gets them
    app.add_middleware(ObservedRequests, metrics=metrics)  # outermost: counts every request
    return app


class SecurityHeadersMiddleware:
    """Add the security headers to every response, errors and CORS preflights included; a
    response's own Content-Security-Policy (the page's) wins over the default for non-HTML."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", NON_HTML_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def run_server(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    access_log: bool = True,
    companion: Companion | None = None,
) -> None:
    """Serve `create_app(settings)` with uvicorn until interrupted (one process: the model
    lives in its memory, the sessions too unless they are in Redis), with its `companion` if
    one is given.

    The API alone loads the index in its lifespan and answers 503 until there is one. A
    companion cannot wait for one, so with a companion the index loads here, once, before the
    server binds: a missing or unusable index is a domain error (one line), not a failure
    inside uvicorn's start-up."""
    import uvicorn

    _check_port_free(host, port)  # a busy port fails now, not after the model has loaded
    service = None
    if companion is not None:
        from bot.service import NewsdeskService

        service = NewsdeskService.from_settings(serving_settings(settings))
        if companion.check is not None:
            companion.check()
    config = uvicorn.Config(
        create_app(settings, service=service, companion=companion),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=10,
        # JSON lines: uvicorn's own lines go through the root logger's JSON handler
        **({"log_config": None} if settings.log_format == "json" else {}),
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
