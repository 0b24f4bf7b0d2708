"""BM25 over chunks (bm25s), stored beside the vectors and rebuilt with every build or update."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: the same rule for chunks and questions."""
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, chunk_ids: np.ndarray) -> None:
        self._retriever = retriever
        self._vocabulary = retriever.vocab_dict
        self.chunk_ids = chunk_ids

    @classmethod
    def build(cls, chunk_ids: Sequence[int], texts: Sequence[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, np.asarray(chunk_ids, dtype=np.int64))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), mmap=False)
        return cls(retriever, np.load(directory / "chunk_ids.npy"))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))
        np.save(directory / "chunk_ids.npy", self.chunk_ids)

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known token (unknown tokens are left out)."""
        indptr = self._retriever.scores["indptr"]
        total = len(self.chunk_ids)
        weights = {}
        for token in tokens:
            token_id = self._vocabulary.get(token)
            if token_id is not None:
                frequency = int(indptr[token_id + 1] - indptr[token_id])
                weights[token] = float(np.log(1 + (total - frequency + 0.5) / (frequency + 0.5)))
        return weights

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (row order of `chunk_ids`) for `query`."""
        tokens = [t for t in tokenize([query])[0] if t in self._vocabulary]
        if not tokens:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return self._retriever.get_scores(tokens)
