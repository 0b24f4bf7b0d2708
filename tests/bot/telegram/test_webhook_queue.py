"""The webhook's per-chat queue in a real redis-server: an update leaves the queue only once it
has been handled, so a replica stopped mid-answer loses nothing, and the next replica to start
answers what was left, in order."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.cli.edges import telegram_companion
from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.telegram.webhook import ChatQueue
from tests.bot.cli.test_webhook import SECRET, URL, wait_until
from tests.bot.http.live_server import serve_in_thread
from tests.bot.telegram.telegram_harness import bot_settings, new_chat_id, run
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)
from tests.telegram_standin import StandInServer


def test_an_update_interrupted_mid_answer_is_answered_by_the_next_replica(redis_server) -> None:
    handled: list[str] = []

    async def killed_mid_answer(body: str) -> None:
        raise asyncio.CancelledError  # what a replica stopping under this task sees

    async def answer(body: str) -> None:
        handled.append(body)

    async def scenario() -> None:
        first, second = ChatQueue(redis_server.url), ChatQueue(redis_server.url)
        try:
            await first.put("chat-7", 11, "update 11")
            await first.put("chat-7", 12, "update 12")
            with pytest.raises(asyncio.CancelledError):
                await first.drain("chat-7", killed_mid_answer)
            assert await second.waiting_chats() == ["chat-7"]
            await second.drain("chat-7", answer)
            assert await second.waiting_chats() == []
        finally:
            await first.close()
            await second.close()

    run(scenario(), timeout=20)
    assert handled == ["update 11", "update 12"]


def test_a_failing_update_does_not_block_the_chat(redis_server) -> None:
    handled: list[str] = []

    async def answer(body: str) -> None:
        if body == "update 1":
            raise ValueError("this update cannot be answered")
        handled.append(body)

    async def scenario() -> None:
        queue = ChatQueue(redis_server.url)
        try:
            for number in (1, 2):
                await queue.put("chat-8", number, f"update {number}")
            await queue.drain("chat-8", answer)
            assert await queue.waiting_chats() == []
        finally:
            await queue.close()

    run(scenario(), timeout=20)
    assert handled == ["update 2"]


def test_a_starting_replica_answers_what_a_stopped_one_left_queued(
    redis_server, service: NewsdeskService
) -> None:
    with StandInServer() as bot_api:
        api, chat = bot_api.api, new_chat_id()
        update = api.user_message(chat, "What did Blinken say about a multinational force?")

        async def left_by_a_killed_replica() -> None:
            queue = ChatQueue(redis_server.url)
            await queue.put(f"chat:{chat}", update["update_id"], json.dumps(update))
            await queue.close()

        run(left_by_a_killed_replica())
        settings = bot_settings(
            api, bot_api.base_url, sessions=redis_server.url,
            telegram_webhook_url=URL, telegram_webhook_secret=SECRET,
        )  # fmt: skip
        app = create_app(settings, service=service, companion=telegram_companion(settings))
        with serve_in_thread(app):
            wait_until(lambda: any(m.reply_to for m in api.sent(chat)))
    (reply,) = [message for message in api.sent(chat) if message.reply_to]
    assert reply.reply_to == update["message"]["message_id"]
    assert "Blinken" in reply.text
