"""The HTTP API and chat page: `create_app(settings)` for tests, `run_server` for `newsdesk serve`.

The model and index load in the lifespan, never at import. Without an index the app still
starts and answers 503 (run `newsdesk index build`); it picks the index up once one appears.
Retrieval is CPU-bound, so every service call runs in a worker thread behind a limiter sized
to the cores, each call with one thread (`serving_settings`): the event loop stays free and
concurrent requests don't oversubscribe the CPU. Concurrent /ask calls are micro-batched into
`service.ask_many` (bot/batching.py). Sessions live in the service's memory (TTL + LRU cap),
which is why the server runs as one process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import SecretStr

from bot.api_errors import BUILD_HINT, detail_for, install_error_handlers
from bot.api_models import (
    SESSION_ID_PATTERN,
    AnswerOut,
    ArticleOut,
    AskRequest,
    HealthOut,
    Problem,
    ReindexStatus,
    SearchOut,
    SearchQuery,
)
from bot.batching import AskBatcher
from bot.reindex import ReindexJob, reindex_isolated
from bot.settings import Settings
from index.errors import IndexNotFound, NewsdeskError
from index.layout import current_generation, has_index
from index.model_source import available_cores

if TYPE_CHECKING:
    from bot.service import NewsdeskService

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
RELOAD_RETRY_S = 5.0
T = TypeVar("T")

_UNAVAILABLE = {503: {"model": Problem, "description": "No index loaded yet."}}
_COMMON: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body could not be read (not UTF-8 JSON)."},
    413: {"model": Problem, "description": "The request body is over 64 KiB."},
    422: {"model": Problem, "description": "The input is invalid; `detail` says why."},
}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class TelegramNeedsIndex(NewsdeskError):
    """`serve --telegram` without a loadable index: the HTTP API could wait, the bot cannot."""


def worker_count() -> int:
    """Parallel service calls: one per usable core (2 here), so the CPU is busy but not thrashed."""
    return available_cores()


def serving_settings(settings: Settings) -> Settings:
    """Concurrency comes from parallel requests, so each call gets cores / workers threads
    (1 here) unless `threads` is set: two calls with two threads each would fight over two
    cores, and a lone query gains nothing from a second thread."""
    if settings.threads:
        return settings
    return settings.model_copy(update={"threads": max(1, available_cores() // worker_count())})


_pinned = threading.local()


def _pinned_call(func: Callable[..., T], threads: int) -> Callable[..., T]:
    """`func` run with the search library's thread count set for the calling worker thread
    (OpenMP keeps that setting per thread, so setting it once at load time is not enough)."""

    def call(*args: Any, **kwargs: Any) -> T:
        if getattr(_pinned, "threads", None) != threads:
            from index.vectors import set_threads  # faiss: loaded with the service by now

            set_threads(threads)
            _pinned.threads = threads
        return func(*args, **kwargs)

    return call


class ApiState:
    """What the routes share: the service (or why there is none), the limiter, the reindex job."""

    def __init__(self, settings: Settings, service: NewsdeskService | None = None) -> None:
        self.settings = settings
        self.service = service
        self.unavailable = f"No index loaded from {settings.index_dir}. {BUILD_HINT}"
        self.started = time.monotonic()
        self.limiter: anyio.CapacityLimiter | None = None
        self.batcher: AskBatcher | None = None
        self.reindex = ReindexJob()
        self.admin_token = _secret_bytes(settings.admin_token)
        self.call_threads = serving_settings(settings).threads
        self._last_load = 0.0
        self._missing_index = False
        self.reload_retry_s = RELOAD_RETRY_S
        self._load_lock: asyncio.Lock | None = None

    async def start(self) -> None:
        self.started = time.monotonic()
        self.limiter = anyio.CapacityLimiter(worker_count())
        self._load_lock = asyncio.Lock()
        if self.service is None:
            await self.load()

    def _batch(self, requests: Sequence[dict[str, Any]]) -> Sequence[Any]:
        """One batch of questions. A batch of several running alone may use every core for its
        search (FAISS splits a batch by question); one question searches faster on one thread,
        and a second would only spin (measured: 0.7 vs 0.9 ms, a third of the CPU)."""
        assert self.service is not None
        alone = self.batcher is not None and self.batcher.busy <= 1 and not self.settings.threads
        threads = available_cores() if alone and len(requests) > 1 else self.call_threads
        return _pinned_call(self.service.ask_many, threads)(requests)  # type: ignore[attr-defined]

    async def ask(self, service: NewsdeskService, **kwargs: Any) -> Any:
        """One question; batched with concurrent ones when the service can answer many at once."""
        if not hasattr(service, "ask_many"):
            return await self.run(service.ask, **kwargs)
        if self.batcher is None:
            self.batcher = AskBatcher(self._batch, workers=worker_count(), limiter=self.limiter)
        return await self.batcher.ask(**kwargs)

    async def load(self) -> None:
        """Open the service; a missing or unusable index leaves the API up, answering 503."""
        from bot.service import NewsdeskService

        self._last_load = time.monotonic()
        try:
            current_generation(Path(self.settings.index_dir))  # no model load for a missing index
            self.service = await anyio.to_thread.run_sync(
                NewsdeskService.from_settings, serving_settings(self.settings)
            )
        except NewsdeskError as exc:
            self.unavailable = detail_for(exc)
            self._missing_index = isinstance(exc, IndexNotFound)
            level = logging.WARNING if isinstance(exc, IndexNotFound) else logging.ERROR
            logger.log(level, "serving without an index: %s", exc)
        except Exception:  # a damaged index must not keep the server (and its 503s) down
            logger.exception("could not load the index from %s", self.settings.index_dir)
            self.unavailable = (
                f"The index at {self.settings.index_dir} could not be loaded (see the server "
                "log); rebuild it with `newsdesk index build`."
            )
        else:
            logger.info("index loaded from %s", self.settings.index_dir)

    async def require_service(self) -> NewsdeskService:
        """The loaded service; if there was no index at start-up, load it once one is built."""
        if self.service is None and self._missing_index and self._load_lock is not None:
            due = time.monotonic() - self._last_load >= self.reload_retry_s
            if due and has_index(Path(self.settings.index_dir)):
                async with self._load_lock:
                    if self.service is None:
                        await self.load()
        if self.service is None:
            raise HTTPException(status_code=503, detail=self.unavailable)
        return self.service

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a CPU-bound service call in a worker thread, at most `worker_count()` at once."""
        call = partial(_pinned_call(func, self.call_threads), *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self.limiter)


