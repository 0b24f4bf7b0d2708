"""What the bot keeps per conversation besides its turns: the `/filter` and `/asof` settings and
the recent answers behind citation buttons, `/sources` and `/more`.

With sessions in memory (`ChatStates`) it lives in this process, as the conversations do. With
sessions in Redis (`RedisChatStates`) every replica must see it, since any replica may receive a
chat's next update: it is a Redis hash per conversation beside the session (its own key, with
the sessions' TTL), read when an update needs it and written field by field when it changes, so
a `/filter` never overwrites an answer remembered meanwhile. Of an answer only what the buttons
and `/sources` show is stored (its query and citations, without scores): about 1 KB a citation.
`/reset` forgets the answers and keeps the settings, in both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from retrieval.schema import AlsoIn, Answer, Citation
from retrieval.search import SearchFilters
from retrieval.sessions import RedisRecords

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.telegram.groups import ConversationKey

logger = logging.getLogger(__name__)

RECENT_ANSWERS = 5  # answers per chat whose buttons still work
KEY_PREFIX = "newsdesk:telegram:chat:"  # + the conversation's session id: a hash
RECENT_KEY = "newsdesk:telegram:chats"  # sorted set: session id → last change, for the cap


@dataclass
class ChatState:
    """What one chat has: its filters, the day it asks as of (None: today) and its recent
    answers (for buttons, /sources, /more)."""

    filters: SearchFilters = field(default_factory=SearchFilters)
    as_of: date | None = None
    answers: OrderedDict[int, Answer] = field(default_factory=OrderedDict)
    last: int = 0
    told_to_slow_down: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def remember(self, answer: Answer) -> int:
        """Keep `answer` as the chat's latest; returns its number (used in button data)."""
        self.last += 1
        self.answers[self.last] = answer
        while len(self.answers) > RECENT_ANSWERS:
            self.answers.popitem(last=False)
        return self.last


class ChatStore(Protocol):
    """Where the handlers keep chat state. `load` before reading it; each change goes through
    the store (in memory they only change the object `load` handed out)."""

    def local(self, key: ConversationKey) -> ChatState: ...
    async def load(self, key: ConversationKey) -> ChatState: ...
    async def save_settings(self, key: ConversationKey, state: ChatState) -> None: ...
    async def remember(self, key: ConversationKey, state: ChatState, answer: Answer) -> int: ...
    async def forget_answers(self, key: ConversationKey, state: ChatState) -> None: ...
    def close(self) -> None: ...


def open_chat_states(settings: Settings) -> ChatStore:
    """In memory when the sessions are (`NEWSDESK_SESSIONS=memory`), else beside them in Redis."""
    if settings.sessions.strip().lower() in {"", "memory"}:
        return ChatStates(settings.max_sessions)
    return RedisChatStates(settings.sessions, settings.session_ttl_s, settings.max_sessions)


