"""The local backend: one generation folder (FAISS vectors, BM25 matrix, SQLite metadata).

Filters become a boolean mask over chunk rows (the order of the BM25 matrix), made from compact
per-row arrays (article, outlet code, day), and a dense search scores exactly the allowed ids
(an `IDSelector`); unfiltered dense searches of many questions share one call (`dense_search`
with several rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

from index.backend import Hits, IndexBackend, SearchFilters
from index.lexical import LexicalIndex
from index.store import ArticleRecord, ChunkRecord, IndexReader, open_index
from index.stored_statements import StoredStatement
from index.summary import IndexSummary

# Shared by every open index: one BM25 search per question in flight.
_LEXICAL_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


class LocalBackend:
    """An `IndexBackend` over a loaded `IndexReader`."""

    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self.lexical: LexicalIndex = reader.lexical
        self.has_statements = reader.has_statements
        self._chunk_ids = reader.lexical.chunk_ids
        self._rows_by_id = np.argsort(self._chunk_ids, kind="stable")  # chunk ids are sparse
        self._sorted_ids = self._chunk_ids[self._rows_by_id]
        # Per chunk row (BM25 order): its article's position, outlet code and day, as arrays
        # made from the chunk table and one pass over the articles (not over the chunks). The
        # table is sorted by id and holds the same ids (the reader checked), so the k-th row in
        # id order is the table's k-th row: no search for each of a million ids.
        table = reader.chunk_table
        self._article_of_row = np.empty(len(self._chunk_ids), dtype=table.article.dtype)
        self._article_of_row[self._rows_by_id] = table.article
        self._article_ids = np.asarray(reader.article_ids, dtype=object)
        records = [reader.articles[a] for a in reader.article_ids]
        sources = [(r.source or "").lower() for r in records]
        self._source_names, source_codes = np.unique(np.asarray(sources, dtype=object),
                                                     return_inverse=True)  # fmt: skip
        days = [date.fromisoformat(r.date).toordinal() if r.date else -1 for r in records]
        self._source_of_row = source_codes.astype(np.int32)[self._article_of_row]
        self._day_of_row = np.asarray(days, dtype=np.int32)[self._article_of_row]
        self._last_mask: tuple[SearchFilters, np.ndarray] | None = None

    @classmethod
    def open(cls, index_dir: Path, expected_model_id: str | None = None) -> LocalBackend:
        return cls(open_index(index_dir, expected_model_id))

    # --- metadata ------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self.reader.manifest.model_id

    @property
    def directory(self) -> Path:
        return self.reader.directory

    @property
    def location(self) -> str:
        return str(self.reader.directory)

    @property
    def articles(self) -> Mapping[str, ArticleRecord]:
        return self.reader.articles

    def article(self, article_id: str) -> ArticleRecord | None:
        return self.reader.article(article_id)

    def story(self, article_id: str) -> tuple[str, ...]:
        return self.reader.story(article_id)

    def chunk(self, chunk_id: int) -> ChunkRecord:
        return self.reader.chunk(chunk_id)

    def articles_of(self, chunk_ids: Sequence[int]) -> list[str]:
        return self.reader.articles_of(chunk_ids)

    def text(self, article_id: str) -> str:
        return self.reader.text(article_id)

    def statements_by(self, name: str) -> list[StoredStatement]:
        return self.reader.statements_by(name)

    def statements_with_initials(self, acronym: str) -> list[StoredStatement]:
        return self.reader.statements_with_initials(acronym)

    def statements_in(self, article_id: str) -> list[StoredStatement]:
        return self.reader.statements_in(article_id)

    def skipped(self) -> list[tuple[str, str]]:
        return self.reader.skipped()

    def summary(self) -> IndexSummary:
        return self.reader.summary()

    def close(self) -> None:
        self.reader.close()

    # --- searches ------------------------------------------------------------------------------

    def prepare(self, like: IndexBackend | None = None) -> None:
        previous = like.reader.vectors if isinstance(like, LocalBackend) else None
        self.reader.vectors.prepare_fast_search(like=previous)
        self.lexical.prepare_scoring()

    def allowed_rows(self, filters: SearchFilters) -> np.ndarray | None:
        """Boolean mask over chunk rows, or None when nothing is filtered. A question asks for
        its filter's mask several times (dense, lexical, statements): the last one is kept."""
        if not filters.active:
            return None
        last = self._last_mask
        if last is not None and last[0] == filters:
            return last[1]
        mask = np.ones(len(self._chunk_ids), dtype=bool)
        if filters.sources:
            wanted = filters.wanted_sources
            outlet_wanted = np.fromiter(
                (name in wanted for name in self._source_names), bool, len(self._source_names)
            )
            mask &= outlet_wanted[self._source_of_row]  # a lookup per row, not a set test
        if filters.since is not None:
            mask &= self._day_of_row >= filters.since.toordinal()
        if filters.until is not None:
            mask &= (self._day_of_row >= 0) & (self._day_of_row <= filters.until.toordinal())
        mask.flags.writeable = False  # shared by the callers of this filter
        self._last_mask = (filters, mask)
        return mask

    def matches_any(self, filters: SearchFilters) -> bool:
        mask = self.allowed_rows(filters)
        return mask is None or bool(mask.any())

    def chunk_filter(self, filters: SearchFilters) -> Callable[[int], bool]:
        mask = self.allowed_rows(filters)
        if mask is None:
            return lambda _chunk_id: True
        return lambda chunk_id: bool(mask[self._row_of(chunk_id)])

    def _row_of(self, chunk_id: int) -> int:
        return int(self._rows_by_id[np.searchsorted(self._sorted_ids, chunk_id)])

    def chunk_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        return self.reader.vectors.vectors(int(c) for c in chunk_ids)

    def dense_search(
        self, query_vectors: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> list[Hits]:
        mask = self.allowed_rows(filters or SearchFilters())
        if mask is not None and not mask.any():
            return [{} for _ in np.atleast_2d(query_vectors)]
        allowed = self._chunk_ids[mask] if mask is not None else None
        scores, ids = self.reader.vectors.search(query_vectors, k, allowed)
        return [self._hits(s, i) for s, i in zip(scores, ids, strict=True)]

    @staticmethod
    def _hits(scores: np.ndarray, ids: np.ndarray) -> Hits:
        found = ids >= 0  # FAISS pads with -1 when fewer vectors match
        return dict(zip(ids[found].tolist(), scores[found].tolist(), strict=True))

    def lexical_search(self, query: str, k: int, filters: SearchFilters | None = None) -> Hits:
        """The `k` best positive BM25 scores within `filters`, best first."""
        scores = self.lexical.scores(query)
        mask = self.allowed_rows(filters or SearchFilters())
        matching = scores > 0
        if mask is not None:
            matching &= mask
        top = np.flatnonzero(matching)  # usually a small share: partition only those
        if k <= 0:
            return {}
        if len(top) > k:
            top = top[np.argpartition(-scores[top], k - 1)[:k]]
        top = top[np.argsort(-scores[top], kind="stable")]
        return dict(zip(self._chunk_ids[top].tolist(), scores[top].tolist(), strict=True))

    def search_both(
        self, query: str, query_vector: np.ndarray | None, k: int, filters: SearchFilters
    ) -> tuple[Hits, Hits]:
        """BM25 runs on a worker thread while the dense search runs on this one: on a million
        chunks each takes several milliseconds, and both release the GIL for most of it."""
        if query_vector is None:
            return {}, self.lexical_search(query, k, filters)
        lexical = _LEXICAL_WORKERS.submit(self.lexical_search, query, k, filters)
        dense = self.dense_search(query_vector, k, filters)[0]
        return dense, lexical.result()

    def articles_with_all(self, terms: Sequence[str], filters: SearchFilters) -> set[str]:
        if not terms or not all(t in self.lexical.vocabulary for t in terms):
            return set()
        allowed = self.allowed_rows(filters)
        found: set[str] | None = None
        rarest_first = sorted(terms, key=lambda t: -self.lexical.idf([t])[t])  # small sets
        for term in rarest_first:
            rows = self.lexical.rows_with(term)
            if allowed is not None:
                rows = rows[allowed[rows]]
            articles = set(self._article_ids[np.unique(self._article_of_row[rows])])
            found = articles if found is None else found & articles
            if not found:
                return set()
        return found or set()
