"""A per-key sliding-window rate limit (e.g. questions per Telegram chat per minute)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class RateLimiter:
    """At most `limit` events per `window_s` seconds for each key; remembers `max_keys` keys.

    Not thread-safe: meant for one asyncio event loop, where checks never interleave.
    """

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be ≥ 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def acquire(self, key: Hashable) -> float:
        """Record an event and return 0.0, or return the seconds to wait (nothing recorded)."""
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        self._events[key] = events  # most recently used last
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)
        if len(events) >= self.limit:
            return max(events[0] + self.window_s - now, 0.001)
        events.append(now)
        return 0.0
