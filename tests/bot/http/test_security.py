"""Security properties of the HTTP edge (SECURITY.md lists each with the test that checks it).

A one-purpose corpus carries the attacks: article text, titles and URLs with markup and script
URLs, indexed with the real model; the page is checked in headless Chromium against a real
uvicorn server, the headers over real HTTP.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from pydantic import ValidationError

from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.settings import Settings
from tests.bot.http.browser import chat_page
from tests.bot.http.live_server import serve_in_thread
from tests.cli.process import run_newsdesk, user_env

ADMIN_TOKEN = "adm-7f3c9e1b5d2a4c68"
TELEGRAM_TOKEN = "424242:AAH-sec-test-9b8c7d6e5f4a3b2c1d0e"
WRONG_BEARER = {"Authorization": "Bearer x"}

PWN = "window.__pwned = 'XSS'; document.title = 'pwned'"
IMG = f'<img src=x onerror="{PWN}">'
SCRIPT = f"<script>{PWN}</script>"
HOSTILE_TITLE = f"Quillport council {IMG} sets budget {SCRIPT}"
HOSTILE_SENTENCE = f"The Quillport harbour council approved a budget of 7 million crowns {IMG}."
HOSTILE_TEXT = (
    f"{HOSTILE_SENTENCE} The treasurer said the vote {SCRIPT} was five to three on Monday. "
    "The Quillport harbour budget pays for new cranes and a longer breakwater."
)
SCRIPT_URL = " JaVaScRiPt:window.__pwned='link'"  # stored without the leading space
HOSTILE_QUESTION = "What budget did the Quillport harbour council approve?"
LINKED_QUESTION = "Why did the Quillport lighthouse keepers strike?"
UNSAFE_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/",
    "/relative/path",
    "not a url",
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:
    """(corpus, index dir): the hostile article, and a plain one with an https link."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("hostile-http")
    corpus = root / "corpus"
    corpus.mkdir()
    articles = [
        {
            "id": "hostile-xss",
            "title": HOSTILE_TITLE,
            "source": "Tribune <b>Local</b>",
            "date": "2024-02-05",
            "url": SCRIPT_URL,
            "text": HOSTILE_TEXT,
        },
        {
            "id": "lighthouse",
            "title": "Quillport lighthouse keepers strike over pay",
            "source": "Harbour Post",
            "date": "2024-02-06",
            "url": "https://news.example.org/lighthouse?a=1&b=2",
            "text": "The lighthouse keepers of Quillport went on strike on Tuesday over unpaid "
            "night shifts, their union said. The keepers strike because their pay has not "
            "risen in six years.",
        },
    ]
    lines = "".join(json.dumps(article) + "\n" for article in articles)
    (corpus / "articles.jsonl").write_text(lines, encoding="utf-8")
    build_index(corpus, root / "index", embedder)
    return corpus, root / "index"


@pytest.fixture(scope="module")
def hostile_service(hostile_index: tuple[Path, Path], embedder) -> NewsdeskService:
    corpus, index_dir = hostile_index
    return NewsdeskService(Settings(_env_file=None, index_dir=index_dir, corpus=corpus), embedder)


def hostile_settings(hostile_index: tuple[Path, Path], **changes: object) -> Settings:
    corpus, index_dir = hostile_index
    return Settings(_env_file=None, index_dir=index_dir, corpus=corpus, **changes)


@pytest.fixture(scope="module")
def base_url(hostile_index: tuple[Path, Path], hostile_service: NewsdeskService) -> Iterator[str]:
    app = create_app(hostile_settings(hostile_index), service=hostile_service)
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def client(hostile_index: tuple[Path, Path], hostile_service) -> Iterator[TestClient]:
    settings = hostile_settings(hostile_index, admin_token=ADMIN_TOKEN)
    with TestClient(create_app(settings, service=hostile_service)) as test_client:
        yield test_client


def no_index_client(tmp_path: Path, **changes: object) -> TestClient:
    """An app over an empty index dir: enough for headers, CORS and auth (no model loads)."""
    settings = Settings(_env_file=None, index_dir=tmp_path / "none", corpus=tmp_path, **changes)
    return TestClient(create_app(settings))


