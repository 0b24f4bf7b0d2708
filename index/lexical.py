"""BM25 over chunks, kept as a term-frequency matrix so an update only tokenizes what changed.

Tokens follow bm25s's rule (scikit-learn's word pattern, lower case) with its longer English
stop-word list — question words such as "what" and "did" carry no evidence — and the Snowball
stemmer from PyStemmer. Tokenizing is the slow part of a lexical index. Keeping raw term
frequencies per chunk lets an update copy the rows of unchanged chunks and compute BM25 at query
time from exact corpus statistics, so an updated index scores exactly like a fresh build.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

K1 = 1.5
B = 0.75
_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) token pattern
STOP_WORDS = frozenset(STOPWORDS_EN_PLUS)
MATRIX = "term_frequencies.npz"
VOCABULARY = "vocabulary.json"
CHUNK_IDS = "chunk_ids.npy"


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: the same rule for chunks and questions.

    The same output as `bm25s.tokenize(..., return_ids=False)` with these stop words and
    stemmer, without its per-call set-up, which dominated the cost of scoring answer sentences.
    """
    return [
        _STEMMER.stemWords([w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS])
        for text in texts
    ]


class LexicalIndex:
    def __init__(
        self, chunk_ids: np.ndarray, frequencies: sp.csr_matrix, vocabulary: dict[str, int]
    ) -> None:
        self.chunk_ids = chunk_ids
        self.vocabulary = vocabulary
        self._rows = frequencies.tocsr()
        lengths = np.asarray(self._rows.sum(axis=1)).ravel().astype(np.float32)
        average = float(lengths.mean()) if len(lengths) else 1.0
        self._length_norm = K1 * (1 - B + B * lengths / max(average, 1e-9))
        width = self._rows.shape[1]
        document_frequency = np.bincount(self._rows.indices, minlength=width).astype(np.float32)
        total = len(chunk_ids)
        self._idf = np.log1p((total - document_frequency + 0.5) / (document_frequency + 0.5))

    @cached_property
    def _weights(self) -> sp.csc_matrix:
        """Each (chunk, term) entry as BM25's saturated term frequency, column by column, so a
        question only sums idf-weighted slices. Made on first use: building never scores, and
        the raw counts stay in `_rows` (what is saved)."""
        columns = self._rows.tocsc()
        frequency = columns.data.astype(np.float32)
        columns.data = frequency * (K1 + 1) / (frequency + self._length_norm[columns.indices])
        return columns

    def prepare_scoring(self, keep_counts: bool = False) -> None:
        """Make the BM25 weights now, so the first question does not wait for them; a served
        index then drops the raw counts (only an update copies them, from its own reader),
        which at a million chunks is most of a gigabyte."""
        _ = self._weights
        if not keep_counts:
            self._rows = None

    @classmethod
    def build(cls, chunk_ids: Sequence[int], texts: Sequence[str]) -> LexicalIndex:
        builder = LexicalBuilder()
        builder.add_texts(chunk_ids, texts)
        return builder.finish()

    @classmethod
    def load(
        cls,
        directory: Path,
        reading: Callable[[Path], AbstractContextManager[object]] = lambda _: nullcontext(),
    ) -> LexicalIndex:
        """Load the three files; `reading(path)` is entered around each, so the caller can say
        which one was damaged."""
        with reading(directory / VOCABULARY):
            vocabulary = json.loads((directory / VOCABULARY).read_bytes())
            if not isinstance(vocabulary, dict):
                raise ValueError("not a JSON object")
        with reading(directory / CHUNK_IDS):
            chunk_ids = np.load(directory / CHUNK_IDS)
            if chunk_ids.ndim != 1 or chunk_ids.dtype != np.int64:
                raise ValueError(f"an array of {chunk_ids.dtype} {chunk_ids.shape}, not chunk ids")
        with reading(directory / MATRIX):
            frequencies = sp.load_npz(directory / MATRIX).tocsr()
            if frequencies.shape != (len(chunk_ids), len(vocabulary)):
                raise ValueError(
                    f"a {frequencies.shape} matrix for {len(chunk_ids)} chunks "
                    f"and {len(vocabulary)} terms"
                )
            return cls(chunk_ids, frequencies, vocabulary)

    def save(self, directory: Path) -> None:
        """Write the three files; a failed write names its file (numpy's errors do not)."""
        directory.mkdir(parents=True, exist_ok=True)
        writes: list[tuple[str, Callable[[Path], object]]] = [
            (MATRIX, lambda path: sp.save_npz(path, self._rows, compressed=False)),
            (CHUNK_IDS, lambda path: np.save(path, self.chunk_ids)),
            (VOCABULARY, lambda path: path.write_text(json.dumps(self.vocabulary))),
        ]
        for name, write in writes:
            try:
                write(directory / name)
            except OSError as error:
                error.filename = error.filename or str(directory / name)
                raise

    def rows(self, positions: np.ndarray) -> sp.csr_matrix:
        if self._rows is None:
            raise ValueError("the term counts of a served index were dropped; open it again")
        return self._rows[positions]

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known token (unknown tokens are left out)."""
        return {
            token: float(self._idf[self.vocabulary[token]])
            for token in tokens
            if token in self.vocabulary
        }

    def rows_with(self, token: str) -> np.ndarray:
        """The rows (chunk positions, as in `chunk_ids`) whose text holds `token`."""
        column = self.vocabulary.get(token)
        if column is None:
            return np.empty(0, dtype=np.int32)
        start, end = self._weights.indptr[column], self._weights.indptr[column + 1]
        return self._weights.indices[start:end]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (row order of `chunk_ids`) for `query`."""
        scores = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for token, count in Counter(tokenize([query])[0]).items():
            column = self.vocabulary.get(token)
            if column is None:
                continue
            start, end = self._weights.indptr[column], self._weights.indptr[column + 1]
            rows = self._weights.indices[start:end]
            scores[rows] += (self._idf[column] * count) * self._weights.data[start:end]
        return scores


