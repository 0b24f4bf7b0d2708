"""BM25: tokens follow bm25s's rule, and scores rank the chunk that holds the question's words."""

from __future__ import annotations

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.lexical import _STEMMER, WEIGHT_FILES, LexicalIndex, tokenize

TEXTS = [
    "What did Blinken say about a multinational force?",
    "U.S. officials said 1,400 people were killed on Oct. 7 — Hamas's deadliest attack.",
    "Israeli Prime Minister Benjamin Netanyahu met Blinken in Tel Aviv; they didn't agree.",
    "Ding Liren (丁立人) became world chess champion in Astana, Kazakhstan.",
    "",
    "a I of",
]


def test_tokens_match_bm25s_with_the_same_stop_words_and_stemmer() -> None:
    expected = bm25s.tokenize(
        TEXTS, stopwords=STOPWORDS_EN_PLUS, stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    assert tokenize(TEXTS) == [list(tokens) for tokens in expected]
    assert "what" not in tokenize(TEXTS[:1])[0] and "blinken" in tokenize(TEXTS[:1])[0]


def test_the_chunk_with_the_question_words_scores_highest() -> None:
    index = LexicalIndex.build([11, 22, 33, 44], TEXTS[1:5])
    scores = index.scores("Who did Netanyahu meet in Tel Aviv?")
    assert index.chunk_ids[int(np.argmax(scores))] == 22
    assert scores[index.chunk_ids.tolist().index(44)] == 0


def test_saved_weights_score_as_computed_ones_and_the_counts_stay_on_disk(tmp_path) -> None:
    """An index opened with its saved weights (mapped, not computed) scores exactly as the one
    that was built; its counts are read only when an update asks for rows. An index saved
    before the weights were (no weight files) computes them at open, as it always did."""
    built = LexicalIndex.build([11, 22, 33, 44], TEXTS[1:5])
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25")
    question = "Who did Netanyahu meet in Tel Aviv?"
    assert np.array_equal(loaded.scores(question), built.scores(question))
    assert loaded._rows is None
    assert (loaded.rows(np.arange(4)) != built.rows(np.arange(4))).nnz == 0
    for name in WEIGHT_FILES:
        (tmp_path / "bm25" / name).unlink()
    older = LexicalIndex.load(tmp_path / "bm25")
    assert np.array_equal(older.scores(question), built.scores(question))
    assert older.idf(["blinken", "netanyahu"]) == built.idf(["blinken", "netanyahu"])
