"""Statements are found when articles are indexed, kept by `index update`, counted in stats."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from index.build import build_index, update_index
from index.layout import current_generation
from index.manifest import generation_files
from index.store import open_index
from index.stored_statements import speaker_key
from tests.index.test_build import write_article

LOPEZ = (
    "Mayor Maria Lopez opened the new harbour bridge on Monday. "
    '"This bridge will carry twenty thousand cars a day," Lopez said. '
    "She added that the toll would be dropped next year."
)


def rows(index_dir: Path) -> set[tuple[object, ...]]:
    reader = open_index(index_dir)
    found = {
        (s.article_id, s.speaker, s.verb, s.kind, s.content_start, s.content_end)
        for article_id in reader.articles
        for s in reader.statements_in(article_id)
    }
    reader.close()
    return found


def test_the_seed_build_stores_blinkens_statements_under_his_full_name(built_index: Path):
    reader = open_index(built_index)
    text = reader.text(next(iter(reader.articles)))
    by_blinken = reader.statements_by("Blinken")
    quoted = {text[s.content_start : s.content_end] for s in by_blinken}
    assert any(q.startswith("the possibility of a multinational force") for q in quoted)
    assert {s.speaker for s in by_blinken} == {"Antony Blinken"}
    assert any(s.speaker_as_written.lower() == "he" for s in by_blinken)  # "But he said …"
    for statement in by_blinken:  # each statement points at the chunk that holds its sentence
        chunk = reader.chunk(statement.chunk_id)
        assert chunk.start <= statement.sentence_start < chunk.end
    summary = reader.summary()
    assert summary.statements >= len(by_blinken) > 0
    assert ("Antony Blinken", len(by_blinken)) in summary.top_speakers
    reader.close()


def test_update_finds_statements_of_new_articles_and_equals_a_fresh_build(
    tmp_path: Path, corpus_copy: Path, embedder
):
    index_dir = tmp_path / "index"
    build_index(corpus_copy, index_dir, embedder)
    write_article(corpus_copy, "bridge", "Harbour bridge opens", LOPEZ)
    report = update_index(corpus_copy, index_dir, embedder)
    reader = open_index(index_dir)
    text = reader.text("bridge")
    lopez = reader.statements_by("Maria Lopez")
    assert [(s.speaker, text[s.content_start : s.content_end]) for s in lopez] == [
        ("Maria Lopez", "This bridge will carry twenty thousand cars a day"),
        ("Maria Lopez", "the toll would be dropped next year"),
    ]
    assert reader.statements_by("Blinken")  # the unchanged seed article's were kept
    assert report.statements == reader.summary().statements
    reader.close()
    build_index(corpus_copy, tmp_path / "fresh", embedder)
    assert rows(index_dir) == rows(tmp_path / "fresh")


def test_an_index_from_before_statements_serves_and_update_adds_them_without_embedding(
    tmp_path: Path, built_index: Path, embedder, caplog: pytest.LogCaptureFixture
):
    index_dir = tmp_path / "index"
    build_index(Path(__file__).resolve().parents[2] / "corpus", index_dir, embedder)
    generation = current_generation(index_dir)
    with sqlite3.connect(generation / "meta.sqlite") as db:
        db.execute("DROP TABLE statements")
    db.close()
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest.pop("statement_rules")
    manifest |= {"format_version": 2, "files": generation_files(generation)}
    (generation / "manifest.json").write_text(json.dumps(manifest))

    with caplog.at_level(logging.WARNING):
        old = open_index(index_dir)
    assert "newsdesk index update" in caplog.text
    assert old.statements_by("Blinken") == [] and old.summary().statements == 0
    old.close()

    report = update_index(Path(__file__).resolve().parents[2] / "corpus", index_dir, embedder)
    assert report.embedded_chunks == 0 and report.statements > 0
    assert open_index(index_dir).statements_by("Blinken")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Antony Blinken", "blinken"),
        ("Blinken's", "blinken"),
        ("Volodymyr Zelenskyy", "zelensky"),  # outlets spell it both ways
        ("Zelensky", "zelensky"),
    ],
)
def test_a_name_is_looked_up_by_its_last_word_however_spelled(name: str, key: str):
    assert speaker_key(name) == key
