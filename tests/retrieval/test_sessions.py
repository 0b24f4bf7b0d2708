"""The Redis session store against a real redis-server: a conversation comes back as it was
stored (what follow-ups and "more" read of it), expires, is capped, and an unreachable server is
one domain error naming it without its password."""

from __future__ import annotations

import time
from datetime import date

import pytest

from index.backend import SearchFilters
from retrieval.conversation import Conversation, SessionStore, Turn
from retrieval.schema import Answer, Citation, Timeline
from retrieval.sessions import (
    RedisSessionStore,
    SessionsUnavailable,
    decode_conversation,
    encode_conversation,
    open_sessions,
)
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)


def _citation(n: int, article_id: str, start: int, end: int) -> Citation:
    return Citation(n, article_id, "A title", "Bloomberg", "2023-11-03", None, "passage " * 40,
                    "the quote", start, end, 0.8, speaker="Antony Blinken")  # fmt: skip


def _conversation() -> Conversation:
    conversation = Conversation(id="web-1")
    conversation.add(Turn(
        "Who became world chess champion?", "Who became world chess champion?", 5,
        SearchFilters(), date(2023, 5, 1),
        Answer("Ding Liren won the title [1].", False, [_citation(1, "a1", 10, 52)]), shown=5,
    ))  # fmt: skip
    conversation.add(Turn(
        "Who did he beat?", "Who did Ding Liren beat?", 10,
        SearchFilters(("Reuters", "The Chess Chronicle"), date(2023, 1, 1), date(2023, 12, 31)),
        date(2023, 5, 2), Answer("I couldn't find …", True), shown=10,
    ))  # fmt: skip
    conversation.add(Turn(
        "Timeline of the chess final", "the chess final", 12, SearchFilters(until=date(2023, 6, 1)),
        date(2023, 5, 3),
        Answer("…", False, [_citation(1, "a2", 0, 9), _citation(2, "a3", 5, 80)],
               timeline=Timeline()),
        shown=12,
    ))  # fmt: skip
    return conversation


def _what_follow_ups_read(conversation: Conversation) -> list[tuple]:
    return [
        (t.question, t.query, t.k, t.filters, t.as_of, t.shown, t.answer.abstained,
         "" if t.answer.abstained else t.answer.answer, t.answer.timeline is not None)
        for t in conversation.turns
    ] + [sorted(conversation.quoted_spans())]  # fmt: skip


@pytest.fixture
def closing():
    """Close each store a test opens when it ends (an open client's socket is a warning)."""
    stores = []

    def opened(store):
        stores.append(store)
        return store

    yield opened
    for store in stores:
        store.close()


def test_a_conversation_round_trips_through_its_stored_form():
    conversation = _conversation()
    stored = encode_conversation(conversation)
    back = decode_conversation("web-1", stored)
    assert back is not None
    assert _what_follow_ups_read(back) == _what_follow_ups_read(conversation)
    assert back.query_for("Why?") == conversation.query_for("Why?")
    assert len(stored) < 1200  # passages and titles are not stored


def test_the_redis_store_keeps_a_conversation_for_another_store_on_the_same_server(
    redis_server, closing
):
    first = closing(RedisSessionStore(redis_server.url, ttl_s=60))
    second = closing(RedisSessionStore(redis_server.url, ttl_s=60))
    conversation = first.get("web-1")
    assert conversation.turns == [] and second.find("web-1") is not None  # stored when issued
    for turn in _conversation().turns:
        conversation.add(turn)
    first.save(conversation)
    assert _what_follow_ups_read(second.get("web-1")) == _what_follow_ups_read(_conversation())
    assert len(second) == 1
    issued = second.get(None)
    assert issued.id != "web-1" and first.find(issued.id) is not None
    assert second.drop("web-1") and not first.drop("web-1") and first.find("web-1") is None


def test_redis_sessions_expire_and_the_least_recently_used_go_past_the_cap(redis_server, closing):
    store = closing(RedisSessionStore(redis_server.url, ttl_s=1, capacity=2))
    store.get("a")
    store.get("b")
    store.get("a")  # a is used after b
    store.get("c")
    assert store.find("a") is not None and store.find("b") is None and len(store) == 2
    deadline = time.monotonic() + 5
    while store.find("a") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.find("a") is None and store.find("c") is None


def test_an_unreachable_redis_is_one_domain_error_without_the_password(redis_server, closing):
    url = redis_server.url.replace("redis://", "redis://newsdesk:hunter2-pass@")
    redis_server.stop()
    store = closing(open_sessions(url, 60, 10))
    with pytest.raises(SessionsUnavailable) as caught:
        store.get("web-1")
    message = str(caught.value)
    assert f"127.0.0.1:{redis_server.port}" in message and "hunter2" not in message
    assert "\n" not in message


def test_memory_stays_the_default_store():
    assert isinstance(open_sessions("memory", 60, 10), SessionStore)
