"""Writing to Qdrant beyond a first build: an update changes the aliased collection in place,
a rebuild switches the alias and drops the old collection, and either way of applying IDF
ranks BM25 as the local index does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.backend import SearchFilters
from index.build import build_index
from index.local_backend import LocalBackend
from index.qdrant_backend import QdrantBackend
from index.qdrant_collection import connect
from index.qdrant_publish import current_collection, publish_current, publish_generation
from index.store import open_index
from tests.conftest import REPO, SEED_CORPUS

NEWSROOM = REPO / "tests" / "data" / "newsroom"
QUESTIONS = [
    "What did Blinken say about a multinational force?",
    "What price did Brent crude fall to?",
    "Who won the chess final?",
    "What did the central bank decide?",
    "Where did Arab foreign ministers meet Blinken?",
]


@pytest.fixture
def newsroom(tmp_path: Path, embedder) -> tuple[Path, Path]:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    build_index(corpus, index_dir, embedder)
    return corpus, index_dir


def test_an_update_changes_the_collection_in_place(
    newsroom: tuple[Path, Path], tmp_path: Path, embedder
) -> None:
    corpus, index_dir = newsroom
    client = connect(str(tmp_path / "qdrant"))
    first = publish_current(index_dir, client, "newsdesk-", incremental=False)
    (corpus / "oil-prices.txt").unlink()
    record = {"id": "harbour", "title": "Quillfen harbour reopens", "source": "Test Wire",
              "date": "2023-11-20", "text": "The Quillfen harbour reopened on Monday after "
              "eight months of dredging, the port authority said."}  # fmt: skip
    (corpus / "harbour.json").write_text(json.dumps(record))
    build_index(corpus, index_dir, embedder, incremental=True)

    assert publish_current(index_dir, client, "newsdesk-", incremental=True) == first
    remote = QdrantBackend(client, str(tmp_path / "qdrant"))
    local = LocalBackend(open_index(index_dir))
    assert remote.summary().articles == local.summary().articles
    assert set(remote.articles) == set(local.articles) and "harbour" in remote.articles
    assert sorted(remote._chunks) == sorted(local.reader.lexical.chunk_ids.tolist())
    harbour = remote.search_both("Quillfen harbour dredging", None, 5, SearchFilters())[1]
    assert [remote.chunk(c).article_id for c in harbour][:1] == ["harbour"]
    assert remote.articles_of(list(harbour)) == local.articles_of(list(harbour))
    assert remote.articles_with_all(["brent"], SearchFilters()) == set()
    remote.close()


def test_an_update_that_only_changes_an_article_rewrites_its_chunks(
    newsroom: tuple[Path, Path], tmp_path: Path, embedder
) -> None:
    corpus, index_dir = newsroom
    client = connect(str(tmp_path / "qdrant"))
    publish_current(index_dir, client, "newsdesk-", incremental=False)
    article = corpus / "oil-prices.txt"
    article.write_text(article.read_text() + "\n\nTraders in Quillfen sold every barrel.\n")
    build_index(corpus, index_dir, embedder, incremental=True)

    publish_current(index_dir, client, "newsdesk-", incremental=True)
    remote = QdrantBackend(client, str(tmp_path / "qdrant"))
    local = LocalBackend(open_index(index_dir))
    assert sorted(remote._chunks) == sorted(local.reader.lexical.chunk_ids.tolist())
    found = remote.search_both("Quillfen barrel traders", None, 5, SearchFilters())[1]
    assert list(found) == list(local.lexical_search("Quillfen barrel traders", 5))
    assert "Quillfen" in remote.text(remote.chunk(next(iter(found))).article_id)
    remote.close()


def test_a_rebuild_switches_the_alias_and_keeps_one_collection_before_it(
    newsroom: tuple[Path, Path], tmp_path: Path
) -> None:
    _, index_dir = newsroom
    client = connect(str(tmp_path / "qdrant"))
    first = publish_current(index_dir, client, "newsdesk-", incremental=False)
    reading = QdrantBackend(client, str(tmp_path / "qdrant"))
    second = publish_current(index_dir, client, "newsdesk-", incremental=False)
    assert second != first and current_collection(client, "newsdesk-") == second
    assert not reading.is_current()  # a server reading the old one sees it must reload
    assert reading.text(next(iter(reading.articles)))  # and can still read it meanwhile
    third = publish_current(index_dir, client, "newsdesk-", incremental=False)
    assert sorted(c.name for c in client.get_collections().collections) == [second, third]
    client.close()


@pytest.mark.parametrize("idf", ["newsdesk", "qdrant"])
def test_bm25_ranks_as_the_local_index_with_either_idf(
    newsroom: tuple[Path, Path], tmp_path: Path, idf: str
) -> None:
    _, index_dir = newsroom
    reader = open_index(index_dir)
    client = connect(str(tmp_path / "qdrant"))
    publish_generation(reader, client, "newsdesk-", idf=idf)
    local, remote = LocalBackend(reader), QdrantBackend(client, str(tmp_path / "qdrant"))
    for question in QUESTIONS:
        mine = local.lexical_search(question, 10)
        theirs = remote.search_both(question, None, 10, SearchFilters())[1]
        assert list(theirs) == list(mine)
        assert list(theirs.values()) == pytest.approx(list(mine.values()), rel=1e-5)
    remote.close()
