"""A damaged index is refused when opened, naming the file; a build that cannot write (a full
disk) or whose corpus vanishes stops and keeps the previous index. Real model, real FAISS."""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from index import layout
from index.build import BuildProgress, build_index, update_index
from index.errors import CorpusError, IndexCorrupt, IndexIncompatible, IndexWriteFailed
from index.integrity import check_generation
from index.layout import current_generation
from index.lexical import WEIGHT_FILES
from index.manifest import Manifest
from index.store import open_index
from tests.conftest import SEED_CORPUS

SEED_ARTICLES = 1


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def overwrite_middle(path: Path) -> None:
    """Same size, garbage in the middle: only a look inside finds it."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096  # a whole SQLite page, past the schema
    data[middle : middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


def overwrite_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\x00" * 100
    path.write_bytes(bytes(data))


def set_format_version(path: Path) -> None:
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(manifest | {"format_version": 99}))


DAMAGES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    # name: (file in the generation, what is done to it, what the error says it is)
    "vectors truncated": ("vectors.faiss", truncate, "truncated"),
    "vectors replaced": (
        "vectors.faiss",
        lambda p: p.write_bytes(b"x" * p.stat().st_size),
        "not a FAISS index file",
    ),  # fmt: skip
    "metadata middle": ("meta.sqlite", overwrite_middle, "(SQLite: "),
    "metadata header": ("meta.sqlite", overwrite_header, "not a SQLite database"),
    "manifest missing": ("manifest.json", Path.unlink, "missing"),
    "manifest garbled": ("manifest.json", lambda p: p.write_text('{"format_'), "not valid JSON"),
    "vocabulary garbled": (
        "bm25/vocabulary.json",
        lambda p: p.write_text("[" + " " * (p.stat().st_size - 2) + "]"),
        "unreadable (not a JSON object)",
    ),  # fmt: skip
    "term matrix truncated": ("bm25/term_frequencies.npz", truncate, "truncated"),
    "bm25 weights truncated": ("bm25/weights.npy", truncate, "truncated"),
    "chunk ids missing": ("bm25/chunk_ids.npy", Path.unlink, "missing"),
}


@pytest.fixture
def index_copy(built_index: Path, tmp_path: Path) -> Path:
    """A writable copy of the seed index, `current` still a symlink."""
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    return index_dir


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_index_is_refused_naming_the_file(index_copy: Path, damage: str) -> None:
    name, spoil, problem = DAMAGES[damage]
    damaged = current_generation(index_copy) / name
    spoil(damaged)
    with pytest.raises(IndexCorrupt) as refused:
        open_index(index_copy)
    message = str(refused.value)
    assert refused.value.path == str(damaged)
    assert f"{damaged} is " in message and problem in message
    assert f"rebuild it with `newsdesk index build --index-dir {index_copy}`" in message
    assert "\n" not in message
    assert pickle.loads(pickle.dumps(refused.value)).args == refused.value.args  # crosses pipes


@pytest.mark.parametrize("damage", ["vectors truncated", "metadata middle", "manifest missing"])
def test_the_cheap_check_finds_it_too(index_copy: Path, damage: str) -> None:
    """What `newsdesk serve` runs before loading anything."""
    name, spoil, problem = DAMAGES[damage]
    spoil(current_generation(index_copy) / name)
    with pytest.raises(IndexCorrupt) as refused:
        check_generation(current_generation(index_copy))
    assert problem in str(refused.value) and name in refused.value.path


def test_an_unknown_format_version_names_the_manifest(index_copy: Path) -> None:
    manifest = current_generation(index_copy) / "manifest.json"
    set_format_version(manifest)
    with pytest.raises(IndexIncompatible, match="format version 99") as refused:
        open_index(index_copy)
    assert str(manifest) in str(refused.value) and "newsdesk index build" in str(refused.value)


def test_a_manifest_without_file_sizes_still_catches_a_truncated_file(index_copy: Path) -> None:
    """Older manifests hold no sizes: loading the file itself finds the damage."""
    generation = current_generation(index_copy)
    manifest = json.loads((generation / "manifest.json").read_text())
    del manifest["files"]
    (generation / "manifest.json").write_text(json.dumps(manifest))
    truncate(generation / "vectors.faiss")
    with pytest.raises(IndexCorrupt, match=r"vectors\.faiss is unreadable"):
        open_index(index_copy)


def test_a_full_build_replaces_a_damaged_index(index_copy: Path, embedder) -> None:
    damaged = current_generation(index_copy)
    overwrite_middle(damaged / "meta.sqlite")
    report = build_index(SEED_CORPUS, index_copy, embedder)
    assert report.embedded_chunks == report.chunks > 0
    assert [p.name for p in index_copy.glob("gen-*")] == [current_generation(index_copy).name]
    assert open_index(index_copy).summary().articles == SEED_ARTICLES


def test_an_update_over_a_damaged_index_builds_it_again(
    index_copy: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing of a damaged generation is reused: the update becomes a full build, and says so."""
    truncate(current_generation(index_copy) / "vectors.faiss")
    with caplog.at_level(logging.WARNING, logger="index.build"):
        report = update_index(SEED_CORPUS, index_copy, embedder)
    assert not report.incremental and report.reused_chunks == 0
    assert "vectors.faiss is truncated" in caplog.text and "full build" in caplog.text
    reader = open_index(index_copy, embedder.model_id)
    _, ids = reader.vectors.search(embedder.encode_query("Blinken multinational force"), 1)
    assert int(ids[0][0]) in set(reader.chunk_ids().tolist())


