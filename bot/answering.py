"""One question against a loaded index: which kind it is (coverage, timeline, a statement, an
outcome, anything else) and the searches and composition each kind needs.

Separate from the service, which owns what outlives a question (the model, the loaded index
generation and its swap, the session store, batches): this module owns what happens between a
question and its answer, and is handed those parts for each question.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from bot import metrics
from retrieval.abstention_text import no_match_text
from retrieval.answer import AnswerTuning, compose_answer
from retrieval.answerability import after_archive
from retrieval.conversation import Conversation, Turn
from retrieval.coverage import coverage, coverage_text, coverage_topic
from retrieval.outcome_search import REPORT_POOL, merged, report_filters, result_query
from retrieval.outcomes import OutcomeQuestion
from retrieval.schema import Answer
from retrieval.search import DenseHits, Passage, SearchFilters
from retrieval.sessions import Sessions
from retrieval.speech_questions import SpeechQuestion, speech_question
from retrieval.statement_answers import answer_speech, noting_no_statement
from retrieval.statement_speakers import with_speakers
from retrieval.timeline import answer_timeline, bounded_filters
from retrieval.timeline_wording import TimelineQuestion, timeline_question

if TYPE_CHECKING:
    from bot.service import LoadedIndex

# "Who won …?": the report that states the outcome often ranks below the previews that share
# more of the question's words, so an outcome question reads more passages (quiz set: the
# answer string in 0.665 of answers against 0.659 with 5).
OUTCOME_PASSAGES = 10


def answer_question(
    sessions: Sessions,
    state: LoadedIndex,
    answer_tuning: AnswerTuning,
    question: str,
    session_id: str | None,
    k: int,
    filters: SearchFilters | None,
    as_of: date | None,
    query_vector: np.ndarray | None,
    dense_hits: DenseHits | None = None,
    rewrite: tuple[str, str | None] | None = None,
    stages: metrics.Stages | None = None,
    keep: bool = True,
) -> Answer:
    """`rewrite` is `query_for(question)` when the caller already made it (to encode it);
    `stages` holds the time a batch spent on this question before; without `keep` the
    question gets a conversation of its own that is never stored."""
    conversation = sessions.get(session_id) if keep else Conversation(id="")
    session = conversation.id if keep else None
    filters = filters or SearchFilters()
    query, rewritten = rewrite or conversation.query_for(question)
    if (topic := coverage_topic(question)) is not None:
        found = coverage(topic, state.retriever, filters)
        text = coverage_text(found)
        answer = Answer(text, False, query=question, session_id=session, coverage=found)
        metrics.answered("coverage", answer)
        return answer
    if (events := timeline_question(question, as_of or archive_day(state))) is not None:
        return timeline_answer(
            sessions, state, question, events, conversation, filters, as_of, keep=keep
        )
    as_of = as_of or date.today()
    asked = speech_question(query)
    stages = stages or metrics.Stages()
    stages.lap()
    if query_vector is None and state.retriever.tuning.mode != "lexical":
        query_vector = state.retriever.encode_query(query)  # statements are scored with it
        stages.lap("encode")
    outcome_question = OutcomeQuestion.of(query)
    outcome = outcome_question is not None
    if outcome:
        k = max(k, OUTCOME_PASSAGES)
    passages = state.retriever.search(
        query, k, filters, as_of=as_of, query_vector=query_vector, dense_hits=dense_hits
    )
    searched, ranks = len(passages), None
    if outcome_question is not None and passages:
        passages, ranks = _with_result_reports(
            state, query, outcome_question, passages, k, filters, as_of, query_vector
        )
    stages.lap("search")
    exclude = conversation.quoted_spans() if conversation.wants_more(question) else set()
    if not passages and not state.retriever.matches_any(filters):
        answer = Answer(
            no_match_text(filters, state.summary),
            abstained=True,
            query=query,
            abstain_reason="no_match",
        )
    else:
        # No statement answers for a year after the archive: the ordinary answer says
        # where the articles end ("What does Harry reveal in Spare, published in 2023?").
        said = None if after_archive(query, state.summary, as_of) else asked
        speech = said and answer_speech(
            said,
            passages,
            state.reader,
            query_vector,
            state.retriever.chunk_filter(filters),
            as_of,
            exclude,
        )
        answer = speech or _ordinary_answer(
            query, passages, state, answer_tuning, exclude, as_of, asked, ranks
        )
    answer = replace(answer, query=question, rewritten_query=rewritten, session_id=session)
    stages.lap("compose")
    conversation.add(Turn(question, query, k, filters, as_of, answer, shown=searched))
    if keep:
        sessions.save(conversation)
    metrics.answered(asked.kind if asked else "outcome" if outcome else "other", answer, stages)
    return answer


def _with_result_reports(
    state: LoadedIndex,
    query: str,
    outcome: OutcomeQuestion,
    passages: list[Passage],
    k: int,
    filters: SearchFilters,
    as_of: date,
    query_vector: np.ndarray | None,
) -> tuple[list[Passage], list[int] | None]:
    """`passages` joined by those of a second search for the reported result, with each
    passage's rank in the search that found it (see `retrieval.outcome_search`). The second
    search is lexical: the result words are what it adds, and the first search already read
    the question's vector (the passages still get their cosine to it)."""
    narrowed = report_filters(filters, as_of)
    if narrowed is None:
        return passages, None
    reports = state.retriever.search(
        result_query(query, outcome),
        k,
        narrowed,
        as_of=as_of,
        tuning=replace(state.retriever.tuning, mode="lexical", pool=REPORT_POOL),
        query_vector=query_vector,
    )
    return merged(passages, reports)


def timeline_answer(
    sessions: Sessions,
    state: LoadedIndex,
    question: str,
    events: TimelineQuestion,
    conversation: Conversation,
    filters: SearchFilters,
    as_of: date | None,
    offset: int = 0,
    keep: bool = True,
) -> Answer:
    """The timeline `events` asks for, from line `offset` on, kept as the conversation's
    last turn (so "more" reads on)."""
    answer = answer_timeline(events, state.retriever, filters, state.summary, offset=offset)
    answer = replace(answer, query=question, session_id=conversation.id if keep else None)
    shown = offset + len(answer.citations)
    bounded = bounded_filters(filters, events)
    turn = Turn(question, events.topic, shown, bounded, as_of or date.today(), answer, shown)
    conversation.add(turn)
    if keep:
        sessions.save(conversation)
    metrics.answered("timeline", answer)
    return answer


def _ordinary_answer(
    query: str,
    passages: list[Passage],
    state: LoadedIndex,
    answer_tuning: AnswerTuning,
    exclude: set[tuple[str, int, int]],
    as_of: date,
    asked: SpeechQuestion | None,
    ranks: list[int] | None = None,
) -> Answer:
    """The answer from the passages' best sentences, each citation marked with its speaker
    when it quotes an attributed statement (statement answers come marked)."""
    answer = compose_answer(
        query,
        passages,
        state.reader.lexical,
        state.summary,
        answer_tuning,
        exclude=exclude,
        as_of=as_of,
        ranks=ranks,
    )
    if asked is not None:
        answer = noting_no_statement(asked, answer, state.reader.lexical, state.summary)
    return with_speakers(answer, state.reader)


def archive_day(state: LoadedIndex) -> date:
    """The day "since March" counts back from: the archive's last day, or today if earlier."""
    last = state.summary.last_date
    return min(date.fromisoformat(last), date.today()) if last else date.today()
