"""Deep links over HTTP and in a real browser: /ask gives each citation a `deep_url`, the chat
page links the source to it, and Debian's headless Chromium, following that link to an article
page served on 127.0.0.1, scrolls to the quoted sentence and highlights it there — not at an
earlier sentence that starts with the same words."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from bot.http.app import create_app
from bot.service import NewsdeskService
from retrieval.deep_links import TextDirective, deep_url, find_text
from tests.bot.http.browser import chat_page
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import service_over, settings_for
from tests.retrieval.test_deep_links import SEED_QUESTION, directive_of, seed_article, span

HIGHLIGHT = "rgb(255, 0, 255)"  # ::target-text on the article pages, so a highlight shows
# Two sentences that open alike: a link to the second must not stop at the first.
REPEATED = (
    "Officials said the talks had failed on Monday.\n\n"
    + "\n\n".join(f"Background paragraph {n} about the region." for n in range(6))
    + "\n\nBy Thursday, aides said the talks had failed on Monday and again on Wednesday."
)


class ArticlePages:
    """A plain web server on 127.0.0.1 serving articles as pages, one paragraph a block, far
    apart (so where the browser scrolled says which paragraph it went to)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                body = pages.get(self.path.split("#")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "").encode())

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, path: str, title: str, text: str) -> str:
        paragraphs = "".join(
            f'<p id="p{n}">{html.escape(p)}</p>' for n, p in enumerate(text.split("\n\n"))
        )
        self.pages[path] = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>body {{ padding-top: 150vh; }} p {{ margin: 0 0 90vh; }}"
            f" ::target-text {{ background: {HIGHLIGHT}; }}"
            f"</style><h1>{html.escape(title)}</h1>{paragraphs}"
        )
        return self.base + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def pages() -> Iterator[ArticlePages]:
    served = ArticlePages()
    yield served
    served.close()


@pytest.fixture(scope="module")
def linked(
    tmp_path_factory: pytest.TempPathFactory, pages: ArticlePages, embedder
) -> NewsdeskService:
    """The real service over the seed article, whose link is its page on `pages`."""
    article = seed_article()
    url = pages.add("/news/blinken", article["title"], article["text"])
    return service_over(tmp_path_factory.mktemp("linked"), [seed_article(url)], embedder)


@pytest.fixture(scope="module")
def linked_url(built_index: Path, linked: NewsdeskService) -> Iterator[str]:
    with serve_in_thread(create_app(settings_for(built_index), service=linked)) as url:
        yield url


def paragraph_of(text: str, at: int) -> int:
    """Which paragraph (as served by ArticlePages) holds offset `at`."""
    return text[:at].count("\n\n")


def landed_on(page: Page, paragraph: int) -> None:
    """The browser scrolled `paragraph` to the middle of the window and highlighted it (its
    picture differs from the same paragraph on the page opened without the fragment)."""
    page.wait_for_function("window.scrollY > 0")
    middle = "document.elementFromPoint(innerWidth / 2, innerHeight / 2)?.closest('p')?.id"
    assert page.evaluate(middle) == f"p{paragraph}"
    highlighted = page.locator(f"#p{paragraph}").screenshot()
    plain = page.context.new_page()
    plain.goto(page.url.split("#")[0])
    assert plain.locator(f"#p{paragraph}").screenshot() != highlighted
    plain.close()


def test_ask_over_http_links_each_citation_to_its_quote(
    built_index: Path, linked: NewsdeskService
) -> None:
    with TestClient(create_app(settings_for(built_index), service=linked)) as client:
        response = client.post("/ask", json={"question": SEED_QUESTION})
        schema = client.get("/openapi.json").json()

    assert response.status_code == 200
    citations = response.json()["citations"]
    assert citations and all(c["deep_url"].startswith(c["url"] + "#:~:text=") for c in citations)
    text = seed_article()["text"]
    for citation in citations:
        directive = directive_of(citation["deep_url"])
        quote_words = citation["quote"].lower().split()
        assert quote_words[: len(directive.start.split())] == directive.start.lower().split()
        quoted = (citation["start"], citation["start"] + len(citation["quote"].rstrip()))
        assert find_text(text, directive) == quoted
    assert "deep_url" in schema["components"]["schemas"]["CitationOut"]["properties"]


def test_the_chat_page_source_link_opens_the_article_at_the_quote(
    browser: Browser, linked_url: str
) -> None:
    with chat_page(browser, linked_url) as page:
        page.fill("#question", SEED_QUESTION)
        with page.expect_response("**/ask") as asked:
            page.press("#question", "Enter")
        cited = asked.value.json()["citations"][0]
        answer = page.locator(".msg.bot.answer").last
        answer.locator("button.cite").first.click()
        link = answer.locator(".source .source-title a").first
        expect(link).to_have_attribute("href", cited["deep_url"])

        with page.context.expect_page() as opened:
            link.click()
        article = opened.value
        article.wait_for_load_state()
        landed_on(article, paragraph_of(seed_article()["text"], cited["start"]))
        article.close()


def test_the_browser_skips_an_earlier_sentence_that_starts_alike(
    browser: Browser, pages: ArticlePages
) -> None:
    url = pages.add("/news/talks", "Talks", REPEATED)
    start, end = span(REPEATED, "the talks had failed on Monday", 2)
    linked = deep_url(url, REPEATED, start, end)
    assert linked is not None and directive_of(linked).prefix == "aides said"
    unprefixed = url + "#:~:" + TextDirective(REPEATED[start:end]).encoded()

    context = browser.new_context(viewport={"width": 800, "height": 600})
    try:
        prefixed, plain = context.new_page(), context.new_page()
        prefixed.goto(linked)
        plain.goto(unprefixed)
        landed_on(prefixed, paragraph_of(REPEATED, start))
        # without the prefix the browser stops at the first paragraph's "the talks had failed"
        landed_on(plain, 0)
    finally:
        context.close()