class ChatStates:
    """ChatState per conversation (a chat, or one user in a group thread: see groups.py),
    least recently used dropped past `capacity`. The objects handed out are the ones kept."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._states: OrderedDict[Hashable, ChatState] = OrderedDict()

    def __getitem__(self, key: Hashable) -> ChatState:
        state = self._states.pop(key, None) or ChatState()
        self._states[key] = state
        while len(self._states) > self._capacity:
            self._states.popitem(last=False)
        return state

    def local(self, key: ConversationKey) -> ChatState:
        return self[key]

    async def load(self, key: ConversationKey) -> ChatState:
        return self[key]

    async def save_settings(self, key: ConversationKey, state: ChatState) -> None:
        """Nothing to do: the state handed out is the one kept."""

    async def remember(self, key: ConversationKey, state: ChatState, answer: Answer) -> int:
        return state.remember(answer)

    async def forget_answers(self, key: ConversationKey, state: ChatState) -> None:
        state.answers.clear()

    def close(self) -> None:
        """Nothing to release: the states live in this process."""


class RedisChatStates(RedisRecords):
    """Chat state in Redis, shared by replicas: a hash per conversation (`filters`, `as_of`,
    `last`, and `a:N` for each recent answer N), expiring `ttl_s` after its last use, at most
    `capacity` of them (the least recently changed are dropped first).

    The lock and the slow-down note stay in this process (`local`): each replica orders its own
    work on a chat, and the webhook's Redis lock orders the replicas. An answer's number follows
    the stored `last`, which is safe because answers are sent under those locks. Redis calls
    run in a worker thread; their failures are `SessionsUnavailable`.
    """

    key_prefix = KEY_PREFIX
    recent_key = RECENT_KEY

    def __init__(self, url: str, ttl_s: float = 3600, capacity: int = 10_000) -> None:
        super().__init__(url, ttl_s, capacity)
        self._local = ChatStates(capacity)

    def local(self, key: ConversationKey) -> ChatState:
        return self._local[key]

    async def load(self, key: ConversationKey) -> ChatState:
        """This process's state object for `key`, refreshed from Redis (its expiry pushed back)."""
        stored = await asyncio.to_thread(self._read, key.session_id)
        state = self._local[key]
        read_state(stored, state)
        return state

    async def save_settings(self, key: ConversationKey, state: ChatState) -> None:
        settings: dict[str, str] = {}
        cleared = []
        if state.filters.active:
            settings["filters"] = encode_filters(state.filters)
        else:
            cleared.append("filters")
        if state.as_of is not None:
            settings["as_of"] = state.as_of.isoformat()
        else:
            cleared.append("as_of")
        await asyncio.to_thread(self._write, key.session_id, settings, cleared)

    async def remember(self, key: ConversationKey, state: ChatState, answer: Answer) -> int:
        number = state.remember(answer)
        changes = {"last": str(number), f"a:{number}": encode_answer(answer)}
        await asyncio.to_thread(
            self._write, key.session_id, changes, [f"a:{number - RECENT_ANSWERS}"]
        )
        return number

    async def forget_answers(self, key: ConversationKey, state: ChatState) -> None:
        forgotten = [f"a:{number}" for number in state.answers]
        state.answers.clear()
        if forgotten:
            await asyncio.to_thread(self._write, key.session_id, {}, forgotten)

    def _read(self, session_id: str) -> dict[str, str]:
        with self._failures():
            pipe = self._client.pipeline(transaction=False)
            pipe.hgetall(KEY_PREFIX + session_id)
            pipe.expire(KEY_PREFIX + session_id, self.ttl_s)
            stored, _ = pipe.execute()
        return stored

    def _write(self, session_id: str, changes: dict[str, str], cleared: list[str]) -> None:
        """Set `changes` and delete the `cleared` fields in one round trip, then keep the cap."""
        key, now = KEY_PREFIX + session_id, time.time()
        with self._failures():
            pipe = self._client.pipeline(transaction=False)
            if changes:
                pipe.hset(key, mapping=changes)
            if cleared:
                pipe.hdel(key, *cleared)
            pipe.expire(key, self.ttl_s)
            self._used_and_capped(pipe, session_id, now)


# --- the stored form ---------------------------------------------------------------------------


def read_state(stored: dict[str, str], state: ChatState) -> None:
    """Replace `state`'s shared fields with the stored ones (no stored hash: a fresh chat)."""
    state.filters = decode_filters(stored["filters"]) if "filters" in stored else SearchFilters()
    state.as_of = date.fromisoformat(stored["as_of"]) if "as_of" in stored else None
    state.last = int(stored.get("last", 0))
    numbers = sorted(
        number
        for name in stored
        if name.startswith("a:") and (number := int(name[2:])) > state.last - RECENT_ANSWERS
    )
    state.answers = OrderedDict()
    for number in numbers:
        try:
            state.answers[number] = decode_answer(stored[f"a:{number}"])
        except (ValueError, TypeError, KeyError):  # another version's form: its buttons retire
            logger.warning("Could not read a stored answer of a chat; its buttons say so")


def encode_filters(filters: SearchFilters) -> str:
    since, until = filters.since, filters.until
    return json.dumps(
        [list(filters.sources), since.isoformat() if since else None,
         until.isoformat() if until else None],
        ensure_ascii=False,
    )  # fmt: skip


def decode_filters(stored: str) -> SearchFilters:
    sources, since, until = json.loads(stored)
    return SearchFilters(
        tuple(sources),
        date.fromisoformat(since) if since else None,
        date.fromisoformat(until) if until else None,
    )


def encode_answer(answer: Answer) -> str:
    """What the buttons and /sources show of `answer`, as JSON: its query and its citations as
    their dicts, without scores and without fields left empty."""
    stored: dict[str, Any] = {"query": answer.query, "citations": []}
    for citation in answer.citations:
        fields = asdict(citation)
        del fields["score"]
        stored["citations"].append({k: v for k, v in fields.items() if v not in (None, [])})
    if answer.abstained:
        stored["abstained"] = True
    return json.dumps(stored, separators=(",", ":"), ensure_ascii=False)


def decode_answer(stored: str) -> Answer:
    data = json.loads(stored)
    citations = []
    for fields in data["citations"]:
        also_in = [AlsoIn(**also) for also in fields.pop("also_in", [])]
        defaults = {"source": None, "date": None, "url": None, "score": 0.0}
        citations.append(Citation(**(defaults | fields), also_in=also_in))
    return Answer("", bool(data.get("abstained")), citations, query=data["query"])