def _secret_bytes(secret: SecretStr | str | None) -> bytes | None:
    """The admin token as bytes (settings copied with `model_copy` may hold a plain str)."""
    if secret is None:
        return None
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)
    return text.encode() if text.strip() else None


def _state(request: Request) -> ApiState:
    return request.app.state.newsdesk


async def _service(request: Request) -> NewsdeskService:
    return await _state(request).require_service()


State = Annotated[ApiState, Depends(_state)]
Service = Annotated["NewsdeskService", Depends(_service)]
SessionIdPath = Annotated[str, PathParam(pattern=SESSION_ID_PATTERN)]


def _filters(sources: list[str] | None, since: date | None, until: date | None) -> Any:
    """A `SearchFilters`, or None when nothing narrows the search."""
    if not sources and since is None and until is None:
        return None
    from retrieval.search import SearchFilters

    return SearchFilters(sources=tuple(sources or ()), since=since, until=until)


def _passage_hit(passage: Any) -> dict[str, Any]:
    return {
        "passage": passage.text,
        "score": float(passage.score),
        "article_id": passage.article_id,
        "title": passage.title,
        "source": passage.source,
        "date": passage.date,
        "url": passage.url,
        "start": passage.start,
        "end": passage.end,
    }


def _health(summary: Any, *, uptime_s: float) -> dict[str, Any]:
    """`IndexSummary` as the /health body (the server's own paths stay private)."""
    return {
        "status": "ok",
        "articles": summary.articles,
        "chunks": summary.chunks,
        "model": summary.model,
        "built_at": summary.built_at,
        "first_date": summary.first_date,
        "last_date": summary.last_date,
        "sources": [{"name": name, "articles": count} for name, count in summary.sources],
        "skipped": summary.skipped,
        "size_bytes": summary.size_bytes,
        "uptime_s": round(uptime_s, 3),
    }


