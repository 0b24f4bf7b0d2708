"""Answers built from statements: what X said about Y, who said something, whose words a quote is.

"What did X say about Y?" is answered from the statements the index holds for X (any form of the
name, resolved to the article's fullest), across articles: each scored by how much of the topic
its words hold, how close its passage is to the question, and how recent it is as of the day
asked. "Who said …?" looks for the statement among the retrieved passages that holds the words
asked about, and names its speaker first.

How the answer quotes each statement is `retrieval.statement_framing`; who a statement is by,
`retrieval.statement_speakers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

import numpy as np

from index.backend import IndexBackend
from index.lexical import LexicalIndex, tokenize
from index.statements import QUOTING
from index.stored_statements import StoredStatement, speaker_key
from index.summary import IndexSummary
from retrieval.abstention_text import abstention_held, closest_text
from retrieval.answerability import Focus
from retrieval.schema import Answer
from retrieval.search import STORY_TIE, Passage, same_story
from retrieval.speech_questions import SpeechQuestion
from retrieval.statement_framing import ScoredStatement, framed_answer
from retrieval.statement_speakers import by_person, is_named, same_person

# Share of the topic's rare words that an answer about it, and the paragraphs around a statement
# on it, must hold: "What did Biden say about the Tour de France?" is not answered from an
# article that mentions France once, nor from a round-up whose other story is about it.
MIN_TOPIC_FOCUS = 0.5
TOPIC_REACH = 1500  # characters either side of a statement's sentence: a few paragraphs


@dataclass(frozen=True)
class StatementTuning:
    """Weights and thresholds of statement answers; set on the who-said development set."""

    max_statements: int = 3
    relative_score: float = 0.75  # further statements must score this share of the best one
    similarity_weight: float = 1.5  # cosine of the question and the statement's passage
    recency_weight: float = 0.5  # newest first as of the day asked, among those on the topic
    recency_half_life_days: float = 30.0
    after_as_of_penalty: float = 0.3  # reported after the day asked: known only later
    min_score: float = 0.7  # below this a statement is not on the topic asked about
    characterization_weight: float = 0.5  # "what did X call Y": X's "called Y a “…”" first
    min_topic_coverage: float = 0.5  # "who said": share of the words asked about it must hold
    rank_penalty: float = 0.02  # "who said": per rank of the passage the statement is in
    shortlist: int = 200  # statements by the speaker scored in full, the closest passages first


def answer_speech(
    asked: SpeechQuestion,
    passages: Sequence[Passage],
    reader: IndexBackend,
    query_vector: np.ndarray | None,
    allowed: Callable[[int], bool],
    as_of: date | None,
    exclude: set[tuple[str, int, int]],
) -> Answer | None:
    """The statement answer to a speech question, or None when there is none to give.

    `allowed` says whether a chunk passes the question's filters (`Retriever.chunk_filter`).
    """
    if asked.kind == "who_said":
        return who_said_answer(asked, passages, reader)
    if query_vector is None or asked.speaker is None:
        return None
    return said_answer(asked, query_vector, reader, allowed, as_of, exclude)


def noting_no_statement(
    asked: SpeechQuestion, answer: Answer, lexical: LexicalIndex, summary: IndexSummary
) -> Answer:
    """The ordinary answer to "what did X say about Y" when no statement by X on Y was found.

    It stands as it is when what it quotes is X's after all (attributed to X, or X named in
    its lead); it is opened by "I found no statement by X about Y; the articles say:" when its
    quote names X and holds the topic (a report about X on Y); otherwise newsdesk abstains
    (`no_statement_by_speaker`) rather than quote others on other things.
    """
    if asked.kind != "said" or asked.speaker is None or answer.abstain_reason == "after_archive":
        return answer
    about = f" about {asked.topic}" if asked.topic else ""
    none_by_them = (
        f"I found no statement by {asked.speaker}{about} in these articles "
        f"({abstention_held(summary)})."
    )
    if answer.abstained:
        return replace(
            answer,
            answer=none_by_them + closest_text(answer.closest),
            abstain_reason="no_statement_by_speaker",
        )
    first = answer.citations[0] if answer.citations else None
    lead = answer.answer.split("[1]", 1)[0]
    topic = Focus.of(asked.topic, lexical)
    on_topic = not topic.weights or topic.share_in(lead) >= MIN_TOPIC_FOCUS
    speaker = first.speaker if first is not None else None
    theirs = speaker is not None and same_person(asked.speaker, speaker)
    named = speaker is None and speaker_key(asked.speaker) in lead.lower()  # unattributed
    if on_topic and (theirs or named):
        return answer
    names_them = first is not None and speaker_key(asked.speaker) in first.quote.lower()
    if not (names_them and on_topic):
        return replace(
            answer,
            answer=none_by_them,
            abstained=True,
            citations=[],
            abstain_reason="no_statement_by_speaker",
        )
    note = f"I found no statement by {asked.speaker}{about}; the articles say: "
    return replace(answer, answer=note + answer.answer)


def said_answer(
    asked: SpeechQuestion,
    query_vector: np.ndarray,
    reader: IndexBackend,
    allowed: Callable[[int], bool],
    as_of: date | None,
    exclude: set[tuple[str, int, int]] | None = None,
    tuning: StatementTuning | None = None,
) -> Answer | None:
    """What `asked.speaker` said about `asked.topic`, from their statements; None when the index
    holds no statement by them on it (the caller then answers the ordinary way and says so)."""
    tuning = tuning or StatementTuning()
    assert asked.speaker is not None
    statements = [
        s
        for s in by_person(asked.speaker, reader)
        if not _excluded(s, exclude or set()) and allowed(s.chunk_id)
    ]
    if not statements:
        return None
    statements = _closest(statements, query_vector, reader, tuning.shortlist)
    coverage_of = _CoverageScorer(asked.topic, asked.speaker, reader.lexical)
    topic = Focus.of(asked.topic, reader.lexical)
    scored = []
    for statement, cosine in statements:
        text = reader.text(statement.article_id)
        near = text[
            max(0, statement.sentence_start - TOPIC_REACH) : statement.sentence_end + TOPIC_REACH
        ]
        if topic.weights and topic.share_in(near) < MIN_TOPIC_FOCUS:
            continue  # X said something, but not where the article is about the topic
        coverage = coverage_of(
            text[statement.content_start : statement.content_end],
            text[statement.sentence_start : statement.sentence_end],
        )
        days = _days_before(reader.article(statement.article_id).date, as_of)
        score = coverage + tuning.similarity_weight * cosine + _recency(days, tuning)
        if asked.characterizes and statement.verb in QUOTING:
            score += tuning.characterization_weight
        if score >= tuning.min_score or not coverage_of.has_terms:  # no topic: all they said
            scored.append(ScoredStatement(statement, coverage, score))
    if not scored:
        return None
    scored.sort(key=lambda s: -s.score)
    chosen = _distinct_sentences(scored, tuning, reader)
    return framed_answer(chosen, reader)


def who_said_answer(
    asked: SpeechQuestion,
    passages: Sequence[Passage],
    reader: IndexBackend,
    tuning: StatementTuning | None = None,
) -> Answer | None:
    """The statement among `passages` that holds the words asked about, its speaker named
    first; None when no attributed statement there holds enough of them."""
    tuning = tuning or StatementTuning()
    coverage_of = _CoverageScorer(asked.topic, "", reader.lexical)
    best: ScoredStatement | None = None
    for rank, passage in enumerate(passages):
        text = passage.article_text or reader.text(passage.article_id)
        for statement in reader.statements_in(passage.article_id):
            inside = passage.start <= statement.sentence_start < passage.end
            if not inside or not is_named(statement):
                continue
            coverage = coverage_of(
                text[statement.content_start : statement.content_end],
                text[statement.sentence_start : statement.sentence_end],
            )
            score = coverage + passage.similarity - tuning.rank_penalty * rank
            if coverage >= tuning.min_topic_coverage and (best is None or score > best.score):
                best = ScoredStatement(statement, coverage, score)
    return framed_answer([best], reader) if best else None


def _excluded(statement: StoredStatement, exclude: set[tuple[str, int, int]]) -> bool:
    """Whether the statement was quoted already (another statement of its sentence may not)."""
    return any(
        article_id == statement.article_id
        and start < statement.content_end
        and statement.content_start < end
        for article_id, start, end in exclude
    )


def _closest(
    statements: list[StoredStatement], query_vector: np.ndarray, reader: IndexBackend, limit: int
) -> list[tuple[StoredStatement, float]]:
    """The statements whose passages are closest to the question, at most `limit`, with the
    cosine of each passage (one vector lookup per distinct chunk)."""
    chunk_ids = sorted({s.chunk_id for s in statements})
    cosines = reader.chunk_vectors(chunk_ids) @ query_vector.reshape(-1)
    cosine_of = dict(zip(chunk_ids, cosines.tolist(), strict=True))
    ranked = sorted(statements, key=lambda s: -cosine_of[s.chunk_id])[:limit]
    return [(s, cosine_of[s.chunk_id]) for s in ranked]


class _CoverageScorer:
    """Share of the topic's term weight (IDF) a statement's words hold; the person's own name
    is no topic ("Blinken" in "What did Blinken say about Gaza?")."""

    def __init__(self, topic: str, speaker: str, lexical: LexicalIndex) -> None:
        name_terms = set(tokenize([speaker])[0])
        terms = sorted(set(tokenize([topic])[0]) - name_terms)
        self.weights = lexical.idf(terms)
        self.total = sum(self.weights.values())
        self.has_terms = self.total > 0

    def __call__(self, content: str, sentence: str) -> float:
        if not self.has_terms:
            return 0.0
        content_terms, sentence_terms = _stems(content), _stems(sentence)
        in_content = sum(w for t, w in self.weights.items() if _holds(content_terms, t))
        in_sentence = sum(w for t, w in self.weights.items() if _holds(sentence_terms, t))
        return max(in_content, 0.8 * in_sentence) / self.total


@lru_cache(maxsize=16384)
def _stems(text: str) -> dict[str, set[str]]:
    """The text's terms grouped by their first four letters (shorter terms by themselves);
    cached, since the same person's statements are scored for every question about them."""
    grouped: dict[str, set[str]] = {}
    for term in tokenize([text])[0]:
        grouped.setdefault(term[:4], set()).add(term)
    return grouped


