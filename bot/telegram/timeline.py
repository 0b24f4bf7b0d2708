"""Telegram's /timeline: how a story unfolded, one dated and cited line per day.

The command only words the request as a timeline question ("Timeline of X", unless it is one
already: "/timeline How did X unfold?"), which the service answers as one (see
`retrieval.timeline`); the chat's filters, rate limit, "More" button and /sources then work as
for any answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from retrieval.timeline_wording import timeline_question

if TYPE_CHECKING:
    from bot.telegram.handlers import NewsdeskBot

COMMAND = ("timeline", "How a story unfolded, day by day: /timeline <topic>")
USAGE = "Ask like this: /timeline Kessler Bridge (or: How did the Twitter takeover unfold?)"


async def timeline(bot: NewsdeskBot, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timeline <topic>: its dated events, earliest first, twelve at a time."""
    message = update.effective_message
    topic = (message.text or "").partition(" ")[2].strip() if message else ""
    if not topic:
        await bot._reply(update, [USAGE])
        return
    asked = topic if timeline_question(topic) else f"Timeline of {topic}"
    await bot._answer_question(update, asked)
