"""How a question and its filters become a Qdrant query: the sparse BM25 vector, weighted by
the corpus's stored document frequencies, the payload filter, and the search requests built
from them. Separate from the reader (`index.qdrant_backend`), which holds the collection's
metadata and sends the requests.

IDF is applied by newsdesk, from the stored document frequencies, on the query side (the query
vector's weights are count × idf). Qdrant's `modifier: idf` ranked the same on the development
set (bench/qdrant_edge_parity.py), but answers weigh words by the same document frequencies, so
every server needs them anyway; one copy keeps search and answers on the same statistics,
whatever the engine counts (its IDF is built from the statistics it holds, which an update in
place or a sharded deployment may change). A build may still choose `idf="qdrant"`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from index.backend import SearchFilters
from index.lexical import tokenize
from index.qdrant_collection import DENSE, SPARSE


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


def dense_request(vector: np.ndarray, k: int, filters: SearchFilters | None) -> Any:
    """The `k` nearest chunks to `vector` that `filters` admit."""
    from qdrant_client import models

    return models.QueryRequest(
        query=np.asarray(vector, dtype=np.float32).reshape(-1).tolist(),
        using=DENSE,
        filter=search_filter(filters),
        limit=k,
        with_payload=False,
    )


def sparse_request(
    lexical: TermStatistics, query: str, k: int, filters: SearchFilters | None, *, with_idf: bool
) -> Any:
    """The `k` best BM25 chunks for `query` that `filters` admit."""
    from qdrant_client import models

    indices, values = lexical.query_vector(query, with_idf=with_idf)
    return models.QueryRequest(
        query=models.SparseVector(indices=indices, values=values),
        using=SPARSE,
        filter=search_filter(filters),
        limit=k,
        with_payload=False,
    )
