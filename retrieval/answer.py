"""Extractive answers: the most relevant sentences of the retrieved passages, each cited.

Every quote is `article text[start:end]` of the cited article, so a reader can check it. A quote
may be the part of its sentence after a dangling connective, and the answer may put a speaker's
name before it or capitalise its first letter (see `retrieval.phrasing`); everything else in the
answer is the quotes themselves. When the evidence is weak the answer abstains instead of
guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from index.lexical import LexicalIndex, tokenize
from index.summary import IndexSummary
from retrieval.abstention_text import abstain
from retrieval.answerability import (
    Evidence,
    Focus,
    after_archive,
    closest_headlines,
    evidence_of,
    model,
)
from retrieval.asked_kind import AskedKind
from retrieval.count_updates import update_note
from retrieval.deep_links import deep_url
from retrieval.outcome_naming import name_described_winner
from retrieval.outcome_preference import OutcomePreference
from retrieval.phrasing import Phrased, phrase
from retrieval.schema import Answer, Citation
from retrieval.search import Passage
from retrieval.sentence_kinds import is_answer_sentence

SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AnswerTuning:
    """Sentence selection and abstention thresholds; defaults calibrated on the development set."""

    max_sentences: int = 3
    relative_score: float = 0.75  # further sentences must score this share of the best one
    check_answerability: bool = True  # off when the user asked for more of the same
    similarity_weight: float = 0.35
    rank_penalty: float = 0.02
    answer_type_weight: float = 0.3  # bonus for holding what the question asks for (a number…)
    outcome_weight: float = 0.3  # for "who won…": stating the outcome over previewing it
    recency_weight: float = 0.25  # the latest report on or before `as_of` over older ones


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


def compose_answer(
    query: str,
    passages: list[Passage],
    lexical: LexicalIndex,
    summary: IndexSummary,
    tuning: AnswerTuning | None = None,
    exclude: set[tuple[str, int, int]] | None = None,
    as_of: date | None = None,
    ranks: Sequence[int] | None = None,
) -> Answer:
    """One to `max_sentences` sentences with citation markers, or an abstention.

    `exclude` holds (article id, start, end) of quotes already given ("what else…"); the
    sentences they come from are not quoted again. `as_of` is the day the question is asked:
    an outcome is answered from the latest report of it on or before that day. `ranks` are the
    passages' places in the searches that found them (their order in `passages` when None).
    """
    tuning = tuning or AnswerTuning()
    if after_archive(query, summary, as_of):
        return abstain(query, summary, "after_archive")
    statements = _answer_sentences(query, passages, lexical, tuning, as_of, exclude or set(), ranks)
    focus = Focus.of(query, lexical)
    if not statements:
        return abstain(query, summary, "no_focus_match", closest_headlines(focus, passages))
    chosen = _select(statements, tuning)
    evidence = _evidence(query, focus, statements, chosen[0], passages)
    if tuning.check_answerability and not model().answers(evidence):
        reason = "no_focus_match" if evidence.focus_in_passages < 0.5 else "weak_evidence"
        return abstain(query, summary, reason, closest_headlines(focus, passages))
    update = update_note(query, chosen, statements, tuning.max_sentences)  # a count that rose
    chosen = update.chosen if update else chosen
    # Only the opening sentence, read with nothing before it, has its pronoun named: the
    # extractor costs milliseconds per article, which a later sentence's "he" is not worth.
    citations, sentences = [], []
    for n, candidate in enumerate(chosen, start=1):
        passage = candidate.passage
        phrased = phrase(candidate.quote, candidate.start, passage.article_text if n == 1 else None)
        if n == 1 and phrased.start == candidate.start and passage.article_text:
            phrased = name_described_winner(
                query, phrased.text, phrased.start, passage.article_text
            )
        citations.append(_citation(n, candidate, phrased))
        noted = update is not None and candidate is update.earlier
        sentences.append(update.text(n) if noted else f"{phrased.text} [{n}]")
    text = " ".join(sentences)
    return Answer(answer=text, abstained=False, citations=citations, query=query)


def _citation(n: int, candidate: _Candidate, phrased: Phrased) -> Citation:
    return passage_citation(n, candidate.passage, phrased.start, candidate.end, candidate.score)


def passage_citation(n: int, passage: Passage, start: int, end: int, score: float) -> Citation:
    """Citation `n` of `text[start:end]` (article offsets) inside `passage`."""
    # A passage built without its article (in a test) still links, judged by its own text.
    text, offset = (
        (passage.article_text, 0) if passage.article_text else (passage.text, passage.start)
    )
    return Citation(
        n=n,
        article_id=passage.article_id,
        title=passage.title,
        source=passage.source,
        date=passage.date,
        url=passage.url,
        passage=passage.text,
        quote=passage.text[start - passage.start : end - passage.start],
        start=start,
        end=end,
        score=round(score, 4),
        deep_url=deep_url(passage.url, text, start - offset, end - offset),
        also_in=list(passage.also_in),
    )


def _answer_sentences(
    query: str,
    passages: list[Passage],
    lexical: LexicalIndex,
    tuning: AnswerTuning,
    as_of: date | None,
    exclude: set[tuple[str, int, int]],
    ranks: Sequence[int] | None = None,
) -> list[_Candidate]:
    """The passages' sentences best first, leaving out those quoted already and those that state
    nothing (a question in an article, "What next?", page furniture)."""
    quoted = _spans_by_article(exclude)
    return [
        c
        for c in _score_sentences(query, passages, lexical, tuning, as_of, ranks)
        if not _quoted(c, quoted) and is_answer_sentence(c.quote)
    ]


def _spans_by_article(spans: set[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    by_article: dict[str, list[tuple[int, int]]] = {}
    for article_id, start, end in spans:
        by_article.setdefault(article_id, []).append((start, end))
    return by_article


def _quoted(candidate: _Candidate, quoted: dict[str, list[tuple[int, int]]]) -> bool:
    """Whether part of the sentence was quoted already: a citation may hold only the part after
    a connective, so its span lies inside the sentence's rather than equal to it."""
    return any(
        start < candidate.end and candidate.start < end
        for start, end in quoted.get(candidate.passage.article_id, ())
    )


