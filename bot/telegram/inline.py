"""Inline mode: `@botname question` typed in any chat offers the answer to post there.

Up to three results, each an InlineQueryResultArticle whose message is Telegram HTML: the short
answer with its sources, then the first two cited articles on their own (title, outlet, date and
the quoted sentence). Inline queries have no conversation: each is a question of its own (no
follow-ups, filters or as-of day), asked without a session.

Telegram sends a new query as the user types, so a user's query is worked on only if no newer
one arrives within `DEBOUNCE_S` (a superseded query's answer would be thrown away). Telegram
waits about ten seconds for an answer; one not ready `ANSWER_WITHIN_S` after the query arrived
is replaced by a button "taking too long — ask me directly", which opens the private chat, and
nothing is cached. Results are cached by Telegram for `CACHE_S`; per user when the bot has an
allow-list (a cached answer must not reach a user the bot refuses).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from telegram import (
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, InlineQueryHandler

from bot.render import answer_html, by_article, source_label, source_line_html, split_html
from bot.telegram.chat import NO_PREVIEW
from index.errors import NewsdeskError
from retrieval.schema import Answer, Citation

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.handlers import NewsdeskBot

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
MAX_RESULTS = 3
CACHE_S = 60
DEBOUNCE_S = 0.3
ANSWER_WITHIN_S = 5.0  # from the query's arrival; Telegram gives up after about 10 s
START_PARAMETER = "inline"  # /start inline, when a button opens the private chat
HINT = "Type a question to answer from the news articles"
TOO_SLOW = "Taking too long — tap to ask me directly"
TOO_FAST = "Too many questions — try again in {wait} s"
UNAVAILABLE = "Can't reach my articles right now — try again later"
TITLE_CHARS = 100
DESCRIPTION_CHARS = 200
LATEST_KEPT = 10_000  # users whose latest query id is remembered


class InlineAnswers:
    """Answers inline queries with the bot's service, rate limit and access list."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self._latest: OrderedDict[int, str] = OrderedDict()  # user id → latest query id

    def install(self, app: Application) -> None:
        app.add_handler(InlineQueryHandler(self.answer))

    @property
    def personal(self) -> bool:
        """Whether Telegram must cache answers per user (only when the bot has an allow-list)."""
        return bool(self.bot.allowed_users)

    async def answer(self, update: Update, context: Context) -> None:
        """Answer an inline query: a hint when empty, else the answer and its sources."""
        query = update.inline_query
        arrived = time.monotonic()
        question = " ".join(query.query.split())
        if not question:
            await self._button(query, HINT, cache_time=CACHE_S)
            return
        if not await self._still_latest(query):
            return
        wait = self.bot.limiter.acquire(("inline", query.from_user.id))
        if wait:
            await self._button(query, TOO_FAST.format(wait=math.ceil(wait)))
            return
        work = asyncio.ensure_future(self.bot._call(self._ask, question))
        left = max(ANSWER_WITHIN_S - (time.monotonic() - arrived), 0.0)
        try:
            answer = await asyncio.wait_for(asyncio.shield(work), left)
        except TimeoutError:
            work.add_done_callback(_late_answer_done)
            logger.info(
                "Inline query %s took over %.1f s; offered the private chat", query.id, left
            )
            await self._button(query, TOO_SLOW)
            return
        except NewsdeskError as error:
            logger.warning("Inline query %s failed: %s", query.id, error)
            await self._button(query, UNAVAILABLE)
            return
        await query.answer(inline_results(answer), cache_time=CACHE_S, is_personal=self.personal)

    def _ask(self, question: str) -> Answer:
        """One question on its own (in a worker thread), with no session: a full session store
        loses no conversation to it."""
        return self.bot.service.ask(question, stateless=True)

    async def _still_latest(self, query: InlineQuery) -> bool:
        """Wait `DEBOUNCE_S`; false when the same user has typed a newer query meanwhile."""
        user_id = query.from_user.id
        self._latest.pop(user_id, None)
        self._latest[user_id] = query.id
        while len(self._latest) > LATEST_KEPT:
            self._latest.popitem(last=False)
        await asyncio.sleep(DEBOUNCE_S)
        if self._latest.get(user_id) != query.id:
            return False
        del self._latest[user_id]
        return True

    async def _button(self, query: InlineQuery, text: str, *, cache_time: int = 0) -> None:
        """No results, only a button above them that opens the private chat with the bot."""
        button = InlineQueryResultsButton(text=text, start_parameter=START_PARAMETER)
        await query.answer([], cache_time=cache_time, is_personal=self.personal, button=button)


def inline_results(answer: Answer) -> list[InlineQueryResultArticle]:
    """The answer with its sources, then up to two cited articles, as inline results."""
    if answer.abstained or not answer.citations:
        return [_article("answer", "No answer in my articles", answer.answer, answer_html(answer))]
    cited = by_article(answer.citations)
    outlets = ", ".join(dict.fromkeys(source_label(c) for _, c, _ in cited))
    results = [_article("answer", answer.answer, f"Sources: {outlets}", answer_html(answer))]
    for marker, citation, quoting in cited[: MAX_RESULTS - 1]:
        results.append(
            _article(
                f"source-{citation.n}",
                citation.title or "Untitled",
                f"{source_label(citation)}{quoting} — “{citation.quote.strip()}”",
                source_line_html(citation, quote=True, marker=marker, quoting=quoting),
                url=_web_url(citation),
            )
        )
    return results


def _article(
    result_id: str, title: str, description: str, markup: str, *, url: str | None = None
) -> InlineQueryResultArticle:
    """An article result; its message is the first Telegram message's worth of `markup`."""
    return InlineQueryResultArticle(
        id=result_id,
        title=_shorten(title, TITLE_CHARS),
        description=_shorten(description, DESCRIPTION_CHARS),
        url=url,
        input_message_content=InputTextMessageContent(
            split_html(markup)[0], parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        ),
    )


def _web_url(citation: Citation) -> str | None:
    url = (citation.url or "").strip()
    return url if url.startswith(("http://", "https://")) else None


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _late_answer_done(task: asyncio.Future) -> None:
    """A late answer has nobody left to hear it; its failure is logged (not left unretrieved)."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("A late inline answer failed: %s", error)
