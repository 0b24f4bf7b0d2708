"""Faults seen over HTTP, on a real uvicorn server on 127.0.0.1: a reindex that dies half-way,
a damaged index, and many conversations at once that must not cross."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.settings import Settings
from index.build import build_index
from index.layout import current_generation
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import REPO, SEED_CORPUS, settings_for

SEED_QUESTION = "What did Blinken say about a multinational force?"
ADMIN_TOKEN = "faults-test-token-5d1e"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEWSROOM = REPO / "tests" / "data" / "newsroom"


def add_fillers(corpus: Path, count: int = 40) -> None:
    """Articles enough that a new generation's meta.sqlite outgrows a small file size limit."""
    for i in range(count):
        text = " ".join(
            f"Sentence {j} of filler report {i} on the Quillfen harbour works." for j in range(60)
        )
        record = {"id": f"filler-{i}", "title": f"Quillfen harbour report {i}",
                  "source": "Test Wire", "date": "2023-11-20", "text": text}  # fmt: skip
        (corpus / f"filler-{i}.json").write_text(json.dumps(record))


@pytest.fixture
def admin_setup(built_index: Path, tmp_path: Path, embedder) -> tuple[Settings, NewsdeskService]:
    """A writable copy of the seed index, a corpus with more articles to reindex, an admin token,
    and a service loaded over that copy."""
    index_dir, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(built_index, index_dir, symlinks=True)
    shutil.copytree(SEED_CORPUS, corpus)
    add_fillers(corpus)
    settings = Settings(_env_file=None, index_dir=index_dir, corpus=corpus, admin_token=ADMIN_TOKEN)
    return settings, NewsdeskService(settings, embedder)


def reindex_child(known: set[int], timeout: float = 30) -> psutil.Process:
    """The process the server spawned for the reindex (multiprocessing's spawn_main)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process().children():
            try:
                if child.pid not in known and "spawn_main" in " ".join(child.cmdline()):
                    return child
            except psutil.Error:  # gone, or not yet exec'd
                continue
        time.sleep(0.005)
    raise TimeoutError("no reindex process appeared")


def wait_for_reindex(admin: httpx.Client, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status = admin.get("/admin/reindex", headers=AUTH).json()
    while status["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = admin.get("/admin/reindex", headers=AUTH).json()
    return status


def wait_for_progress(
    admin: httpx.Client, reached: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> None:
    """Wait until the running reindex reports progress that satisfies `reached`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = admin.get("/admin/reindex", headers=AUTH).json()
        assert status["state"] == "running", status
        if status["progress"] and reached(status["progress"]):
            return
        time.sleep(0.005)
    raise TimeoutError("the reindex did not reach that point")


def citations(answer: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(c["article_id"], c["start"], c["end"]) for c in answer["citations"]]


