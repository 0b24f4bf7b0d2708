"""Micro-batching of concurrent /ask calls into one service call (one encoder pass, one scan).

No timer and no waiting window: a request goes straight to a free worker; only while all
workers are busy do new requests queue, and the next free worker takes the whole queue (up to
`max_batch`) at once. A lone request therefore pays nothing, and under load the batch size
grows with the queue, which is where one encoder call for many questions pays off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio

logger = logging.getLogger(__name__)

BatchCall = Callable[[Sequence[dict[str, Any]]], Sequence[Any]]


class AskBatcher:
    """Feeds `run_batch(list of ask kwargs) → list of Answer-or-exception` from the event loop."""

    def __init__(
        self,
        run_batch: BatchCall,
        *,
        workers: int = 1,
        max_batch: int = 16,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> None:
        self.run_batch = run_batch
        self.workers = max(1, workers)
        self.limiter = limiter
        self.max_batch = max(1, max_batch)
        self._queue: list[tuple[dict[str, Any], asyncio.Future[Any]]] = []
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> int:
        """Batches being answered right now."""
        return self._busy

    async def ask(self, **kwargs: Any) -> Any:
        """The answer for one request; raises what the service raised for it."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((kwargs, future))
        self._dispatch()
        result = await future
        if isinstance(result, BaseException):
            raise result
        return result

    def _dispatch(self) -> None:
        while self._queue and self._busy < self.workers:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            self._busy += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[dict[str, Any], asyncio.Future[Any]]]) -> None:
        requests = [kwargs for kwargs, _ in batch]
        try:
            results: Sequence[Any] = await anyio.to_thread.run_sync(
                self.run_batch, requests, limiter=self.limiter
            )
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} got {len(results)} results")
        except Exception as exc:  # the whole call failed: every request in it gets the error
            results = [exc] * len(batch)
        finally:
            self._busy -= 1
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the client may have gone away meanwhile
                future.set_result(result)
        self._dispatch()
