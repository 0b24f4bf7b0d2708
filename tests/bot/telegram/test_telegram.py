"""The Telegram bot through a real Application and `process_update` (no sockets, ~ms each).

Bot API calls go to the in-process stand-in, which refuses HTML that Telegram would refuse, so
every test also checks that nothing the bot sent was rejected.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.service import NewsdeskService
from bot.settings import Settings
from bot.telegram.app import TelegramNotConfigured, build_application, run_telegram
from bot.telegram.chat import parse_filters
from bot.telegram.commands import COMMANDS
from bot.telegram.handlers import APOLOGY, MAX_QUESTION_CHARS, PRIVATE
from bot.telegram.ratelimit import RateLimiter
from retrieval.schema import Answer
from retrieval.search import SearchFilters
from tests.bot.telegram.telegram_harness import BotHarness, ServiceWrapper, new_chat_id, run

SEED = "What did Blinken say about a multinational force?"


def assert_all_accepted(bot: BotHarness) -> None:
    assert bot.api.failures() == []


def test_start_says_what_the_articles_cover(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            [greeting] = await bot.say(new_chat_id(), "/start")
            summary = service.summary()
            assert f"{summary.articles:,} news article" in greeting.text
            assert summary.first_date in greeting.text and summary.last_date in greeting.text
            assert "Bloomberg" in greeting.text
            assert SEED in greeting.text
            [help_text] = await bot.say(new_chat_id(), "/help")
            for name, _ in COMMANDS:
                assert f"/{name}" in help_text.text
            assert_all_accepted(bot)

    run(scenario())


def test_seed_question_is_answered_with_its_citation(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            update = bot.api.user_message(chat, SEED)
            await bot.process(update)
            [reply] = bot.api.sent(chat)
            answer_text, _, sources = reply.text.partition("\n\nSources\n")
            assert "[1]" in answer_text
            assert "multinational force" in answer_text or "premature" in answer_text
            assert "— Bloomberg, 2023-11-03" in sources.splitlines()[0]
            assert reply.reply_to == update["message"]["message_id"]
            assert ("[1] Bloomberg", "cite:1:1") in reply.buttons
            assert ("More ▸", "more:1") in reply.buttons
            assert [c.params["action"] for c in bot.api.calls_of("sendChatAction")] == ["typing"]
            # /ask does the same as plain text.
            [again] = await bot.say(new_chat_id(), f"/ask {SEED}")
            assert again.text == reply.text
            assert_all_accepted(bot)

    run(scenario())


def test_follow_up_uses_the_chat_history_and_other_chats_stay_apart(
    service: NewsdeskService,
) -> None:
    follow_up = "And what about a two-state solution?"

    async def scenario() -> None:
        async with BotHarness(service) as bot:
            first, second = new_chat_id(), new_chat_id()
            await bot.say(first, SEED)
            [answer] = await bot.say(first, follow_up)
            await bot.say(second, follow_up)
            assert "two-state solution" in answer.text
            in_first = service.sessions.find(f"tg:{first}")
            in_second = service.sessions.find(f"tg:{second}")
            assert [t.question for t in in_first.turns] == [SEED, follow_up]
            assert "Blinken" in (in_first.turns[-1].answer.rewritten_query or "")
            assert [t.question for t in in_second.turns] == [follow_up]
            assert in_second.turns[-1].answer.rewritten_query is None
            # /reset forgets the first chat's history; the second chat keeps its own.
            [done] = await bot.say(first, "/reset")
            assert "forgotten" in done.text
            assert service.sessions.find(f"tg:{first}") is None
            assert service.sessions.find(f"tg:{second}") is not None
            [none] = await bot.say(first, "/sources")
            assert "No answer yet" in none.text
            assert_all_accepted(bot)

    run(scenario())


def test_citation_button_shows_the_quote_in_its_passage(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [answer] = await bot.say(chat, SEED)
            [shown] = await bot.press(chat, answer, "cite:1:1")
            citation = service.sessions.find(f"tg:{chat}").turns[-1].answer.citations[0]
            assert f"<b>{citation.quote.strip()}</b>" in shown.html.replace("&#x27;", "'")
            assert citation.quote.strip() in shown.text
            assert "Bloomberg, 2023-11-03" in shown.text
            assert shown.reply_to == answer.message_id
            assert bot.callback_answers()[-1].get("text") is None  # spinner stopped, no alert
            # A button from an answer that has scrolled out of memory says so.
            stale = bot.api.button_press(chat, answer.message_id, "cite:99:1")
            await bot.process(stale)
            assert "no longer available" in bot.callback_answers()[-1]["text"]
            assert_all_accepted(bot)

    run(scenario())


def test_more_and_sources(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [nothing] = await bot.say(chat, "/more")
            assert "Ask a question first" in nothing.text
            [answer] = await bot.say(chat, SEED)
            [sources] = await bot.say(chat, "/sources")
            assert sources.text.startswith(f"Sources for “{SEED}”")
            assert "[1] " in sources.text and "Bloomberg, 2023-11-03" in sources.text
            [more] = await bot.press(chat, answer, "more:1")
            assert more.text  # next passages, or a plain abstention when there are none
            assert more.reply_to == answer.message_id
            [more_again] = await bot.say(chat, "/more")
            assert more_again.text
            # The More button of an older answer is refused politely.
            await bot.say(chat, "Who did Blinken meet with?")
            await bot.process(bot.api.button_press(chat, answer.message_id, "more:1"))
            assert "earlier question" in bot.callback_answers()[-1]["text"]
            assert_all_accepted(bot)

    run(scenario())


def test_filters_narrow_the_search_and_clear(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [shown] = await bot.say(chat, "/filter")
            assert "No filters" in shown.text
            [set_] = await bot.say(chat, '/filter source="Nowhere Gazette" since=2020-01-01')
            assert "source Nowhere Gazette" in set_.text and "since 2020-01-01" in set_.text
            [filtered] = await bot.say(chat, SEED)
            assert filtered.text.startswith("No article is from Nowhere Gazette")
            assert "from Bloomberg" in filtered.text  # what the index does hold
            assert "/filter off" in filtered.text
            assert filtered.buttons == []
            [bad] = await bot.say(chat, "/filter since=yesterday")
            assert "isn't a date" in bad.text and "Usage" in bad.text
            [cleared] = await bot.say(chat, "/filter off")
            assert "cleared" in cleared.text
            [answered] = await bot.say(chat, SEED)
            assert "Bloomberg, 2023-11-03" in answered.text
            [by_source] = await bot.say(chat, "/filter source=bloomberg until=2023-12-31")
            [answered] = await bot.say(chat, SEED)
            assert "Bloomberg, 2023-11-03" in answered.text
            assert_all_accepted(bot)

    run(scenario())


def test_asof_sets_shows_and_clears_the_day_a_chat_asks_as_of(service: NewsdeskService) -> None:
    """The day reaches the service with the chat's following questions (the conversation keeps
    the day each question was answered as of); other chats, and a cleared setting, ask as of
    today."""

    def asked_as_of(chat: int) -> date:
        return service.sessions.find(f"tg:{chat}").turns[-1].as_of

    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat, other = new_chat_id(), new_chat_id()
            today = date.today()
            [shown] = await bot.say(chat, "/asof")
            assert shown.text.startswith("Answering as of today.")
            assert "/asof 2023-11-03" in shown.text and "/asof off" in shown.text
            [chosen] = await bot.say(chat, "/asof 2023-11-03")
            assert chosen.text.startswith("Answering as of 2023-11-03: reports from around")
            [answered] = await bot.say(chat, SEED)
            assert "multinational force" in answered.text
            assert "— Bloomberg, 2023-11-03" in answered.text
            assert asked_as_of(chat) == date(2023, 11, 3)
            [more] = await bot.say(chat, "/more")
            assert more.text
            [follow_up] = await bot.say(chat, "And what about a two-state solution?")
            assert "two-state solution" in follow_up.text
            assert asked_as_of(chat) == date(2023, 11, 3)
            # A bad date says the format and leaves the setting as it was.
            [bad] = await bot.say(chat, "/asof last tuesday")
            assert "“last tuesday” isn't a date like 2023-11-03." in bad.text
            assert "Usage: /asof 2023-11-03" in bad.text
            [still] = await bot.say(chat, "/asof")
            assert still.text.startswith("Answering as of 2023-11-03")
            # Another chat is not affected.
            await bot.say(other, SEED)
            assert asked_as_of(other) >= today
            [cleared] = await bot.say(chat, "/asof off")
            assert cleared.text == "Answering as of today."
            [again] = await bot.say(chat, SEED)
            assert "— Bloomberg, 2023-11-03" in again.text
            assert asked_as_of(chat) >= today
            assert_all_accepted(bot)

    run(scenario())


def test_sources_name_the_speaker_of_a_quote(service: NewsdeskService) -> None:
    """Whose words a citation quotes is shown after its source, escaped like article text."""
    speaker = "Antony <b>Blinken</b> & co"

    def ask_quoting(*args: object, **kwargs: object) -> Answer:
        answer = service.ask(*args, **kwargs)
        cited = [replace(c, speaker=speaker) for c in answer.citations]
        return replace(answer, citations=cited)

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=ask_quoting)) as bot:
            chat = new_chat_id()
            [answer] = await bot.say(chat, SEED)
            [source_line] = [line for line in answer.text.splitlines() if line.startswith("[1")]
            assert source_line.endswith(f"— Bloomberg, 2023-11-03 · quoting {speaker}")
            assert "Antony &lt;b&gt;Blinken&lt;/b&gt; &amp; co" in answer.html
            [sources] = await bot.say(chat, "/sources")
            assert f"Bloomberg, 2023-11-03 · quoting {speaker}" in sources.text
            [cited] = await bot.press(chat, answer, "cite:1:1")
            assert f"Bloomberg, 2023-11-03 · quoting {speaker}" in cited.text
            assert_all_accepted(bot)

    run(scenario())


def test_parse_filters() -> None:
    assert parse_filters("source=Bloomberg,Reuters since=2023-01-01 until=2023-12-31") == (
        SearchFilters(("Bloomberg", "Reuters"), date(2023, 1, 1), date(2023, 12, 31))
    )
    assert parse_filters("source='Financial Times' source=AP").sources == ("Financial Times", "AP")
    for bad in ("since=2023-13-01", "colour=red", "source", "since=2024-01-01 until=2023-01-01"):
        with pytest.raises(ValueError):
            parse_filters(bad)


def test_allowlist_lets_only_listed_users_in(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service, telegram_allowed_users=[4242]) as bot:
            stranger, friend = new_chat_id(), new_chat_id()
            [refused] = await bot.say(stranger, SEED)
            assert refused.text == PRIVATE
            assert bot.api.calls_of("sendChatAction") == []
            assert service.sessions.find(f"tg:{stranger}") is None
            [answered] = await bot.say(friend, SEED, user_id=4242)
            assert "Bloomberg, 2023-11-03" in answered.text
            # A stranger's button press is refused too.
            await bot.process(
                bot.api.button_press(friend, answered.message_id, "cite:1:1", user_id=7)
            )
            assert bot.callback_answers()[-1]["text"] == PRIVATE
            assert len(bot.api.sent(friend)) == 1
            assert_all_accepted(bot)

    run(scenario())


def test_rate_limit_replies_politely_once(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service, telegram_rate_per_minute=2) as bot:
            chat, other = new_chat_id(), new_chat_id()
            for _ in range(2):
                [answer] = await bot.say(chat, SEED)
                assert "Bloomberg" in answer.text
            [slow_down] = await bot.say(chat, SEED)
            assert "up to 2 questions a minute" in slow_down.text
            assert await bot.say(chat, SEED) == []  # said once; not repeated while over
            [answer] = await bot.say(other, SEED)  # other chats are not affected
            assert "Bloomberg" in answer.text
            assert_all_accepted(bot)

    run(scenario())


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0], max_keys=2)
    assert limiter.acquire("a") == 0.0 and limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(60.0)
    now[0] = 30.0
    assert limiter.acquire("a") == pytest.approx(30.0)
    now[0] = 60.5
    assert limiter.acquire("a") == 0.0
    limiter.acquire("b"), limiter.acquire("c")  # "a" is dropped (max_keys)
    assert limiter.acquire("a") == 0.0


def test_over_long_and_non_text_messages_are_refused_politely(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [refused] = await bot.say(chat, "why " * MAX_QUESTION_CHARS)
            assert "long message" in refused.text
            assert bot.api.calls_of("sendChatAction") == []
            [unknown] = await bot.say(chat, "/frobnicate")
            assert "/help" in unknown.text
            sticker = bot.api.user_message(chat, "x")
            del sticker["message"]["text"]
            sticker["message"]["sticker"] = {
                "file_id": "f", "file_unique_id": "u", "width": 1, "height": 1,
                "is_animated": False, "is_video": False, "type": "regular",
            }  # fmt: skip
            await bot.process(sticker)
            assert "only read text" in bot.api.sent(chat)[-1].text
            assert_all_accepted(bot)

    run(scenario())


def test_long_answers_are_split_into_valid_messages(service: NewsdeskService) -> None:
    def long_ask(question: str, **kwargs: object):
        answer = service.ask(question, **kwargs)
        [citation] = answer.citations[:1]
        citations = [
            replace(
                citation,
                n=n,
                article_id=f"{citation.article_id}-{n}",
                title=f"{citation.title} <{n}> & co",
            )  # fmt: skip
            for n in range(1, 31)
        ]
        text = " ".join(f"{citation.quote} [{n}]" for n in range(1, 31)) * 4
        return replace(answer, answer=text, citations=citations)

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=long_ask)) as bot:
            chat = new_chat_id()
            update = bot.api.user_message(chat, SEED)
            await bot.process(update)
            parts = bot.api.sent(chat)
            assert len(parts) >= 2
            assert all(len(p.text) <= 4096 for p in parts)
            assert parts[0].reply_to == update["message"]["message_id"]
            assert [bool(p.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]
            assert "[30] " in parts[-1].text
            assert_all_accepted(bot)

    run(scenario())


def test_error_handler_logs_first_then_apologises(
    service: NewsdeskService, caplog: pytest.LogCaptureFixture
) -> None:
    logged_at: list[float] = []

    def broken_ask(question: str, **kwargs: object):
        raise RuntimeError("retrieval exploded")

    class Stamp(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                logged_at.append(time.monotonic())

    async def scenario() -> None:
        async with BotHarness(ServiceWrapper(service, ask=broken_ask)) as bot:
            chat = new_chat_id()
            [apology] = await bot.say(chat, SEED)
            assert apology.text == APOLOGY
            assert "exploded" not in apology.text
            assert logged_at and logged_at[0] <= apology.at
            # The bot keeps going: the next update is handled normally.
            [greeting] = await bot.say(chat, "/help")
            assert "/ask" in greeting.text

    stamp = Stamp()
    logging.getLogger("bot.telegram.handlers").addHandler(stamp)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.telegram.handlers"):
            run(scenario())
    finally:
        logging.getLogger("bot.telegram.handlers").removeHandler(stamp)
    [record] = [r for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert record.exc_info and "retrieval exploded" in str(record.exc_info[1])


HOSTILE_TITLE = 'Council <script>alert("pwned")</script> & the <b>budget'
HOSTILE_TEXT = (
    "The harbour council of Quillport approved a budget of 5 < 7 million crowns & rising, "
    'the treasurer said. "<i>Unclosed tags</b> & stray markup &nbsp; stay in the minutes", '
    "she told the council <script>document.cookie</script> on Monday. "
    "The vote on the Quillport harbour budget was 5 > 3."
)


@pytest.fixture(scope="module")
def hostile_service(tmp_path_factory: pytest.TempPathFactory, embedder) -> NewsdeskService:
    """A service over a one-article index whose title, source, URL and text carry markup."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    article = {
        "id": "hostile-1",
        "title": HOSTILE_TITLE,
        "source": "Tribune <Local> & Co",
        "date": "2024-02-05",
        "url": 'https://example.com/news?id=1&x="2"',
        "text": HOSTILE_TEXT,
    }
    (corpus / "articles.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    build_index(corpus, root / "index", embedder)
    settings = Settings(_env_file=None, index_dir=root / "index", corpus=corpus)
    return NewsdeskService(settings, embedder)


def test_hostile_article_text_is_escaped_and_accepted(hostile_service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(hostile_service) as bot:
            chat = new_chat_id()
            [answer] = await bot.say(chat, "What budget did the Quillport harbour council approve?")
            assert "5 < 7 million crowns & rising" in answer.text
            assert HOSTILE_TITLE in answer.text and "Tribune <Local> & Co" in answer.text
            assert "&lt;script&gt;" in answer.html
            # the article's link (at its quote) stays one attribute: escaped, never broken out of
            assert 'href="https://example.com/news?id=1&amp;x=&quot;2&quot;#:~:text=' in answer.html
            [cited] = await bot.press(chat, answer, "cite:1:1")
            assert "<script>document.cookie</script>" in cited.text or "5 < 7" in cited.text
            [sources] = await bot.say(chat, "/sources")
            assert HOSTILE_TITLE in sources.text
            [start] = await bot.say(chat, "/start")
            assert "Tribune <Local> & Co" in start.text
            assert_all_accepted(bot)  # Telegram's HTML parser (the stand-in's) took every one

    run(scenario())


def test_start_up_without_a_token_is_refused(service: NewsdeskService, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, telegram_token=None, index_dir=tmp_path / "missing")
    with pytest.raises(TelegramNotConfigured, match="NEWSDESK_TELEGRAM_TOKEN"):
        build_application(settings, service)
    with pytest.raises(TelegramNotConfigured):
        run_telegram(settings)  # refuses before trying to load the (missing) index


def test_coverage_says_what_the_articles_hold_on_a_topic(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [reply] = await bot.say(chat, "/coverage multinational force")
            assert reply.text.startswith("1 article mentions multinational force, 3 Nov 2023.")
            assert "By outlet: Bloomberg 1." in reply.text
            assert not any(data.startswith("more:") for _, data in reply.buttons)
            [usage] = await bot.say(chat, "/coverage")
            assert usage.text == "Ask like this: /coverage Liz Truss"
            assert_all_accepted(bot)

    run(scenario())
