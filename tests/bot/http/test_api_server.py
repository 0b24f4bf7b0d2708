"""One real uvicorn server on 127.0.0.1, driven over HTTP by httpx."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.http.app import create_app
from bot.settings import Settings
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import settings_for

SEED_QUESTION = "What did Blinken say about a multinational force?"
ADMIN_TOKEN = "reindex-test-token-81c2"
NEW_ARTICLE = """\
---
title: Zorblax harbour reopens after storm
source: Test Wire
date: 2023-11-20
---
The Zorblax harbour reopened on Monday after a week-long closure caused by the storm,
the port authority said. Fishing boats were the first to leave the harbour at dawn.
"""


@pytest.fixture(scope="module")
def live(built_index: Path) -> Iterator[tuple[str, FastAPI]]:
    app = create_app(settings_for(built_index))
    with serve_in_thread(app) as base_url:
        yield base_url, app


@pytest.fixture
def server(live: tuple[str, FastAPI]) -> str:
    return live[0]


def test_real_server_answers_and_serves_the_page(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        answer = client.post("/ask", json={"question": SEED_QUESTION})
        assert answer.status_code == 200
        assert answer.json()["citations"][0]["source"] == "Bloomberg"
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        script = client.get("/static/chat.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert client.get("/health").json()["status"] == "ok"


def test_concurrent_requests_all_succeed(server: str) -> None:
    questions = [
        SEED_QUESTION,
        "How many people did Hamas kill on Oct. 7?",
        "Who did Blinken meet with?",
        "Does Iran back Hezbollah?",
    ]

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=server, timeout=60) as client:
            calls = [
                client.post("/ask", json={"question": questions[i % len(questions)]})
                for i in range(24)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(run()) == [200] * 24


def test_slow_work_does_not_block_the_event_loop(
    live: tuple[str, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a service call is busy in its worker thread, other requests are still answered."""
    server, app = live
    service = app.state.newsdesk.service

    def slow_search(*args: Any, **kwargs: Any) -> list[Any]:
        time.sleep(1.5)
        return []

    monkeypatch.setattr(service, "search", slow_search)
    with httpx.Client(base_url=server, timeout=30) as client:
        slow = threading.Thread(target=client.get, args=("/search",), kwargs={"params": {"q": "x"}})
        slow.start()
        time.sleep(0.2)
        started = time.perf_counter()
        assert client.get("/health").status_code == 200
        assert time.perf_counter() - started < 0.5
        slow.join()


def test_reindex_while_requests_run_loses_none(built_index: Path, tmp_path: Path) -> None:
    """Requests keep succeeding while the admin reindex builds and swaps in a new index."""
    index_dir = tmp_path / "index"
    corpus = tmp_path / "corpus"
    shutil.copytree(built_index, index_dir, symlinks=True)
    shutil.copytree(settings_for(built_index).corpus, corpus)
    (corpus / "zorblax.md").write_text(NEW_ARTICLE, encoding="utf-8")
    settings = Settings(_env_file=None, index_dir=index_dir, corpus=corpus, admin_token=ADMIN_TOKEN)
    statuses: Counter[str] = Counter()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                try:
                    if worker % 2:
                        r = client.post("/ask", json={"question": SEED_QUESTION})
                    else:
                        r = client.get("/search", params={"q": "harbour storm Gaza"})
                    statuses[str(r.status_code)] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1

    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with (
        serve_in_thread(create_app(settings)) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as admin,
    ):
        workers = [threading.Thread(target=load, args=(i,)) for i in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.3)
        started = admin.post("/admin/reindex", headers=auth)
        assert started.status_code == 202, started.text
        assert admin.post("/admin/reindex", headers=auth).status_code in {202, 409}
        deadline = time.monotonic() + 120
        status = admin.get("/admin/reindex", headers=auth).json()
        while status["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = admin.get("/admin/reindex", headers=auth).json()
        time.sleep(0.3)  # a few requests against the new index too
        stop.set()
        for worker in workers:
            worker.join()
        found = admin.get("/search", params={"q": "Zorblax harbour", "k": 1}).json()["results"]

    assert status["state"] == "succeeded", status
    assert status["last_result"]["added_articles"] == 1
    assert set(statuses) == {"200"}, statuses
    assert statuses["200"] >= 8
    assert found and found[0]["title"] == "Zorblax harbour reopens after storm"
