"""Chat state beside shared sessions: two bot replicas (real Applications, each with its own
service) over one in-process stand-in Bot API and a real redis-server; and inline queries,
which must not cost a conversation its place in a full session store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import redis
from telegram import Update
from telegram.ext import Application

from bot.service import NewsdeskService
from bot.telegram.app import build_application, running
from bot.telegram.chat_state import KEY_PREFIX, RECENT_ANSWERS, decode_answer, encode_answer
from tests.bot.telegram.telegram_harness import BotHarness, bot_settings, new_chat_id, run
from tests.conftest import settings_for
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)
from tests.telegram_standin import RecordingRequest, SentMessage, StandInBotApi, StandInServer

SEED = "What did Blinken say about a multinational force?"


class Replicas:
    """Two Applications answering the same chats, each with its own service; one stand-in."""

    def __init__(self, built_index: Path, embedder: Any, sessions: str) -> None:
        self.api = StandInBotApi()
        self.settings = bot_settings(self.api, sessions=sessions)
        self.services = [
            NewsdeskService(settings_for(built_index, sessions=sessions), embedder)
            for _ in range(2)
        ]
        self.apps: list[Application] = [
            build_application(
                self.settings,
                service,
                request=RecordingRequest(self.api),
                get_updates_request=RecordingRequest(self.api),
            )
            for service in self.services
        ]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Replicas]:
        async with AsyncExitStack() as stack:
            for service in self.services:
                stack.callback(service.sessions.close)
            for app in self.apps:
                await stack.enter_async_context(app)
            yield self

    async def say(self, replica: int, chat: int, text: str) -> list[SentMessage]:
        before = len(self.api.sent(chat))
        await self.process(replica, self.api.user_message(chat, text))
        return self.api.sent(chat)[before:]

    async def press(self, replica: int, chat: int, message: SentMessage, data: str) -> None:
        await self.process(replica, self.api.button_press(chat, message.message_id, data))

    async def process(self, replica: int, update: dict[str, Any]) -> None:
        app = self.apps[replica]
        await app.process_update(Update.de_json(update, app.bot))

    def last_callback_text(self) -> str | None:
        return self.api.calls_of("answerCallbackQuery", ok=True)[-1].params.get("text")


def test_reset_on_one_replica_forgets_the_answers_everywhere_but_keeps_the_filters(
    redis_server, built_index: Path, embedder: Any
) -> None:
    async def scenario() -> None:
        async with Replicas(built_index, embedder, redis_server.url).running() as bots:
            chat = new_chat_id()
            await bots.say(0, chat, "/filter source=bloomberg")
            [answer] = await bots.say(1, chat, SEED)
            await bots.press(0, chat, answer, "cite:1:1")
            assert bots.last_callback_text() is None  # shown, not turned away
            [done] = await bots.say(0, chat, "/reset")
            assert "forgotten" in done.text
            await bots.press(1, chat, answer, "cite:1:1")
            assert "no longer available" in (bots.last_callback_text() or "")
            [nothing] = await bots.say(1, chat, "/more")
            assert "Ask a question first" in nothing.text
            [kept] = await bots.say(1, chat, "/filter")
            assert "source bloomberg" in kept.text
            assert bots.api.failures() == []

    run(scenario())


def test_a_chat_keeps_its_recent_answers_compactly_and_for_the_session_ttl(
    redis_server, built_index: Path, embedder: Any
) -> None:
    async def scenario() -> None:
        async with Replicas(built_index, embedder, redis_server.url).running() as bots:
            chat = new_chat_id()
            answers = [
                (await bots.say(turn % 2, chat, SEED))[0] for turn in range(RECENT_ANSWERS + 2)
            ]
            await bots.press(1, chat, answers[0], "cite:1:1")  # scrolled out, on either replica
            assert "no longer available" in (bots.last_callback_text() or "")
            await bots.press(0, chat, answers[-1], "more:7")
            assert bots.last_callback_text() is None
            [sources] = await bots.say(1, chat, "/sources")
            assert sources.text.startswith(f"Sources for “{SEED}”")

    run(scenario())
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    [key] = client.keys(KEY_PREFIX + "*")
    stored = client.hgetall(key)
    kept = sorted(int(name[2:]) for name in stored if name.startswith("a:"))
    last = int(stored["last"])  # seven answers, and one more unless "more" found nothing
    assert last >= RECENT_ANSWERS + 2 and kept == list(range(last - RECENT_ANSWERS + 1, last + 1))
    assert 0 < client.ttl(key) <= bot_settings(StandInBotApi()).session_ttl_s
    size = max(len(stored[f"a:{n}"].encode()) for n in kept)
    assert size < 4096, size  # the citations' quotes and passages, no scores or answer text
    client.close()


def test_a_stored_answer_shows_the_same_sources_and_citations(service: NewsdeskService) -> None:
    from bot.render import citation_html, sources_html

    answer = service.ask(SEED)
    stored = decode_answer(encode_answer(answer))
    assert json.loads(encode_answer(answer))["citations"][0].get("score") is None
    assert sources_html(stored) == sources_html(answer)
    assert [citation_html(c) for c in stored.citations] == [
        citation_html(c) for c in answer.citations
    ]


def test_an_inline_query_leaves_a_full_session_store_alone(
    built_index: Path, embedder: Any
) -> None:
    """With room for one conversation, a chat's conversation survives an inline query: its
    follow-up is still rewritten from its history."""
    service = NewsdeskService(settings_for(built_index, max_sessions=1), embedder)

    async def scenario() -> None:
        async with BotHarness(service, max_sessions=1) as bot:
            chat = new_chat_id()
            await bot.say(chat, SEED)
            update = bot.api.inline_query(chat, "Who is Antony Blinken?")
            await bot.process(update)
            [answered] = bot.api.inline_answers(update["inline_query"]["id"])
            assert answered["results"]
            assert len(service.sessions) == 1 and service.sessions.find(f"tg:{chat}")
            [follow_up] = await bot.say(chat, "And what about a two-state solution?")
            assert "two-state solution" in follow_up.text
            turn = service.sessions.find(f"tg:{chat}").turns[-1]
            assert turn.query != turn.question  # rewritten from the chat's first question

    run(scenario())


def test_an_answer_stored_in_another_form_retires_its_buttons_only(
    redis_server, built_index: Path, embedder: Any
) -> None:
    """A replica of another version may have stored an answer this one cannot read: its
    buttons say so, and the chat's questions and settings work on."""
    chat = new_chat_id()

    async def scenario() -> None:
        async with Replicas(built_index, embedder, redis_server.url).running() as bots:
            [answer] = await bots.say(0, chat, SEED)
            client = redis.Redis.from_url(redis_server.url)
            client.hset(f"{KEY_PREFIX}tg:{chat}", "a:1", '{"citations":[{"n":1,"new":true}]}')
            client.close()
            await bots.press(1, chat, answer, "cite:1:1")
            assert "no longer available" in (bots.last_callback_text() or "")
            [again] = await bots.say(1, chat, SEED)
            assert "Bloomberg" in again.text and again.buttons
            assert bots.api.failures() == []

    run(scenario())


def test_a_stopped_bot_leaves_no_connection_open_in_redis(
    redis_server, service: NewsdeskService
) -> None:
    """A bot that stops (SIGTERM, a deploy) hangs up on the shared store instead of leaving its
    connection for Redis to time out: replicas come and go, connections must not pile up."""
    client = redis.Redis.from_url(redis_server.url)

    async def scenario(server: StandInServer) -> None:
        api = server.api
        settings = bot_settings(api, server.base_url, sessions=redis_server.url)
        chat = new_chat_id()
        async with running(build_application(settings, service), poll_timeout=1):
            api.push(api.user_message(chat, SEED))
            await api.wait_for(lambda: len(api.sent(chat)) == 1)
            assert len(client.client_list()) == 2  # the bot's chat state and this test

    with StandInServer() as server:
        run(scenario(server), timeout=30)
    assert len(client.client_list()) == 1  # only this test's own connection is left
    client.close()
