"""The one place that turns settings into a working question-answering service.

Every edge (CLI, HTTP API, Telegram) calls these methods; they are synchronous and CPU-bound,
so async edges run them in a worker thread. A reindex builds a new generation and swaps the
loaded state in one assignment, so requests in flight finish on the old one.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bot import logs, metrics
from bot.factories import make_embedder, open_backend
from bot.settings import Settings
from index.backend import IndexBackend
from index.embedder import Embedder
from index.errors import NewsdeskError
from index.layout import current_generation
from index.local_backend import LocalBackend
from index.qdrant_backend import QdrantBackend
from index.store import IndexSummary
from index.vectors import set_threads
from retrieval.answer import AnswerTuning, compose_answer, no_match_text
from retrieval.answerability import after_archive
from retrieval.conversation import Conversation, Turn
from retrieval.coverage import coverage, coverage_text, coverage_topic
from retrieval.outcome_search import REPORT_POOL, merged, report_filters, result_query
from retrieval.outcomes import OutcomeQuestion
from retrieval.schema import Answer, Coverage
from retrieval.search import DenseHits, Passage, Retriever, SearchFilters
from retrieval.sessions import Sessions, open_sessions
from retrieval.speech_questions import SpeechQuestion, speech_question
from retrieval.statement_answers import answer_speech, noting_no_statement, with_speakers
from retrieval.timeline import answer_timeline, bounded_filters
from retrieval.timeline_wording import TimelineQuestion, timeline_question

logger = logging.getLogger(__name__)
# "Who won …?": the report that states the outcome often ranks below the previews that share
# more of the question's words, so an outcome question reads more passages (quiz set: the
# answer string in 0.665 of answers against 0.659 with 5).
OUTCOME_PASSAGES = 10


class SessionNotFound(NewsdeskError):
    """No live conversation with that id (never started, reset, or expired)."""


@dataclass(frozen=True)
class _Loaded:
    reader: IndexBackend
    retriever: Retriever
    summary: IndexSummary


class NewsdeskService:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.sessions: Sessions = open_sessions(
            settings.sessions, settings.session_ttl_s, settings.max_sessions
        )
        self.answer_tuning = AnswerTuning()
        self._reload_lock = threading.Lock()  # one load at a time (admin reindex, follower)
        self._state = self._load()
        _spare_from_gc_scans()

    @classmethod
    def from_settings(cls, settings: Settings) -> NewsdeskService:
        """Load the model and the current index (slow: seconds). Raises IndexNotFound."""
        embedder = make_embedder(settings)
        set_threads(embedder.threads)
        return cls(settings, embedder)

    def _load(self, previous: _Loaded | None = None) -> _Loaded:
        """Open the current generation; a reload lends it the `previous` one's trained search
        lists (seconds saved on a large index, see `VectorIndex.prepare_fast_search`)."""
        previous_reader = previous.reader if previous is not None else None
        reader = open_backend(self.settings, self.embedder.model_id, previous_reader)
        if previous is not None:
            reader.prepare(like=previous.reader)
        retriever = Retriever(reader, self.embedder.encode_query)
        return _Loaded(reader, retriever, reader.summary())

    @property
    def retriever(self) -> Retriever:
        return self._state.retriever

    # --- questions -------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        session_id: str | None = None,
        k: int = 5,
        filters: SearchFilters | None = None,
        as_of: date | None = None,
        stateless: bool = False,
    ) -> Answer:
        """Answer `question` in the conversation `session_id` (a new one when None). A
        `stateless` question stands alone: no conversation is read, started or kept (and the
        answer names none), so one-off questions such as inline queries never push a real
        conversation out of a full store."""
        if stateless and session_id is not None:
            raise ValueError("A stateless question has no session.")
        return self._answer(
            question, session_id, k, filters, as_of, query_vector=None, keep=not stateless
        )

    def ask_many(self, requests: Sequence[dict[str, Any]]) -> list[Answer | Exception]:
        """Answer concurrent questions with one encoder call (each dict holds `ask`'s arguments).

        Questions of the same conversation are answered in order, since each may lean on the
        one before; a failure is returned in its slot instead of failing the batch.
        """
        first_of_session, later = [], []
        seen: set[str] = set()
        for position, request in enumerate(requests):
            session_id = request.get("session_id")
            (later if session_id in seen else first_of_session).append(position)
            if session_id is not None:
                seen.add(session_id)
        results: list[Answer | Exception] = [RuntimeError("not answered")] * len(requests)
        conversations = [self.sessions.get(requests[p].get("session_id")) for p in first_of_session]
        rewrites = [c.query_for(requests[p]["question"]) for p, c in
                    zip(first_of_session, conversations, strict=True)]  # fmt: skip
        queries = [query for query, _ in rewrites]
        started = time.perf_counter()
        vectors = self.embedder.encode(queries) if queries else np.empty((0, 0))
        encoded = time.perf_counter()
        state = self._state  # one index for the whole batch, even if a reload swaps it meanwhile
        retriever = state.retriever
        sizes = [requests[p].get("k", 5) for p in first_of_session]
        pool = retriever.pool_size(max((k for k in sizes if isinstance(k, int)), default=5))
        # Filtered questions search exactly within their filter, so only the others share a scan.
        shared = [not _narrowed(requests[p]) for p in first_of_session]
        found = iter(retriever.dense_hits_many(vectors[shared], pool) if any(shared) else ())
        hits = [next(found) if wanted else None for wanted in shared]
        searched = time.perf_counter()
        for position, conversation, rewrite, vector, dense_hits in zip(
            first_of_session, conversations, rewrites, vectors, hits, strict=True
        ):
            request = requests[position] | {"session_id": conversation.id}
            shared_work = metrics.Stages(encode=encoded - started, search=searched - encoded)
            results[position] = self._try(request, state, rewrite, vector, dense_hits, shared_work)
        for position in later:
            results[position] = self._try(requests[position], state)
        return results

    def _try(
        self,
        request: dict[str, Any],
        state: _Loaded,
        rewrite: tuple[str, str | None] | None = None,
        query_vector: np.ndarray | None = None,
        dense_hits: DenseHits | None = None,
        stages: metrics.Stages | None = None,
    ) -> Answer | Exception:
        if "request_id" in request:  # the batch runs in one thread: name each question's lines
            logs.set_request_id(request["request_id"])
        try:
            return self._answer(
                request["question"],
                request.get("session_id"),
                request.get("k", 5),
                request.get("filters"),
                request.get("as_of"),
                query_vector=query_vector,
                dense_hits=dense_hits,
                state=state,
                rewrite=rewrite,
                stages=stages,
            )
        except Exception as error:  # reported to that request alone
            return error

    def _answer(
        self,
        question: str,
        session_id: str | None,
        k: int,
        filters: SearchFilters | None,
        as_of: date | None,
        query_vector: np.ndarray | None,
        dense_hits: DenseHits | None = None,
        state: _Loaded | None = None,
        rewrite: tuple[str, str | None] | None = None,
        stages: metrics.Stages | None = None,
        keep: bool = True,
    ) -> Answer:
        """`rewrite` is `query_for(question)` when the caller already made it (to encode it);
        `stages` holds the time a batch spent on this question before; without `keep` the
        question gets a conversation of its own that is never stored."""
        conversation = self.sessions.get(session_id) if keep else Conversation(id="")
        session = conversation.id if keep else None
        filters = filters or SearchFilters()
        query, rewritten = rewrite or conversation.query_for(question)
        state = state or self._state
        if (topic := coverage_topic(question)) is not None:
            found = coverage(topic, state.retriever, filters)
            text = coverage_text(found)
            answer = Answer(text, False, query=question, session_id=session, coverage=found)
            metrics.answered("coverage", answer)
            return answer
        if (events := timeline_question(question, as_of or _archive_day(state))) is not None:
            return self._timeline(
                question, events, conversation, filters, as_of, state=state, keep=keep
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
            passages, ranks = self._with_result_reports(
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
            answer = speech or self._ordinary_answer(
                query, passages, state, exclude, as_of, asked, ranks
            )
        answer = replace(answer, query=question, rewritten_query=rewritten, session_id=session)
        stages.lap("compose")
        conversation.add(Turn(question, query, k, filters, as_of, answer, shown=searched))
        if keep:
            self.sessions.save(conversation)
        metrics.answered(asked.kind if asked else "outcome" if outcome else "other", answer, stages)
        return answer

    def _with_result_reports(
        self,
        state: _Loaded,
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

    def timeline(
        self,
        question: str,
        *,
        session_id: str | None = None,
        filters: SearchFilters | None = None,
        as_of: date | None = None,
        offset: int = 0,
    ) -> Answer:
        """The dated events about `question`'s topic, earliest first, one line per day, from
        line `offset` on; the question may be a bare topic ("the Uvalde shooting") or worded as
        a timeline."""
        events = timeline_question(question, as_of or _archive_day(self._state))
        events = events or TimelineQuestion(question.strip())
        conversation = self.sessions.get(session_id)
        filters = filters or SearchFilters()
        return self._timeline(question, events, conversation, filters, as_of, offset)

    def _timeline(
        self,
        question: str,
        events: TimelineQuestion,
        conversation: Conversation,
        filters: SearchFilters,
        as_of: date | None,
        offset: int = 0,
        state: _Loaded | None = None,
        keep: bool = True,
    ) -> Answer:
        state = state or self._state
        answer = answer_timeline(events, state.retriever, filters, state.summary, offset=offset)
        answer = replace(answer, query=question, session_id=conversation.id if keep else None)
        shown = offset + len(answer.citations)
        bounded = bounded_filters(filters, events)
        turn = Turn(question, events.topic, shown, bounded, as_of or date.today(), answer, shown)
        conversation.add(turn)
        if keep:
            self.sessions.save(conversation)
        metrics.answered("timeline", answer)
        return answer

    def _ordinary_answer(
        self,
        query: str,
        passages: list[Passage],
        state: _Loaded,
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
            self.answer_tuning,
            exclude=exclude,
            as_of=as_of,
            ranks=ranks,
        )
        if asked is not None:
            answer = noting_no_statement(asked, answer, state.reader.lexical, state.summary)
        return with_speakers(answer, state.reader)

    def more(self, session_id: str) -> Answer:
        """The next passages for the session's last question."""
        conversation = self._conversation(session_id)
        last = conversation.last
        if last is None:
            raise SessionNotFound("Ask a question first; there is nothing to continue.")
        if last.answer.timeline is not None:  # the next lines of the timeline
            answer = answer_timeline(TimelineQuestion(last.query), self.retriever, last.filters,
                                     self.summary(), offset=last.shown)  # fmt: skip
            last.shown += len(answer.citations)
            self.sessions.save(conversation)
            return replace(answer, query=last.question, session_id=conversation.id)
        state = self._state
        passages = state.retriever.search(
            last.query, last.k, last.filters, offset=last.shown, as_of=last.as_of
        )
        answer = compose_answer(
            last.query,
            passages,
            state.reader.lexical,
            state.summary,
            replace(self.answer_tuning, check_answerability=False),  # asked for more
            exclude=conversation.quoted_spans(),
            as_of=last.as_of,
        )
        last.shown += len(passages)
        self.sessions.save(conversation)
        return replace(
            answer,
            query=last.question,
            rewritten_query=last.query if last.query != last.question else None,
            session_id=conversation.id,
        )

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> list[Passage]:
        return self._state.retriever.search(
            query, k, filters or SearchFilters(), as_of=as_of or date.today()
        )

    def coverage(self, topic: str, filters: SearchFilters | None = None) -> Coverage:
        """How many articles (and stories) mention `topic`, by outlet and month."""
        found = coverage(topic, self._state.retriever, filters)
        metrics.answered("coverage")
        return found

    def reset_session(self, session_id: str) -> bool:
        return self.sessions.drop(session_id)

    def _conversation(self, session_id: str) -> Conversation:
        conversation = self.sessions.find(session_id)
        if conversation is None:
            raise SessionNotFound(f"No conversation {session_id!r}; it may have expired.")
        return conversation

    # --- the index ---------------------------------------------------------------------------

    def article(self, article_id: str) -> dict[str, str | None] | None:
        reader = self._state.reader
        record = reader.article(article_id)
        if record is None:
            return None
        return {
            "id": record.id,
            "title": record.title,
            "source": record.source,
            "date": record.date,
            "url": record.url,
            "text": reader.text(article_id),
        }

    def summary(self) -> IndexSummary:
        return self._state.summary

    @property
    def generation(self) -> Path:
        """The index generation being served (a folder named after when it was built)."""
        reader = self._state.reader
        return reader.directory if isinstance(reader, LocalBackend) else Path(reader.collection)

    def reload(self) -> None:
        """Serve the newest generation; requests already running finish on the old one."""
        with self._reload_lock:
            started = time.perf_counter()
            self._state = self._load(self._state)
            _spare_from_gc_scans()
            metrics.index_loaded(time.perf_counter() - started)

    def refresh(self) -> bool:
        """Serve the current generation if another one than the loaded one is current now
        (another process built it); True when it swapped. A generation that will not load
        raises, and the loaded one keeps serving."""
        with self._reload_lock:
            reader = self._state.reader
            if isinstance(reader, QdrantBackend):
                if reader.is_current():
                    return False
            elif current_generation(Path(self.settings.index_dir)) == self.generation:
                return False
            started = time.perf_counter()
            self._state = self._load(self._state)
            _spare_from_gc_scans()
            metrics.index_loaded(time.perf_counter() - started)
            return True


def _archive_day(state: _Loaded) -> date:
    """The day "since March" counts back from: the archive's last day, or today if earlier."""
    last = state.summary.last_date
    return min(date.fromisoformat(last), date.today()) if last else date.today()


def _narrowed(request: dict[str, Any]) -> bool:
    filters = request.get("filters")
    return isinstance(filters, SearchFilters) and filters.active


def _spare_from_gc_scans() -> None:
    """Keep the garbage collector from walking what is loaded now (the index's metadata, the
    model, the libraries: 130k objects on the dev index), whose full scans paused every request
    for about 75 ms. A replaced index is collected first, so a reload leaks nothing."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
