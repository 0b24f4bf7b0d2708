"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused by a weighted sum of their scores.

The candidates are the union of both searches' top `pool`. Each gets its cosine to the question
and its BM25 score scaled to [0, 1] over the lexical pool; the fused score weighs the two by
`lexical_share`. On the development set this beat reciprocal-rank fusion, which throws away how
far ahead the leaders are. Filters (sources, date range) apply before ranking in both searches;
at most `per_article` passages of one article reach the results, so a long article cannot crowd
out the rest, and of a story told by several articles (wire copies, near-identical versions; see
`index.clusters`) only one article's passages do: the earliest of those that rank within
`STORY_TIE` of the story's best, with the others listed in its `also_in`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from index.store import IndexReader
from retrieval.schema import AlsoIn

QueryEncoder = Callable[[str], np.ndarray]
DenseHits = dict[int, float]  # chunk row → cosine to the question, best first
# A story's earliest article is cited when its best passage scores within this share of the
# story's best passage; otherwise the article holding the better passage is.
STORY_TIE = 0.05


def same_story(reader: IndexReader, article_id: str, other_id: str) -> bool:
    """Whether two articles tell one story (an article tells its own)."""
    return reader.story(article_id)[0] == reader.story(other_id)[0]


def also_in(reader: IndexReader, article_id: str) -> tuple[AlsoIn, ...]:
    """The other articles of `article_id`'s story, earliest first."""
    records = (reader.article(a) for a in reader.story(article_id) if a != article_id)
    return tuple(AlsoIn(r.source, r.date, r.url, r.id) for r in records if r is not None)


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
    # The whole article (shared, not copied): context a quote may need, such as who "he" is.
    article_text: str = field(default="", repr=False, compare=False)
    # The other articles of its story (near-duplicates), earliest first.
    also_in: tuple[AlsoIn, ...] = ()


@dataclass(frozen=True)
class SearchTuning:
    """Fusion weight, pool sizes and recency prior; defaults tuned on the development set."""

    lexical_share: float = 0.5  # weight of scaled BM25 against the cosine (1 - lexical_share)
    pool: int = 100
    per_article: int = 2
    mode: str = "hybrid"  # "hybrid", "dense" or "lexical" (the baselines)
    recency_boost: float = 0.5  # up to this share added to articles dated near `as_of`
    recency_half_life_days: float = 14.0