def _holds(terms: dict[str, set[str]], term: str) -> bool:
    """Whether `terms` hold `term`, or a term one of whose stems extends the other (as the
    answer layer counts "Israel" and "Israeli"), for stems of at least four letters."""
    near = terms.get(term[:4], ())
    if term in near:
        return True
    return len(term) >= 4 and any(o.startswith(term) or term.startswith(o) for o in near)


def _days_before(article_date: str | None, as_of: date | None) -> int | None:
    if article_date is None or as_of is None:
        return None
    return as_of.toordinal() - date.fromisoformat(article_date).toordinal()


def _recency(days: int | None, tuning: StatementTuning) -> float:
    if days is None:
        return 0.0
    if days < 0:
        return -tuning.after_as_of_penalty
    return tuning.recency_weight * 0.5 ** (days / tuning.recency_half_life_days)


def _distinct_sentences(
    scored: list[ScoredStatement], tuning: StatementTuning, reader: IndexBackend
) -> list[ScoredStatement]:
    """The best statements, each said once: not the same sentence twice, and not one from
    another article of a story already quoted (a wire copy repeats its statements)."""
    best = scored[0]
    chosen = [_earliest_telling(best, scored, reader)]
    for candidate in scored[1:]:
        if len(chosen) >= tuning.max_statements:
            break
        if candidate.score < tuning.relative_score * best.score:
            break
        if any(_same_sentence(candidate.statement, c.statement) for c in chosen):
            continue
        article_id = candidate.statement.article_id
        if any(
            c.statement.article_id != article_id
            and same_story(reader, c.statement.article_id, article_id)
            for c in chosen
        ):
            continue
        chosen.append(_earliest_telling(candidate, scored, reader))
    return chosen


def _earliest_telling(
    candidate: ScoredStatement, scored: list[ScoredStatement], reader: IndexBackend
) -> ScoredStatement:
    """The candidate, or the statement of an earlier article of its story that scores within
    STORY_TIE of it: a story is cited from its first report, as search results do."""
    story = reader.story(candidate.statement.article_id)
    if len(story) == 1:
        return candidate
    floor = candidate.score - STORY_TIE * abs(candidate.score)
    close = [c for c in scored if c.statement.article_id in story and c.score >= floor]
    return min(close, key=lambda c: story.index(c.statement.article_id))


def _same_sentence(one: StoredStatement, other: StoredStatement) -> bool:
    return (
        one.article_id == other.article_id
        and one.sentence_start < other.sentence_end
        and other.sentence_start < one.sentence_end
    )