def _public_routes() -> APIRouter:
    router = APIRouter(responses=_COMMON)

    @router.post("/ask", response_model=AnswerOut, responses=_UNAVAILABLE)
    async def ask(body: AskRequest, state: State, service: Service) -> dict[str, Any]:
        """Answer a question from the articles, with numbered citations; follow-ups share
        a `session_id` (a new one is issued when none is given)."""
        answer = await state.ask(
            service,
            question=body.question,
            session_id=body.session_id,
            k=body.k,
            filters=_filters(body.source, body.since, body.until),
            as_of=body.as_of,
        )
        return answer.to_dict()

    @router.get("/search", response_model=SearchOut, responses=_UNAVAILABLE)
    async def search(
        params: Annotated[SearchQuery, Query()], state: State, service: Service
    ) -> dict[str, Any]:
        """Ranked passages for a query, without composing an answer."""
        passages = await state.run(
            service.search,
            params.q,
            k=params.k,
            filters=_filters(params.source, params.since, params.until),
            as_of=params.as_of,
        )
        return {"results": [_passage_hit(p) for p in passages]}

    @router.get(
        "/articles/{article_id:path}",
        response_model=ArticleOut,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def article(article_id: str, state: State, service: Service) -> dict[str, Any]:
        """One article's metadata and full text."""
        found = await state.run(service.article, article_id) if len(article_id) <= 512 else None
        if found is None:
            raise HTTPException(status_code=404, detail=f"No article with id {article_id!r}.")
        return found

    @router.delete(
        "/sessions/{session_id}",
        status_code=204,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def forget_session(session_id: SessionIdPath, service: Service) -> Response:
        """Forget a conversation."""
        if not service.reset_session(session_id):
            raise HTTPException(status_code=404, detail="No such session (it may have expired).")
        return Response(status_code=204)

    @router.post(
        "/sessions/{session_id}/more",
        response_model=AnswerOut,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def more(session_id: SessionIdPath, state: State, service: Service) -> dict[str, Any]:
        """The next passages for the session's last question."""
        from bot.service import SessionNotFound  # loaded with the service by now

        try:
            answer = await state.run(service.more, session_id)
        except SessionNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        return answer.to_dict()

    @router.get("/health", response_model=HealthOut, responses=_UNAVAILABLE)
    async def health(state: State, service: Service) -> dict[str, Any]:
        """Liveness plus what is loaded: counts, model, build time, uptime."""
        return _health(service.summary(), uptime_s=time.monotonic() - state.started)

    return router


_bearer = HTTPBearer(auto_error=False, description="NEWSDESK_ADMIN_TOKEN")


async def _require_admin(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with a wrong one (compared in constant time)."""
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="Send `Authorization: Bearer <NEWSDESK_ADMIN_TOKEN>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = state.admin_token
    if not expected or not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status_code=403, detail="Wrong admin token.")


def _admin_routes() -> APIRouter:
    """Mounted only when an admin token is configured; otherwise /admin/* is a plain 404."""
    denied = {401: {"model": Problem}, 403: {"model": Problem}}
    router = APIRouter(
        prefix="/admin", dependencies=[Depends(_require_admin)], tags=["admin"], responses=_COMMON
    )

    @router.post(
        "/reindex",
        status_code=202,
        response_model=ReindexStatus,
        responses={**denied, 409: {"model": Problem}, **_UNAVAILABLE},
    )
    async def start_reindex(state: State, service: Service) -> dict[str, Any]:
        """Update the index from the corpus in the background; requests keep being served
        from the current index until the new one is swapped in."""
        if not state.reindex.start(partial(reindex_isolated, service, state.settings)):
            raise HTTPException(
                status_code=409,
                detail="A reindex is already running; GET /admin/reindex shows its progress.",
            )
        return state.reindex.status()

    @router.get("/reindex", response_model=ReindexStatus, responses=denied)
    async def reindex_status(state: State) -> dict[str, Any]:
        """Progress of the running reindex and the result of the last one."""
        return state.reindex.status()

    return router


def create_app(
    settings: Settings | None = None,
    *,
    service: NewsdeskService | None = None,
    telegram: bool = False,
) -> FastAPI:
    """The app; nothing heavy happens until the lifespan starts. Pass `service` to share one
    already loaded (tests). With `telegram`, the bot polls in the same event loop and answers
    from the same service, so one process serves both (and a reindex reaches both)."""
    settings = settings or Settings()
    state = ApiState(settings, service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        if not telegram:
            yield
            return
        if state.service is None:
            raise TelegramNeedsIndex(f"The Telegram bot cannot start: {state.unavailable}")
        from bot.telegram import build_application, running

        async with running(build_application(settings, state.service)):
            yield

    app = FastAPI(
        title="newsdesk",
        summary="Questions answered from a folder of news articles, with cited sources.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.newsdesk = state
    install_error_handlers(app)
    app.include_router(_public_routes())
    if state.admin_token is not None:
        app.include_router(_admin_routes())

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
    telegram: bool = False,
) -> None:
    """Serve `create_app(settings)` with uvicorn until interrupted (one process: the sessions
    and the model live in its memory); with `telegram`, the bot runs in it too."""
    import uvicorn

    _check_port_free(host, port)  # a busy port fails now, not after the model has loaded
    config = uvicorn.Config(
        create_app(settings, telegram=telegram),
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
