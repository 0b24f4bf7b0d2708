"""Telegram's slash commands (/start, /help, /ask, /coverage, /timeline, /more, /sources,
/filter, /asof, /reset) and the command menu they make up.

Apart from the handlers (bot/telegram/handlers.py), which own how a question is answered (rate,
worker threads, one chat's questions in order), access and errors: a command only reads its
argument, words a reply or a question, and hands the question on to the bot.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.render import sources_html, split_html
from bot.telegram import timeline as timeline_command
from bot.telegram.chat import (
    ASOF_USAGE,
    FILTER_USAGE,
    describe_filters,
    parse_filters,
    set_as_of,
)
from bot.telegram.groups import conversation_of, groups_usage
from retrieval.search import SearchFilters

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.ext.filters import BaseFilter

    from bot.telegram.handlers import NewsdeskBot

Context = ContextTypes.DEFAULT_TYPE

EXAMPLE_QUESTION = "What did Blinken say about a multinational force?"
COMMANDS = (
    ("ask", "Ask a question: /ask <question> (or just type it)"),
    ("coverage", "What I have on a topic: /coverage <topic>"),
    timeline_command.COMMAND,
    ("more", "More passages for the last question"),
    ("sources", "Full sources of the last answer"),
    ("filter", "Filter by source or date: /filter source=Reuters since=2023-01-01"),
    ("asof", "Answer as of a day: /asof 2023-11-03 (/asof off: today)"),
    ("reset", "Forget this conversation"),
    ("start", "What I know and how to ask"),
    ("help", "The commands"),
)


class ChatCommands:
    """The slash commands of one Application's bot."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    def install(self, app: Application, only_new: BaseFilter) -> None:
        """Register one handler per command (new messages only, not edits)."""
        for name, callback in (
            ("start", self.start),
            ("help", self.help),
            ("ask", self.ask),
            ("coverage", self.coverage),
            ("timeline", partial(timeline_command.timeline, self.bot)),
            ("more", self.more),
            ("sources", self.sources),
            ("filter", self.filter),
            ("asof", self.as_of),
            ("reset", self.reset),
        ):
            app.add_handler(CommandHandler(name, callback, filters=only_new))

    async def start(self, update: Update, context: Context) -> None:
        """Greet and say what the articles cover, with an example question."""
        summary = await self.bot._call(self.bot.service.summary)
        sources = [name for name, _count in summary.sources[:3] if name]
        first, last = summary.first_date, summary.last_date
        span = f" from {first} to {last}" if first and last and first != last else ""
        span = f" dated {first}" if first and first == last else span
        mainly = f", mainly from {_join(sources)}" if sources else ""
        text = (
            f"Hello! I answer questions from {_count(summary.articles, 'news article')}"
            f"{span}{mainly}.\n\n"
            "Ask in plain words and I'll reply with the articles' own sentences and numbered "
            f"sources, for example:\n<i>{_esc(self.bot.example_question)}</i>\n\n"
            "Follow-up questions are understood in context. /help lists the commands."
        )
        await self.bot._reply(update, [text])

    async def help(self, update: Update, context: Context) -> None:
        """List the commands."""
        lines = [f"/{name} — {_esc(text)}" for name, text in COMMANDS]
        intro = (
            "Type a question and I'll answer from the news articles, with sources. "
            "Follow-ups use this chat's history."
        )
        usage = [FILTER_USAGE, ASOF_USAGE, groups_usage(context.bot.username)]
        text = "\n\n".join([intro, "\n".join(lines), *usage])
        await self.bot._reply(update, [text])

    async def ask(self, update: Update, context: Context) -> None:
        """/ask <question>."""
        question = _command_argument(update)
        if not question:
            example = _esc(self.bot.example_question)
            await self.bot._reply(update, [f"Ask like this: /ask {example}"])
            return
        await self.bot._answer_question(update, question)

    async def coverage(self, update: Update, context: Context) -> None:
        """/coverage <topic>: how many articles mention it, by outlet and month."""
        topic = _command_argument(update)
        if not topic:
            await self.bot._reply(update, ["Ask like this: /coverage Liz Truss"])
            return
        await self.bot._answer_question(update, f"What do you have on {topic}?")

    async def more(self, update: Update, context: Context) -> None:
        """/more: the next passages for the last question."""
        state = await self.bot._state(update)
        await self.bot._more(update, state, state.last)

    async def sources(self, update: Update, context: Context) -> None:
        """/sources: the full sources of the last answer."""
        state = await self.bot._state(update)
        answer = state.answers.get(state.last)
        if answer is None:
            await self.bot._reply(update, ["No answer yet — ask me something first."])
            return
        await self.bot._reply(update, split_html(sources_html(answer)))

    async def filter(self, update: Update, context: Context) -> None:
        """/filter source=… since=… until=… | off: this chat's search filters."""
        key = conversation_of(update)
        state = await self.bot._chats.load(key)
        argument = _command_argument(update)
        if argument.lower() in {"off", "clear", "none", "reset"}:
            state.filters = SearchFilters()
            await self.bot._chats.save_settings(key, state)
            await self.bot._reply(update, ["Filters cleared: searching all articles."])
            return
        if not argument:
            await self.bot._reply(update, [f"{describe_filters(state.filters)}\n\n{FILTER_USAGE}"])
            return
        try:
            state.filters = parse_filters(argument)
        except ValueError as error:
            await self.bot._reply(update, [f"{_esc(str(error))}\n\n{FILTER_USAGE}"])
            return
        await self.bot._chats.save_settings(key, state)
        await self.bot._reply(update, [describe_filters(state.filters)])

    async def as_of(self, update: Update, context: Context) -> None:
        """/asof YYYY-MM-DD | off: the day this chat's questions are answered as of."""
        key = conversation_of(update)
        state = await self.bot._chats.load(key)
        before = state.as_of
        reply = set_as_of(state, _command_argument(update))
        if state.as_of != before:
            await self.bot._chats.save_settings(key, state)
        await self.bot._reply(update, [reply])

    async def reset(self, update: Update, context: Context) -> None:
        """/reset: forget this chat's conversation (filters and as-of date stay)."""
        key = conversation_of(update)
        await self.bot._call(self.bot.service.reset_session, key.session_id)
        await self.bot._chats.forget_answers(key, await self.bot._chats.load(key))
        await self.bot._reply(update, ["Done — I've forgotten this conversation. Ask away."])


def _command_argument(update: Update) -> str:
    text = (update.effective_message.text or "") if update.effective_message else ""
    return text.partition(" ")[2].strip() if text.startswith("/") else text.strip()


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _join(names: Sequence[str]) -> str:
    names = [_esc(n) for n in names if n]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _esc(text: str) -> str:
    return html.escape(text)
