"""Telegram links each source to the quoted sentence: the answer's Sources, the citation
button's message and /sources all point at the citation's `deep_url`."""

from __future__ import annotations

import html

import pytest

from bot.service import NewsdeskService
from tests.bot.telegram.telegram_harness import BotHarness, new_chat_id, run
from tests.conftest import service_over
from tests.retrieval.test_deep_links import SEED_QUESTION, SEED_URL, seed_article


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, embedder) -> NewsdeskService:
    """The real service over the seed article with its link."""
    return service_over(tmp_path_factory.mktemp("linked"), [seed_article()], embedder)


def test_sources_link_to_the_quoted_sentence(linked: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(linked) as bot:
            chat = new_chat_id()
            [answer] = await bot.say(chat, SEED_QUESTION)
            citation = linked.sessions.find(f"tg:{chat}").turns[-1].answer.citations[0]
            assert citation.deep_url and citation.deep_url.startswith(SEED_URL + "#:~:text=")
            link = f'<a href="{html.escape(citation.deep_url, quote=True)}">'

            [shown] = await bot.press(chat, answer, "cite:1:1")
            [sources] = await bot.say(chat, "/sources")

            for message in (answer, shown, sources):
                assert link in message.html
                assert f'<a href="{SEED_URL}">' not in message.html  # never the bare article
            assert bot.api.failures() == []

    run(scenario())
