"""Builds with the real model and real FAISS: update equals rebuild, failures keep the old index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index, update_index
from index.embedder import Embedder
from index.errors import BuildInProgress, CorpusError, IndexIncompatible, IndexNotFound
from index.layout import build_lock, current_generation
from index.store import open_index

REPO = Path(__file__).resolve().parents[2]


def write_article(folder: Path, name: str, title: str, text: str, date: str = "2024-01-02") -> None:
    record = {"id": name, "title": title, "source": "Test Wire", "date": date, "text": text}
    (folder / f"{name}.json").write_text(json.dumps(record))


def snapshot(index_dir: Path) -> dict[int, tuple[str, int, int, np.ndarray]]:
    reader = open_index(index_dir)
    ids = reader.chunk_ids()
    vectors = reader.vectors.vectors(ids)
    result = {
        int(i): (reader.chunk(int(i)).article_id, reader.chunk(int(i)).start,
                 reader.chunk(int(i)).end, v)
        for i, v in zip(ids, vectors, strict=True)
    }  # fmt: skip
    assert set(reader.lexical.chunk_ids.tolist()) == set(result)
    shuffled = [int(i) for i in ids[::-1]]  # the ranking's candidates come in any order
    assert reader.articles_of(shuffled) == [result[i][0] for i in shuffled]
    with pytest.raises(KeyError):
        reader.articles_of([int(ids.max()) + 1])
    reader.close()
    return result


def test_build_records_articles_chunks_and_manifest(built_index: Path, embedder):
    reader = open_index(built_index, embedder.model_id)
    summary = reader.summary()
    assert summary.articles == 1
    assert summary.chunks == len(reader.vectors) == len(reader.lexical.chunk_ids) > 1
    assert (summary.first_date, summary.sources) == ("2023-11-03", [("Bloomberg", 1)])
    manifest = json.loads((current_generation(built_index) / "manifest.json").read_text())
    assert manifest["model_id"] == embedder.model_id
    assert manifest["dimension"] == 384
    assert manifest["chunker"]["max_tokens"] == embedder.max_tokens
    text = reader.text(next(iter(reader.articles)))
    for chunk_id in reader.chunk_ids():
        chunk = reader.chunk(int(chunk_id))
        for start, end in chunk.sentences:
            assert text[start:end].strip() == text[start:end] != ""


@pytest.fixture(scope="module")
def openvino_embedder(model_cache: Path) -> Embedder:
    return Embedder(backend="openvino", cache_dir=model_cache)


@pytest.mark.parametrize("encoder", ["embedder", "openvino_embedder"])
def test_update_after_add_change_delete_equals_fresh_build(
    tmp_path: Path, corpus_copy, request, encoder: str
):
    embedder = request.getfixturevalue(encoder)
    write_article(corpus_copy, "keep", "Harbour reopens", "The harbour reopened on Monday. " * 8)
    write_article(corpus_copy, "change", "Budget vote", "Parliament passed the budget. " * 8)
    write_article(corpus_copy, "drop", "Old story", "This story will be deleted. " * 8)
    index_dir = tmp_path / "index"
    build_index(corpus_copy, index_dir, embedder)

    write_article(corpus_copy, "change", "Budget vote", "Parliament rejected the budget. " * 9)
    (corpus_copy / "drop.json").unlink()
    write_article(corpus_copy, "new", "Bridge opens", "A new bridge opened to traffic today. " * 6)
    report = update_index(corpus_copy, index_dir, embedder)
    assert report.incremental
    assert (report.added_articles, report.changed_articles, report.removed_articles) == (1, 1, 1)
    assert 0 < report.embedded_chunks < report.chunks
    updated = snapshot(index_dir)

    fresh_dir = tmp_path / "fresh"
    build_index(corpus_copy, fresh_dir, embedder)
    fresh = snapshot(fresh_dir)
    assert updated.keys() == fresh.keys()
    for chunk_id, (article_id, start, end, vector) in fresh.items():
        assert updated[chunk_id][:3] == (article_id, start, end)
        assert np.allclose(updated[chunk_id][3], vector, atol=1e-5)


def test_update_without_changes_embeds_nothing(tmp_path: Path, built_index: Path, embedder):
    index_dir = tmp_path / "index"
    build_index(REPO / "corpus", index_dir, embedder)
    report = update_index(REPO / "corpus", index_dir, embedder)
    assert report.embedded_chunks == 0 and report.reused_chunks == report.chunks


def test_failed_build_keeps_the_previous_index(tmp_path: Path, corpus_copy, embedder):
    index_dir = tmp_path / "index"
    build_index(corpus_copy, index_dir, embedder)
    before = current_generation(index_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "broken.json").write_text("{not json")
    with pytest.raises(CorpusError):
        build_index(empty, index_dir, embedder)
    assert current_generation(index_dir) == before
    assert open_index(index_dir).summary().articles == 1
    assert [p.name for p in index_dir.glob("gen-*")] == [before.name]


def test_missing_index_and_model_mismatch_are_refused(tmp_path: Path, built_index: Path):
    with pytest.raises(IndexNotFound, match="newsdesk index build"):
        open_index(tmp_path / "nowhere")
    with pytest.raises(IndexIncompatible, match="rebuild"):
        open_index(built_index, expected_model_id="some-other-model")


def test_a_second_build_at_once_is_refused(tmp_path: Path, corpus_copy, embedder):
    index_dir = tmp_path / "index"
    with build_lock(index_dir), pytest.raises(BuildInProgress):
        build_index(corpus_copy, index_dir, embedder)


KILL_SCRIPT = """
import sys
from pathlib import Path
from index.build import build_index
from index.embedder import Embedder

corpus, index_dir, cache = map(Path, sys.argv[1:4])
embedder = Embedder(sys.argv[4], cache_dir=cache)
def report(event):
    if event.phase == "embedding" and event.done > 0:
        print("embedding", flush=True)
build_index(corpus, index_dir, embedder, on_progress=report)
"""


def test_build_killed_with_sigkill_leaves_old_index_loadable(
    tmp_path: Path, corpus_copy, embedder, model_cache: Path
):
    index_dir = tmp_path / "index"
    build_index(corpus_copy, index_dir, embedder)
    before = current_generation(index_dir)
    for i in range(20):
        write_article(corpus_copy, f"filler{i}", f"Filler {i}", f"Filler sentence {i}. " * 100)
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(corpus_copy), str(index_dir), str(model_cache),
         embedder.model],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "embedding"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert list(index_dir.glob("gen-*.partial")), "the killed build left its partial generation"
    assert current_generation(index_dir) == before
    reader = open_index(index_dir, embedder.model_id)
    assert reader.summary().articles == 1
    scores, ids = reader.vectors.search(embedder.encode_query("Blinken"), 1)
    assert ids[0][0] in set(reader.chunk_ids().tolist())

    started = time.monotonic()
    update_index(corpus_copy, index_dir, embedder)
    assert not list(index_dir.glob("gen-*.partial")), "the next build cleans up leftovers"
    assert open_index(index_dir).summary().articles == 21
    assert time.monotonic() - started < 120
