"""The Qdrant backend answers exactly as the local index: the newsroom corpus built once, copied
into an embedded Qdrant store, and every test question asked of both."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.service import NewsdeskService
from index.backend import SearchFilters
from index.build import build_index
from index.qdrant_collection import connect
from index.qdrant_publish import publish_current
from tests.conftest import REPO, SEED_CORPUS, settings_for

NEWSROOM = REPO / "tests" / "data" / "newsroom"
SEED_QUESTIONS = [
    line.split("|")[0].strip()
    for line in (REPO / "tests" / "data" / "seed_questions.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
NEWSROOM_QUESTIONS = [
    "What did Arab ministers press Blinken for?",
    "Where did Arab foreign ministers meet Blinken?",
    "What price did Brent crude fall to?",
    "Who won the chess final?",
    "What did the central bank decide?",
    "What did Blinken say about the price of Norwegian salmon?",
    "Who painted the Mona Lisa?",
    "What do you have on Blinken?",
    "What did Powell say about interest rates?",
]
FILTERS = [
    SearchFilters(),
    SearchFilters(sources=("reuters", "Bloomberg")),
    SearchFilters(since=date(2023, 11, 4)),
    SearchFilters(until=date(2023, 6, 30)),
    SearchFilters(sources=("Nobody News",)),
]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[NewsdeskService, ...]:
    root = tmp_path_factory.mktemp("parity")
    corpus = root / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    index_dir = root / "index"
    build_index(corpus, index_dir, embedder)
    client = connect(str(root / "qdrant"))
    publish_current(index_dir, client, "newsdesk-", incremental=False)
    client.close()
    local = NewsdeskService(settings_for(index_dir), embedder)
    remote_settings = settings_for(index_dir, backend="qdrant", qdrant_url=str(root / "qdrant"))
    remote = NewsdeskService(remote_settings, embedder)
    yield local, remote
    remote.retriever.reader.close()


@pytest.mark.parametrize("question", SEED_QUESTIONS + NEWSROOM_QUESTIONS)
def test_same_passages_and_answers_on_both_backends(
    both: tuple[NewsdeskService, NewsdeskService], question: str
) -> None:
    local, remote = both
    for filters in FILTERS:
        on_local = local.search(question, k=5, filters=filters, as_of=date(2023, 11, 5))
        on_qdrant = remote.search(question, k=5, filters=filters, as_of=date(2023, 11, 5))
        assert [(p.chunk_id, p.text) for p in on_qdrant] == [(p.chunk_id, p.text) for p in on_local]
        assert [p.score for p in on_qdrant] == pytest.approx([p.score for p in on_local], abs=1e-5)
        asked = {"filters": filters, "as_of": date(2023, 11, 5)}
        answers = [replace(s.ask(question, **asked), session_id=None) for s in both]
        assert answers[1] == answers[0]


def test_summaries_agree(both: tuple[NewsdeskService, NewsdeskService]) -> None:
    local, remote = both
    mine, theirs = local.summary(), remote.summary()
    assert replace(theirs, path="", size_bytes=0) == replace(mine, path="", size_bytes=0)


def test_a_failed_build_leaves_the_alias_and_removes_the_partial_collection(
    both: tuple[NewsdeskService, NewsdeskService], tmp_path: Path
) -> None:
    """A build that fails half-way (here: a vector of the wrong size) changes nothing served."""
    from index.qdrant_publish import current_collection, publish_generation

    local, remote = both
    reader = remote.retriever.reader
    before = current_collection(reader.client, "newsdesk-")
    collections = {c.name for c in reader.client.get_collections().collections}
    broken = local.retriever.reader.reader
    original = broken.manifest
    broken.manifest = replace(original, dimension=3)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever Qdrant raises for it
            publish_generation(broken, reader.client, "newsdesk-")
    finally:
        broken.manifest = original
    assert current_collection(reader.client, "newsdesk-") == before
    assert {c.name for c in reader.client.get_collections().collections} == collections
    assert reader.is_current()
