"""Chunking: sentence-aware, token-bounded, offsets that give back the article's own text."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.articles import read_corpus
from index.chunking import ChunkerSettings, chunk_article, embedding_text, split_sentences

SEED = Path(__file__).resolve().parents[2] / "corpus"


def word_counter(texts):
    """A stand-in tokenizer: one token per word plus [CLS] and [SEP]."""
    return [len(text.split()) + 2 for text in texts]


def test_sentences_keep_abbreviations_together():
    text = "The U.S. envoy met Dr. Smith in Washington, D.C. on Friday. He left at 3 p.m. Then."
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert sentences == [
        "The U.S. envoy met Dr. Smith in Washington, D.C. on Friday.",
        "He left at 3 p.m.",
        "Then.",
    ]


def test_line_breaks_end_sentences():
    text = "A headline without a period\n\nThe body starts here. It goes on."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "A headline without a period",
        "The body starts here.",
        "It goes on.",
    ]


def test_seed_chunks_map_back_to_the_article_exactly(embedder):
    article = next(read_corpus(SEED))
    chunks = chunk_article(article.id, article.title, article.text, embedder.count_tokens)
    assert len(chunks) > 1
    covered = set()
    for chunk in chunks:
        passage = article.text[chunk.start : chunk.end]
        assert passage.strip() == passage and passage
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
            covered.add((start, end))
        tokens = embedder.count_tokens([embedding_text(article.title, passage)])[0]
        assert tokens <= embedder.max_tokens
    every_sentence = set(split_sentences(article.text))
    assert covered == every_sentence


def test_chunks_overlap_by_whole_sentences():
    text = " ".join(f"Sentence number {i} says something short." for i in range(40))
    chunks = chunk_article("a", "Title", text, word_counter, ChunkerSettings(target_tokens=30))
    assert len(chunks) > 3
    for first, second in zip(chunks, chunks[1:], strict=False):
        assert first.sentences[-1] == second.sentences[0]
        assert second.start < first.end


def test_an_over_long_sentence_is_cut_at_words_not_truncated():
    text = "word " * 600 + "end."
    settings = ChunkerSettings(target_tokens=100, max_tokens=128)
    chunks = chunk_article("a", "", text.strip(), word_counter, settings)
    assert all(word_counter([text[c.start : c.end]])[0] <= 128 for c in chunks)
    assert chunks[-1].end == len(text.strip())


def test_chunk_ids_are_stable_and_distinct():
    text = " ".join(f"Fact {i} is stated here." for i in range(30))
    settings = ChunkerSettings(target_tokens=20)
    first = chunk_article("a", "T", text, word_counter, settings)
    again = chunk_article("a", "T", text, word_counter, settings)
    other = chunk_article("b", "T", text, word_counter, settings)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert not {c.id for c in first} & {c.id for c in other}


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_empty_text_gives_no_chunks(text):
    assert chunk_article("a", "T", text, word_counter) == []
