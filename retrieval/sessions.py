"""Where conversations are kept: in this process's memory (`SessionStore`, the default) or in
Redis (`RedisSessionStore`), so that they survive a restart and several replicas share them.

Both hand out a `Conversation` to read and change; the Redis one keeps a copy, so a caller that
changed a conversation calls `save` (a no-op in memory, where the object is the stored one).
Only what follow-ups and "more" need is stored: each turn's question, query, k, filters,
as-of day and position, and of its answer the text (for "he" after a "who" question), whether
it abstained or was a timeline, and the spans it quoted — about 0.3 KB a turn as JSON, not the
passages and titles a full answer carries.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from index.backend import SearchFilters
from index.errors import NewsdeskError
from retrieval.conversation import Conversation, SessionStore, Turn
from retrieval.schema import Answer, Citation, Timeline

KEY_PREFIX = "newsdesk:session:"
RECENT_KEY = "newsdesk:sessions"  # sorted set: session id → last use (unix seconds), for the cap
CONNECT_TIMEOUT_S = 2.0
FORMAT = 1  # bumped when the stored form changes; another version is read as no conversation


class SessionsUnavailable(NewsdeskError):
    """The shared session store cannot be reached (a server answers 503 until it is back)."""


class Sessions(Protocol):
    """What the service needs of a session store (`SessionStore` in memory is one)."""

    def get(self, session_id: str | None) -> Conversation: ...
    def find(self, session_id: str) -> Conversation | None: ...
    def save(self, conversation: Conversation) -> None: ...
    def drop(self, session_id: str) -> bool: ...
    def __len__(self) -> int: ...


def open_sessions(location: str, ttl_s: float, capacity: int) -> Sessions:
    """`memory` (this process only) or a Redis URL (`redis://host:6379/0`, `rediss://`,
    `unix://`)."""
    if location.strip().lower() in {"", "memory"}:
        return SessionStore(ttl_s, capacity)
    return RedisSessionStore(location, ttl_s, capacity)


class RedisRecords:
    """What the Redis-backed stores share (sessions here, the Telegram chat state beside them):
    a client with short timeouts, records under `key_prefix` expiring `ttl_s` after their last
    use, at most `capacity` of them, kept by a sorted set `recent_key` of id → last use (the
    least recently used are dropped first), and every Redis failure as `SessionsUnavailable`,
    whose message names the server without its password."""

    key_prefix = KEY_PREFIX
    recent_key = RECENT_KEY

    def __init__(self, url: str, ttl_s: float = 3600, capacity: int = 10_000) -> None:
        import redis

        self.url = url
        self.ttl_s = max(1, int(ttl_s))
        self.capacity = capacity
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=CONNECT_TIMEOUT_S,
            decode_responses=True,
        )

    def close(self) -> None:
        self._client.close()

    def _used_and_capped(self, pipe: Any, record_id: str, now: float) -> None:
        """Finish `pipe` (one round trip) by marking `record_id` used at `now` and forgetting
        expired ids, then drop the least recently used records past the cap. Call inside
        `_failures`."""
        pipe.zadd(self.recent_key, {record_id: now})
        pipe.zremrangebyscore(self.recent_key, "-inf", now - self.ttl_s)
        pipe.zcard(self.recent_key)
        count = pipe.execute()[-1]
        if count > self.capacity:
            oldest = self._client.zpopmin(self.recent_key, count - self.capacity)
            if oldest:
                self._client.delete(*(self.key_prefix + dropped for dropped, _ in oldest))

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """redis-py's errors as SessionsUnavailable, naming the server without its password."""
        try:
            yield
        except self._errors as error:
            reason = str(error).strip().rstrip(".") or type(error).__name__
            raise SessionsUnavailable(
                f"Cannot reach the session store at {redacted_url(self.url)} ({reason}); "
                "check that Redis is running and NEWSDESK_SESSIONS."
            ) from None