class LexicalBuilder:
    """Collects term-frequency rows, from new texts or copied from a previous index."""

    def __init__(self, vocabulary: dict[str, int] | None = None) -> None:
        self.vocabulary = dict(vocabulary or {})
        self._pieces: list[sp.csr_matrix] = []
        self._chunk_ids: list[np.ndarray] = []

    def add_texts(self, chunk_ids: Sequence[int], texts: Sequence[str]) -> None:
        indptr, indices, data = [0], [], []
        for tokens in tokenize(texts):
            for token, count in Counter(tokens).items():
                indices.append(self.vocabulary.setdefault(token, len(self.vocabulary)))
                data.append(count)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(texts), len(self.vocabulary)),
        )
        self._pieces.append(matrix)
        self._chunk_ids.append(np.asarray(chunk_ids, dtype=np.int64))

    def add_rows(self, previous: LexicalIndex, chunk_ids: Sequence[int]) -> None:
        """Reuse the rows of unchanged chunks (the vocabulary started from `previous`'s)."""
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        if np.array_equal(wanted, previous.chunk_ids):  # every row, as they are (an update)
            self._pieces.append(previous.rows(slice(None)))
            self._chunk_ids.append(wanted)
            return
        order = np.argsort(previous.chunk_ids, kind="stable")
        rows = order[np.searchsorted(previous.chunk_ids, wanted, sorter=order)]
        if not np.array_equal(previous.chunk_ids[rows], wanted):
            raise KeyError("chunk ids the previous index does not hold")
        self._pieces.append(previous.rows(rows))
        self._chunk_ids.append(np.asarray(chunk_ids, dtype=np.int64))

    def finish(self) -> LexicalIndex:
        width = len(self.vocabulary)
        for piece in self._pieces:
            piece.resize(piece.shape[0], width)
        matrix = sp.vstack(self._pieces, format="csr") if self._pieces else sp.csr_matrix((0, 0))
        chunk_ids = np.concatenate(self._chunk_ids) if self._chunk_ids else np.zeros(0, np.int64)
        return LexicalIndex(chunk_ids, matrix, self.vocabulary)
