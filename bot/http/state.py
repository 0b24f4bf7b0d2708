"""What the HTTP routes share: the loaded service (or why there is none), the worker limiter,
the /ask batcher and the reindex job.

Retrieval is CPU-bound, so every service call runs in a worker thread behind a limiter sized
to the cores, each call with one thread (`serving_settings`): the event loop stays free and
concurrent requests don't oversubscribe the CPU. Concurrent /ask calls are micro-batched into
`service.ask_many` (bot/http/batching.py). Without an index the API still starts and answers
503 (run `newsdesk index build`); it picks the index up once one appears. An index that cannot
be loaded (damaged, another format) answers 503 naming the file until a rebuild replaces it;
`newsdesk serve` refuses to start on one instead (`refuse_damaged_index`). A new generation
published by another process (`newsdesk index watch`) is swapped in by the `IndexFollower`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from fastapi import HTTPException
from pydantic import SecretStr

from bot import logs
from bot.http.batching import AskBatcher
from bot.http.errors import BUILD_HINT, detail_for
from bot.http.reindex import ReindexJob
from bot.index_follower import IndexFollower
from bot.settings import Settings
from index.errors import IndexNotFound, NewsdeskError
from index.layout import current_generation
from index.model_source import available_cores

if TYPE_CHECKING:
    from bot.service import NewsdeskService

logger = logging.getLogger(__name__)

RELOAD_RETRY_S = 5.0
T = TypeVar("T")


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
        self._tried: Path | None = None  # the generation that would not load (None: no index)
        self.reload_retry_s = RELOAD_RETRY_S
        self._load_lock: asyncio.Lock | None = None
        self.follower = IndexFollower(lambda: self.service, run_in_thread=self.run)
        self._following: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.started = time.monotonic()
        self.limiter = anyio.CapacityLimiter(worker_count())
        self._load_lock = asyncio.Lock()
        if self.service is None:
            await self.load()
        self._following = asyncio.create_task(self.follower.run(), name="newsdesk-index-follower")

    async def stop(self) -> None:
        """Stop following the index (at shutdown)."""
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None

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
        # A batch runs in the context of the request that started it: each question carries
        # its own id into the pipeline's log lines.
        return await self.batcher.ask(**kwargs, request_id=logs.request_id())

    async def load(self) -> None:
        """Open the service; a missing or unusable index leaves the API up, answering 503."""
        from bot.service import NewsdeskService

        self._last_load = time.monotonic()
        self._tried = None
        try:
            # no model load for a missing index (on Qdrant the alias names it, not a folder:
            # a replica has no local copy of the index)
            if self.settings.backend != "qdrant":
                self._tried = current_generation(Path(self.settings.index_dir))
            self.service = await anyio.to_thread.run_sync(
                NewsdeskService.from_settings, serving_settings(self.settings)
            )
        except NewsdeskError as exc:
            self.unavailable = detail_for(exc)
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

    def _another_index_built(self) -> bool:
        """An index exists now that is not the one that failed to load (if one did)."""
        if self.settings.backend == "qdrant":
            return True  # only a load can tell whether the alias names a collection now
        try:
            return current_generation(Path(self.settings.index_dir)) != self._tried
        except IndexNotFound:
            return False

    async def require_service(self) -> NewsdeskService:
        """The loaded service; without one (no index, or one that would not load), load the
        index once one is built."""
        if self.service is None and self._load_lock is not None:
            due = time.monotonic() - self._last_load >= self.reload_retry_s
            if due and self._another_index_built():
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


def refuse_damaged_index(settings: Settings) -> None:
    """For `newsdesk serve`, before anything loads: a missing index is fine (the API answers 503
    until one is built), but a damaged one, or one of another format, raises IndexCorrupt or
    IndexIncompatible, so start-up fails with one line: serving 503s would hide a fault that
    only a rebuild repairs. The checks are cheap (no vectors read); what only a full load finds
    still answers 503 naming the file."""
    from index.integrity import check_generation  # FAISS and SciPy: not at import time

    if settings.backend == "qdrant":  # an unreachable Qdrant fails start-up naming its URL
        from bot.factories import qdrant_client_for

        qdrant_client_for(settings).close()
        return
    try:
        generation = current_generation(Path(settings.index_dir))
    except IndexNotFound:
        return
    check_generation(generation)


def _secret_bytes(secret: SecretStr | str | None) -> bytes | None:
    """The admin token as bytes (settings copied with `model_copy` may hold a plain str)."""
    if secret is None:
        return None
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)
    return text.encode() if text.strip() else None