@contextmanager
def admin_client(settings: Settings, service: NewsdeskService) -> Iterator[httpx.Client]:
    """A client of a real server over `service` with the admin routes on."""
    with (
        serve_in_thread(create_app(settings, service=service)) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        yield client


def reindex_disturbed(
    client: httpx.Client, disturb: Callable[[psutil.Process], None]
) -> dict[str, Any]:
    """Start an admin reindex, `disturb` its process, and return the job's final status."""
    known = {child.pid for child in psutil.Process().children()}
    assert client.post("/admin/reindex", headers=AUTH).status_code == 202
    disturb(reindex_child(known))
    return wait_for_reindex(client)


def assert_old_index_answers(
    client: httpx.Client, before: dict[str, Any], settings: Settings, generation: Path
) -> None:
    """The same answer and citations as before the failed reindex, from the same generation,
    with nothing of the new one left behind."""
    after = client.post("/ask", json={"question": SEED_QUESTION})
    assert after.status_code == 200
    assert citations(after.json()) == citations(before) != []
    assert after.json()["answer"] == before["answer"]
    assert current_generation(settings.index_dir) == generation
    assert not list(settings.index_dir.glob("gen-*.partial"))


def test_a_reindex_that_runs_out_of_disk_leaves_the_old_index_answering(admin_setup) -> None:
    """The reindex process hits a file size limit while writing the new generation (as on a full
    disk): the job reports failed with the reason, /ask answers from the old index as before,
    nothing of the new generation is left, and the next reindex succeeds."""
    settings, service = admin_setup
    generation = current_generation(settings.index_dir)

    def limit_file_size(child: psutil.Process) -> None:
        # Still importing and loading the model (seconds): nothing written yet.
        resource.prlimit(child.pid, resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    with admin_client(settings, service) as client:
        before = client.post("/ask", json={"question": SEED_QUESTION}).json()
        status = reindex_disturbed(client, limit_file_size)

        assert status["state"] == "failed", status
        assert "File too large" in status["error"] and "meta.sqlite" in status["error"]
        assert "previous index is still in use" in status["error"]
        assert_old_index_answers(client, before, settings, generation)

        assert client.post("/admin/reindex", headers=AUTH).status_code == 202
        status = wait_for_reindex(client)
        assert status["state"] == "succeeded", status
        assert status["last_result"]["added_articles"] == 40
        found = client.get("/search", params={"q": "Quillfen harbour works", "k": 1}).json()
        assert found["results"][0]["source"] == "Test Wire"


def test_a_reindex_whose_corpus_goes_away_half_way_leaves_the_old_index_answering(
    admin_setup,
) -> None:
    """The corpus folder is removed while the reindex is reading it (the reindex process is
    paused at that moment, so the timing is certain): failed, saying why; the old index serves."""
    settings, service = admin_setup
    add_fillers(settings.corpus, count=600)
    generation = current_generation(settings.index_dir)

    with admin_client(settings, service) as client:

        def remove_corpus_while_reading(child: psutil.Process) -> None:
            wait_for_progress(client, lambda p: p["phase"] == "reading" and p["done"] >= 50)
            child.suspend()
            try:
                shutil.rmtree(settings.corpus)
            finally:
                child.resume()

        before = client.post("/ask", json={"question": SEED_QUESTION}).json()
        status = reindex_disturbed(client, remove_corpus_while_reading)

        assert status["state"] == "failed", status
        assert "disappeared while it was being read" in status["error"]
        assert_old_index_answers(client, before, settings, generation)


def test_a_reindex_process_killed_half_way_is_reported_as_failed(admin_setup) -> None:
    """Killed (as by the out-of-memory killer): failed, saying so, and the old index serves."""
    settings, service = admin_setup
    generation = current_generation(settings.index_dir)
    with admin_client(settings, service) as client:
        before = client.post("/ask", json={"question": SEED_QUESTION}).json()
        status = reindex_disturbed(client, psutil.Process.kill)

        assert status["state"] == "failed", status
        assert status["error"] == (
            "The reindex process was killed by signal 9 (out of memory?) before it finished; "
            "the previous index is still in use."
        )
        assert_old_index_answers(client, before, settings, generation)


def test_a_damaged_index_answers_503_naming_the_file_until_rebuilt(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    vectors = index_dir / "current" / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:1000])
    app = create_app(settings_for(index_dir))
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        refused = client.post("/ask", json={"question": SEED_QUESTION})
        assert refused.status_code == 503
        detail = refused.json()["detail"]
        assert str(vectors.resolve()) in detail and "truncated" in detail
        assert f"newsdesk index build --index-dir {index_dir}" in detail

        app.state.newsdesk.reload_retry_s = 0
        assert client.get("/health").status_code == 503  # the same damaged generation: no retry
        build_index(SEED_CORPUS, index_dir, embedder)
        answered = client.post("/ask", json={"question": SEED_QUESTION})
        assert answered.status_code == 200, answered.text
        assert answered.json()["citations"][0]["source"] == "Bloomberg"


def test_metadata_damaged_under_a_running_server_is_503_naming_the_file(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    """The article text's page is overwritten after the index was loaded (the file's change
    counter bumped, as any writer does, so SQLite rereads it): 503 naming the file, not a 400."""
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    settings = settings_for(index_dir)
    app = create_app(settings, service=NewsdeskService(settings, embedder))
    metadata = (index_dir / "current" / "meta.sqlite").resolve()
    (article_id,) = app.state.newsdesk.service.retriever.reader.articles  # its text not read yet
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        data = bytearray(metadata.read_bytes())
        page = data.find(b"more must be done to protect") // 4096 * 4096
        data[page : page + 4096] = b"\xff" * 4096
        data[24:28] = (int.from_bytes(data[24:28], "big") + 1).to_bytes(4, "big")
        metadata.write_bytes(bytes(data))
        response = client.get(f"/articles/{article_id}")
    assert response.status_code == 503
    assert f"{metadata} is unreadable" in response.json()["detail"]
    assert "newsdesk index build" in response.json()["detail"]


# --- many conversations at once -------------------------------------------------------------

PEOPLE = [
    "Antony Blinken", "Benjamin Netanyahu", "Ayman Safadi", "Sameh Shoukry", "Jerome Powell",
    "Ding Liren", "Ian Nepomniachtchi", "Magnus Carlsen", "Hwang Dong-hyuk", "Seong Gi-hun",
]  # fmt: skip
PLACES = [
    "Tel Aviv", "Amman", "Gaza", "Rafah", "Astana", "Derna", "Cairo", "Jerusalem", "Washington",
    "Beijing", "Moscow", "Riyadh", "Tehran", "Athens", "Ankara", "Sofia", "Benghazi", "Tripoli",
    "London", "Seoul",
]  # fmt: skip
FOLLOW_UPS = ["Who did he meet with?", "And what about the ceasefire?", "What else did he say?",
              "Why?"]  # fmt: skip


def expected_rewrites(person: str, place: str) -> list[str | None]:
    """What each turn is searched as, from this conversation's own history alone."""
    return [
        None,
        f"Who did {person} meet with? ({place})",
        f"And what about the ceasefire? ({person}, {place})",
        f"What else did {person} say? ({place})",
        f"Why? (What else did {person} say? ({place}))",
    ]


@pytest.fixture(scope="module")
def newsroom_server(
    tmp_path_factory: pytest.TempPathFactory, embedder
) -> Iterator[tuple[str, NewsdeskService]]:
    """The seed article and tests/data/newsroom (Reuters in Amman, the Fed, chess, floods…)."""
    corpus = tmp_path_factory.mktemp("newsroom") / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    index_dir = corpus.parent / "index"
    build_index(corpus, index_dir, embedder)
    settings = settings_for(index_dir, corpus=corpus)
    service = NewsdeskService(settings, embedder)
    with serve_in_thread(create_app(settings, service=service)) as base_url:
        yield base_url, service


def test_200_concurrent_conversations_never_borrow_each_others_history(
    newsroom_server: tuple[str, NewsdeskService],
) -> None:
    """200 sessions of 5 turns at once, each about its own person and place: every follow-up
    is rewritten from its own session's turns (a crossed session would name someone else)."""
    base_url, _ = newsroom_server
    sessions = [(person, place) for place in PLACES for person in PEOPLE]
    assert len(sessions) == 200

    async def converse(client: httpx.AsyncClient, person: str, place: str) -> list[Any]:
        session_id, seen = None, []
        for question in [f"What did {person} say in {place}?", *FOLLOW_UPS]:
            body = {"question": question} | ({"session_id": session_id} if session_id else {})
            response = await client.post("/ask", json=body)
            assert response.status_code == 200, response.text
            answer = response.json()
            assert answer["query"] == question
            session_id = session_id or answer["session_id"]
            seen.append((answer["session_id"], answer["rewritten_query"]))
        return seen

    async def run_all() -> list[list[Any]]:
        # One pool for all: a connection serves one session, then another (a crossing keyed on
        # the connection would show). Idle connections are dropped before uvicorn's 5 s
        # keep-alive closes them, so none is reused just as the server closes it.
        limits = httpx.Limits(max_connections=200, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(converse(client, *session) for session in sessions))

    results = asyncio.run(run_all())

    ids = [turns[0][0] for turns in results]
    assert len(set(ids)) == 200
    for (person, place), turns, session_id in zip(sessions, results, ids, strict=True):
        assert [sid for sid, _ in turns] == [session_id] * 5
        assert [rewritten for _, rewritten in turns] == expected_rewrites(person, place)