# --- a build that cannot write ----------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "name", ["meta.sqlite", "vectors.faiss", "bm25/term_frequencies.npz", "manifest.json"]
)
def test_a_full_disk_stops_the_build_and_keeps_the_previous_index(
    index_copy: Path, corpus_copy: Path, embedder, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Each file of the new generation is written into /dev/full, where every write fails with
    ENOSPC as on a full disk: the error names the file, and nothing of the new build stays."""
    before = current_generation(index_copy)
    new_partial = layout.new_partial

    def partial_on_a_full_disk(index_dir: Path) -> Path:
        partial = new_partial(index_dir)
        (partial / name).parent.mkdir(parents=True, exist_ok=True)
        (partial / name).symlink_to("/dev/full")
        return partial

    monkeypatch.setattr(layout, "new_partial", partial_on_a_full_disk)
    (corpus_copy / "extra.md").write_text("---\ntitle: Extra\n---\nA second article arrived.\n")
    with pytest.raises(IndexWriteFailed) as stopped:
        build_index(corpus_copy, index_copy, embedder)
    assert str(stopped.value) == (
        f"No space left on device while writing {name} of the new index in {index_copy}; the "
        "build was stopped and the previous index is still in use. Free some space, then run "
        "the build again."
    )
    assert current_generation(index_copy) == before
    assert [p.name for p in index_copy.glob("gen-*")] == [before.name]
    assert open_index(index_copy).summary().articles == SEED_ARTICLES

    monkeypatch.setattr(layout, "new_partial", new_partial)
    assert build_index(corpus_copy, index_copy, embedder).articles == SEED_ARTICLES + 1


def test_a_full_disk_on_a_first_build_says_no_index_was_made(
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(index_dir: Path) -> Path:
        raise OSError(28, "No space left on device", str(index_dir / "gen-x.partial"))

    monkeypatch.setattr(layout, "new_partial", no_room)
    with pytest.raises(IndexWriteFailed, match="no index was made. Free some space"):
        build_index(SEED_CORPUS, tmp_path / "index", embedder)


# --- a corpus that goes away ------------------------------------------------------------------


def test_a_corpus_deleted_during_the_build_fails_it(
    index_copy: Path, tmp_path: Path, embedder
) -> None:
    """Deleted half-way through reading: the articles read so far are not the corpus, so
    nothing is published."""
    corpus = tmp_path / "moving"
    shutil.copytree(SEED_CORPUS, corpus)
    for i in range(80):
        record = {"id": f"n{i}", "title": f"Note {i}", "text": f"Short note number {i}. " * 5}
        (corpus / f"n{i:02}.json").write_text(json.dumps(record))
    before = current_generation(index_copy)

    def delete_half_way(event: BuildProgress) -> None:
        if event.phase == "reading" and event.done == 50:
            shutil.rmtree(corpus)

    with pytest.raises(CorpusError, match="disappeared while it was being read"):
        build_index(corpus, index_copy, embedder, on_progress=delete_half_way)
    assert current_generation(index_copy) == before
    assert [p.name for p in index_copy.glob("gen-*")] == [before.name]


def test_a_fifo_in_the_corpus_is_skipped_not_waited_for(
    corpus_copy: Path, tmp_path: Path, embedder
) -> None:
    fifo = corpus_copy / "feed.jsonl"
    os.mkfifo(fifo)
    skipped, reports = [], []
    builder = threading.Thread(
        target=lambda: reports.append(
            build_index(corpus_copy, tmp_path / "index", embedder, on_skip=skipped.append)
        ),
        daemon=True,
    )
    builder.start()
    builder.join(timeout=60)
    if builder.is_alive():  # blocked opening the FIFO: give it a writer so the thread ends
        with open(fifo, "w"):
            pass
        builder.join(timeout=60)
        pytest.fail("the build waited on a FIFO")
    assert reports[0].articles == SEED_ARTICLES
    assert [(s.origin, s.reason) for s in skipped] == [("feed.jsonl", "not a regular file")]


def test_a_build_records_when_it_wrote_the_metadata(index_copy: Path) -> None:
    """Opening reads the whole metadata file (SQLite's quick_check) only when it changed after
    the build: the build records its modification time, and a rewrite such as the damage above
    moves it."""
    generation = current_generation(index_copy)
    manifest = Manifest.load(generation)
    metadata = generation / "meta.sqlite"
    assert manifest.modified_ns["meta.sqlite"] == metadata.stat().st_mtime_ns
    overwrite_middle(metadata)
    assert manifest.modified_ns["meta.sqlite"] != metadata.stat().st_mtime_ns


def test_a_built_index_serves_bm25_from_its_saved_weights(index_copy: Path) -> None:
    """The weights are written at build and mapped at open; the raw counts stay on disk."""
    reader = open_index(index_copy)
    assert all((reader.directory / "bm25" / name).is_file() for name in WEIGHT_FILES)
    assert reader.lexical._rows is None
    assert reader.lexical.scores("Blinken").max() > 0
