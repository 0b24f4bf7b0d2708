"""Serve a new index generation as soon as another process publishes it (`newsdesk index watch`,
`newsdesk index update`), without a restart and without a failed request.

Every second the follower compares the index's `current` link with the generation the service
has loaded: a readlink and a stat, cheap enough for the event loop. When they differ it has
the service load the new one in a worker thread; the service swaps its state in one
assignment, so requests in flight finish on the old generation. A generation that will not
load is logged once and the loaded one keeps serving until a newer one appears.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from index.errors import IndexNotFound
from index.layout import current_generation

if TYPE_CHECKING:
    from bot.service import NewsdeskService

logger = logging.getLogger(__name__)

POLL_S = 1.0

RunInThread = Callable[..., Awaitable[Any]]


class IndexFollower:
    """Keeps whatever service `service()` returns (None: none loaded yet) on the current
    generation; `run()` polls until cancelled, `check()` looks once."""

    def __init__(
        self,
        service: Callable[[], NewsdeskService | None],
        *,
        run_in_thread: RunInThread | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self._service = service
        self._run_in_thread = run_in_thread or anyio.to_thread.run_sync
        self.poll_s = poll_s
        self._refused: Path | None = None  # the generation that would not load

    async def run(self) -> None:
        """Check every `poll_s` seconds until cancelled."""
        while True:
            await anyio.sleep(self.poll_s)
            await self.check()

    async def check(self) -> bool:
        """Swap in the current generation if it is new; True when the service swapped."""
        service = self._service()
        if service is None or not hasattr(service, "refresh"):
            return False
        if getattr(service.settings, "backend", "local") == "qdrant":
            return await self._follow_alias(service)
        try:
            current = current_generation(Path(service.settings.index_dir))
        except IndexNotFound:  # the link is being replaced, or the index was removed
            return False
        if current in (service.generation, self._refused):
            return False
        started = time.perf_counter()
        try:
            swapped = await self._run_in_thread(service.refresh)
        except Exception as error:  # a damaged generation must not stop the serving one
            if _current_or_none(service) != current:
                return False  # replaced (and removed) while it loaded: the next check takes it
            self._refused = current
            logger.error(
                "index generation %s could not be loaded; still serving %s: %s",
                current.name,
                service.generation.name,
                error,
            )
            return False
        if swapped:
            summary = service.summary()
            logger.info(
                "now serving index generation %s (built %s, %d articles; loaded in %.2fs)",
                service.generation.name,
                summary.built_at,
                summary.articles,
                time.perf_counter() - started,
            )
        return bool(swapped)

    async def _follow_alias(self, service: NewsdeskService) -> bool:
        """On Qdrant the collection alias names the index: a build anywhere switches it, and
        the service reloads when it no longer names the collection it reads (one request)."""
        try:
            swapped = await self._run_in_thread(service.refresh)
        except Exception as error:  # unreachable for now: requests say so, the next look retries
            logger.debug("could not look at the Qdrant alias: %s", error)
            return False
        if swapped:
            logger.info("now serving Qdrant collection %s", service.generation.name)
        return bool(swapped)


def _current_or_none(service: NewsdeskService) -> Path | None:
    try:
        return current_generation(Path(service.settings.index_dir))
    except IndexNotFound:
        return None
