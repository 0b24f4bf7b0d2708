"""The one place that turns settings into a working question-answering service.

Every edge (CLI, HTTP API, Telegram) calls these methods; they are synchronous and CPU-bound,
so async edges run them in a worker thread. A reindex builds a new generation and swaps the
loaded state in one assignment, so requests in flight finish on the old one. What happens
between one question and its answer is `bot.answering`'s.
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
from bot.answering import answer_question, archive_day, timeline_answer
from bot.factories import make_embedder, open_backend
from bot.settings import Settings
from index.backend import IndexBackend
from index.embedder import Embedder
from index.errors import NewsdeskError
from index.layout import current_generation
from index.local_backend import LocalBackend
from index.qdrant_backend import QdrantBackend
from index.summary import IndexSummary
from index.vectors import set_threads
from retrieval.answer import AnswerTuning, compose_answer
from retrieval.conversation import Conversation
from retrieval.coverage import coverage
from retrieval.schema import Answer, Coverage
from retrieval.search import DenseHits, Passage, Retriever, SearchFilters
from retrieval.sessions import Sessions, open_sessions
from retrieval.timeline import answer_timeline
from retrieval.timeline_wording import TimelineQuestion, timeline_question

logger = logging.getLogger(__name__)


class SessionNotFound(NewsdeskError):
    """No live conversation with that id (never started, reset, or expired)."""


@dataclass(frozen=True)
class LoadedIndex:
    """The index generation being served: swapped whole, in one assignment, on a reload."""

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

    def _load(self, previous: LoadedIndex | None = None) -> LoadedIndex:
        """Open the current generation; a reload lends it the `previous` one's trained search
        lists (seconds saved on a large index, see `VectorIndex.prepare_fast_search`)."""
        previous_reader = previous.reader if previous is not None else None
        reader = open_backend(self.settings, self.embedder.model_id, previous_reader)
        if previous is not None:
            reader.prepare(like=previous.reader)
        retriever = Retriever(reader, self.embedder.encode_query)
        return LoadedIndex(reader, retriever, reader.summary())

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
        return answer_question(
            self.sessions,
            self._state,
            self.answer_tuning,
            question,
            session_id,
            k,
            filters,
            as_of,
            query_vector=None,
            keep=not stateless,
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
        state: LoadedIndex,
        rewrite: tuple[str, str | None] | None = None,
        query_vector: np.ndarray | None = None,
        dense_hits: DenseHits | None = None,
        stages: metrics.Stages | None = None,
    ) -> Answer | Exception:
        if "request_id" in request:  # the batch runs in one thread: name each question's lines
            logs.set_request_id(request["request_id"])
        try:
            return answer_question(
                self.sessions,
                state,
                self.answer_tuning,
                request["question"],
                request.get("session_id"),
                request.get("k", 5),
                request.get("filters"),
                request.get("as_of"),
                query_vector=query_vector,
                dense_hits=dense_hits,
                rewrite=rewrite,
                stages=stages,
            )
        except Exception as error:  # reported to that request alone
            return error

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
        events = timeline_question(question, as_of or archive_day(self._state))
        events = events or TimelineQuestion(question.strip())
        conversation = self.sessions.get(session_id)
        filters = filters or SearchFilters()
        return timeline_answer(
            self.sessions, self._state, question, events, conversation, filters, as_of, offset
        )

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
