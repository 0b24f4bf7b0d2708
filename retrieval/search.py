"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused by a weighted sum of their scores.

The candidates are the union of both searches' top `pool`. Each gets its cosine to the question
and its BM25 score scaled to [0, 1] over the lexical pool; the fused score weighs the two by
`lexical_share`. On the development set this beat reciprocal-rank fusion, which throws away how
far ahead the leaders are. Filters (sources, date range) apply before ranking in both searches;
at most `per_article` passages of one article reach the results, so a long article cannot crowd
out the rest, and of a story told by several articles (wire copies, near-identical versions; see
`index.clusters`) only one article's passages do: the earliest of those that rank within
`STORY_TIE` of the story's best, with the others listed in its `also_in`. A passage that
repeats most of the text of one already chosen (`REPEATED_TEXT`) takes no slot either.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from index.backend import Hits, IndexBackend, SearchFilters
from index.clusters import SHINGLE_WORDS, WORD, containment
from index.store import ChunkRecord
from retrieval.schema import AlsoIn

QueryEncoder = Callable[[str], np.ndarray]
DenseHits = Hits  # chunk id → cosine to the question, best first
# A candidate whose word 5-grams are mostly (this share of the shorter passage's) in a passage
# already chosen repeats it — a paragraph that a re-topped story or a later report carried over
# — and takes no slot; its article is listed in the chosen passage's `also_in`.
REPEATED_TEXT = 0.6
# A story's earliest article is cited when its best passage scores within this share of the
# story's best passage; otherwise the article holding the better passage is.
STORY_TIE = 0.05


def same_story(reader: IndexBackend, article_id: str, other_id: str) -> bool:
    """Whether two articles tell one story (an article tells its own)."""
    return reader.story(article_id)[0] == reader.story(other_id)[0]


def also_in(
    reader: IndexBackend, article_id: str, repeated_in: Sequence[str] = ()
) -> tuple[AlsoIn, ...]:
    """The other articles of `article_id`'s story, earliest first, then those whose passage
    repeated the cited one's text."""
    others = dict.fromkeys([*reader.story(article_id), *repeated_in])
    records = (reader.article(a) for a in others if a != article_id)
    return tuple(AlsoIn(r.source, r.date, r.url, r.id) for r in records if r is not None)


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


def word_grams(text: str) -> set[tuple[str, ...]]:
    """The text's word 5-grams, lower-cased (a shorter text is its one gram): the story
    shingles of `index.clusters`, kept as tuples (cheaper to make for every candidate; no
    signature hashes them) and with galleries left in (a gallery shown twice is shown twice)."""
    words = WORD.findall(text.lower())
    grams = zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False)
    return set(grams) or {tuple(words)}


