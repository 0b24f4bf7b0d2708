"""The Qdrant backend: an index that several servers read from one Qdrant cluster.

One collection holds everything, so one alias names the served index and switching it is one
atomic step (`index.qdrant_publish`):

- a point per chunk (id = the chunk id) with a named dense vector `dense` (dot product on the
  stored normalised vectors) and a named sparse vector `bm25` holding each term's saturated
  BM25 term frequency — the same tokens (`index.lexical.tokenize`) and the same k1, b and
  corpus average length as the local index — and a payload: article id, source (lower-cased),
  day (ordinal, -1 when undated), character offsets and sentences;
- a point per article (no vectors): title, source, date, URL, text, content hash, its
  statements (rows as `index.stored_statements` stores them), its story cluster and the set of
  its terms (what coverage counts);
- one `corpus` point: the manifest, each term's sparse index and document frequency, the
  corpus average length, skipped inputs.

IDF is applied by newsdesk, from the stored document frequencies, on the query side (the query
vector's weights are count × idf). Qdrant's `modifier: idf` ranked the same on the development
set (bench/qdrant_edge_parity.py), but answers weigh words by the same document frequencies, so
every server needs them anyway; one copy keeps search and answers on the same statistics,
whatever the engine counts (its IDF is built from the statistics it holds, which an update in
place or a sharded deployment may change). A build may still choose `idf="qdrant"`. Articles,
chunk offsets and statements are loaded when the index is opened, as the local reader does;
texts are read on demand.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index import stored_statements
from index.backend import Hits, IndexBackend, SearchFilters
from index.errors import IndexIncompatible, IndexNotFound, QdrantStoreBusy, QdrantUnavailable
from index.lexical import tokenize
from index.store import ArticleRecord, ChunkRecord, Manifest
from index.stored_statements import StoredStatement
from index.summary import IndexSummary, summary_of

logger = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "bm25"
NAMESPACE = uuid.UUID("5b0c3f6e-8a51-4c1e-9a57-1f0e7c2a9d41")
SCROLL_PAGE = 2048


def article_point(article_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"article:{article_id}"))


CORPUS_POINT = str(uuid.uuid5(NAMESPACE, "corpus"))


def alias_name(prefix: str) -> str:
    return f"{prefix}chunks"


def is_server_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def connect(location: str, api_key: str | None = None, timeout: float = 10.0) -> Any:
    """A client for a server URL or an embedded store in a local folder; QdrantUnavailable
    (naming `location`) when it cannot be reached or opened."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise QdrantUnavailable(
            location, "the qdrant-client package is missing: pip install 'newsdesk[qdrant]'"
        ) from None
    try:
        if is_server_url(location):
            client = QdrantClient(
                url=location, api_key=api_key, timeout=int(timeout), check_compatibility=False
            )
        else:
            client = QdrantClient(path=location)
        client.get_collections()
    except RuntimeError as error:
        if "already accessed by another instance" in str(error):  # the folder's lock
            raise QdrantStoreBusy(location) from None
        raise QdrantUnavailable(location, _brief(error)) from None
    except Exception as error:  # connection refused, TLS, an unreadable folder
        raise QdrantUnavailable(location, _brief(error)) from None
    # Closed before the interpreter tears modules down: the client's own __del__ then fails
    # noisily (an embedded store also releases its folder lock here).
    atexit.register(client.close)
    return client


def _brief(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:159] + "…"


class TermStatistics:
    """The corpus's document frequencies, for BM25's IDF (same formula as `LexicalIndex`)."""

    def __init__(self, terms: Mapping[str, Sequence[int]], chunks: int) -> None:
        self.vocabulary = {term: int(column) for term, (column, _) in terms.items()}
        frequency = np.asarray([df for _, df in terms.values()], dtype=np.float32)
        idf = np.log1p((chunks - frequency + 0.5) / (frequency + 0.5))
        self._idf = dict(zip(terms, idf.tolist(), strict=True))
        self._idf32 = dict(zip(terms, idf, strict=True))

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        return {token: self._idf[token] for token in tokens if token in self._idf}

    def query_vector(self, query: str, with_idf: bool) -> tuple[list[int], list[float]]:
        """Sparse indices and weights of a question: each known term's count, times its IDF
        unless Qdrant applies it."""
        indices, values = [], []
        for token, count in Counter(tokenize([query])[0]).items():
            if token in self.vocabulary:
                indices.append(self.vocabulary[token])
                weight = self._idf32[token] * np.float32(count) if with_idf else count
                values.append(float(weight))
        return indices, values


def search_filter(filters: SearchFilters | None, kind: str | None = None) -> Any:
    """`filters` as a Qdrant filter over points of `kind` (None: any point with vectors)."""
    from qdrant_client import models

    must: list[Any] = []
    if kind is not None:
        must.append(models.FieldCondition(key="kind", match=models.MatchValue(value=kind)))
    if filters is not None and filters.sources:
        wanted = sorted(filters.wanted_sources)
        must.append(models.FieldCondition(key="source", match=models.MatchAny(any=wanted)))
    if filters is not None and (filters.since is not None or filters.until is not None):
        since = filters.since.toordinal() if filters.since is not None else None
        until = filters.until.toordinal() if filters.until is not None else None
        low = since if since is not None else 0  # an undated chunk (-1) passes no date bound
        must.append(models.FieldCondition(key="day", range=models.Range(gte=low, lte=until)))
    return models.Filter(must=must) if must else None


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
            if _is_unreachable(error):
                raise QdrantUnavailable(self._location, _brief(error)) from None
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

    def _dense_request(self, vector: np.ndarray, k: int, filters: SearchFilters | None) -> Any:
        from qdrant_client import models

        return models.QueryRequest(
            query=np.asarray(vector, dtype=np.float32).reshape(-1).tolist(),
            using=DENSE,
            filter=search_filter(filters),
            limit=k,
            with_payload=False,
        )

    def _sparse_request(self, query: str, k: int, filters: SearchFilters | None) -> Any:
        from qdrant_client import models

        indices, values = self.lexical.query_vector(query, with_idf=self.idf_by == "newsdesk")
        return models.QueryRequest(
            query=models.SparseVector(indices=indices, values=values),
            using=SPARSE,
            filter=search_filter(filters),
            limit=k,
            with_payload=False,
        )

    def _batch(self, requests: list[Any]) -> list[Hits]:
        if not requests:
            return []
        responses = self._call(lambda: self.client.query_batch_points(self.collection, requests))
        return [{int(p.id): float(p.score) for p in response.points} for response in responses]

    def dense_search(
        self, query_vectors: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> list[Hits]:
        vectors = np.atleast_2d(query_vectors)
        return self._batch([self._dense_request(v, k, filters) for v in vectors])

    def search_both(
        self, query: str, query_vector: np.ndarray | None, k: int, filters: SearchFilters
    ) -> tuple[Hits, Hits]:
        requests = [self._sparse_request(query, k, filters)]
        if query_vector is not None:
            requests.insert(0, self._dense_request(query_vector, k, filters))
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


def _is_unreachable(error: BaseException) -> bool:
    """Whether `error` says the server could not be reached (not a bad request)."""
    from qdrant_client.http.exceptions import ResponseHandlingException

    if isinstance(error, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    try:
        import grpc
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, grpc.RpcError)
