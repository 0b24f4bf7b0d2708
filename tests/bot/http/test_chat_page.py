"""The chat page end to end: Debian's headless Chromium, driven by Playwright, against a real
uvicorn server on 127.0.0.1 over the real index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.http.app import create_app
from bot.service import NewsdeskService
from retrieval.schema import Answer
from tests.bot.http.browser import chat_page
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import settings_for

SEED_QUESTION = "What did Blinken say about a multinational force?"
PHONE = {"width": 375, "height": 740}
SPEAKER = 'Antony <img src="x" onerror="document.title=1"> Blinken'


class QuotingService:
    """The real service, whose answers name `speaker` for each quote (None: nobody), as
    answers do for an attributed statement; questions go one at a time through `ask`."""

    def __init__(self, service: NewsdeskService) -> None:
        self._service = service
        self.speaker: str | None = None

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self._service.ask(question, **kwargs)
        cited = [replace(c, speaker=self.speaker) for c in answer.citations]
        return replace(answer, citations=cited)

    def __getattr__(self, name: str) -> Any:
        if name == "ask_many":  # the server batches through it when there is one
            raise AttributeError(name)
        return getattr(self._service, name)


@pytest.fixture(scope="module")
def base_url(built_index: Path, service: NewsdeskService) -> Iterator[str]:
    with serve_in_thread(create_app(settings_for(built_index), service=service)) as url:
        yield url


@pytest.fixture(scope="module")
def quoting(service: NewsdeskService) -> QuotingService:
    return QuotingService(service)


@pytest.fixture(scope="module")
def quoting_url(built_index: Path, quoting: QuotingService) -> Iterator[str]:
    with serve_in_thread(create_app(settings_for(built_index), service=quoting)) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    with chat_page(browser, base_url, viewport=PHONE) as page:
        yield page


def ask(page: Page, question: str) -> None:
    before = page.locator(".msg.bot:not(.pending)").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator(".msg.bot:not(.pending)")).to_have_count(before + 1)


def test_seed_question_answer_with_expandable_citation(page: Page) -> None:
    expect(page.locator("#index-info")).to_contain_text("article")
    ask(page, SEED_QUESTION)

    answer = page.locator(".msg.bot").last
    expect(answer).to_have_class("msg bot answer")
    marker = answer.locator("button.cite").first
    expect(marker).to_have_text("[1]")
    source = answer.locator(".source").first
    expect(source).to_be_hidden()

    marker.click()
    expect(source).to_be_visible()
    expect(marker).to_have_attribute("aria-expanded", "true")
    expect(source.locator(".source-meta")).to_contain_text("Bloomberg")
    expect(source.locator(".source-meta")).to_contain_text("2023-11-03")
    quote = source.locator(".passage mark")
    expect(quote).to_contain_text("multinational force")
    # The quote is highlighted inside its passage, not shown alone.
    passage_text = source.locator(".passage").inner_text()
    assert len(passage_text) > len(quote.inner_text())

    marker.click()
    expect(source).to_be_hidden()

    # Usable at phone width: nothing forces sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_follow_up_abstention_and_reset(page: Page) -> None:
    ask(page, SEED_QUESTION)
    session = page.evaluate("sessionStorage.getItem('newsdesk.session')")
    assert session

    with page.expect_request("**/ask") as request:
        ask(page, "And what about a two-state solution?")
    assert request.value.post_data_json["session_id"] == session
    expect(page.locator(".msg.bot").last).to_contain_text("two-state")

    ask(page, "What is the best recipe for sourdough bread?")
    abstained = page.locator(".msg.bot").last
    expect(abstained).to_have_class("msg bot abstained")
    expect(abstained.locator("button.cite")).to_have_count(0)

    with page.expect_response(f"**/sessions/{session}") as deleted:
        page.click("#reset")
    assert deleted.value.status == 204
    expect(page.locator(".msg")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('newsdesk.session')") is None


def test_a_source_names_whose_words_it_quotes(
    browser: Browser, quoting: QuotingService, quoting_url: str
) -> None:
    quoting.speaker = SPEAKER
    with chat_page(browser, quoting_url, viewport=PHONE) as page:
        ask(page, SEED_QUESTION)
        answer = page.locator(".msg.bot").last
        answer.locator("button.cite").first.click()
        meta = answer.locator(".source .source-meta").first
        expect(meta).to_have_text(f"Bloomberg · 2023-11-03 · quoting {SPEAKER}")
        expect(answer.locator("img")).to_have_count(0)  # the name is text, never markup
        assert page.title() == "newsdesk"


def test_a_quote_without_a_speaker_names_nobody(
    browser: Browser, quoting: QuotingService, quoting_url: str
) -> None:
    quoting.speaker = None
    with chat_page(browser, quoting_url, viewport=PHONE) as page:
        ask(page, SEED_QUESTION)
        answer = page.locator(".msg.bot").last
        answer.locator("button.cite").first.click()
        meta = answer.locator(".source .source-meta").first
        expect(meta).to_have_text("Bloomberg · 2023-11-03")
