"""Inline mode (`@botname question` in any chat) through a real Application and the in-process
stand-in, which checks each answerInlineQuery as Telegram would (ids, count, message HTML, and
that the query is still open)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from bot.service import NewsdeskService
from bot.telegram import inline
from bot.telegram.app import build_application, running
from index.errors import NewsdeskError
from tests.bot.telegram.telegram_harness import (
    BotHarness,
    ServiceWrapper,
    bot_settings,
    new_chat_id,
    run,
)
from tests.telegram_standin import StandInServer, parse_telegram_html

SEED = "What did Blinken say about a multinational force?"
USER = 5150


async def ask_inline(bot: BotHarness, text: str, user_id: int = USER) -> dict[str, Any]:
    """Send an inline query; the parameters of the bot's (single) answer to it."""
    update = bot.api.inline_query(user_id, text)
    await bot.process(update)
    [answered] = bot.api.inline_answers(update["inline_query"]["id"])
    return answered


def test_inline_query_offers_the_answer_and_its_sources(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            sessions_before = len(service.sessions)
            answered = await ask_inline(bot, f"  {SEED} ")
            results = answered["results"]
            assert 1 <= len(results) <= 3
            assert [r["type"] for r in results] == ["article"] * len(results)
            first = results[0]["input_message_content"]
            shown = parse_telegram_html(first["message_text"])  # what the chat will show
            assert first["parse_mode"] == "HTML"
            assert "[1]" in shown and "Sources" in shown and "Bloomberg, 2023-11-03" in shown
            assert "Bloomberg" in results[0]["description"]
            source = results[1]
            assert source["id"].startswith("source-"), source
            assert "Bloomberg, 2023-11-03" in source["description"]
            assert "“" in parse_telegram_html(source["input_message_content"]["message_text"])
            assert answered["cache_time"] == inline.CACHE_S
            assert not answered.get("is_personal")  # the same for everyone: shared cache
            # No conversation: the inline question left no session behind.
            assert len(service.sessions) == sessions_before
            assert bot.api.failures() == []

    run(scenario())


def test_inline_answers_are_personal_and_private_with_an_allow_list(
    service: NewsdeskService,
) -> None:
    async def scenario() -> None:
        async with BotHarness(service, telegram_allowed_users=[USER]) as bot:
            answered = await ask_inline(bot, SEED)
            assert answered["results"] and answered["is_personal"] is True
            refused = await ask_inline(bot, SEED, user_id=USER + 1)
            assert refused["results"] == [] and refused["is_personal"] is True
            assert bot.api.failures() == []

    run(scenario())


def test_empty_inline_query_offers_a_hint(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            answered = await ask_inline(bot, "   ")
            assert answered["results"] == []
            assert answered["button"]["text"] == inline.HINT
            assert answered["button"]["start_parameter"] == inline.START_PARAMETER
            assert bot.api.failures() == []

    run(scenario())


def test_only_the_latest_of_quick_successive_queries_is_answered(
    service: NewsdeskService,
) -> None:
    asked: list[str] = []

    def ask(question: str, **kwargs: Any):
        asked.append(question)
        return service.ask(question, **kwargs)

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=ask)) as bot:
            typed = [bot.api.inline_query(USER, SEED[:n]) for n in (12, 30, len(SEED))]
            await asyncio.gather(*(bot.process(update) for update in typed))
            answered = bot.api.inline_answers()
            assert [a["inline_query_id"] for a in answered] == [typed[-1]["inline_query"]["id"]]
            assert asked == [SEED]

    run(scenario())


def test_slow_inline_query_is_answered_in_time(
    service: NewsdeskService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question that takes longer than inline mode allows gets, in time, a button that opens
    the private chat, and nothing cached."""
    monkeypatch.setattr(inline, "ANSWER_WITHIN_S", 1.0)
    release = threading.Event()

    def slow_ask(question: str, **kwargs: Any):
        release.wait(10)
        return service.ask(question, **kwargs)

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=slow_ask)) as bot:
            bot.api.inline_answer_within_s = 2.0  # a later answer would be refused
            started = time.monotonic()
            answered = await ask_inline(bot, SEED)
            took = time.monotonic() - started
            release.set()
            assert 1.0 <= took < 2.0
            assert answered["results"] == []
            assert answered["button"]["text"] == inline.TOO_SLOW
            assert answered["cache_time"] == 0
            assert bot.api.failures() == []

    try:
        run(scenario())
    finally:
        release.set()


def test_inline_queries_and_group_mentions_arrive_over_real_polling(
    service: NewsdeskService,
) -> None:
    """Over HTTP the bot asks for inline queries (allowed_updates), and its answers — inline
    results, and a reply in a forum topic — pass the stand-in's checks."""

    async def scenario(server: StandInServer) -> None:
        api = server.api
        app = build_application(bot_settings(api, server.base_url), service)
        group, topic = -new_chat_id(), 3
        async with running(app, poll_timeout=2):
            query = api.inline_query(USER, SEED)
            mention = api.group_message(
                group, f"@{api.bot_user['username']} {SEED}", user_id=USER, thread_id=topic
            )
            api.push(query)
            api.push(mention)
            await api.wait_for(lambda: api.inline_answers() and api.sent(group))
        assert "inline_query" in (api.allowed_updates or [])
        [answered] = api.inline_answers(query["inline_query"]["id"])
        assert (
            "Bloomberg, 2023-11-03"
            in answered["results"][0]["input_message_content"]["message_text"]
        )
        [reply] = api.sent(group)
        assert reply.thread_id == topic and reply.reply_to == mention["message"]["message_id"]
        assert api.failures() == []

    with StandInServer() as server:
        run(scenario(server), timeout=30)


def test_inline_query_without_articles_says_so(service: NewsdeskService) -> None:
    def ask(question: str, **kwargs: Any):
        raise NewsdeskError("The index is being rebuilt.")

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=ask)) as bot:
            answered = await ask_inline(bot, SEED)
            assert answered["results"] == []
            assert answered["button"]["text"] == inline.UNAVAILABLE
            assert answered["cache_time"] == 0
            assert bot.api.failures() == []

    run(scenario())
