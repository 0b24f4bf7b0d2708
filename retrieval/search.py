"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused by weighted reciprocal rank.

Filters (sources, date range) apply before ranking in both searches; at most
`per_article` passages of one article reach the results, so a long article cannot crowd out the
rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from index.store import IndexReader

QueryEncoder = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class SearchFilters:
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.sources) or self.since is not None or self.until is not None


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    article_id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    score: float
    similarity: float = 0.0  # cosine of question and passage: evidence strength for abstention


@dataclass(frozen=True)
class SearchTuning:
    """Fusion weights and pool sizes; defaults tuned on the development set."""

    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    rrf_k: int = 60
    pool: int = 100
    per_article: int = 2
    mode: str = "hybrid"  # "hybrid", "dense" or "lexical" (the baselines)
    recency_boost: float = 0.0  # up to this share added to articles dated near `as_of`
    recency_half_life_days: float = 30.0


class Retriever:
    def __init__(
        self, reader: IndexReader, encode_query: QueryEncoder, tuning: SearchTuning | None = None
    ) -> None:
        self.reader = reader
        self.encode_query = encode_query
        self.tuning = tuning or SearchTuning()
        self._chunk_ids = reader.lexical.chunk_ids
        self._row_of = {int(chunk_id): row for row, chunk_id in enumerate(self._chunk_ids)}
        article_ids = [reader.chunk(int(c)).article_id for c in self._chunk_ids]
        articles = [reader.article(a) for a in article_ids]
        self._article_of_row = np.asarray(article_ids, dtype=object)
        self._source_of_row = np.asarray([(a.source or "").lower() for a in articles], dtype=object)
        self._day_of_row = np.asarray(
            [date.fromisoformat(a.date).toordinal() if a.date else -1 for a in articles],
            dtype=np.int64,
        )

    def allowed_rows(self, filters: SearchFilters) -> np.ndarray | None:
        """Boolean mask over chunk rows, or None when nothing is filtered."""
        if not filters.active:
            return None
        mask = np.ones(len(self._chunk_ids), dtype=bool)
        if filters.sources:
            wanted = {s.lower() for s in filters.sources}
            mask &= np.fromiter((s in wanted for s in self._source_of_row), bool, len(mask))
        if filters.since is not None:
            mask &= self._day_of_row >= filters.since.toordinal()
        if filters.until is not None:
            mask &= (self._day_of_row >= 0) & (self._day_of_row <= filters.until.toordinal())
        return mask

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        *,
        offset: int = 0,
        as_of: date | None = None,
        tuning: SearchTuning | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """The top `k` passages after skipping `offset` (for "more").

        `as_of` is the day the question is asked; news questions usually concern the recent
        past, so articles dated close to it get a soft boost (`recency_boost`). A caller that
        encoded many questions at once passes each one's `query_vector`.
        """
        tuning = tuning or self.tuning
        mask = self.allowed_rows(filters or SearchFilters())
        if mask is not None and not mask.any():
            return []
        pool = max(tuning.pool, 4 * (k + offset))
        fused: dict[int, float] = {}
        if query_vector is None and tuning.mode != "lexical":
            query_vector = self.encode_query(query)
        if tuning.mode in ("hybrid", "dense"):
            for rank, row in enumerate(self._dense_rows(query_vector, pool, mask)):
                fused[row] = fused.get(row, 0.0) + tuning.dense_weight / (tuning.rrf_k + rank + 1)
        if tuning.mode in ("hybrid", "lexical"):
            for rank, row in enumerate(self._lexical_rows(query, pool, mask)):
                fused[row] = fused.get(row, 0.0) + tuning.lexical_weight / (tuning.rrf_k + rank + 1)
        if as_of is not None and tuning.recency_boost > 0:
            fused = self._with_recency(fused, as_of, tuning)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        chosen: list[tuple[int, float]] = []
        per_article: dict[str, int] = {}
        for row, score in ranked:
            article_id = self._article_of_row[row]
            if per_article.get(article_id, 0) >= tuning.per_article:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            chosen.append((row, score))
            if len(chosen) >= offset + k:
                break
        chosen = chosen[offset:]
        similarities = np.zeros(len(chosen), dtype=np.float32)
        if query_vector is not None and chosen:
            ids = [int(self._chunk_ids[row]) for row, _ in chosen]
            similarities = self.reader.vectors.vectors(ids) @ query_vector.reshape(-1)
        return [
            self._passage(row, score, float(similarity))
            for (row, score), similarity in zip(chosen, similarities, strict=True)
        ]

    def _with_recency(
        self, fused: dict[int, float], as_of: date, tuning: SearchTuning
    ) -> dict[int, float]:
        today = as_of.toordinal()
        boosted = {}
        for row, score in fused.items():
            day = self._day_of_row[row]
            closeness = 0.5 ** (abs(today - day) / tuning.recency_half_life_days) if day >= 0 else 0
            boosted[row] = score * (1 + tuning.recency_boost * closeness)
        return boosted

    def _dense_rows(
        self, query_vector: np.ndarray, pool: int, mask: np.ndarray | None
    ) -> list[int]:
        allowed = self._chunk_ids[mask] if mask is not None else None
        _, ids = self.reader.vectors.search(query_vector, pool, allowed)
        return [self._row_of[int(i)] for i in ids[0] if i >= 0]

    def _lexical_rows(self, query: str, pool: int, mask: np.ndarray | None) -> list[int]:
        scores = self.reader.lexical.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        pool = min(pool, len(scores))
        top = np.argpartition(-scores, pool - 1)[:pool]
        top = top[scores[top] > 0]
        return top[np.argsort(-scores[top], kind="stable")].tolist()

    def _passage(self, row: int, score: float, similarity: float) -> Passage:
        chunk = self.reader.chunk(int(self._chunk_ids[row]))
        article = self.reader.article(chunk.article_id)
        text = self.reader.text(chunk.article_id)
        return Passage(
            chunk_id=chunk.id,
            article_id=chunk.article_id,
            title=article.title,
            source=article.source,
            date=article.date,
            url=article.url,
            text=text[chunk.start : chunk.end],
            start=chunk.start,
            end=chunk.end,
            sentences=chunk.sentences,
            score=round(score, 6),
            similarity=round(similarity, 4),
        )
