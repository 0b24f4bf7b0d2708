"""The Telegram bot's handlers: questions, buttons, access, rate and errors (the slash
commands are in bot/telegram/commands.py).

Retrieval is CPU-bound and runs in worker threads (a few at a time), so a slow question in one
chat never stalls the others; one chat's questions are answered in order (a lock per chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import logs, metrics
from bot.render import citation_html, render_telegram, split_html
from bot.service import NewsdeskService, SessionNotFound
from bot.settings import Settings
from bot.telegram.chat import answer_keyboard, plain_filters, send_html, typing
from bot.telegram.chat_state import ChatState, open_chat_states
from bot.telegram.commands import COMMANDS, EXAMPLE_QUESTION, ChatCommands
from bot.telegram.groups import GroupChats, conversation_of, topic_of
from bot.telegram.inline import InlineAnswers
from bot.telegram.ratelimit import RateLimiter
from index.errors import NewsdeskError
from retrieval.schema import Answer
from retrieval.search import SearchFilters

logger = logging.getLogger(__name__)

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

MAX_QUESTION_CHARS = 1000
APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
NO_ARTICLES = "Sorry, I can't reach my articles right now. Please try again later."
PRIVATE = "Sorry, this bot is private."
NOTHING_MORE = "That's all the articles have on this question."


class NewsdeskBot:
    """The handlers and per-chat state of one Application."""

    def __init__(
        self,
        service: NewsdeskService,
        settings: Settings,
        *,
        example_question: str = EXAMPLE_QUESTION,
        max_parallel: int | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.example_question = example_question
        self.allowed_users = frozenset(settings.telegram_allowed_users)
        self.limiter = RateLimiter(settings.telegram_rate_per_minute, 60.0)
        self._chats = open_chat_states(settings)
        self._slots = asyncio.Semaphore(max_parallel or os.cpu_count() or 2)

    def install(self, app: Application) -> None:
        """Register the handlers: access gate first, then commands, buttons, plain text."""
        only_new = filters.UpdateType.MESSAGE
        app.add_handler(TypeHandler(Update, observe_update), group=-2)
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        ChatCommands(self).install(app, only_new)
        app.add_handler(CallbackQueryHandler(self.citation_button, pattern=r"^cite:\d+:\d+$"))
        app.add_handler(CallbackQueryHandler(self.more_button, pattern=r"^more:\d+$"))
        app.add_handler(CallbackQueryHandler(self.stale_button))
        InlineAnswers(self).install(app)
        GroupChats(self).install(app, only_new)  # groups: only what is addressed to the bot
        app.add_handler(MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, self.question))
        app.add_handler(MessageHandler(only_new & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(only_new, self.not_text))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: Application) -> None:
        """Register the command menu with Telegram at start-up."""
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])

    async def post_shutdown(self, app: Application) -> None:
        """Release the chat store's connection (Redis) when the bot stops."""
        self._chats.close()

    # ---- access ----

    async def gate(self, update: Update, context: Context) -> None:
        """Let only allow-listed users through (when there is a list)."""
        if not self.allowed_users:
            return
        user = update.effective_user
        if user is not None and user.id in self.allowed_users:
            return
        logger.info("Refused an update from user %s", user.id if user else None)
        if update.callback_query:
            await update.callback_query.answer(PRIVATE)
        elif update.inline_query:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif update.message and update.message.chat.type == ChatType.PRIVATE:
            await update.message.reply_text(PRIVATE)
        raise ApplicationHandlerStop

    # ---- plain messages ----

    async def question(self, update: Update, context: Context) -> None:
        """Any plain text message is a question."""
        await self._answer_question(update, update.effective_message.text or "")

    async def unknown_command(self, update: Update, context: Context) -> None:
        """Commands I don't have."""
        await self._reply(update, ["I don't know that command. /help lists what I can do."])

    async def not_text(self, update: Update, context: Context) -> None:
        """Photos, stickers and the like."""
        await self._reply(update, ["I can only read text. Please type your question."])

    # ---- buttons ----

    async def citation_button(self, update: Update, context: Context) -> None:
        """Show one citation's quote inside its passage."""
        query = update.callback_query
        _, number, n = (query.data or "").split(":")
        answer = (await self._state(update)).answers.get(int(number))
        cited = [c for c in answer.citations if c.n == int(n)] if answer else []
        if not cited:
            await query.answer("That answer is no longer available — please ask again.")
            return
        await query.answer()
        reply_to = query.message.message_id if query.message else None
        parts = split_html(citation_html(cited[0]))
        thread_id = topic_of(query.message)
        await send_html(context.bot, update.effective_chat.id, parts, reply_to, thread_id=thread_id)

    async def more_button(self, update: Update, context: Context) -> None:
        """The "More" button under an answer."""
        query = update.callback_query
        number = int((query.data or "").split(":")[1])
        state = await self._state(update)
        if number != state.last:
            await query.answer("That was an earlier question — ask it again to see more.")
            return
        if await self._within_rate(update, update.effective_chat.id):
            await query.answer()
            await self._more(update, state, number, rate_checked=True)

    async def stale_button(self, update: Update, context: Context) -> None:
        """Buttons from another version of the bot."""
        await update.callback_query.answer("That button no longer works — please ask again.")

    # ---- answering ----

    async def _answer_question(self, update: Update, question: str) -> None:
        question = question.strip()
        if len(question) > MAX_QUESTION_CHARS:
            await self._reply(
                update,
                [
                    f"That's a long message ({len(question):,} characters). Please ask in under "
                    f"{MAX_QUESTION_CHARS:,} characters."
                ],
            )
            return
        if not question:
            return
        chat_id = update.effective_chat.id
        if not await self._within_rate(update, chat_id):
            return
        state = await self._state(update)
        async with state.lock:
            chat_filters = state.filters
            async with typing(update.get_bot(), chat_id, topic_of(update.effective_message)):
                answer = await self._call(
                    self.service.ask,
                    question,
                    session_id=conversation_of(update).session_id,
                    filters=chat_filters if chat_filters.active else None,
                    as_of=state.as_of,
                )
            await self._send_answer(update, state, answer, chat_filters)

    async def _more(
        self, update: Update, state: ChatState, number: int, *, rate_checked: bool = False
    ) -> None:
        chat_id = update.effective_chat.id
        if not number or number not in state.answers:
            await self._reply(update, ["Ask a question first; then /more shows further passages."])
            return
        if not rate_checked and not await self._within_rate(update, chat_id):
            return
        async with state.lock:
            async with typing(update.get_bot(), chat_id, topic_of(update.effective_message)):
                try:
                    answer = await self._call(self.service.more, conversation_of(update).session_id)
                except SessionNotFound:
                    answer = None
            if answer is None:
                await self._reply(update, ["That conversation has expired — please ask again."])
                return
            if answer.abstained:  # not remembered: /sources keeps the last real answer
                await self._reply(update, [NOTHING_MORE], quote=True)
                return
            await self._send_answer(update, state, answer, state.filters)

    async def _send_answer(
        self, update: Update, state: ChatState, answer: Answer, chat_filters: SearchFilters
    ) -> None:
        number = await self._chats.remember(conversation_of(update), state, answer)
        note = None
        if answer.abstained and chat_filters.active:
            note = f"{plain_filters(chat_filters)} are on — /filter off searches all articles."
        message = update.effective_message
        await send_html(
            update.get_bot(),
            update.effective_chat.id,
            render_telegram(answer, note=note),
            message.message_id if message else None,
            answer_keyboard(answer, number),
            thread_id=topic_of(message),
        )

    async def _within_rate(self, update: Update, chat_id: int) -> bool:
        """Count a question against the chat's rate; say so once when it's over."""
        wait = self.limiter.acquire(chat_id)
        state = self._chats.local(conversation_of(update))  # the note is this process's
        if not wait:
            state.told_to_slow_down = False
            return True
        logger.info("Chat %s is over its rate limit", chat_id)
        if update.callback_query:
            await update.callback_query.answer(
                f"Too many questions — try again in {math.ceil(wait)} s."
            )
        elif not state.told_to_slow_down:
            state.told_to_slow_down = True
            await self._reply(
                update,
                [
                    f"You're asking faster than I can keep up — up to "
                    f"{self.limiter.limit} questions a minute. Please try again in "
                    f"{math.ceil(wait)} seconds."
                ],
            )
        return False

    # ---- errors ----

    async def on_error(self, update: object, context: Context) -> None:
        """Log the error first, then tell the chat briefly; never raises."""
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error("Telegram update %s failed", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if isinstance(context.error, Forbidden):
            return  # the user blocked the bot: nothing to say
        text = NO_ARTICLES if isinstance(context.error, NewsdeskError) else APOLOGY
        try:
            if update.callback_query:
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer()
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError:
            logger.warning("Could not tell chat %s about the error", update.effective_chat.id)

    # ---- plumbing ----

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (CPU-bound, blocking) service call in a worker thread, a few at a time."""
        async with self._slots:
            return await asyncio.to_thread(function, *args, **kwargs)

    async def _reply(
        self, update: Update, parts: Sequence[str], *, quote: bool | None = None
    ) -> None:
        """Answer in the update's chat, replying to its message (by default not for buttons)."""
        message = update.effective_message
        quote = not update.callback_query if quote is None else quote
        reply_to = message.message_id if message and quote else None
        thread_id = topic_of(message)
        await send_html(
            update.get_bot(), update.effective_chat.id, parts, reply_to, thread_id=thread_id
        )

    async def _state(self, update: Update) -> ChatState:
        """The state of the update's conversation (a chat, or a user in a group thread), as
        stored now (read from Redis when the sessions are there: another replica may have
        changed it)."""
        return await self._chats.load(conversation_of(update))


async def observe_update(update: Update, context: Context) -> None:
    """Count the update, and name the lines logged while it is handled (`tg-<update id>`)."""
    logs.set_request_id(f"tg-{update.update_id}")
    metrics.telegram_update(update)