# --- 1. the admin token ----------------------------------------------------------------------


def test_admin_token_is_checked_with_compare_digest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def recording(presented: bytes, expected: bytes) -> bool:
        calls.append((presented, expected))
        return hmac.compare_digest(presented, expected)

    monkeypatch.setattr(secrets, "compare_digest", recording)
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    missing = client.post("/admin/reindex")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert calls == []  # nothing to compare without a token
    wrong = client.post("/admin/reindex", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 403
    assert calls[-1] == (b"wrong", ADMIN_TOKEN.encode())
    started = client.post("/admin/reindex", headers=bearer)
    assert started.status_code == 202, started.text
    assert calls[-1] == (ADMIN_TOKEN.encode(), ADMIN_TOKEN.encode())
    deadline = time.monotonic() + 120
    while client.get("/admin/reindex", headers=bearer).json()["state"] == "running":
        assert time.monotonic() < deadline, "the reindex did not finish"
        time.sleep(0.1)
    assert client.get("/admin/reindex", headers=bearer).json()["state"] == "succeeded"

    # compare_digest alone decides: no other comparison lets a token through or keeps it out.
    monkeypatch.setattr(secrets, "compare_digest", lambda presented, expected: True)
    assert client.get("/admin/reindex", headers=WRONG_BEARER).status_code == 200
    monkeypatch.setattr(secrets, "compare_digest", lambda presented, expected: False)
    assert client.get("/admin/reindex", headers=bearer).status_code == 403


def test_admin_routes_do_not_exist_without_a_token(tmp_path: Path) -> None:
    with no_index_client(tmp_path) as plain:
        for method in ("GET", "POST"):
            response = plain.request(method, "/admin/reindex", headers=WRONG_BEARER)
            assert response.status_code == 404


def test_admin_reindex_takes_no_input(client: TestClient) -> None:
    """The admin route only re-reads the configured NEWSDESK_CORPUS: a request cannot name a
    folder, a file or an index directory."""
    operation = client.get("/openapi.json").json()["paths"]["/admin/reindex"]["post"]
    assert "requestBody" not in operation and not operation.get("parameters")


# --- 2. article text and titles are text in the page ------------------------------------------


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    with chat_page(browser, base_url) as page:
        yield page


def ask_in_page(page: Page, question: str):
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator(".msg.bot:not(.pending)").last
    expect(answer).to_be_visible()
    return answer


def test_hostile_article_is_shown_as_text_and_runs_nothing(page: Page) -> None:
    answer = ask_in_page(page, HOSTILE_QUESTION)
    expect(answer).to_have_class("msg bot answer")
    expect(answer.locator(".answer-text")).to_contain_text(IMG)
    answer.locator("button.cite").first.click()
    card = answer.locator(".source").first
    expect(card).to_be_visible()
    expect(card.locator(".source-title")).to_contain_text(HOSTILE_TITLE)
    expect(card.locator(".passage")).to_contain_text(SCRIPT)
    expect(card.locator(".source-meta")).to_contain_text("Tribune <b>Local</b>")

    # The markup stayed text: no element was made from it, nothing ran.
    assert page.locator("#log img, #log script, #log b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.title() == "newsdesk"
    # The javascript: URL did not become a link (the title is plain text).
    assert card.locator("a").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_only_http_links_are_made(page: Page) -> None:
    answer = ask_in_page(page, LINKED_QUESTION)
    link = answer.locator(".source-title a")
    # the article's link, with a text fragment that opens it at the quote
    expect(link).to_have_attribute(
        "href", re.compile(r"^https://news\.example\.org/lighthouse\?a=1&b=2#:~:text=[^#<>\"]+$")
    )
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # The page's own check, for every unsafe form, in the browser's URL parser.
    made = page.evaluate("urls => urls.map(safeUrl)", UNSAFE_URLS)
    assert made == [None] * len(UNSAFE_URLS)
    assert page.evaluate("safeUrl('HTTPS://News.Example.org/x')") == "https://news.example.org/x"


def test_the_policy_would_stop_markup_that_slipped_through(browser: Browser, base_url: str) -> None:
    """Defence in depth: even article markup inserted as HTML could not run script, because
    the page's Content-Security-Policy allows no inline script or event handler."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/")
    violated = page.evaluate(
        """html => new Promise(resolve => {
            document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
            const box = document.createElement('div');
            box.innerHTML = html;
            document.body.append(box);
            const script = document.createElement('script');
            script.textContent = "window.__pwned = 'inline'";
            document.body.append(script);
        })""",
        f'<img src="data:," onerror="{PWN}">',
    )
    assert violated.startswith("script-src")
    assert page.evaluate("window.__pwned") is None and page.title() == "newsdesk"
    context.close()


# --- 3. headers --------------------------------------------------------------------------------


def test_page_static_files_and_json_carry_security_headers(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        page = http.get("/")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "script-src" not in csp  # so scripts fall under default-src 'self'
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        responses = [
            page,
            http.get("/static/chat.js"),
            http.get("/static/chat.css"),
            http.get("/health"),
            http.post("/ask", json={"question": HOSTILE_QUESTION}),
            http.post("/ask", json={"question": ""}),  # 422
            http.post("/ask", content=b"x" * 70_000, headers={"content-type": "application/json"}),
            http.get("/articles/no-such-id"),
            http.get("/no/such/route"),
        ]
        for response in responses:
            where = f"{response.request.method} {response.request.url.path} {response.status_code}"
            assert response.headers["x-content-type-options"] == "nosniff", where
            assert response.headers["referrer-policy"] == "no-referrer", where
            assert response.headers["x-frame-options"] == "DENY", where
            if response.request.url.path != "/":
                assert response.headers["content-security-policy"].startswith(
                    "default-src 'none'"
                ), where
        assert [r.status_code for r in responses[4:]] == [200, 422, 413, 404, 404]
        assert "javascript" in responses[1].headers["content-type"]
        assert responses[2].headers["content-type"].startswith("text/css")
        assert responses[3].headers["content-type"] == "application/json"


# --- 4. URLs from articles in the JSON -----------------------------------------------------------


def test_json_keeps_an_article_url_as_data(client: TestClient) -> None:
    """The API returns the article's URL as it was stored (a string, never interpreted); the
    page and Telegram decide what becomes a link (see the tests above and test_render.py)."""
    answer = client.post("/ask", json={"question": HOSTILE_QUESTION}).json()
    assert answer["citations"][0]["article_id"] == "hostile-xss"
    assert answer["citations"][0]["url"] == SCRIPT_URL.strip()
    assert client.get("/articles/hostile-xss").json()["url"] == SCRIPT_URL.strip()


# --- 5. CORS -------------------------------------------------------------------------------------

EVIL = "https://evil.example"
FRIEND = "https://news.example.org"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_cors_is_off_by_default(tmp_path: Path) -> None:
    with no_index_client(tmp_path) as http:
        simple = http.get("/health", headers={"Origin": EVIL})
        assert "access-control-allow-origin" not in simple.headers
        preflight = http.options("/ask", headers={"Origin": EVIL, **PREFLIGHT})
        assert "access-control-allow-origin" not in preflight.headers
        assert preflight.status_code == 405


def test_cors_allows_only_the_configured_origins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_CORS_ORIGINS", f"{FRIEND}/, http://localhost:3000")
    settings = Settings(_env_file=None, index_dir=tmp_path / "none", corpus=tmp_path)
    assert settings.cors_origins == [FRIEND, "http://localhost:3000"]
    with TestClient(create_app(settings)) as http:
        allowed = http.get("/health", headers={"Origin": FRIEND})
        assert allowed.headers["access-control-allow-origin"] == FRIEND
        assert "access-control-allow-credentials" not in allowed.headers
        preflight = http.options("/ask", headers={"Origin": FRIEND, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == FRIEND
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["x-content-type-options"] == "nosniff"
        other = http.get("/health", headers={"Origin": EVIL})
        assert "access-control-allow-origin" not in other.headers
        refused = http.options("/ask", headers={"Origin": EVIL, **PREFLIGHT})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


def test_cors_credentials_and_any_origin(tmp_path: Path) -> None:
    with no_index_client(tmp_path, cors_origins=[FRIEND], cors_allow_credentials=True) as http:
        response = http.get("/health", headers={"Origin": FRIEND})
        assert response.headers["access-control-allow-origin"] == FRIEND
        assert response.headers["access-control-allow-credentials"] == "true"
        assert (
            "access-control-allow-origin"
            not in http.get("/health", headers={"Origin": EVIL}).headers
        )
    with no_index_client(tmp_path, cors_origins="*") as http:
        response = http.get("/health", headers={"Origin": EVIL})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("origins", "credentials", "message"),
    [
        ("*", True, "cannot go with NEWSDESK_CORS_ORIGINS=*"),
        (f"*, {FRIEND}", False, "give it alone"),
        ("news.example.org", False, "is not an origin"),
        (f"{FRIEND}/path", False, "is not an origin"),
        ("ftp://news.example.org", False, "is not an origin"),
        ("https://user@news.example.org", False, "is not an origin"),
        ("https://news.example.org:99999", False, "is not an origin"),
    ],
)
def test_unsafe_cors_settings_are_refused(origins: str, credentials: bool, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        Settings(
            _env_file=None,
            cors_origins=origins,
            cors_allow_credentials=credentials,
            telegram_token=TELEGRAM_TOKEN,
            admin_token=ADMIN_TOKEN,
        )
    assert TELEGRAM_TOKEN not in str(refused.value) and ADMIN_TOKEN not in str(refused.value)


# --- 6. secrets stay out of logs, errors and reprs ------------------------------------------------


def test_no_secret_in_http_logs_or_answers(
    hostile_index: tuple[Path, Path],
    hostile_service: NewsdeskService,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "uvicorn", "fastapi", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    settings = hostile_settings(
        hostile_index, admin_token=ADMIN_TOKEN, telegram_token=TELEGRAM_TOKEN
    )
    app = create_app(settings, service=hostile_service)
    bodies: list[str] = []
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for authorization in ("Bearer wrong", f"Bearer {ADMIN_TOKEN[:-1]}", "Basic eDp5"):
            response = http.get("/admin/reindex", headers={"Authorization": authorization})
            assert response.status_code in {401, 403}
            bodies.append(response.text + str(response.headers))
        for response in (
            http.post("/ask", content=b"{oops", headers={"content-type": "application/json"}),
            http.post("/ask", json={"question": "x", "k": 999, "session_id": "no spaces"}),
            http.post("/ask", content=b"x" * 70_000),
            http.get("/search"),
            http.get("/articles/" + "x" * 600),
            http.get("/health"),
            http.get("/openapi.json"),
        ):
            bodies.append(response.text + str(response.headers))
    logged = caplog.text + "".join(capfd.readouterr())
    assert "HTTP Request" in caplog.text  # httpx did log its requests at this level
    for secret in (ADMIN_TOKEN, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in logged
        assert not [body for body in bodies if secret in body]


def test_settings_never_show_their_secrets() -> None:
    settings = Settings(_env_file=None, admin_token=ADMIN_TOKEN, telegram_token=TELEGRAM_TOKEN)
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())]
    for text in shown:
        assert ADMIN_TOKEN not in text and TELEGRAM_TOKEN not in text
    # A mistake elsewhere in the configuration does not echo the tokens either.
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, admin_token=ADMIN_TOKEN, telegram_token=TELEGRAM_TOKEN, threads=-1)
    assert ADMIN_TOKEN not in str(refused.value) and TELEGRAM_TOKEN not in str(refused.value)


@pytest.mark.parametrize("placeholder", ["changeme", " CHANGEME ", "secret", "token", "xxx"])
def test_placeholder_secrets_are_refused_without_being_echoed(placeholder: str) -> None:
    for field in ("admin_token", "telegram_token"):
        with pytest.raises(ValidationError, match="placeholder") as refused:
            Settings(_env_file=None, **{field: placeholder})
        assert f"input_value='{placeholder}'" not in str(refused.value)


def test_cli_settings_error_does_not_print_the_token(tmp_path: Path) -> None:
    env = user_env(
        index_dir=tmp_path / "index",
        telegram_token=TELEGRAM_TOKEN,
        admin_token=ADMIN_TOKEN,
        cors_origins="*",
        cors_allow_credentials="true",
    )
    done = run_newsdesk("index", "stats", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "NEWSDESK_CORS_ALLOW_CREDENTIALS" in done.stderr
    assert "Traceback" not in done.stderr
    for secret in (TELEGRAM_TOKEN, ADMIN_TOKEN):
        assert secret not in done.stderr + done.stdout


# --- other points of SECURITY.md ------------------------------------------------------------------


def test_http_cannot_reach_telegram_conversations(client: TestClient) -> None:
    """With `serve --telegram` both edges share one service; Telegram's sessions ("tg:<chat>")
    hold a chat's questions, and no HTTP route can read, continue or delete them."""
    service: NewsdeskService = client.app.state.newsdesk.service  # type: ignore[attr-defined]
    service.ask(LINKED_QUESTION, session_id="tg:4242")
    assert client.post("/sessions/tg:4242/more").status_code == 422
    assert client.delete("/sessions/tg:4242").status_code == 422
    hijack = client.post("/ask", json={"question": "And why?", "session_id": "tg:4242"})
    assert hijack.status_code == 422
    assert len(service.sessions.find("tg:4242").turns) == 1


def test_issued_session_ids_are_long_and_random(client: TestClient) -> None:
    issued = {
        client.post("/ask", json={"question": LINKED_QUESTION}).json()["session_id"]
        for _ in range(20)
    }
    assert len(issued) == 20
    for session_id in issued:  # secrets.token_urlsafe(12): 96 random bits
        assert len(session_id) == 16 and session_id.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    "path",
    [
        "/articles/../../../../etc/passwd",
        "/articles/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/articles/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/articles/' OR '1'='1",
        "/static/../app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e/%2e%2e/settings.py",
    ],
)
def test_paths_cannot_leave_the_index_or_static_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text and "import" not in response.text


def test_request_bodies_are_capped_at_64_kib(client: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    assert client.post("/ask", content=b" " * 70_000, headers=json_type).status_code == 413

    def stream() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(70):
            yield b" " * 1024

    streamed = client.post("/ask", content=stream(), headers=json_type)
    assert streamed.status_code == 413


def test_serve_listens_on_loopback_by_default() -> None:
    import inspect

    from bot.cli.app import serve
    from bot.http.app import run_server

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(run_server).parameters["host"].default == "127.0.0.1"


HOSTILE_SOURCE = "Wire [/bold] [link=https://evil.example]Reuters[/link] \x1b]0;pwned\x07\x1b[2J"


def test_hostile_corpus_files_neither_run_code_nor_fetch(tmp_path: Path, embedder) -> None:
    """Corpus files are parsed, never executed or followed: YAML tags that would run code are
    refused, and an HTML page's scripts, images and links are not fetched (the test run fails
    any connection beyond 127.0.0.1). `newsdesk index stats` shows what the corpus says
    (source names, file names) as text: no terminal markup or escape sequence gets through."""
    from index.build import build_index

    marker = tmp_path / "ran"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil.md").write_text(
        f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n"
        "The ferry to Quillport runs twice a day in winter.\n",
        encoding="utf-8",
    )
    (corpus / "page.html").write_text(
        "<html><head><title>Quillport ferry timetable</title>"
        '<link rel="canonical" href="https://news.example.org/ferry">'
        '<script src="http://10.1.2.3/x.js"></script></head><body><article>'
        '<h1>Quillport ferry timetable</h1><img src="http://10.1.2.3/pixel.gif">'
        "<p>The Quillport ferry will run three times a day from March, the harbour office said "
        "on Friday, after complaints from islanders about the winter timetable.</p>"
        "<p>Tickets for the new morning crossing go on sale next week.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    wire = {"source": HOSTILE_SOURCE, "text": "The Quillport ferry crew voted to strike."}
    (corpus / "wire.json").write_text(json.dumps(wire), encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", embedder)
    assert not marker.exists()
    assert [s.origin for s in report.skipped] == ["evil.md"]
    assert report.articles == 2

    env = user_env(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    done = run_newsdesk("index", "stats", env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Wire [/bold]" in done.stdout  # rich would have failed on an unmatched tag
    assert "[link=https://evil.example]Reuters[/link]" in done.stdout  # not made a link
    assert "\x1b" not in done.stdout and "\ufffd]0;pwned" in done.stdout
