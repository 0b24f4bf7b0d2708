"""`serve --telegram` with a webhook, in one process with sessions in memory: the webhook is set
with its secret, updates posted to its route are answered in order within a chat (the
application's own queue), requests without the right secret get 403 and bodies that are no
update 400, and the webhook stays set when the server stops (other replicas may still be
receiving)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from bot.cli.edges import telegram_companion
from bot.http.app import create_app
from bot.service import NewsdeskService
from tests.bot.http.live_server import serve_in_thread
from tests.bot.telegram.telegram_harness import bot_settings, new_chat_id
from tests.telegram_standin import StandInServer

URL = "https://bot.example.org/hooks/newsdesk"
SECRET = "in-process-secret-42"
QUESTIONS = (
    "What did Blinken say about a multinational force?",
    "And what about a two-state solution?",
    "Who did he meet with?",
)


def wait_until(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_webhook_server_answers_its_route_in_order_and_refuses_strangers(
    service: NewsdeskService,
) -> None:
    with StandInServer() as bot_api:
        api = bot_api.api
        settings = bot_settings(
            api, bot_api.base_url, telegram_webhook_url=URL, telegram_webhook_secret=SECRET
        )
        app = create_app(settings, service=service, companion=telegram_companion(settings))
        chat = new_chat_id()
        with serve_in_thread(app) as base_url:
            hook = f"{base_url}/hooks/newsdesk"
            assert api.webhook["url"] == URL and api.webhook["secret_token"] == SECRET
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
            stranger = api.user_message(chat, QUESTIONS[0])
            assert httpx.post(hook, json=stranger, timeout=10).status_code == 403
            assert httpx.post(hook, json=stranger, headers=wrong, timeout=10).status_code == 403
            assert httpx.post(hook, json=[1, 2], headers=right, timeout=10).status_code == 400
            asked = []
            for question in QUESTIONS:  # posted at once: each answered after the one before
                update = api.user_message(chat, question)
                response = httpx.post(hook, json=update, headers=right, timeout=10)
                assert response.status_code == 200 and response.content == b""
                asked.append(update["message"]["message_id"])
            wait_until(lambda: len([m for m in api.sent(chat) if m.reply_to]) == len(QUESTIONS))
        replies = [message for message in api.sent(chat) if message.reply_to]
        assert [message.reply_to for message in replies] == asked
        assert "two-state" in replies[1].text
        assert api.calls_of("getUpdates") == []  # no polling beside the webhook
        assert api.calls_of("deleteWebhook") == [] and api.webhook is not None