class Retriever:
    def __init__(
        self, reader: IndexReader, encode_query: QueryEncoder, tuning: SearchTuning | None = None
    ) -> None:
        self.reader = reader
        self.encode_query = encode_query
        reader.vectors.prepare_fast_search()
        reader.lexical.prepare_scoring()
        self.tuning = tuning or SearchTuning()
        self._chunk_ids = reader.lexical.chunk_ids
        self._rows_by_id = np.argsort(self._chunk_ids, kind="stable")  # chunk ids are sparse
        self._sorted_ids = self._chunk_ids[self._rows_by_id]
        article_ids = [reader.chunk(int(c)).article_id for c in self._chunk_ids]
        articles = [reader.article(a) for a in article_ids]
        self._article_of_row = np.asarray(article_ids, dtype=object)
        self._story_of_row = np.asarray([reader.story(a)[0] for a in article_ids], dtype=object)
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
            wanted = {s.strip().lower() for s in filters.sources}
            mask &= np.fromiter((s in wanted for s in self._source_of_row), bool, len(mask))
        if filters.since is not None:
            mask &= self._day_of_row >= filters.since.toordinal()
        if filters.until is not None:
            mask &= (self._day_of_row >= 0) & (self._day_of_row <= filters.until.toordinal())
        return mask

    def chunk_filter(self, filters: SearchFilters) -> Callable[[int], bool]:
        """Whether a chunk (by id) passes `filters`: the test searches apply, for callers that
        find chunks another way (the statements of a speaker)."""
        mask = self.allowed_rows(filters)
        if mask is None:
            return lambda _chunk_id: True
        return lambda chunk_id: bool(mask[self._row_of(chunk_id)])

    def articles_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The article id of each chunk row (rows as in the lexical index)."""
        return self._article_of_row[rows]

    def _row_of(self, chunk_id: int) -> int:
        return int(self._rows_by_id[np.searchsorted(self._sorted_ids, chunk_id)])

    def matches_any(self, filters: SearchFilters) -> bool:
        """Whether any passage passes `filters` (when none does, say so rather than abstain)."""
        mask = self.allowed_rows(filters)
        return mask is None or bool(mask.any())

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
        dense_hits: DenseHits | None = None,
    ) -> list[Passage]:
        """The top `k` passages after skipping `offset` (for "more").

        `as_of` is the day the question is asked; news questions usually concern the recent
        past, so articles dated close to it get a soft boost (`recency_boost`). A caller that
        encoded many questions at once passes each one's `query_vector`, and its unfiltered
        `dense_hits` from `dense_hits_many`.
        """
        tuning = tuning or self.tuning
        mask = self.allowed_rows(filters or SearchFilters())
        if mask is not None and not mask.any():
            return []
        pool = self.pool_size(k, offset, tuning)
        if query_vector is None and tuning.mode != "lexical":
            query_vector = self.encode_query(query)
        if mask is not None or dense_hits is None or len(dense_hits) < pool:
            dense_hits = None
        fused, cosines = self._fused_scores(query, query_vector, pool, mask, tuning, dense_hits)
        if as_of is not None and tuning.recency_boost > 0:
            fused = self._with_recency(fused, as_of, tuning)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        cited = self._cited_in_stories(ranked)
        chosen: list[tuple[int, float]] = []
        per_article: dict[str, int] = {}
        for row, score in ranked:
            article_id = self._article_of_row[row]
            if cited.get(self._story_of_row[row], article_id) != article_id:
                continue  # another article of the same story holds its slots
            if per_article.get(article_id, 0) >= tuning.per_article:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            chosen.append((row, score))
            if len(chosen) >= offset + k:
                break
        chosen = chosen[offset:]
        unknown = [row for row, _ in chosen if row not in cosines]
        cosines = cosines | dict(zip(unknown, self._cosines(query_vector, unknown), strict=True))
        return [self._passage(row, score, cosines[row]) for row, score in chosen]

    def _cited_in_stories(self, ranked: list[tuple[int, float]]) -> dict[str, str]:
        """Story → the one article whose passages may represent it, for stories with more
        than one article among the candidates."""
        best: dict[str, dict[str, float]] = {}
        for row, score in ranked:
            story, article_id = self._story_of_row[row], self._article_of_row[row]
            if story != article_id or len(self.reader.story(article_id)) > 1:
                best.setdefault(story, {}).setdefault(article_id, score)
        cited = {}
        for story, scores in best.items():
            if len(scores) == 1:
                continue
            top = max(scores.values())
            close = {a for a, score in scores.items() if score >= top - STORY_TIE * abs(top)}
            cited[story] = next(a for a in self.reader.story(story) if a in close)
        return cited

    def _fused_scores(
        self,
        query: str,
        query_vector: np.ndarray | None,
        pool: int,
        mask: np.ndarray | None,
        tuning: SearchTuning,
        dense_hits: DenseHits | None,
    ) -> tuple[dict[int, float], DenseHits]:
        """Candidate row → score (BM25 alone, cosine alone, or their weighted sum in hybrid),
        and the cosines to the question already computed on the way."""
        dense: DenseHits = {}
        if tuning.mode in ("hybrid", "dense"):
            dense = (
                dict(itertools.islice(dense_hits.items(), pool))
                if dense_hits is not None
                else self._dense_rows(query_vector, pool, mask)
            )
        if tuning.mode == "dense":
            return dense, dense
        bm25 = self.reader.lexical.scores(query)
        if mask is not None:
            bm25 = np.where(mask, bm25, 0.0)
        lexical = self._lexical_rows(bm25, pool)
        if tuning.mode == "lexical":
            return {row: float(bm25[row]) for row in lexical}, {}
        rows = list(dict.fromkeys([*dense, *lexical]))
        lexical_only = [row for row in lexical if row not in dense]
        cosines = dense | dict(
            zip(lexical_only, self._cosines(query_vector, lexical_only), strict=True)
        )
        if lexical:
            low, high = float(bm25[lexical[-1]]), float(bm25[lexical[0]])
            scaled = np.clip((bm25[rows] - low) / max(high - low, 1e-9), 0.0, 1.0)
        else:
            scaled = np.zeros(len(rows))
        share = tuning.lexical_share
        fused = {
            row: share * float(lexical_score) + (1 - share) * cosines[row]
            for row, lexical_score in zip(rows, scaled, strict=True)
        }
        return fused, cosines

    def _cosines(self, query_vector: np.ndarray | None, rows: list[int]) -> list[float]:
        if query_vector is None or not rows:
            return [0.0] * len(rows)
        vectors = self.reader.vectors.vectors(int(self._chunk_ids[row]) for row in rows)
        return [float(x) for x in vectors @ query_vector.reshape(-1)]

    def _with_recency(
        self, fused: dict[int, float], as_of: date, tuning: SearchTuning
    ) -> dict[int, float]:
        rows = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        days = self._day_of_row[rows]
        distance = np.abs(as_of.toordinal() - days) / tuning.recency_half_life_days
        closeness = np.where(days >= 0, 0.5**distance, 0.0)
        boosted = np.where(scores > 0, scores * (1 + tuning.recency_boost * closeness), scores)
        return dict(zip(rows.tolist(), boosted.tolist(), strict=True))

    def pool_size(self, k: int, offset: int = 0, tuning: SearchTuning | None = None) -> int:
        """Candidates taken from each search for a request of `k` results after `offset`."""
        return max((tuning or self.tuning).pool, 4 * (k + offset))

    def dense_hits_many(self, query_vectors: np.ndarray, pool: int) -> list[DenseHits]:
        """Unfiltered dense candidates of many questions from one search call: a full scan
        reads every stored vector once per call, so a batch costs little more than one question.
        """
        scores, ids = self.reader.vectors.search(query_vectors, pool)
        return [self._hits(s, i) for s, i in zip(scores, ids, strict=True)]

    def _dense_rows(
        self, query_vector: np.ndarray, pool: int, mask: np.ndarray | None
    ) -> DenseHits:
        allowed = self._chunk_ids[mask] if mask is not None else None
        scores, ids = self.reader.vectors.search(query_vector, pool, allowed)
        return self._hits(scores[0], ids[0])

    def _hits(self, scores: np.ndarray, ids: np.ndarray) -> DenseHits:
        found = ids >= 0  # FAISS pads with -1 when fewer vectors match
        rows = self._rows_by_id[np.searchsorted(self._sorted_ids, ids[found])]
        return dict(zip(rows.tolist(), scores[found].tolist(), strict=True))

    @staticmethod
    def _lexical_rows(scores: np.ndarray, pool: int) -> list[int]:
        """Rows of the `pool` best positive BM25 scores, best first."""
        pool = min(pool, len(scores))
        if pool == 0:
            return []
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
            article_text=text,
            also_in=also_in(self.reader, chunk.article_id),
        )
