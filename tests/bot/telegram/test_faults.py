"""Telegram's faults over real long polling against the stand-in Bot API on 127.0.0.1.

Flood control (429 with `retry_after`), 502s and refused connections while polling, HTML that
Telegram refuses to parse, and dropped or stalled sends: each time a user still gets the answer
(late rather than never), or at worst an apology, with the fault in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from bot.render import citation_html, utf16_len
from bot.service import NewsdeskService
from bot.telegram.app import build_application, running
from bot.telegram.chat import plain_parts, plain_text
from bot.telegram.delivery import POLL_MAX_BACKOFF_S, SEND_BACKOFF_S
from bot.telegram.handlers import APOLOGY
from retrieval.schema import Citation
from tests.bot.telegram.telegram_harness import bot_settings, new_chat_id, run
from tests.telegram_standin import StandInServer

SEED = "What did Blinken say about a multinational force?"
UNPARSABLE = 'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 7'
# From the end of an outage to the answer: one capped poll back-off plus answering (~0.1 s).
RECOVERY_S = POLL_MAX_BACKOFF_S + 1.0


def polling_scenario(
    service: NewsdeskService,
    body: Callable[[StandInServer, int], Coroutine[Any, Any, None]],
    *,
    request: HTTPXRequest | None = None,
    timeout: float = 30,
) -> StandInServer:
    """Run `body(server, chat)` while the real bot long-polls a fresh stand-in server."""

    async def scenario(server: StandInServer) -> None:
        app = build_application(bot_settings(server.api, server.base_url), service, request=request)
        async with running(app, poll_timeout=2):
            await body(server, new_chat_id())

    with StandInServer() as server:
        run(scenario(server), timeout=timeout)
    return server


def test_flood_control_is_waited_out_then_the_answer_is_delivered(
    service: NewsdeskService, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(server: StandInServer, chat: int) -> None:
        api = server.api
        api.rate_limit_next("sendMessage", retry_after=1)
        api.push(api.user_message(chat, SEED))
        await api.wait_for(lambda: api.reply_count(chat) == 1)
        [refused] = api.calls_of("sendMessage", ok=False)
        [answer] = api.sent(chat)
        assert refused.description == "Too Many Requests: retry after 1"
        assert "Bloomberg, 2023-11-03" in answer.text
        assert 1.0 <= answer.at - refused.at < 2.0  # sent again once the wait was over
        # A flood wait too long for an answer to still matter is not waited out: the chat
        # gets an apology at once and the log says what happened.
        api.rate_limit_next("sendMessage", retry_after=600)
        api.push(api.user_message(chat, SEED))
        await api.wait_for(lambda: api.reply_count(chat) == 2)
        assert api.sent(chat)[-1].text == APOLOGY

    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        polling_scenario(service, body)
    assert any("retry after 1" in r.getMessage() for r in caplog.records)
    [failed] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Flood control" in str(failed.exc_info[1])


def test_polling_rides_out_a_502_outage_and_answers_what_came_meanwhile(
    service: NewsdeskService,
) -> None:
    async def body(server: StandInServer, chat: int) -> None:
        api = server.api
        api.outage(["getUpdates"], 502, "Bad Gateway")
        await api.wait_for(lambda: len(api.calls_of("getUpdates", ok=False)) >= 2)
        question = api.user_message(chat, SEED)
        api.push(question)
        await api.wait_for(lambda: len(api.calls_of("getUpdates", ok=False)) >= 4)
        assert api.reply_count(chat) == 0
        recovered_at = time.monotonic()
        api.recover()
        await api.wait_for(lambda: api.reply_count(chat) == 1)
        [answer] = api.sent(chat)
        assert answer.reply_to == question["message"]["message_id"]
        assert answer.at - recovered_at < RECOVERY_S
        # The bot kept trying at short intervals (PTB alone waits 1, 1.5, 2.25, … 30 s).
        failed = [c.at for c in api.calls_of("getUpdates", ok=False)]
        assert max(b - a for a, b in zip(failed, failed[1:], strict=False)) < RECOVERY_S
        assert api.pending_updates() <= 1  # confirmed (the last offset is sent on stopping)

    polling_scenario(service, body)


def test_polling_resumes_after_the_server_refused_connections(
    service: NewsdeskService, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(server: StandInServer, chat: int) -> None:
        api = server.api
        server.refuse_connections()
        api.push(api.user_message(chat, SEED))
        await asyncio.sleep(3)  # the outage itself: nothing to wait for while it lasts
        assert api.reply_count(chat) == 0
        recovered_at = time.monotonic()
        server.accept_connections()
        await api.wait_for(lambda: api.reply_count(chat) == 1)
        assert api.sent(chat)[0].at - recovered_at < RECOVERY_S
        assert "multinational force" in api.sent(chat)[0].text

    with caplog.at_level(logging.WARNING, logger="bot.telegram.delivery"):
        polling_scenario(service, body)
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.delivery"]
    assert any(m.startswith("Can't poll the Bot API") for m in messages), messages
    assert any(m.startswith("Reached the Bot API again") for m in messages), messages


def test_html_telegram_cannot_parse_is_resent_as_plain_text_on_every_path(
    service: NewsdeskService,
) -> None:
    async def body(server: StandInServer, chat: int) -> None:
        api = server.api

        async def refused_once_then(update: dict[str, Any]) -> Any:
            before = api.reply_count(chat)
            api.fail_next("sendMessage", 400, UNPARSABLE)
            api.push(update)
            await api.wait_for(lambda: api.reply_count(chat) > before)
            [plain] = api.sent(chat)[before:]
            [refused] = api.calls_of("sendMessage", ok=False)[-1:]
            assert refused.params.get("parse_mode") == "HTML"
            assert "parse_mode" not in api.calls_of("sendMessage", ok=True)[-1].params
            return plain

        question = api.user_message(chat, SEED)
        answer = await refused_once_then(question)
        assert "multinational force" in answer.text and "[1]" in answer.text
        assert "Sources" in answer.text and "Bloomberg, 2023-11-03" in answer.text
        assert "<" not in answer.text and "&amp;" not in answer.text
        assert answer.reply_to == question["message"]["message_id"]
        assert "cite:1:1" in [data for _, data in answer.buttons]  # buttons kept
        cited = await refused_once_then(api.button_press(chat, answer.message_id, "cite:1:1"))
        assert cited.text.startswith("[1] ") and "multinational force" in cited.text
        sources = await refused_once_then(api.user_message(chat, "/sources"))
        assert sources.text.startswith(f"Sources for “{SEED}”")
        more = await refused_once_then(api.user_message(chat, "/more"))
        assert more.text
        usage = await refused_once_then(api.user_message(chat, "/filter nonsense"))
        assert "/filter source=Bloomberg" in usage.text

    polling_scenario(service, body)


def test_dropped_and_timed_out_sends_are_retried_and_delivered_once(
    service: NewsdeskService,
) -> None:
    async def body(server: StandInServer, chat: int) -> None:
        api = server.api
        api.drop_next("sendMessage", times=2)
        api.push(api.user_message(chat, SEED))
        await api.wait_for(lambda: api.reply_count(chat) == 1)
        drops = api.calls_of("sendMessage", ok=False)
        assert [c.description for c in drops] == ["connection dropped"] * 2
        # A send that gets no answer within the read timeout is tried again.
        api.stall_next("sendMessage", seconds=1.5)
        api.push(api.user_message(chat, "/sources"))
        await api.wait_for(lambda: api.reply_count(chat) == 2)
        assert api.sent(chat)[-1].text.startswith("Sources for")
        assert api.calls_of("sendMessage", ok=False)[-1].description == "stalled, then dropped"

    short_reads = HTTPXRequest(connection_pool_size=8, read_timeout=0.5)
    polling_scenario(service, body, request=short_reads)


def test_a_send_that_keeps_failing_is_logged_and_the_chat_told(
    service: NewsdeskService, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = len(SEND_BACKOFF_S) + 1

    async def body(server: StandInServer, chat: int) -> None:
        api = server.api
        api.drop_next("sendMessage", times=attempts)
        api.push(api.user_message(chat, SEED))
        await api.wait_for(lambda: api.reply_count(chat) == 1)
        assert len(api.calls_of("sendMessage", ok=False)) == attempts
        assert api.sent(chat)[0].text == APOLOGY
        # The bot goes on answering.
        api.push(api.user_message(chat, SEED))
        await api.wait_for(lambda: api.reply_count(chat) == 2)
        assert "multinational force" in api.sent(chat)[1].text

    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        polling_scenario(service, body)
    retries = [r for r in caplog.records if r.name == "bot.telegram.delivery"]
    assert len(retries) == attempts - 1
    [failed] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed.name == "bot.telegram.handlers" and failed.exc_info


def test_plain_text_keeps_citations_and_links_readable() -> None:
    citation = Citation(
        n=2,
        article_id="a1",
        title="Aid & arms <update>",
        source="Reuters",
        date="2023-11-03",
        url="https://example.com/aid?x=1&y=2",
        passage="Before. He said 5 < 7. After.",
        quote="He said 5 < 7.",
        start=8,
        end=22,
        score=0.9,
    )
    assert plain_text(citation_html(citation)) == (
        "[2] Aid & arms <update> (https://example.com/aid?x=1&y=2)\n"
        "Reuters, 2023-11-03\n\nBefore. He said 5 < 7. After."
    )
    # Malformed markup (why Telegram refused it) still reads sensibly.
    assert plain_text('<b>[1] <a href="https://x.org">https://x.org</a> & <i>co') == (
        "[1] https://x.org & co"  # a link that shows its URL isn't written twice
    )
    parts = plain_parts("<b>Sources</b>\n" + "Aid &amp; arms, said the minister. " * 400)
    assert len(parts) == 4 and all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts).count("Aid & arms") == 400
