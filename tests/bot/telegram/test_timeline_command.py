"""Telegram's /timeline through a real Application against the stand-in Bot API."""

from __future__ import annotations

from bot.service import NewsdeskService
from tests.bot.telegram.telegram_harness import BotHarness, new_chat_id, run
from tests.timeline_corpus import EVENTS, LATER


def test_timeline_command_sends_dated_lines_and_more_pages_on(
    timeline_service: NewsdeskService,
) -> None:
    async def scenario() -> None:
        async with BotHarness(timeline_service) as bot:
            chat = new_chat_id()
            replies = await bot.say(chat, "/timeline Kessler Bridge")
            text = "\n".join(reply.text for reply in replies)
            lines = text.splitlines()
            assert lines[0] == f"4 Mar 2024 — {EVENTS['2024-03-04']} (Westmere Herald) [1]"
            assert sum(line[:1].isdigit() and " — " in line for line in lines) == 12
            assert "2 more dates follow." in text
            assert "Westmere Herald, 2024-03-04" in text  # the sources, linked
            last = replies[-1]
            assert ("[1] Westmere Herald", "cite:1:1") in last.buttons
            [rest] = await bot.press(chat, last, "more:1")
            assert rest.text.splitlines()[0] == f"28 Mar 2024 — {LATER[-2][1]} (Daily Courier) [1]"
            assert "more dates follow" not in rest.text

            [usage] = await bot.say(chat, "/timeline")
            assert usage.text.startswith("Ask like this: /timeline ")
            [worded] = await bot.say(chat, "How did the Kessler Bridge saga unfold?")
            assert worded.text.startswith("4 Mar 2024 — A barge struck")
            asked = "/timeline What happened to Kessler Bridge since March 20?"
            [as_asked] = await bot.say(chat, asked)
            assert as_asked.text.startswith("20 Mar 2024 — Crews cut")
            assert bot.api.failures() == []

    run(scenario())