class Retriever:
    """Hybrid search over any `IndexBackend`: the backend finds each search's candidates within
    the filters; fusion, recency and the per-article and per-story caps happen here."""

    def __init__(
        self, reader: IndexBackend, encode_query: QueryEncoder, tuning: SearchTuning | None = None
    ) -> None:
        self.reader = reader
        self.encode_query = encode_query
        reader.prepare()
        self.tuning = tuning or SearchTuning()

    def chunk_filter(self, filters: SearchFilters) -> Callable[[int], bool]:
        """Whether a chunk (by id) passes `filters`: the test searches apply, for callers that
        find chunks another way (the statements of a speaker)."""
        return self.reader.chunk_filter(filters)

    def matches_any(self, filters: SearchFilters) -> bool:
        """Whether any passage passes `filters` (when none does, say so rather than abstain)."""
        return not filters.active or self.reader.matches_any(filters)

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
        filters = filters or SearchFilters()
        if not self.matches_any(filters):
            return []
        pool = self.pool_size(k, offset, tuning)
        if query_vector is None and tuning.mode != "lexical":
            query_vector = self.encode_query(query)
        if filters.active or dense_hits is None or len(dense_hits) < pool:
            dense_hits = None
        fused, cosines = self._fused_scores(query, query_vector, pool, filters, tuning, dense_hits)
        # Each candidate's article, looked up once: the recency prior, the story and the
        # per-article caps all ask for it, a few hundred candidates a question.
        article_of = dict(zip(fused, self.reader.articles_of(list(fused)), strict=True))
        if as_of is not None and tuning.recency_boost > 0:
            fused = self._with_recency(fused, as_of, tuning, article_of)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        chosen, repeats, texts = self._select(ranked, article_of, tuning, offset + k)
        chosen = chosen[offset:]
        unknown = [chunk.id for chunk, _ in chosen if chunk.id not in cosines]
        cosines = cosines | dict(zip(unknown, self._cosines(query_vector, unknown), strict=True))
        return [
            self._passage(chunk, texts[chunk.article_id], score, cosines[chunk.id],
                          repeats.get(chunk.id, ()))
            for chunk, score in chosen
        ]  # fmt: skip

    def _select(
        self,
        ranked: list[tuple[int, float]],
        article_of: dict[int, str],
        tuning: SearchTuning,
        count: int,
    ) -> tuple[list[tuple[ChunkRecord, float]], dict[int, list[str]], dict[str, str]]:
        """The first `count` candidates that keep the per-story and per-article caps and do not
        repeat the text of one already chosen; per chosen chunk, the other articles whose
        passage repeated it; and the texts of the articles read on the way."""
        cited = self._cited_in_stories(ranked, article_of)
        chosen: list[tuple[ChunkRecord, float]] = []
        kept: list[tuple[int, set[tuple[str, ...]]]] = []  # chosen chunk, its word 5-grams
        repeats: dict[int, list[str]] = {}
        per_article: dict[str, int] = {}
        texts: dict[str, str] = {}
        for chunk_id, score in ranked:
            article_id = article_of[chunk_id]
            if cited.get(self.reader.story(article_id)[0], article_id) != article_id:
                continue  # another article of the same story holds its slots
            if per_article.get(article_id, 0) >= tuning.per_article:
                continue
            if article_id not in texts:
                texts[article_id] = self.reader.text(article_id)
            chunk = self.reader.chunk(chunk_id)
            grams = word_grams(texts[article_id][chunk.start : chunk.end])
            repeated = next(
                (kept_id for kept_id, kept_grams in kept
                 if containment(grams, kept_grams) >= REPEATED_TEXT),
                None,
            )  # fmt: skip
            if repeated is not None:
                others = repeats.setdefault(repeated, [])
                if article_id != article_of[repeated] and article_id not in others:
                    others.append(article_id)
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            chosen.append((chunk, score))
            kept.append((chunk_id, grams))
            if len(chosen) >= count:
                break
        return chosen, repeats, texts

    def _cited_in_stories(
        self, ranked: list[tuple[int, float]], article_of: dict[int, str]
    ) -> dict[str, str]:
        """Story → the one article whose passages may represent it, for stories with more
        than one article among the candidates."""
        best: dict[str, dict[str, float]] = {}
        for chunk_id, score in ranked:
            article_id = article_of[chunk_id]
            members = self.reader.story(article_id)
            if len(members) > 1:
                best.setdefault(members[0], {}).setdefault(article_id, score)
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
        filters: SearchFilters,
        tuning: SearchTuning,
        dense_hits: DenseHits | None,
    ) -> tuple[dict[int, float], DenseHits]:
        """Candidate chunk → score (BM25 alone, cosine alone, or their weighted sum in hybrid),
        and the cosines to the question already computed on the way."""
        wants_dense = tuning.mode in ("hybrid", "dense")
        dense: DenseHits = {}
        if tuning.mode == "dense":
            if dense_hits is not None:
                dense = dict(itertools.islice(dense_hits.items(), pool))
            else:
                dense = self.reader.dense_search(query_vector, pool, filters)[0]
            return dense, dense
        if dense_hits is not None:
            dense = dict(itertools.islice(dense_hits.items(), pool))
            lexical = self.reader.search_both(query, None, pool, filters)[1]
        else:
            vector = query_vector if wants_dense else None
            dense, lexical = self.reader.search_both(query, vector, pool, filters)
        if tuning.mode == "lexical":
            return dict(lexical), {}
        chunk_ids = list(dict.fromkeys([*dense, *lexical]))
        lexical_only = [c for c in lexical if c not in dense]
        cosines = dense | dict(
            zip(lexical_only, self._cosines(query_vector, lexical_only), strict=True)
        )
        if lexical:
            bm25 = np.asarray([lexical.get(c, 0.0) for c in chunk_ids], dtype=np.float32)
            low, high = min(lexical.values()), max(lexical.values())
            scaled = np.clip((bm25 - low) / max(high - low, 1e-9), 0.0, 1.0)
        else:
            scaled = np.zeros(len(chunk_ids))
        share = tuning.lexical_share
        fused = {
            chunk_id: share * float(lexical_score) + (1 - share) * cosines[chunk_id]
            for chunk_id, lexical_score in zip(chunk_ids, scaled, strict=True)
        }
        return fused, cosines

    def _cosines(self, query_vector: np.ndarray | None, chunk_ids: list[int]) -> list[float]:
        if query_vector is None or not chunk_ids:
            return [0.0] * len(chunk_ids)
        vectors = self.reader.chunk_vectors(chunk_ids)
        return [float(x) for x in vectors @ query_vector.reshape(-1)]

    def _with_recency(
        self,
        fused: dict[int, float],
        as_of: date,
        tuning: SearchTuning,
        article_of: dict[int, str],
    ) -> dict[int, float]:
        chunk_ids = list(fused)
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        day_of = {a: self._day_of_article(a) for a in set(article_of.values())}
        days = np.fromiter((day_of[article_of[c]] for c in chunk_ids), np.int64, len(fused))
        distance = np.abs(as_of.toordinal() - days) / tuning.recency_half_life_days
        closeness = np.where(days >= 0, 0.5**distance, 0.0)
        boosted = np.where(scores > 0, scores * (1 + tuning.recency_boost * closeness), scores)
        return dict(zip(chunk_ids, boosted.tolist(), strict=True))

    def _day_of_article(self, article_id: str) -> int:
        article = self.reader.article(article_id)
        return date.fromisoformat(article.date).toordinal() if article and article.date else -1

    def pool_size(self, k: int, offset: int = 0, tuning: SearchTuning | None = None) -> int:
        """Candidates taken from each search for a request of `k` results after `offset`."""
        return max((tuning or self.tuning).pool, 4 * (k + offset))

    def dense_hits_many(self, query_vectors: np.ndarray, pool: int) -> list[DenseHits]:
        """Unfiltered dense candidates of many questions from one search call: a full scan
        reads every stored vector once per call, so a batch costs little more than one question.
        """
        return self.reader.dense_search(query_vectors, pool)

    def _passage(
        self,
        chunk: ChunkRecord,
        text: str,
        score: float,
        similarity: float,
        repeated_in: Sequence[str] = (),
    ) -> Passage:
        """`text` is the whole text of the chunk's article."""
        article = self.reader.article(chunk.article_id)
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
            also_in=also_in(self.reader, chunk.article_id, repeated_in),
        )
