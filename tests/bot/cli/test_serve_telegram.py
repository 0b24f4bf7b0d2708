"""`newsdesk serve --telegram`: the HTTP API and the bot composed in one process, sharing one
service."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.cli.edges import telegram_companion
from bot.http.app import CompanionNeedsIndex, create_app
from bot.service import NewsdeskService
from tests.bot.http.live_server import serve_in_thread
from tests.bot.telegram.telegram_harness import bot_settings, new_chat_id
from tests.telegram_standin import StandInServer

SEED = "What did Blinken say about a multinational force?"


def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_one_server_answers_over_http_and_telegram(service: NewsdeskService) -> None:
    with StandInServer() as bot_api:
        api = bot_api.api
        settings = bot_settings(api, bot_api.base_url)
        app = create_app(settings, service=service, companion=telegram_companion(settings))
        with serve_in_thread(app) as base_url:
            chat = new_chat_id()
            api.push(api.user_message(chat, SEED))
            http_answer = httpx.post(f"{base_url}/ask", json={"question": SEED}, timeout=30)
            wait_until(lambda: api.sent(chat))
        assert http_answer.status_code == 200
        quote = http_answer.json()["citations"][0]["quote"]
        telegram_answer = api.sent(chat)[0].text
        assert quote.split()[0] in telegram_answer and "Bloomberg" in telegram_answer
        assert api.calls_of("setMyCommands", ok=True)  # the bot really started
        assert api.pending_updates() == 0


def test_without_an_index_the_bot_does_not_start(tmp_path: Path) -> None:
    with StandInServer() as bot_api:
        settings = bot_settings(bot_api.api, bot_api.base_url, index_dir=tmp_path / "none")
        app = create_app(settings, companion=telegram_companion(settings))
        with pytest.raises(CompanionNeedsIndex, match="newsdesk index build"), TestClient(app):
            pass
        assert bot_api.api.calls_of("getMe") == []
