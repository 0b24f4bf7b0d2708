"""`newsdesk index watch --backend qdrant` as a user runs it: the index is copied into an empty
embedded Qdrant store at start, and an article dropped into the corpus reaches the collection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from index.backend import SearchFilters
from index.qdrant_backend import QdrantBackend
from tests.cli.process import running_newsdesk, user_env

ARTICLE = {"id": "harbour", "title": "Quillfen harbour reopens", "source": "Test Wire",
           "date": "2023-11-20", "text": "The Quillfen harbour reopened on Monday after eight "
           "months of dredging, the port authority said."}  # fmt: skip


def test_each_update_is_made_to_the_qdrant_collection(
    newsroom_corpus: Path, newsroom_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    corpus, index_dir, store = tmp_path / "corpus", tmp_path / "index", tmp_path / "qdrant"
    shutil.copytree(newsroom_corpus, corpus)
    shutil.copytree(newsroom_index, index_dir, symlinks=True)
    env = user_env(cache_dir=model_cache, corpus=corpus, index_dir=index_dir, qdrant_url=store)
    args = ("index", "watch", "--backend", "qdrant", "--interval", "1")
    with running_newsdesk(*args, env=env, log_dir=tmp_path) as watcher:
        watcher.wait_until(lambda: "updated in" in watcher.stderr())  # the first copy
        assert "no index in Qdrant" in watcher.stderr()
        (corpus / "harbour.json").write_text(json.dumps(ARTICLE))
        watcher.wait_until(lambda: watcher.stderr().count(f"Qdrant {store}") >= 2)
        assert watcher.terminate() == 0
    assert "1 added" in watcher.stderr()

    remote = QdrantBackend.open(str(store))
    try:
        assert "harbour" in remote.articles
        found = remote.search_both("Quillfen harbour dredging", None, 5, SearchFilters())[1]
        assert [remote.chunk(c).article_id for c in found][:1] == ["harbour"]
    finally:
        remote.close()