def _evidence(
    query: str,
    focus: Focus,
    candidates: list[_Candidate],
    chosen: _Candidate,
    passages: list[Passage],
) -> Evidence:
    return evidence_of(
        query,
        focus,
        chosen.quote,
        chosen.passage.article_id,
        chosen.score,
        chosen.coverage,
        AskedKind.of(query).holds_in(chosen.quote),
        [(c.passage.article_id, c.score) for c in candidates],
        passages,
        chosen.passage.similarity,
    )


def answer_evidence(
    query: str,
    passages: list[Passage],
    lexical: LexicalIndex,
    tuning: AnswerTuning | None = None,
    as_of: date | None = None,
    ranks: Sequence[int] | None = None,
) -> Evidence | None:
    """The evidence the answerability check weighs for `query` (None when no sentence is a
    candidate): what `bench/fit_answerability.py` fits the model on."""
    tuning = tuning or AnswerTuning()
    statements = _answer_sentences(query, passages, lexical, tuning, as_of, set(), ranks)
    if not statements:
        return None
    chosen = _select(statements, tuning)[0]
    return _evidence(query, Focus.of(query, lexical), statements, chosen, passages)


def _score_sentences(
    query: str,
    passages: list[Passage],
    lexical: LexicalIndex,
    tuning: AnswerTuning,
    as_of: date | None = None,
    ranks: Sequence[int] | None = None,
) -> list[_Candidate]:
    query_terms = set(tokenize([query])[0])
    weights = lexical.idf(sorted(query_terms))
    total = sum(weights.values())
    if not passages or total == 0:
        return []
    asked = AskedKind.of(query)
    outcome = OutcomePreference.of(
        query, passages, as_of, tuning.outcome_weight, tuning.recency_weight
    )
    ranked = zip(ranks if ranks is not None else range(len(passages)), passages, strict=True)
    sentence_spans = [(p, rank, a, b) for rank, p in ranked for a, b in outcome.spans(p)]
    sentence_terms = tokenize([p.text[a - p.start : b - p.start] for p, _, a, b in sentence_spans])
    matchers = _term_matchers(weights, set().union(*sentence_terms))
    candidates = []
    for (passage, rank, start, end), terms in zip(sentence_spans, sentence_terms, strict=True):
        held = set(terms)
        coverage = sum(w for t, w in weights.items() if not matchers[t].isdisjoint(held)) / total
        quote = passage.text[start - passage.start : end - passage.start]
        score = (
            coverage
            + tuning.similarity_weight * passage.similarity
            - tuning.rank_penalty * rank
            + tuning.answer_type_weight * asked.found_in(quote)
            + outcome.score(passage, quote, coverage)
        )
        candidates.append(_Candidate(passage, rank, start, end, coverage, score))
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _term_matchers(query_terms: dict[str, float], vocabulary: set[str]) -> dict[str, set[str]]:
    """For each query term, the passages' terms that count as it: itself, and terms where one
    stem extends the other (the stemmer leaves "Israel" as "israel" but cuts "Israeli" to "isra";
    "Iranian" stays "iranian"), for stems of at least four letters."""
    by_prefix: dict[str, list[str]] = {}
    for other in vocabulary:
        by_prefix.setdefault(other[:4], []).append(other)
    matchers = {}
    for term in query_terms:
        matches = {term}
        if len(term) >= 4:
            matches.update(
                other
                for other in by_prefix.get(term[:4], ())
                if other.startswith(term) or term.startswith(other)
            )
        matchers[term] = matches
    return matchers


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
