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
from dataclasses import dataclass
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
# The BM25 weights by term column (CSC arrays), written beside the counts so that opening an
# index maps them instead of computing them (10 s at a million chunks). Indexes written before
# them compute the weights at open, as they always did.
WEIGHT_POINTERS = "weight_columns.npy"
WEIGHT_ROWS = "weight_rows.npy"
WEIGHTS = "weights.npy"
WEIGHT_FILES = (WEIGHT_POINTERS, WEIGHT_ROWS, WEIGHTS)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: the same rule for chunks and questions.

    The same output as `bm25s.tokenize(..., return_ids=False)` with these stop words and
    stemmer, without its per-call set-up, which dominated the cost of scoring answer sentences.
    """
    return [
        _STEMMER.stemWords([w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS])
        for text in texts
    ]


@dataclass(frozen=True)
class TermColumns:
    """A term's weights are `data[indptr[t]:indptr[t + 1]]`, for the chunk rows in `indices`
    (the arrays of a `scipy.sparse.csc_matrix`, kept bare so they can be memory-mapped)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def problem(self, rows: int, terms: int) -> str | None:
        """Why these cannot be the weights of `rows` chunks and `terms` terms (None if they may
        be; only the shapes are compared, which reads no more than the arrays' headers)."""
        if self.indptr.ndim != 1 or len(self.indptr) != terms + 1:
            return f"{len(self.indptr) - 1} term columns for {terms} terms"
        stored = int(self.indptr[-1])
        if not (len(self.indices) == len(self.data) == stored):
            return f"{len(self.indices)} rows and {len(self.data)} weights for {stored} entries"
        return None


class LexicalIndex:
    """BM25 over chunk rows. Scores come from `_weights` (the saturated term frequencies by term
    column); the raw counts (`_rows`) are only needed to save the index or to copy rows into an
    update, so an index loaded with its saved weights reads them from disk only when asked."""

    def __init__(
        self,
        chunk_ids: np.ndarray,
        frequencies: sp.csr_matrix | None,
        vocabulary: dict[str, int],
        *,
        weights: TermColumns | None = None,
        counts_file: Path | None = None,
    ) -> None:
        self.chunk_ids = chunk_ids
        self.vocabulary = vocabulary
        self._counts_file = counts_file
        self._rows = None if frequencies is None else frequencies.tocsr()
        if weights is not None:
            self._weights = weights
            document_frequency = np.diff(weights.indptr).astype(np.float32)
        elif self._rows is not None:
            width = self._rows.shape[1]
            document_frequency = np.bincount(self._rows.indices, minlength=width)
            document_frequency = document_frequency.astype(np.float32)
        else:
            raise ValueError("a lexical index needs its term counts or its weights")
        total = len(chunk_ids)
        self._idf = np.log1p((total - document_frequency + 0.5) / (document_frequency + 0.5))

    @cached_property
    def _weights(self) -> TermColumns:
        """Each (chunk, term) entry as BM25's saturated term frequency, column by column, so a
        question only sums idf-weighted slices. Made on first use (or loaded, see `load`):
        building never scores, and the raw counts stay in `_rows`."""
        counts = self._counts()
        lengths = np.asarray(counts.sum(axis=1)).ravel().astype(np.float32)
        average = float(lengths.mean()) if len(lengths) else 1.0
        length_norm = K1 * (1 - B + B * lengths / max(average, 1e-9))
        columns = counts.tocsc()
        frequency = columns.data.astype(np.float32)
        scored = frequency * (K1 + 1) / (frequency + length_norm[columns.indices])
        return TermColumns(columns.indptr.astype(np.int64), columns.indices, scored)

    def _counts(self) -> sp.csr_matrix:
        """The raw term counts: held since building, or read from the saved matrix now."""
        if self._rows is None:
            if self._counts_file is None:
                raise ValueError("the term counts of a served index were dropped; open it again")
            self._rows = sp.load_npz(self._counts_file).tocsr()
        return self._rows

    def prepare_scoring(self, keep_counts: bool = False) -> None:
        """Make the BM25 weights now, so the first question does not wait for them; a served
        index then drops the raw counts (only an update copies them, from its own reader, and
        an index with saved weights reads them back from disk then), which at a million chunks
        is most of a gigabyte."""
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
        """Load the files; `reading(path)` is entered around each, so the caller can say which
        one was damaged. Saved weights are memory-mapped and the counts left on disk (only
        their shape is read); without saved weights the counts are read to compute them."""
        with reading(directory / VOCABULARY):
            vocabulary = json.loads((directory / VOCABULARY).read_bytes())
            if not isinstance(vocabulary, dict):
                raise ValueError("not a JSON object")
        with reading(directory / CHUNK_IDS):
            chunk_ids = np.load(directory / CHUNK_IDS)
            if chunk_ids.ndim != 1 or chunk_ids.dtype != np.int64:
                raise ValueError(f"an array of {chunk_ids.dtype} {chunk_ids.shape}, not chunk ids")
        expected = (len(chunk_ids), len(vocabulary))
        saved = all((directory / name).is_file() for name in WEIGHT_FILES)
        with reading(directory / MATRIX):
            frequencies = None if saved else sp.load_npz(directory / MATRIX).tocsr()
            shape = _stored_shape(directory / MATRIX) if saved else frequencies.shape
            if shape != expected:
                raise ValueError(
                    f"a {shape} matrix for {len(chunk_ids)} chunks and {len(vocabulary)} terms"
                )
        if not saved:
            return cls(chunk_ids, frequencies, vocabulary)
        arrays = []
        for name in WEIGHT_FILES:
            with reading(directory / name):
                arrays.append(np.load(directory / name, mmap_mode="r"))
        weights = TermColumns(*arrays)
        with reading(directory / WEIGHTS):
            if problem := weights.problem(*expected):
                raise ValueError(problem)
        return cls(chunk_ids, None, vocabulary, weights=weights, counts_file=directory / MATRIX)

    def save(self, directory: Path) -> None:
        """Write the files; a failed write names its file (numpy's errors do not)."""
        directory.mkdir(parents=True, exist_ok=True)
        counts = self._counts()
        weights = self._weights
        writes: list[tuple[str, Callable[[Path], object]]] = [
            (MATRIX, lambda path: sp.save_npz(path, counts, compressed=False)),
            (CHUNK_IDS, lambda path: np.save(path, self.chunk_ids)),
            (VOCABULARY, lambda path: path.write_text(json.dumps(self.vocabulary))),
            (WEIGHT_POINTERS, lambda path: np.save(path, weights.indptr)),
            (WEIGHT_ROWS, lambda path: np.save(path, weights.indices)),
            (WEIGHTS, lambda path: np.save(path, weights.data)),
        ]
        for name, write in writes:
            try:
                write(directory / name)
            except OSError as error:
                error.filename = error.filename or str(directory / name)
                raise

    def rows(self, positions: np.ndarray | slice) -> sp.csr_matrix:
        return self._counts()[positions]

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


