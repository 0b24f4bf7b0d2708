"""`newsdesk index watch`: keep the index up to date with the corpus folder until stopped.

The loop itself is index/watching.py; this edge loads the model once, runs the incremental
update the way `index update` does, and logs one line per update. A running `newsdesk serve`
or `newsdesk telegram` picks each new generation up by itself (bot/index_follower.py).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.support import (
    BackendOption,
    CorpusOption,
    IndexDirOption,
    ModelOption,
    friendly_errors,
    load_settings,
    log_service_events,
)
from bot.factories import make_embedder, qdrant_client_for
from bot.settings import Settings
from index.articles import read_corpus
from index.build import BuildReport, update_index
from index.chunking import ChunkerSettings
from index.corpus_formats import SkippedInput
from index.errors import NewsdeskError
from index.qdrant_publish import current_collection, publish_current
from index.watching import WatchedUpdate, index_matches_corpus, watch_corpus

logger = logging.getLogger(__name__)

IntervalOption = Annotated[
    float,
    typer.Option("--interval", envvar="NEWSDESK_WATCH_INTERVAL", min=0.1,
                 help="At most this many seconds between a change and the update that takes it "
                      "in (an update starts sooner, once the folder has been quiet for a "
                      "second)."),
]  # fmt: skip


def watch(
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    model: ModelOption = None,
    interval: IntervalOption = 60.0,
    backend: BackendOption = None,
) -> None:
    """Watch the corpus folder and update the index whenever files appear, change or go (one
    log line per update), until Ctrl-C or SIGTERM. A running `serve` or `telegram` picks up
    each new index without a restart. With --backend qdrant each update is also made to the
    Qdrant collection, in place."""
    settings = load_settings(corpus=corpus, index_dir=index_dir, model=model, backend=backend)
    log_service_events()
    with friendly_errors(), _sigterm_interrupts():
        try:
            _watch(settings, interval)
        except KeyboardInterrupt:
            logger.info("stopped watching %s", settings.corpus)


def _watch(settings: Settings, interval: float) -> None:
    corpus, index_dir = Path(settings.corpus), Path(settings.index_dir)
    read_corpus(corpus)  # a missing or unreadable corpus fails now, in one line
    client = qdrant_client_for(settings)  # unreachable or busy: one line, before the model
    try:
        _watch_with(settings, interval, corpus, index_dir, client)
    finally:
        if client is not None:
            client.close()


def _watch_with(
    settings: Settings, interval: float, corpus: Path, index_dir: Path, client: Any
) -> None:
    embedder = make_embedder(settings)
    reported: set[tuple[str, str]] = set()  # skipped inputs already named, so each is named once
    seen: set[tuple[str, str]] = set()

    def note_skip(item: SkippedInput) -> None:
        seen.add((item.origin, item.reason))
        if (item.origin, item.reason) not in reported:
            logger.warning("skipped %s: %s", item.origin, item.reason)

    def update() -> BuildReport:
        seen.clear()
        report = update_index(corpus, index_dir, embedder, on_skip=note_skip)
        reported.clear()
        reported.update(seen)
        if client is not None:
            _publish(settings, client)
        return report

    def needs_update() -> bool:
        chunker = ChunkerSettings(max_tokens=embedder.max_tokens)
        if client is not None and current_collection(client, settings.qdrant_prefix) is None:
            logger.info("no index in Qdrant at %s yet; copying it there", settings.qdrant_location)
            return True
        if index_matches_corpus(corpus, index_dir, embedder.model_id, chunker):
            logger.info("the index at %s is up to date with %s", index_dir, corpus)
            return False
        logger.info("the index at %s is behind %s; updating it", index_dir, corpus)
        return True

    watch_corpus(
        corpus,
        update,
        _log_update,
        interval_s=interval,
        needs_update=needs_update,
        index_dir=index_dir,
        on_watching=lambda: logger.info(
            "watching %s (an update at most %gs after a change)", corpus, interval
        ),
    )


def _publish(settings: Settings, client: Any) -> None:
    """The update just written locally, made to the aliased Qdrant collection in place (or a
    first collection when there is none), as `index update --backend qdrant` does."""
    started = time.perf_counter()
    collection = publish_current(
        Path(settings.index_dir), client, settings.qdrant_prefix, incremental=True,
        quantization=settings.qdrant_quantization,
    )  # fmt: skip
    logger.info(
        "Qdrant %s (%s) updated in %.2fs",
        settings.qdrant_location, collection, time.perf_counter() - started,
    )  # fmt: skip


def _log_update(outcome: WatchedUpdate) -> None:
    """The one line an update gets: what changed and how long it took, or why it failed."""
    if outcome.report is not None:
        report = outcome.report
        line = (
            f"index updated in {outcome.seconds:.2f}s: {report.added_articles} added, "
            f"{report.changed_articles} changed, {report.removed_articles} removed "
            f"({report.articles} articles, generation {report.generation})"
        )
        if report.skipped:
            skipped = len(report.skipped)
            line += f"; {skipped} input{'' if skipped == 1 else 's'} skipped"
        logger.info("%s", line)
        return
    error = outcome.error
    reason = str(error) if isinstance(error, NewsdeskError) else f"{type(error).__name__}: {error}"
    logger.error(
        "index update failed after %.2fs (the previous index keeps serving): %s",
        outcome.seconds,
        reason,
    )


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the watch as Ctrl-C does: an update in progress is abandoned (its partial
    generation removed, the previous index still current) and the command exits 0."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
