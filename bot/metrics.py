"""newsdesk's Prometheus series, one registry per app, and the hooks that feed them.

The hooks are called from the service and the edges (`answered`, `telegram_update`, …) and
find the registry to count into in a context variable: the HTTP app sets it for each request
and for its lifespan (so the Telegram bot and the index follower it starts inherit it). Code
outside a server (`newsdesk ask`, tests of the service alone) has none set and every hook is a
no-op. This keeps the service free of a metrics argument and lets several apps in one process
(tests, two replicas) count apart, which the library's global default registry would not.
A hook costs one or two microseconds; the index gauges are read only when /metrics is scraped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from retrieval.schema import ABSTAIN_REASONS, Answer

logger = logging.getLogger(__name__)

KINDS = ("said", "who_said", "outcome", "timeline", "coverage", "other")
STAGES = ("encode", "search", "compose")
# Few buckets: a scrape renders every bucket of every series, and its cost is their number.
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
SLOW_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

_current: ContextVar[Metrics | None] = ContextVar("newsdesk_metrics", default=None)
# No `_created` series (a start time per counter and histogram): Prometheus does not need them
# and they were an eighth of a scrape.
disable_created_metrics()


class Metrics:
    """The series of one app. `service()` returns the service being served (None before an
    index loads); the index and session gauges are read from it at scrape time."""

    def __init__(self, service: Callable[[], Any] = lambda: None) -> None:
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "newsdesk_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_seconds = Histogram(
            "newsdesk_http_request_duration_seconds",
            "Time from request to the end of the response, by route template.",
            ["route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "newsdesk_ask_stage_seconds",
            "Time a question spent in each stage of the pipeline: encode (the question's "
            "vector; a batch's encoding counts for each of its questions), search (dense and "
            "BM25 candidates, fusion) and compose (sentences, statements, citations).",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=registry,
        )
        self.answers = Counter(
            "newsdesk_answers",
            "Questions answered, by kind: said, who_said, outcome, timeline, coverage, other.",
            ["kind"],
            registry=registry,
        )
        self.abstentions = Counter(
            "newsdesk_abstentions",
            "Answers that said the articles do not hold it, by reason.",
            ["reason"],
            registry=registry,
        )
        self.telegram_updates = Counter(
            "newsdesk_telegram_updates",
            "Telegram updates handled, by type (message, callback_query, inline_query, …).",
            ["type"],
            registry=registry,
        )
        self.telegram_send_failures = Counter(
            "newsdesk_telegram_send_failures",
            "Bot API calls that failed after their retries, by method and error class.",
            ["method", "error"],
            registry=registry,
        )
        self.reindex_seconds = Histogram(
            "newsdesk_reindex_duration_seconds",
            "Duration of index updates started by POST /admin/reindex, by outcome.",
            ["outcome"],
            buckets=SLOW_BUCKETS,
            registry=registry,
        )
        self.index_load_seconds = Histogram(
            "newsdesk_index_load_duration_seconds",
            "Time to load a new index generation and swap it in (reindex, or one published by "
            "another process).",
            buckets=SLOW_BUCKETS,
            registry=registry,
        )
        for kind in KINDS:  # every series exists from the start, so rates work from zero
            self.answers.labels(kind)
        for reason in ABSTAIN_REASONS:
            self.abstentions.labels(reason)
        for stage in STAGES:
            self.stage_seconds.labels(stage)
        self._service = service
        registry.register(_ServiceCollector(service))

    @contextmanager
    def active(self) -> Iterator[None]:
        """Count what runs in this block (and the tasks and threads it starts) here."""
        token = self.activate()
        try:
            yield
        finally:
            _current.reset(token)

    def activate(self) -> Token[Metrics | None]:
        return _current.set(self)

    def renders_in_process(self) -> bool:
        """Whether a scrape reads only this process's memory (no shared session store to ask
        over the network), so it may render in the event loop without a thread hop."""
        from retrieval.conversation import SessionStore  # loaded with the service

        store = getattr(self._service(), "sessions", None)
        return store is None or isinstance(store, SessionStore)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The registry and its content type: the Prometheus text format (0.0.4), or
        OpenMetrics for a scraper whose `Accept` header asks for it."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


def current() -> Metrics | None:
    return _current.get()


class Stages:
    """Seconds one question spent per stage, timed by laps of one clock (`lap("search")` adds
    the time since the previous lap to search); a batch's shared work may be given at the start."""

    __slots__ = ("_since", "seconds")

    def __init__(self, **seconds: float) -> None:
        self.seconds: dict[str, float] = dict(seconds)
        self._since = time.perf_counter()

    def lap(self, stage: str | None = None) -> None:
        """End a lap: its time goes to `stage` (nowhere when None, to restart the clock)."""
        now = time.perf_counter()
        if stage is not None:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._since
        self._since = now

    def __repr__(self) -> str:
        return ", ".join(f"{name} {1000 * s:.1f} ms" for name, s in self.seconds.items())


