"""How the bot's requests survive Telegram's faults: flood waits, network errors, outages.

Two hooks python-telegram-bot offers, each bounded and logged:

- `SendRetry` (PTB's rate-limiter hook, which every Bot API call but getUpdates goes through)
  waits out a 429's `retry_after` and retries network errors, timeouts and 5xx answers a few
  times with a short back-off, so an answer is delivered late rather than lost. What still fails
  reaches the handlers' error handler, which logs it and apologises.
- `PatientPolling` (the getUpdates request) retries an unreachable or failing server every
  ≤ `max_backoff_s` while polling runs. PTB's Updater backs off 1.5× per error up to 30 s (not
  configurable), which would leave questions unanswered for up to half a minute after an outage
  has ended.

Retrying a timed-out send may deliver a message twice (Telegram may have carried out the first
try); for a question-answering bot a repeated answer is better than a lost one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.request import BaseRequest, RequestData

from bot import metrics

logger = logging.getLogger(__name__)

SEND_BACKOFF_S = (0.5, 1.0, 2.0)  # waits before the 2nd, 3rd and 4th try after a network error
MAX_FLOOD_WAITS = 3  # 429s waited out per request
MAX_RETRY_AFTER_S = 60.0  # a longer flood wait is not waited out: the answer would be stale
BEST_EFFORT = frozenset({"sendChatAction"})  # never retried: "typing…" must not delay answers
POLL_FIRST_BACKOFF_S = 0.25
POLL_MAX_BACKOFF_S = 2.0
OUTAGE_LOG_EVERY_S = 60.0


# What a Bot API call returns, and the call PTB hands the rate limiter.
BotResult = bool | dict[str, Any] | list[dict[str, Any]]
BotCall = Callable[..., Coroutine[Any, Any, BotResult]]


class SendRetry(BaseRateLimiter[int]):
    """Retry a Bot API call on 429 (after `retry_after`) and on network faults (bounded)."""

    def __init__(
        self,
        backoff_s: Sequence[float] = SEND_BACKOFF_S,
        *,
        max_flood_waits: int = MAX_FLOOD_WAITS,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
    ) -> None:
        self.backoff_s = tuple(backoff_s)
        self.max_flood_waits = max_flood_waits
        self.max_retry_after_s = max_retry_after_s

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: BotCall,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> BotResult:
        """Call `callback`; on a retryable fault wait and call it again, else re-raise (and
        count the failure by method and error class)."""
        try:
            return await self._with_retries(callback, args, kwargs, endpoint, data)
        except Exception as error:
            metrics.telegram_send_failed(endpoint, error)
            raise

    async def _with_retries(
        self,
        callback: BotCall,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
    ) -> BotResult:
        network_faults = flood_waits = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = retry_after_s(error)
                if (
                    endpoint in BEST_EFFORT
                    or flood_waits >= self.max_flood_waits
                    or wait > self.max_retry_after_s
                ):
                    raise
                flood_waits += 1
                reason = f"flood control, retry after {wait:g} s"
            except BadRequest:
                raise  # a 400 (a subclass of NetworkError in PTB) would fail again
            except NetworkError as error:  # also TimedOut and 5xx answers
                if endpoint in BEST_EFFORT or network_faults >= len(self.backoff_s):
                    raise
                wait = self.backoff_s[network_faults]
                network_faults += 1
                reason = f"{type(error).__name__}: {error}"
            chat_id = data.get("chat_id")
            target = f"{endpoint} to chat {chat_id}" if chat_id is not None else endpoint
            logger.warning("%s failed (%s); trying again in %.1f s", target, reason, wait)
            await asyncio.sleep(wait)


def retry_after_s(error: RetryAfter) -> float:
    """Seconds to wait from a RetryAfter (its public int attribute is deprecated in PTB 22)."""
    value = getattr(error, "_retry_after", None) or error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PatientPolling(BaseRequest):
    """The getUpdates request: while `keep_trying()` holds, a server that can't be reached or
    answers 5xx is tried again after 0.25, 0.5, 1, 2, 2, … s instead of failing the long poll.

    `keep_trying` is set once the Application exists (true while its Updater runs), so the
    last getUpdates PTB sends when stopping fails fast instead of holding up shutdown.
    """

    def __init__(
        self,
        inner: BaseRequest,
        *,
        first_backoff_s: float = POLL_FIRST_BACKOFF_S,
        max_backoff_s: float = POLL_MAX_BACKOFF_S,
    ) -> None:
        self.inner = inner
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.keep_trying: Callable[[], bool] = lambda: False

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The inner request's answer; faults are retried while polling runs."""
        backoff = self.first_backoff_s
        outage_since: float | None = None
        logged_at = 0.0
        while True:
            try:
                status, payload = await self.inner.do_request(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except TimedOut:
                raise  # PTB polls again at once; a hung server already cost the timeout
            except NetworkError as error:
                if not self.keep_trying():
                    raise
                fault = str(error)
            else:
                if status < 500 or not self.keep_trying():
                    if outage_since is not None:
                        logger.warning(
                            "Reached the Bot API again after %.1f s; polling for updates",
                            time.monotonic() - outage_since,
                        )
                    return status, payload
                fault = f"HTTP {status}"
            now = time.monotonic()
            if outage_since is None or now - logged_at >= OUTAGE_LOG_EVERY_S:
                logger.warning(
                    "Can't poll the Bot API for updates (%s); retrying every ≤ %g s",
                    fault,
                    self.max_backoff_s,
                )
                logged_at = now
            outage_since = outage_since or now
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)
