"""The bot's series: updates handled and Bot API calls that failed for good, by error class."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.metrics import Metrics
from bot.service import NewsdeskService
from tests.bot.telegram.telegram_harness import BotHarness, new_chat_id, run

SEED = "What did Blinken say about a multinational force?"


def test_updates_answers_and_send_failures_are_counted(
    service: NewsdeskService, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics(lambda: service)

    async def scenario() -> None:
        with metrics.active():
            async with BotHarness(service) as bot:
                chat = new_chat_id()
                [reply] = await bot.say(chat, SEED)
                assert "[1]" in reply.text
                bot.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
                assert await bot.say(chat, "/help") == []

    with caplog.at_level(logging.ERROR, logger="bot.telegram"):
        run(scenario())
    registry = metrics.registry
    assert registry.get_sample_value("newsdesk_telegram_updates_total", {"type": "message"}) == 2
    assert registry.get_sample_value("newsdesk_answers_total", {"kind": "said"}) == 1
    failures = {"method": "sendMessage", "error": "Forbidden"}
    assert registry.get_sample_value("newsdesk_telegram_send_failures_total", failures) == 1


def test_the_update_id_names_the_pipeline_lines_of_its_question(
    service: NewsdeskService, json_log: io.StringIO
) -> None:
    """JSON log lines written while a Telegram question is answered carry `tg-<update id>`."""

    async def scenario() -> int:
        async with BotHarness(service) as bot:
            update = bot.api.user_message(new_chat_id(), SEED)
            await bot.process(update)
            return update["update_id"]

    update_id = run(scenario())
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    answered = [line for line in lines if line["message"].startswith("answered a said question")]
    assert [line["request_id"] for line in answered] == [f"tg-{update_id}"]