def answered(kind: str, answer: Answer | None = None, stages: Stages | None = None) -> None:
    """One question of `kind` answered (`answer` None for a coverage count without one)."""
    if logger.isEnabledFor(logging.DEBUG):
        abstained = answer is not None and answer.abstained
        logger.debug(
            "answered a %s question%s%s",
            kind,
            f" (abstained: {answer.abstain_reason})" if abstained else "",  # type: ignore[union-attr]
            f" in {stages!r}" if stages is not None and stages.seconds else "",
        )
    metrics = _current.get()
    if metrics is None:
        return
    metrics.answers.labels(kind if kind in KINDS else "other").inc()
    if answer is not None and answer.abstained:
        metrics.abstentions.labels(answer.abstain_reason or "unknown").inc()
    if stages is not None:
        for stage, seconds in stages.seconds.items():
            metrics.stage_seconds.labels(stage).observe(seconds)


def telegram_update(update: Any) -> None:
    """One Telegram update reached the handlers."""
    metrics = _current.get()
    if metrics is not None:
        metrics.telegram_updates.labels(_update_type(update)).inc()


def telegram_send_failed(method: str, error: BaseException) -> None:
    """A Bot API call failed for good (after the retries it was allowed)."""
    metrics = _current.get()
    if metrics is not None:
        metrics.telegram_send_failures.labels(method, type(error).__name__).inc()


def reindexed(seconds: float, outcome: str) -> None:
    metrics = _current.get()
    if metrics is not None:
        metrics.reindex_seconds.labels(outcome).observe(seconds)


def index_loaded(seconds: float) -> None:
    metrics = _current.get()
    if metrics is not None:
        metrics.index_load_seconds.observe(seconds)


UPDATE_TYPES = ("message", "edited_message", "callback_query", "inline_query",
                "chosen_inline_result", "channel_post", "my_chat_member")  # fmt: skip


def _update_type(update: Any) -> str:
    for name in UPDATE_TYPES:
        if getattr(update, name, None) is not None:
            return name
    return "other"


class _ServiceCollector:
    """The gauges read from the served index and session store when /metrics is scraped."""

    def __init__(self, service: Callable[[], Any]) -> None:
        self._service = service

    def describe(self) -> list[Any]:
        return []  # unchecked: what it yields depends on whether an index is loaded

    def collect(self) -> Iterator[GaugeMetricFamily]:
        service = self._service()
        loaded = GaugeMetricFamily("newsdesk_index_loaded", "1 when an index is being served.")
        loaded.add_metric([], 0 if service is None else 1)
        yield loaded
        if service is None:
            return
        summary = service.summary()
        generation = getattr(getattr(service, "generation", None), "name", None) or "unknown"
        info = GaugeMetricFamily(
            "newsdesk_index_generation",
            "The index generation served (its name as a label; value 1).",
            labels=["generation"],
        )
        info.add_metric([generation], 1)
        yield info
        if (built := _timestamp(summary.built_at)) is not None:
            yield GaugeMetricFamily(
                "newsdesk_index_built_timestamp_seconds",
                "When the served generation was built (Unix time).",
                value=built,
            )
            yield GaugeMetricFamily(
                "newsdesk_index_age_seconds",
                "Seconds since the served generation was built.",
                value=max(0.0, time.time() - built),
            )
        yield GaugeMetricFamily(
            "newsdesk_index_articles", "Articles in the served index.", value=summary.articles
        )
        yield GaugeMetricFamily(
            "newsdesk_index_chunks", "Passages in the served index.", value=summary.chunks
        )
        sessions = _session_count(service)
        if sessions is not None:
            yield GaugeMetricFamily(
                "newsdesk_sessions_active",
                "Conversations not yet expired in this server's session store.",
                value=sessions,
            )


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _session_count(service: Any) -> int | None:
    """Live conversations, where the store can count them cheaply; None otherwise (a shared
    store that cannot answer must not fail the scrape)."""
    store = getattr(service, "sessions", None)
    try:
        return len(store)  # type: ignore[arg-type]
    except Exception:
        return None
