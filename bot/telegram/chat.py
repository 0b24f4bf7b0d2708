"""Per-chat pieces of the Telegram bot: the `/filter` and `/asof` syntax, and sending messages
(the state they change is in chat_state.py)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import shlex
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.render import split_html
from bot.telegram.chat_state import ChatState
from retrieval.schema import Answer
from retrieval.search import SearchFilters

logger = logging.getLogger(__name__)

TYPING_REFRESH_S = 4.5  # Telegram shows a chat action for about 5 s
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
FILTER_USAGE = (
    "Usage: <code>/filter source=Bloomberg since=2023-01-01 until=2023-12-31</code> "
    "(any of them; several sources separated by commas, quote names with spaces), "
    "<code>/filter off</code> to clear, <code>/filter</code> to show."
)
ASOF_USAGE = (
    "Usage: <code>/asof 2023-11-03</code> answers as of that day (reports from around and "
    "before it come first; nothing is left out), <code>/asof off</code> goes back to today, "
    "<code>/asof</code> shows the setting."
)
ASOF_OFF = frozenset({"off", "clear", "none", "reset", "today"})


def parse_filters(argument: str) -> SearchFilters:
    """`source=Bloomberg,Reuters since=2023-01-01 until=2023-12-31` → SearchFilters."""
    try:
        words = shlex.split(argument)
    except ValueError as error:
        raise ValueError(f"I couldn't read that ({error}).") from None
    found = SearchFilters()
    for word in words:
        key, sep, value = word.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"“{word}” isn't key=value.")
        if key in {"source", "sources"}:
            names = tuple(s.strip() for s in value.split(",") if s.strip())
            found = replace(found, sources=found.sources + names)
        elif key in {"since", "until"}:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"“{value}” isn't a date like 2023-11-03.") from None
            found = replace(found, **{key: day})
        else:
            raise ValueError(f"I don't know the filter “{key}”.")
    if found.since and found.until and found.since > found.until:
        raise ValueError("“since” is after “until”.")
    return found


def parse_as_of(argument: str) -> date | None:
    """`2023-11-03` → that day; `off` (or `today`, `clear`) → None, meaning today."""
    argument = argument.strip()
    if argument.lower() in ASOF_OFF:
        return None
    try:
        return date.fromisoformat(argument)
    except ValueError:
        raise ValueError(f"“{argument}” isn't a date like 2023-11-03.") from None


def describe_as_of(day: date | None) -> str:
    if day is None:
        return "Answering as of today."
    return (
        f"Answering as of {day.isoformat()}: reports from around and before that day come "
        "first. /asof off goes back to today."
    )


def set_as_of(state: ChatState, argument: str) -> str:
    """Apply `/asof ARGUMENT` to the chat (nothing changes for a bad date); the reply, as HTML."""
    if not argument.strip():
        return f"{describe_as_of(state.as_of)}\n\n{ASOF_USAGE}"
    try:
        state.as_of = parse_as_of(argument)
    except ValueError as error:
        return f"{html.escape(str(error))}\n\n{ASOF_USAGE}"
    return describe_as_of(state.as_of)


def plain_filters(chosen: SearchFilters) -> str:
    parts = []
    if chosen.sources:
        parts.append("source " + " or ".join(chosen.sources))
    if chosen.since:
        parts.append(f"since {chosen.since.isoformat()}")
    if chosen.until:
        parts.append(f"until {chosen.until.isoformat()}")
    return "Filters (" + ", ".join(parts) + ")"


def describe_filters(chosen: SearchFilters) -> str:
    if not chosen.active:
        return "No filters: searching all articles."
    return html.escape(plain_filters(chosen)) + " apply to your questions in this chat."


async def send_html(
    bot: Bot,
    chat_id: int,
    parts: Sequence[str],
    reply_to: int | None = None,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    thread_id: int | None = None,
) -> None:
    """Send HTML parts in order; the first replies to `reply_to`, the last gets the keyboard;
    all go to the forum topic `thread_id` (None: the chat itself).

    A part Telegram refuses to parse ("can't parse entities") is sent again as plain text,
    links written out, rather than lost: every answer, source list and citation comes here.
    """
    for i, part in enumerate(parts):
        reply = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to and i == 0
            else None
        )
        markup = keyboard if i == len(parts) - 1 else None
        try:
            await bot.send_message(
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_parameters=reply,
                reply_markup=markup,
                message_thread_id=thread_id,
            )
        except BadRequest as error:
            if "can't parse entities" not in str(error).lower():
                raise
            logger.warning("Chat %s: HTML refused (%s); sending it as plain text", chat_id, error)
            pieces = plain_parts(part)
            for j, piece in enumerate(pieces):
                await bot.send_message(
                    chat_id,
                    piece,
                    link_preview_options=NO_PREVIEW,
                    reply_parameters=reply if j == 0 else None,
                    reply_markup=markup if j == len(pieces) - 1 else None,
                    message_thread_id=thread_id,
                )


def plain_text(markup: str) -> str:
    """What a Telegram HTML message shows, as plain text; links become "title (URL)".

    Lenient on purpose: it reads HTML that Telegram has just refused as malformed.
    """
    reader = _PlainText()
    reader.feed(markup)
    reader.close()
    return "".join(reader.out).strip()


def plain_parts(markup: str) -> list[str]:
    """`plain_text(markup)` in parts that each fit one Telegram message."""
    escaped = html.escape(plain_text(markup), quote=False)
    return [html.unescape(part) for part in split_html(escaped)] or ["…"]


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._links: list[tuple[str, int]] = []  # (href, where its text starts in out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            if href and href not in "".join(self.out[start:]):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def answer_keyboard(answer: Answer, number: int) -> InlineKeyboardMarkup | None:
    """One button per citation (three a row), then "More"; none for an abstention."""
    if answer.abstained or not answer.citations:
        return None
    buttons = [
        InlineKeyboardButton(_button_label(c.n, c.source), callback_data=f"cite:{number}:{c.n}")
        for c in answer.citations
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton("More ▸", callback_data=f"more:{number}")])
    return InlineKeyboardMarkup(rows)


@asynccontextmanager
async def typing(bot: Bot, chat_id: int, thread_id: int | None = None) -> AsyncIterator[None]:
    """Show "typing…" (in the forum topic `thread_id`, if any) until the block ends, repeating it
    while the work lasts.

    The loop is told to stop rather than cancelled, so a request in flight is not cut off
    (which would cost its connection).
    """
    done = asyncio.Event()

    async def keep_typing() -> None:
        while not done.is_set():
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), TYPING_REFRESH_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        done.set()
        await task


def _button_label(n: int, source: str | None) -> str:
    label = f"[{n}] {source}" if source else f"[{n}]"
    return label if len(label) <= 24 else label[:23] + "…"
