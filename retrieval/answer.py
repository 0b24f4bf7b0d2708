"""Extractive answers: the most relevant sentences of the retrieved passages, each cited.

Every quote is `article text[start:end]` of the cited article, so a reader can check it. When
the evidence is weak the answer abstains instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import LexicalIndex, tokenize
from index.store import IndexSummary
from retrieval.schema import Answer, Citation
from retrieval.search import Passage

SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AnswerTuning:
    """Sentence selection and abstention thresholds; defaults calibrated on the development set."""

    max_sentences: int = 3
    relative_score: float = 0.75  # further sentences must score this share of the best one
    min_similarity: float = 0.30  # question–passage cosine below this is no evidence
    min_coverage: float = 0.34  # share of the question's term weight the best sentence holds
    similarity_weight: float = 0.5
    rank_penalty: float = 0.02


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    rank: int
    start: int
    end: int
    coverage: float
    score: float

    @property
    def quote(self) -> str:
        return self.passage.text[self.start - self.passage.start : self.end - self.passage.start]


def abstention_text(summary: IndexSummary) -> str:
    span = (
        f", {summary.first_date} – {summary.last_date}"
        if summary.first_date and summary.last_date
        else ""
    )
    noun = "article" if summary.articles == 1 else "articles"
    return f"I couldn't find that in the articles I have ({summary.articles} {noun}{span})."


def compose_answer(
    query: str,
    passages: list[Passage],
    lexical: LexicalIndex,
    summary: IndexSummary,
    tuning: AnswerTuning | None = None,
    exclude: set[tuple[str, int, int]] | None = None,
) -> Answer:
    """One to `max_sentences` sentences with citation markers, or an abstention.

    `exclude` holds (article id, start, end) of sentences already quoted ("what else…").
    """
    tuning = tuning or AnswerTuning()
    candidates = [
        c
        for c in _score_sentences(query, passages, lexical, tuning)
        if (c.passage.article_id, c.start, c.end) not in (exclude or set())
    ]
    if not candidates or not _is_evidence(candidates[0], passages, tuning):
        return Answer(answer=abstention_text(summary), abstained=True, query=query)
    chosen = _select(candidates, tuning)
    citations = [
        Citation(
            n=n,
            article_id=c.passage.article_id,
            title=c.passage.title,
            source=c.passage.source,
            date=c.passage.date,
            url=c.passage.url,
            passage=c.passage.text,
            quote=c.quote,
            start=c.start,
            end=c.end,
            score=round(c.score, 4),
        )
        for n, c in enumerate(chosen, start=1)
    ]
    text = " ".join(f"{citation.quote} [{citation.n}]" for citation in citations)
    return Answer(answer=text, abstained=False, citations=citations, query=query)


def _is_evidence(best: _Candidate, passages: list[Passage], tuning: AnswerTuning) -> bool:
    top_similarity = max(p.similarity for p in passages)
    return top_similarity >= tuning.min_similarity and best.coverage >= tuning.min_coverage


def _score_sentences(
    query: str, passages: list[Passage], lexical: LexicalIndex, tuning: AnswerTuning
) -> list[_Candidate]:
    query_terms = set(tokenize([query])[0])
    weights = lexical.idf(sorted(query_terms))
    total = sum(weights.values())
    if not passages or total == 0:
        return []
    sentence_spans = [(p, rank, a, b) for rank, p in enumerate(passages) for a, b in p.sentences]
    sentence_terms = tokenize([p.text[a - p.start : b - p.start] for p, _, a, b in sentence_spans])
    candidates = []
    for (passage, rank, start, end), terms in zip(sentence_spans, sentence_terms, strict=True):
        coverage = sum(weights.get(t, 0.0) for t in set(terms)) / total
        score = (
            coverage + tuning.similarity_weight * passage.similarity - tuning.rank_penalty * rank
        )
        candidates.append(_Candidate(passage, rank, start, end, coverage, score))
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _select(candidates: list[_Candidate], tuning: AnswerTuning) -> list[_Candidate]:
    best = candidates[0]
    chosen = [best]
    seen = {_normalise(best.quote)}
    for candidate in candidates[1:]:
        if len(chosen) >= tuning.max_sentences:
            break
        if candidate.coverage <= 0 or candidate.score < tuning.relative_score * best.score:
            continue
        key = _normalise(candidate.quote)
        if key in seen or any(
            c.passage.article_id == candidate.passage.article_id
            and c.start < candidate.end
            and candidate.start < c.end
            for c in chosen
        ):
            continue
        seen.add(key)
        chosen.append(candidate)
    return chosen


def _normalise(text: str) -> str:
    return SPACES.sub(" ", text).strip().lower()
