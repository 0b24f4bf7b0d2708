"""An update of a corpus that only grew appends to the previous generation instead of reading
everything again, and writes what a fresh build of the same folder writes. The search-list
threshold is lowered so that these few dozen passages have stored lists to add to."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import index.vectors
from index.build import LocalSource, build_index, update_index
from index.layout import current_generation
from index.store import open_index
from index.vector_files import append_exact
from index.vectors import VectorIndex
from tests.index_contents import contents

GREW = "the corpus only grew"
STORIES = [
    ("harbour", "The harbour authority opened a new ferry terminal for island commuters."),
    ("vaccine", "Health officials approved a booster vaccine for adults over sixty."),
    ("drought", "Farmers in the valley asked for water relief after a third dry summer."),
    ("election", "The mayor conceded the election after a recount confirmed the result."),
    ("rocket", "The space agency postponed the rocket launch because of high winds."),
]


def write_day(corpus: Path, day: int, records: list[dict[str, str]]) -> None:
    """One feed file a day, named so that later days sort after earlier ones."""
    corpus.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(record) + "\n" for record in records)
    (corpus / f"2024-01-{day:02d}.jsonl").write_text(lines)


def day_records(day: int) -> list[dict[str, str]]:
    return [
        {"id": f"{name}-{day}", "title": text.split(" after ")[0], "source": f"Wire {day % 3}",
         "date": f"2024-01-{day:02d}",
         "text": f"{text} Officials spoke on day {day}. \"We acted fast,\" said Mayor Ana Ruiz. "
                 f"Report {day} of the story."}
        for name, text in STORIES
    ]  # fmt: skip


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.vectors, "FAST_SEARCH_MIN_VECTORS", 20)


# Story tables are keyed by article: their rows' order follows the order articles were hashed.
KEYED = {"story_signatures", "near_duplicates", "story_clusters"}


def assert_same_index(updated: Path, fresh: Path) -> None:
    """Every table row (in the same order, but for the story tables), and the same vector for
    each chunk."""
    rows, vectors = contents(updated)
    fresh_rows, fresh_vectors = contents(fresh)
    assert rows.keys() == fresh_rows.keys()
    for table in rows:
        if table in KEYED:
            assert sorted(rows[table]) == sorted(fresh_rows[table]), table
        else:
            assert rows[table] == fresh_rows[table], table
    assert vectors.keys() == fresh_vectors.keys()
    for chunk_id, vector in fresh_vectors.items():
        assert np.allclose(vectors[chunk_id], vector, atol=1e-5)


def test_an_added_day_is_appended_and_equals_a_fresh_build(
    tmp_path: Path, embedder, small_threshold, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    for day in (10, 11, 12, 13):
        write_day(corpus, day, day_records(day))
    build_index(corpus, tmp_path / "index", embedder)
    first = day_records(10)[0]
    write_day(corpus, 14, [
        *day_records(14),
        {**first, "id": "copy-of-harbour-10"},  # the same text as an indexed article: skipped
        {**day_records(15)[1], "id": first["id"]},  # an indexed article's id: skipped
        {**first, "id": "harbour-rewrite", "text": first["text"] + " Ferries run hourly."},
    ])  # fmt: skip

    with caplog.at_level(logging.INFO, logger="index"):
        report = update_index(corpus, tmp_path / "index", embedder)

    assert GREW in caplog.text and report.appended
    assert "training new search lists" not in caplog.text
    assert (report.added_articles, report.changed_articles, report.removed_articles) == (6, 0, 0)
    assert report.embedded_chunks == report.chunks - report.reused_chunks > 0
    reasons = sorted(item.reason for item in report.skipped)
    used = "id harbour-10 already used by 2024-01-10.jsonl:1"
    assert reasons == ["duplicate of harbour-10", used]
    assert report.clusters >= 1  # the rewrite joins its original's story
    build_index(corpus, tmp_path / "fresh", embedder)
    assert_same_index(tmp_path / "index", tmp_path / "fresh")
    reader = open_index(tmp_path / "index", embedder.model_id)
    assert reader.story("harbour-rewrite") == reader.story("harbour-10")
    assert reader.statements_in("rocket-14")  # the new articles' statements are found
    reader.close()


def test_a_day_changed_in_place_is_read_again(
    tmp_path: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    for day in (10, 11, 12):
        write_day(corpus, day, day_records(day))
    build_index(corpus, tmp_path / "index", embedder)
    changed = day_records(11)
    changed[2]["text"] += " The river is lower than in any summer on record."
    write_day(corpus, 11, changed)
    write_day(corpus, 13, day_records(13))

    with caplog.at_level(logging.INFO, logger="index"):
        report = update_index(corpus, tmp_path / "index", embedder)

    assert GREW not in caplog.text and not report.appended
    assert (report.added_articles, report.changed_articles) == (5, 1)
    build_index(corpus, tmp_path / "fresh", embedder)
    assert_same_index(tmp_path / "index", tmp_path / "fresh")


def test_an_added_day_that_sorts_first_is_read_in_full(
    tmp_path: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    write_day(corpus, 12, day_records(12))
    build_index(corpus, tmp_path / "index", embedder)
    write_day(corpus, 9, day_records(9))  # a late delivery of an earlier day

    with caplog.at_level(logging.INFO, logger="index"):
        report = update_index(corpus, tmp_path / "index", embedder)

    assert GREW not in caplog.text and report.added_articles == 5
    build_index(corpus, tmp_path / "fresh", embedder)
    assert_same_index(tmp_path / "index", tmp_path / "fresh")


class FailingSource(LocalSource):
    def vectors(self, ids, texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("the encoder went away")


def test_a_failed_append_keeps_the_previous_index_serving(
    tmp_path: Path, embedder, small_threshold
) -> None:
    corpus = tmp_path / "corpus"
    for day in (10, 11, 12, 13):
        write_day(corpus, day, day_records(day))
    build_index(corpus, tmp_path / "index", embedder)
    before = current_generation(tmp_path / "index")
    write_day(corpus, 14, day_records(14))

    with pytest.raises(RuntimeError, match="encoder went away"):
        update_index(corpus, tmp_path / "index", embedder, source=FailingSource)

    assert current_generation(tmp_path / "index") == before
    assert [p.name for p in (tmp_path / "index").glob("gen-*")] == [before.name]
    reader = open_index(tmp_path / "index", embedder.model_id)
    assert len(reader.articles) == 20
    assert len(reader.vectors) == len(reader.chunk_ids())
    reader.close()
    report = update_index(corpus, tmp_path / "index", embedder)  # and the next update appends
    assert report.added_articles == 5 and report.reused_chunks == len(reader.chunk_ids())


def words_from(first: int, count: int) -> str:
    return " ".join(f"term{n}" for n in range(first, first + count)) + "."


def test_an_added_article_that_shows_shared_text_is_a_template_splits_a_story_as_a_build_does(
    tmp_path: Path, embedder
) -> None:
    """A revision pair (an update keeping its earlier body) stops being one when a later day
    brings the same body under another story, far in time: the body was a template. Appending
    re-decides the neighbours' pairs as a full build decides them."""
    corpus = tmp_path / "corpus"
    body = words_from(0, 60)
    first = {"id": "first", "title": "First", "source": "Wire", "date": "2024-01-10", "text": body}
    update = {**first, "id": "update", "date": "2024-01-12"}
    update["text"] = f"{words_from(500, 70)} {body}"
    write_day(corpus, 10, [first])
    write_day(corpus, 12, [update])
    build_index(corpus, tmp_path / "index", embedder)
    reader = open_index(tmp_path / "index")
    assert reader.story("first") == ("first", "update")
    reader.close()
    later = {**first, "id": "later", "date": "2024-03-20", "text": f"{words_from(900, 70)} {body}"}
    (corpus / "2024-03-20.jsonl").write_text(json.dumps(later) + "\n")

    report = update_index(corpus, tmp_path / "index", embedder)

    assert report.appended
    build_index(corpus, tmp_path / "fresh", embedder)
    assert_same_index(tmp_path / "index", tmp_path / "fresh")
    reader = open_index(tmp_path / "index")
    assert reader.story("first") == ("first",)
    reader.close()


def test_the_exact_vectors_file_appended_by_copying_bytes_is_what_faiss_writes(tmp_path: Path):
    rng = np.random.default_rng(7)
    before = VectorIndex.empty(8)
    before.add(np.arange(100, 130), rng.standard_normal((30, 8)).astype(np.float32))
    before.save(tmp_path / "before.faiss", min_vectors=10**9)
    ids, vectors = np.array([7, 5, 900]), rng.standard_normal((3, 8)).astype(np.float32)
    after = VectorIndex.load(tmp_path / "before.faiss")
    after.add(ids, vectors)
    after.save(tmp_path / "faiss.faiss", min_vectors=10**9)

    assert append_exact(tmp_path / "before.faiss", tmp_path / "copied.faiss", ids, vectors)

    assert (tmp_path / "copied.faiss").read_bytes() == (tmp_path / "faiss.faiss").read_bytes()
    (tmp_path / "other.faiss").write_bytes(b"IxM2" + bytes(100))  # not the layout it knows
    assert not append_exact(tmp_path / "other.faiss", tmp_path / "none.faiss", ids, vectors)
    assert not (tmp_path / "none.faiss").exists()
