"""The Qdrant backend: an index that several servers read from one Qdrant cluster.

The collection's layout is described in `index.qdrant_collection`; how a question becomes a
query in `index.qdrant_query`. Articles, chunk offsets and statements are loaded when the index
is opened, as the local reader does; texts are read on demand.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index import stored_statements
from index.backend import Hits, IndexBackend, SearchFilters
from index.errors import IndexIncompatible, IndexNotFound, QdrantUnavailable
from index.manifest import Manifest
from index.qdrant_collection import (
    CORPUS_POINT,
    DENSE,
    alias_name,
    article_point,
    brief,
    connect,
    is_server_url,
    is_unreachable,
)
from index.qdrant_query import TermStatistics, dense_request, search_filter, sparse_request
from index.store import ArticleRecord, ChunkRecord
from index.stored_statements import StoredStatement
from index.summary import IndexSummary, summary_of

SCROLL_PAGE = 2048


class QdrantBackend:
    """An `IndexBackend` reading the collection an alias names."""

    def __init__(
        self,
        client: Any,
        location: str,
        prefix: str = "newsdesk-",
        expected_model_id: str | None = None,
    ) -> None:
        self.client = client
        self._location = location
        self.alias = alias_name(prefix)
        self.collection = self._resolve_alias()
        corpus = self._call(lambda: client.retrieve(self.collection, [CORPUS_POINT]))
        if not corpus:
            raise IndexNotFound(f"The Qdrant collection {self.collection} holds no newsdesk index.")
        payload = corpus[0].payload
        self.manifest = Manifest(**payload["manifest"])
        if expected_model_id is not None and expected_model_id != self.manifest.model_id:
            raise IndexIncompatible(
                f"The index in Qdrant ({location}, {self.alias}) was built with model "
                f"'{self.manifest.model_id}', but the configured model is '{expected_model_id}'; "
                f"rebuild it with `newsdesk index build --backend qdrant`."
            )
        self.idf_by = payload.get("idf", "newsdesk")
        self.lexical = TermStatistics(payload["terms"], self.manifest.chunks)
        self._skipped = [tuple(item) for item in payload.get("skipped", [])]
        self.has_statements = True
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(stored_statements.TABLE)
        self._articles: dict[str, ArticleRecord] = {}
        self._stories: dict[str, tuple[str, ...]] = {}
        self._days: dict[str, tuple[str, str | None]] = {}
        self._load_articles()
        self._chunks: dict[int, ChunkRecord] = {}
        self._load_chunks()
        self.text = lru_cache(maxsize=2048)(self._article_text)

    @classmethod
    def open(
        cls,
        location: str,
        api_key: str | None = None,
        prefix: str = "newsdesk-",
        expected_model_id: str | None = None,
    ) -> QdrantBackend:
        return cls(connect(location, api_key), location, prefix, expected_model_id)

    def _call(self, request: Callable[[], Any]) -> Any:
        """Run one request; a lost connection becomes QdrantUnavailable naming the server."""
        try:
            return request()
        except (IndexNotFound, IndexIncompatible):
            raise
        except Exception as error:
            if is_unreachable(error):
                raise QdrantUnavailable(self._location, brief(error)) from None
            raise

    def _resolve_alias(self) -> str:
        aliases = self._call(lambda: self.client.get_aliases()).aliases
        for alias in aliases:
            if alias.alias_name == self.alias:
                return alias.collection_name
        raise IndexNotFound(
            f"No index in Qdrant at {self._location} (no collection alias {self.alias}); "
            f"build one with `newsdesk index build --backend qdrant`."
        )

    def is_current(self) -> bool:
        """Whether the alias still names the collection this reads (a build switches it)."""
        try:
            return self._resolve_alias() == self.collection
        except IndexNotFound:
            return True  # the alias is being replaced: keep serving this one

    def _scroll(self, kind: str, payload: list[str]) -> Iterator[Any]:
        from qdrant_client import models

        kind_filter = models.Filter(
            must=[models.FieldCondition(key="kind", match=models.MatchValue(value=kind))]
        )
        offset = None
        while True:
            points, offset = self._call(
                lambda offset=offset: self.client.scroll(
                    self.collection,
                    scroll_filter=kind_filter,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=payload,
                    with_vectors=False,
                )
            )
            yield from points
            if offset is None:
                return

    def _load_articles(self) -> None:
        fields = ["id", "title", "source_name", "date", "url", "origin", "content_hash"]
        rows: list[tuple[object, ...]] = []
        position: dict[str, int] = {}
        for point in self._scroll("article", [*fields, "position", "story", "statements"]):
            p = point.payload
            record = ArticleRecord(
                p["id"], p["title"], p.get("source_name"), p.get("date"), p.get("url"),
                p["origin"], p["content_hash"],
            )  # fmt: skip
            self._articles[record.id] = record
            position[record.id] = p.get("position", 0)
            if p.get("story"):
                self._stories[record.id] = tuple(p["story"])
            rows += [tuple(row) for row in p.get("statements", [])]
        order = sorted(self._articles, key=lambda a: (position[a], a))
        self._articles = {a: self._articles[a] for a in order}
        stored_statements.insert_statements(self._db, rows)

    def _load_chunks(self) -> None:
        for point in self._scroll("chunk", ["article_id", "start", "end", "sentences"]):
            p = point.payload
            sentences = tuple(tuple(s) for s in p["sentences"])
            self._chunks[int(point.id)] = ChunkRecord(
                int(point.id), p["article_id"], p["start"], p["end"], sentences
            )

    # --- metadata ------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self.manifest.model_id

    @property
    def location(self) -> str:
        return f"{self._location} ({self.alias} → {self.collection})"

    @property
    def articles(self) -> Mapping[str, ArticleRecord]:
        return self._articles

    def article(self, article_id: str) -> ArticleRecord | None:
        return self._articles.get(article_id)

    def story(self, article_id: str) -> tuple[str, ...]:
        return self._stories.get(article_id, (article_id,))

    def chunk(self, chunk_id: int) -> ChunkRecord:
        return self._chunks[chunk_id]

    def articles_of(self, chunk_ids: Sequence[int]) -> list[str]:
        return [self._chunks[chunk_id].article_id for chunk_id in chunk_ids]

    def _article_text(self, article_id: str) -> str:
        found = self._call(
            lambda: self.client.retrieve(
                self.collection, [article_point(article_id)], with_payload=["text"]
            )
        )
        if not found:
            raise KeyError(article_id)
        return found[0].payload["text"]

    def statements_by(self, name: str) -> list[StoredStatement]:
        with self._lock:
            return stored_statements.by_speaker(self._db, name)

    def statements_with_initials(self, acronym: str) -> list[StoredStatement]:
        with self._lock:
            return stored_statements.by_initials(self._db, acronym)

    def statements_in(self, article_id: str) -> list[StoredStatement]:
        with self._lock:
            return stored_statements.in_article(self._db, article_id)

    def skipped(self) -> list[tuple[str, str]]:
        return sorted(self._skipped)

    def summary(self) -> IndexSummary:
        with self._lock:
            statement_counts = stored_statements.counts(self._db)
        return summary_of(
            self.manifest,
            self._articles,
            self._stories.values(),
            chunks=len(self._chunks),
            size_bytes=self._size_bytes(),
            path=self.location,
            statement_counts=statement_counts,
        )

    def _size_bytes(self) -> int:
        """The embedded store's files for this collection; 0 for a server (its own metrics
        say how much each node holds)."""
        if is_server_url(self._location):
            return 0
        folder = Path(self._location) / "collection" / self.collection
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())

    def close(self) -> None:
        self._db.close()
        self.client.close()

    # --- searches ------------------------------------------------------------------------------

    def prepare(self, like: IndexBackend | None = None) -> None:
        """Nothing to ready: the engine keeps its own indexes."""

    def matches_any(self, filters: SearchFilters) -> bool:
        # every indexed article has chunks (an article without text is skipped when read)
        return any(filters.admits(r.source, r.date) for r in self._articles.values())

    def chunk_filter(self, filters: SearchFilters) -> Callable[[int], bool]:
        if not filters.active:
            return lambda _chunk_id: True

        def admitted(chunk_id: int) -> bool:
            record = self._articles[self._chunks[chunk_id].article_id]
            return filters.admits(record.source, record.date)

        return admitted

    def chunk_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        ids = [int(c) for c in chunk_ids]
        if not ids:
            return np.empty((0, self.manifest.dimension), dtype=np.float32)
        found = self._call(lambda: self.client.retrieve(self.collection, ids, with_vectors=[DENSE]))
        by_id = {int(p.id): p.vector[DENSE] for p in found}
        return np.asarray([by_id[c] for c in ids], dtype=np.float32)

    def _batch(self, requests: list[Any]) -> list[Hits]:
        if not requests:
            return []
        responses = self._call(lambda: self.client.query_batch_points(self.collection, requests))
        return [{int(p.id): float(p.score) for p in response.points} for response in responses]

    def dense_search(
        self, query_vectors: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> list[Hits]:
        vectors = np.atleast_2d(query_vectors)
        return self._batch([dense_request(v, k, filters) for v in vectors])

    def search_both(
        self, query: str, query_vector: np.ndarray | None, k: int, filters: SearchFilters
    ) -> tuple[Hits, Hits]:
        with_idf = self.idf_by == "newsdesk"
        requests = [sparse_request(self.lexical, query, k, filters, with_idf=with_idf)]
        if query_vector is not None:
            requests.insert(0, dense_request(query_vector, k, filters))
        if not requests[-1].query.indices:  # no known term: no lexical candidate
            requests.pop()
            hits = self._batch(requests)
            return (hits[0] if hits else {}), {}
        hits = self._batch(requests)
        lexical = {c: s for c, s in hits[-1].items() if s > 0}
        return (hits[0] if query_vector is not None else {}), lexical

    def articles_with_all(self, terms: Sequence[str], filters: SearchFilters) -> set[str]:
        from qdrant_client import models

        if not terms or not all(t in self.lexical.vocabulary for t in terms):
            return set()
        query = search_filter(filters, kind="article")
        query.must += [
            models.FieldCondition(key="terms", match=models.MatchValue(value=t)) for t in terms
        ]
        found: set[str] = set()
        offset = None
        while True:
            points, offset = self._call(
                lambda offset=offset: self.client.scroll(
                    self.collection, scroll_filter=query, limit=SCROLL_PAGE, offset=offset,
                    with_payload=["id"], with_vectors=False,
                )
            )  # fmt: skip
            found.update(p.payload["id"] for p in points)
            if offset is None:
                return found
