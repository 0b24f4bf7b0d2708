"""Large indexes keep their trained search lists on disk: opened without training, updated by
adding to them. The threshold is lowered so that a corpus of a few dozen passages has them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import index.vectors
from index.build import build_index, update_index
from index.errors import IndexCorrupt
from index.layout import current_generation
from index.local_backend import LocalBackend
from index.manifest import FORMAT_VERSION
from index.store import open_index

TOPICS = [
    ("harbour", "The harbour authority opened a new ferry terminal for island commuters."),
    ("vaccine", "Health officials approved a booster vaccine for adults over sixty."),
    ("drought", "Farmers in the valley asked for water relief after a third dry summer."),
    ("election", "The mayor conceded the election after a recount confirmed the result."),
    ("rocket", "The space agency postponed the rocket launch because of high winds."),
    ("museum", "A museum returned looted bronze statues to the country they came from."),
    ("strike", "Rail workers began a two-day strike over pay and working hours."),
    ("wildfire", "Firefighters contained a wildfire that burned homes near the ridge."),
]


def write_corpus(folder: Path, copies: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for copy in range(copies):
        for name, text in TOPICS:
            record = {"id": f"{name}-{copy}", "title": text.split(" after ")[0],
                      "source": f"Wire {copy}", "date": f"2024-01-{copy + 10}",
                      "text": f"{text} Report {copy} of the story, from desk {copy}."}  # fmt: skip
            (folder / f"{name}-{copy}.json").write_text(json.dumps(record))


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.vectors, "FAST_SEARCH_MIN_VECTORS", 20)


def test_a_large_index_is_served_from_its_stored_lists(
    tmp_path: Path, embedder, small_threshold
) -> None:
    write_corpus(tmp_path / "corpus")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder)
    generation = current_generation(tmp_path / "index")
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert "vectors.ivf" in manifest["files"]

    backend = LocalBackend.open(tmp_path / "index", embedder.model_id)
    backend.prepare()
    assert backend.reader.vectors._index is None  # the exact file is not read at all
    question = embedder.encode_query("When is the rocket launch?")
    hits = backend.dense_search(question, 4)[0]
    assert {backend.chunk(c).article_id.split("-")[0] for c in hits} == {"rocket"}
    ids = backend.reader.chunk_ids()
    exact = backend.reader.vectors.search(question, 5, ids[::2])[1][0]
    assert set(exact) <= set(ids[::2].tolist())
    backend.close()


def test_an_update_adds_to_the_stored_lists(
    tmp_path: Path, embedder, small_threshold, caplog: pytest.LogCaptureFixture
) -> None:
    write_corpus(tmp_path / "corpus")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder)
    before = open_index(tmp_path / "index")
    centroids = before.vectors._probe.quantizer.reconstruct_n(0, before.vectors._probe.nlist)
    vectors = before.vectors.vectors(before.chunk_ids())
    before.close()
    text = "The city zoo welcomed panda twins on Friday."
    record = {"id": "zoo", "title": "Zoo welcomes panda twins", "source": "Wire 9",
              "date": "2024-02-01", "text": text}  # fmt: skip
    (tmp_path / "corpus" / "zoo.json").write_text(json.dumps(record))

    with caplog.at_level(logging.INFO, logger="index.vectors"):
        report = update_index(tmp_path / "corpus", tmp_path / "index", embedder)

    assert (report.embedded_chunks, report.added_articles) == (1, 1)
    assert "training new search lists" not in caplog.text
    after = open_index(tmp_path / "index")
    assert np.array_equal(after.vectors._probe.quantizer.reconstruct_n(0, 16), centroids)
    kept = after.vectors.vectors(before.chunk_ids())
    assert np.array_equal(kept, vectors)
    found = after.vectors.search(embedder.encode_query("panda twins at the zoo"), 1)[1][0][0]
    assert after.chunk(int(found)).article_id == "zoo"
    after.close()


def test_a_truncated_inverted_file_is_named(tmp_path: Path, embedder, small_threshold) -> None:
    write_corpus(tmp_path / "corpus", copies=3)
    build_index(tmp_path / "corpus", tmp_path / "index", embedder)
    path = current_generation(tmp_path / "index") / "vectors.ivf"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IndexCorrupt, match="vectors.ivf") as raised:
        open_index(tmp_path / "index")
    assert "truncated" in raised.value.problem


def test_an_index_written_before_the_chunk_table_and_the_lists_still_serves(
    tmp_path: Path, embedder, small_threshold
) -> None:
    """Format 4 had neither: its chunks are read from SQLite and its lists trained at open."""
    write_corpus(tmp_path / "corpus")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder)
    generation = current_generation(tmp_path / "index")
    built = open_index(tmp_path / "index")
    records = [built.chunk(int(c)) for c in built.chunk_ids()]
    built.close()
    (generation / "chunks.npz").unlink()
    (generation / "vectors.ivf").unlink()
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if k in (
        "meta.sqlite", "vectors.faiss", "bm25/chunk_ids.npy", "bm25/term_frequencies.npz",
        "bm25/vocabulary.json")}  # fmt: skip
    (generation / "manifest.json").write_text(json.dumps(manifest | {"format_version": 4}))

    backend = LocalBackend.open(tmp_path / "index", embedder.model_id)
    backend.prepare()
    assert [backend.chunk(r.id) for r in records] == records
    assert backend.reader.vectors._index is not None  # the exact file, probed in memory
    hits = backend.dense_search(embedder.encode_query("When is the rocket launch?"), 4)[0]
    assert {backend.chunk(c).article_id.split("-")[0] for c in hits} == {"rocket"}
    backend.close()