class RedisSessionStore(RedisRecords):
    """Conversations as JSON strings in Redis, each expiring `ttl_s` seconds after its last use
    (a Redis TTL), at most `capacity` of them (the least recently used are dropped first).

    Thread-safe (redis-py's connection pool). Every Redis failure is `SessionsUnavailable`,
    whose message names the server without its password."""

    def check(self) -> None:
        """Raise SessionsUnavailable unless the server answers (for a check at start-up)."""
        with self._failures():
            self._client.ping()

    def get(self, session_id: str | None) -> Conversation:
        """The live conversation for `session_id` (its expiry pushed back), or a new one, stored
        at once so that `find` sees it (as in memory)."""
        if session_id is not None:
            with self._failures():
                pipe = self._client.pipeline(transaction=False)
                pipe.getex(KEY_PREFIX + session_id, ex=self.ttl_s)
                pipe.zadd(RECENT_KEY, {session_id: time.time()})
                stored, _ = pipe.execute()
            conversation = decode_conversation(session_id, stored) if stored else None
            if conversation is not None:
                return conversation
        conversation = Conversation(id=session_id or secrets.token_urlsafe(12))
        self.save(conversation)
        return conversation

    def find(self, session_id: str) -> Conversation | None:
        with self._failures():
            stored = self._client.get(KEY_PREFIX + session_id)
        return decode_conversation(session_id, stored) if stored else None

    def save(self, conversation: Conversation) -> None:
        """Store `conversation` (resetting its expiry) and drop the least recently used ones
        past the cap, and the expired ones from the list of recent ids."""
        now = time.time()
        with self._failures():
            pipe = self._client.pipeline(transaction=False)
            pipe.set(KEY_PREFIX + conversation.id, encode_conversation(conversation), ex=self.ttl_s)
            self._used_and_capped(pipe, conversation.id, now)

    def drop(self, session_id: str) -> bool:
        with self._failures():
            pipe = self._client.pipeline(transaction=False)
            pipe.delete(KEY_PREFIX + session_id)
            pipe.zrem(RECENT_KEY, session_id)
            deleted, _ = pipe.execute()
        return bool(deleted)

    def __len__(self) -> int:
        """Conversations used within the TTL (all replicas')."""
        with self._failures():
            return int(self._client.zcount(RECENT_KEY, time.time() - self.ttl_s, "+inf"))


def redacted_url(url: str) -> str:
    """`url` without its password (Redis URLs may carry one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


# --- the stored form ---------------------------------------------------------------------------


def encode_conversation(conversation: Conversation) -> str:
    turns = [_turn(turn) for turn in conversation.turns]
    return json.dumps(
        {"v": FORMAT, "max": conversation.max_turns, "turns": turns},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def decode_conversation(session_id: str, stored: str) -> Conversation | None:
    """The conversation `encode_conversation` stored, or None for one of another format."""
    data = json.loads(stored)
    if data.get("v") != FORMAT:
        return None
    turns = [_read_turn(t) for t in data["turns"]]
    return Conversation(id=session_id, turns=turns, max_turns=data["max"])


def _turn(turn: Turn) -> dict[str, Any]:
    answer = turn.answer
    filters = turn.filters
    stored: dict[str, Any] = {
        "q": turn.question,
        "query": turn.query,
        "k": turn.k,
        "as_of": turn.as_of.isoformat(),
        "shown": turn.shown,
        "cited": [[c.article_id, c.start, c.end] for c in answer.citations],
    }
    if filters.active:
        stored["filters"] = [
            list(filters.sources),
            filters.since.isoformat() if filters.since else None,
            filters.until.isoformat() if filters.until else None,
        ]
    if answer.abstained:
        stored["abstained"] = True
    else:
        stored["answer"] = answer.answer
    if answer.timeline is not None:
        stored["timeline"] = True
    return stored


def _read_turn(stored: dict[str, Any]) -> Turn:
    sources, since, until = stored.get("filters") or ((), None, None)
    filters = SearchFilters(
        tuple(sources),
        date.fromisoformat(since) if since else None,
        date.fromisoformat(until) if until else None,
    )
    citations = [
        Citation(n, article_id, "", None, None, None, "", "", start, end, 0.0)
        for n, (article_id, start, end) in enumerate(stored["cited"], start=1)
    ]
    answer = Answer(
        stored.get("answer", ""),
        bool(stored.get("abstained")),
        citations,
        query=stored["q"],
        timeline=Timeline() if stored.get("timeline") else None,
    )
    return Turn(
        stored["q"],
        stored["query"],
        stored["k"],
        filters,
        date.fromisoformat(stored["as_of"]),
        answer,
        stored["shown"],
    )
