"""The bot over real long polling against the stand-in Bot API server on 127.0.0.1.

These exercise what `process_update` tests cannot: start-up (getMe, deleteWebhook, the command
menu), offsets (each update handled once and confirmed), network and API errors while polling,
concurrency between chats, and a clean shutdown that ends by itself.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.service import NewsdeskService
from bot.telegram.app import build_application, running
from bot.telegram.commands import COMMANDS
from tests.bot.telegram.telegram_harness import ServiceWrapper, bot_settings, new_chat_id, run
from tests.telegram_standin import StandInServer

SEED = "What did Blinken say about a multinational force?"


def test_polling_start_answer_button_and_clean_stop(service: NewsdeskService) -> None:
    async def scenario(server: StandInServer) -> None:
        api = server.api
        app = build_application(bot_settings(api, server.base_url), service)
        chat = new_chat_id()
        async with running(app, poll_timeout=2):
            assert api.commands == [{"command": c, "description": d} for c, d in COMMANDS]
            assert api.calls_of("getMe", ok=True) and api.calls_of("deleteWebhook", ok=True)
            api.push(api.user_message(chat, "/start"))
            api.push(api.user_message(chat, SEED))
            await api.wait_for(lambda: len(api.sent(chat)) == 2)
            # Questions keep their order within a chat; a command may overtake one.
            greeting, answer = sorted(api.sent(chat), key=lambda m: "Hello" not in m.text)
            assert "Hello" in greeting.text
            assert "Bloomberg, 2023-11-03" in answer.text
            api.push(api.button_press(chat, answer.message_id, "cite:1:1"))
            await api.wait_for(lambda: len(api.sent(chat)) == 3)
            assert api.sent(chat)[-1].reply_to == answer.message_id
            await api.wait_for(lambda: api.calls_of("answerCallbackQuery", ok=True) != [])
        # Every update was handled exactly once and confirmed to the server (offsets).
        assert len(api.sent(chat)) == 3
        assert api.pending_updates() == 0
        assert api.failures() == []

    with StandInServer() as server:
        started = time.monotonic()
        run(scenario(server), timeout=30)
        assert time.monotonic() - started < 15  # stopping does not wait out the long poll


def test_polling_survives_errors_and_slow_chats_do_not_block_others(
    service: NewsdeskService,
) -> None:
    slow_question = "Slow: what did Blinken say about aid to Gaza?"

    def ask(question: str, **kwargs: Any):
        if question.startswith("Slow:"):
            time.sleep(1.5)
        if question == "boom":
            raise RuntimeError("injected failure")
        return service.ask(question, **kwargs)

    async def scenario(server: StandInServer) -> None:
        api = server.api
        app = build_application(
            bot_settings(api, server.base_url), ServiceWrapper(service, ask=ask)
        )
        slow_chat, fast_chat, broken_chat = new_chat_id(), new_chat_id(), new_chat_id()
        api.fail_next("getUpdates", 502, "Bad Gateway")  # a network blip while polling
        async with running(app, poll_timeout=2):
            api.push(api.user_message(broken_chat, "boom"))
            api.push(api.user_message(slow_chat, slow_question))
            await asyncio.sleep(0.2)
            api.push(api.user_message(fast_chat, SEED))
            await api.wait_for(lambda: api.sent(slow_chat) and api.sent(fast_chat))
            # The fast chat was answered while the slow one was still being worked on.
            assert api.sent(fast_chat)[0].at < api.sent(slow_chat)[0].at - 0.5
            # The failing update got a short apology; the bot went on working.
            await api.wait_for(lambda: api.sent(broken_chat) != [])
            assert "Sorry" in api.sent(broken_chat)[0].text
            # A refused send (e.g. Telegram hiccup) fails that update only.
            api.fail_next("sendMessage", 400, "Bad Request: injected")
            api.push(api.user_message(fast_chat, "/help"))
            await api.wait_for(lambda: len(api.failures()) == 2)
            api.push(api.user_message(fast_chat, "/start"))
            await api.wait_for(lambda: any("Hello" in m.text for m in api.sent(fast_chat)))
        assert [c.description for c in api.failures()] == [
            "Bad Gateway",
            "Bad Request: injected",
        ]

    with StandInServer() as server:
        run(scenario(server), timeout=60)
