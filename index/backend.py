"""What retrieval needs from a stored index, whichever engine holds it.

Two implementations: `index.local_backend.LocalBackend` (FAISS + BM25 matrix + SQLite in one
generation folder, the default) and `index.qdrant_backend.QdrantBackend` (a Qdrant collection
of chunks, shared by several servers). Fusion, recency, per-article and per-story caps, answers,
statements and story clusters are written once, above this interface, so both engines give the
same answers from the same stored chunks, vectors and term frequencies.

Chunks are named by their stable 63-bit ids; hits map a chunk id to its score, best first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from index.store import ArticleRecord, ChunkRecord
from index.stored_statements import StoredStatement
from index.summary import IndexSummary

Hits = dict[int, float]  # chunk id → score (a cosine, or a BM25 score), best first


@dataclass(frozen=True)
class SearchFilters:
    """Which chunks a search may return: of these sources (any case), dated within the days."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.sources) or self.since is not None or self.until is not None

    @property
    def wanted_sources(self) -> frozenset[str]:
        return frozenset(s.strip().lower() for s in self.sources)

    def admits(self, source: str | None, day: str | None) -> bool:
        """Whether an article of `source` dated `day` (ISO) passes; an undated one passes only
        when no `until` bounds it (its day counts as before every other)."""
        if self.sources and (source or "").lower() not in self.wanted_sources:
            return False
        ordinal = date.fromisoformat(day).toordinal() if day else -1
        if self.since is not None and ordinal < self.since.toordinal():
            return False
        return self.until is None or 0 <= ordinal <= self.until.toordinal()


class TermStatistics(Protocol):
    """Corpus-wide term statistics answers weigh words by (same tokens as `index.lexical`)."""

    vocabulary: Mapping[str, int]

    def idf(self, tokens: Sequence[str]) -> dict[str, float]: ...


class IndexBackend(Protocol):
    """A loaded, read-only index: metadata lookups and the two filtered searches."""

    lexical: TermStatistics
    has_statements: bool

    @property
    def model_id(self) -> str: ...

    @property
    def articles(self) -> Mapping[str, ArticleRecord]: ...

    @property
    def location(self) -> str:
        """Where the served index lives (a generation folder, a Qdrant collection)."""
        ...

    def article(self, article_id: str) -> ArticleRecord | None: ...

    def story(self, article_id: str) -> tuple[str, ...]:
        """The article's story cluster, earliest first, itself included."""
        ...

    def chunk(self, chunk_id: int) -> ChunkRecord: ...

    def articles_of(self, chunk_ids: Sequence[int]) -> list[str]:
        """The article of each chunk, in order: what ranking needs of a few hundred candidates,
        without reading their sentence spans."""
        ...

    def text(self, article_id: str) -> str: ...

    def statements_by(self, name: str) -> list[StoredStatement]: ...

    def statements_with_initials(self, acronym: str) -> list[StoredStatement]: ...

    def statements_in(self, article_id: str) -> list[StoredStatement]: ...

    def skipped(self) -> list[tuple[str, str]]: ...

    def summary(self) -> IndexSummary: ...

    def close(self) -> None: ...

    def chunk_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        """The stored (normalised) vectors of `chunk_ids`, in that order."""
        ...

    def dense_search(
        self, query_vectors: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> list[Hits]:
        """Per question row: the `k` chunks of highest cosine that pass `filters`."""
        ...

    def search_both(
        self, query: str, query_vector: np.ndarray | None, k: int, filters: SearchFilters
    ) -> tuple[Hits, Hits]:
        """Dense hits (empty without a vector) and the `k` best positive BM25 scores of one
        question, both within `filters`: one request where the engine is remote."""
        ...

    def matches_any(self, filters: SearchFilters) -> bool:
        """Whether any chunk passes `filters`."""
        ...

    def chunk_filter(self, filters: SearchFilters) -> Callable[[int], bool]:
        """Whether a chunk (by id) passes `filters`, for chunks found another way."""
        ...

    def articles_with_all(self, terms: Sequence[str], filters: SearchFilters) -> set[str]:
        """The articles (passing `filters`) whose chunks hold every one of `terms` (tokens as
        `index.lexical.tokenize` makes them) somewhere in the article."""
        ...

    def prepare(self, like: IndexBackend | None = None) -> None:
        """Ready the in-memory search structures (`like`: the index served before, to reuse)."""
        ...
