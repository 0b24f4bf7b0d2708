"""The chat page names the other outlets of a cited story (headless Chromium, real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from bot.http.app import create_app
from tests.bot.http.browser import chat_page
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import service_over
from tests.story_corpus import planted_articles


@pytest.fixture(scope="module")
def planted_url(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:
    service = service_over(tmp_path_factory.mktemp("planted"), planted_articles(), embedder)
    with serve_in_thread(create_app(service.settings, service=service)) as url:
        yield url


def test_a_source_says_who_else_reported_the_story(browser: Browser, planted_url: str) -> None:
    with chat_page(browser, planted_url, viewport={"width": 375, "height": 740}) as page:
        page.fill("#question", "Why did the Marrow Bay port authority approve a tidal barrier?")
        page.press("#question", "Enter")
        answer = page.locator(".msg.bot:not(.pending)").last
        expect(answer).to_have_class("msg bot answer")
        answer.locator("button.cite").first.click()
        meta = answer.locator(".source .source-meta").first
        expect(meta).to_contain_text(" · also reported by ")
        expect(meta).to_contain_text(" and 2 more")  # five copies: the cited one, two named