def _stored_shape(path: Path) -> tuple[int, int]:
    """The shape of a matrix saved by `scipy.sparse.save_npz`, reading nothing else of it."""
    with np.load(path) as stored:
        kind = stored["format"].item()
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind != "csr":
            raise ValueError(f"a {kind} matrix, not csr")
        rows, columns = (int(n) for n in stored["shape"])
    return rows, columns


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
            self._pieces.append(previous._counts())  # not copied: `finish` copies each piece once
            self._chunk_ids.append(wanted)
            return
        order = np.argsort(previous.chunk_ids, kind="stable")
        rows = order[np.searchsorted(previous.chunk_ids, wanted, sorter=order)]
        if not np.array_equal(previous.chunk_ids[rows], wanted):
            raise KeyError("chunk ids the previous index does not hold")
        self._pieces.append(previous.rows(rows))
        self._chunk_ids.append(np.asarray(chunk_ids, dtype=np.int64))

    def finish(self) -> LexicalIndex:
        """Every row gathered into one matrix as wide as the vocabulary, each piece copied once
        and left as it was (a piece may be a previous index's own counts)."""
        matrix = _stacked(self._pieces, len(self.vocabulary))
        chunk_ids = np.concatenate(self._chunk_ids) if self._chunk_ids else np.zeros(0, np.int64)
        return LexicalIndex(chunk_ids, matrix, self.vocabulary)


def _stacked(pieces: list[sp.csr_matrix], width: int) -> sp.csr_matrix:
    """The rows of `pieces` one after the other, `width` columns wide (at least as wide as any
    piece): the arrays concatenated, each once. scipy's vstack needs the pieces resized to one
    width first, which changes them in place (a previous index's counts among them)."""
    if not pieces:
        return sp.csr_matrix((0, 0))
    sizes = np.array([piece.nnz for piece in pieces], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    index_type = np.int32 if starts[-1] < np.iinfo(np.int32).max else np.int64
    shifted = [
        piece.indptr[:-1].astype(np.int64) + start
        for piece, start in zip(pieces, starts[:-1], strict=True)
    ]
    indptr = np.concatenate([*shifted, starts[-1:]]).astype(index_type)
    data = np.concatenate([piece.data for piece in pieces])
    indices = np.concatenate([piece.indices.astype(index_type, copy=False) for piece in pieces])
    rows = sum(piece.shape[0] for piece in pieces)
    return sp.csr_matrix((data, indices, indptr), shape=(rows, width), copy=False)
