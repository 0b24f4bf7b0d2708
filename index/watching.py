"""Keep an index in step with its corpus folder: watch the folder and run the incremental update
when files appear, change or go.

Bursts are coalesced: an update starts once the folder has been quiet for `quiet_s`, and at
most `interval_s` after the first change it answers (watchfiles' debounce), so copying a
thousand files makes one update, not a thousand. Updates run one after another in the calling
thread, never two at once (and `build_lock` keeps other processes' builds apart); changes made
during an update are collected and make the next one. A failed update is reported and the
previous generation keeps serving; failures other than the corpus's own are retried after
`interval_s`. The caller stops the loop by raising KeyboardInterrupt in it (SIGINT, SIGTERM):
an update cut short that way leaves no partial generation behind.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from index.articles import read_corpus
from index.build import BuildReport
from index.chunking import ChunkerSettings
from index.corpus_formats import SkippedInput
from index.errors import CorpusError, NewsdeskError
from index.layout import current_generation
from index.manifest import Manifest
from index.stored_statements import RULES_VERSION

logger = logging.getLogger(__name__)

QUIET_S = 1.0  # how long the folder must be still before an update starts
WAKE_S = 0.5  # how often the loop wakes without changes, to run a retry that is due


@dataclass(frozen=True)
class WatchedUpdate:
    """One update the watcher ran: its report, or the error that stopped it."""

    cause: str  # "start" (the corpus differs from the index), "changes", "retry"
    changes: int  # files added, modified or deleted since the last update
    seconds: float
    report: BuildReport | None = None
    error: Exception | None = None


Update = Callable[[], BuildReport]


class CorpusFilter(DefaultFilter):
    """The changes the corpus reader would see: hidden names (editors' swap files, rsync's
    temporary copies) are left out as the reader leaves them out; for a corpus that is one
    file, only that file. An index kept inside the corpus folder is left out too, or each
    update would set off the next."""

    def __init__(self, corpus: Path, index_dir: Path | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.folder = corpus if corpus.is_dir() else corpus.parent
        self.index_dir = index_dir

    def __call__(self, change: Change, path: str) -> bool:
        changed = Path(path)
        if self.corpus != self.folder:
            return changed == self.corpus
        if self.index_dir is not None and changed.is_relative_to(self.index_dir):
            return False
        try:
            parts = changed.relative_to(self.folder).parts
        except ValueError:
            return False
        return not any(part.startswith(".") for part in parts) and super().__call__(change, path)


def watch_corpus(
    corpus: Path,
    update: Update,
    on_update: Callable[[WatchedUpdate], None],
    *,
    interval_s: float = 60.0,
    quiet_s: float = QUIET_S,
    needs_update: Callable[[], bool] | None = None,
    on_watching: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
    index_dir: Path | None = None,
) -> None:
    """Watch `corpus` and call `update()` when it changes, until KeyboardInterrupt (or until
    `stop` is set, for a watch run in a thread).

    Once the watch is in place (changes are being collected), `on_watching` is called, then
    `needs_update` (default: always) says whether to update at once because the corpus
    changed since the index was built. Each update's outcome goes to `on_update`. Changes
    under `index_dir` (an index kept inside the corpus folder) are not the corpus's.
    """
    corpus = corpus.resolve()
    watch_filter = CorpusFilter(corpus, index_dir.resolve() if index_dir is not None else None)
    step_ms = max(1, round(min(quiet_s, interval_s) * 1000))
    pending: str | None = None
    changed = 0
    retry_at: float | None = None
    started = False
    for changes in watch(
        watch_filter.folder,
        watch_filter=watch_filter,
        debounce=max(step_ms, round(interval_s * 1000)),
        step=step_ms,
        rust_timeout=round(WAKE_S * 1000),
        yield_on_timeout=True,
        stop_event=stop,
    ):
        if not started:  # the first wake-up: the watcher is in place, nothing is missed now
            started = True
            if on_watching is not None:
                on_watching()
            if needs_update is None or needs_update():
                pending = "start"
        if changes:
            pending, changed = "changes", changed + len(changes)
        elif retry_at is not None and time.monotonic() >= retry_at:
            pending = pending or "retry"
        if pending is None:
            continue
        outcome = _run(update, pending, changed)
        on_update(outcome)
        pending, changed, retry_at = None, 0, None
        if outcome.error is not None and not isinstance(outcome.error, CorpusError):
            retry_at = time.monotonic() + interval_s  # a full disk, a build elsewhere: try again


def _run(update: Update, cause: str, changes: int) -> WatchedUpdate:
    started = time.perf_counter()
    try:
        report = update()
    except (NewsdeskError, OSError) as error:
        return WatchedUpdate(cause, changes, time.perf_counter() - started, error=error)
    except Exception as error:  # a bug in one update must not end the watch
        logger.debug("update failed", exc_info=True)
        return WatchedUpdate(cause, changes, time.perf_counter() - started, error=error)
    return WatchedUpdate(cause, changes, time.perf_counter() - started, report=report)


def index_matches_corpus(
    corpus: Path, index_dir: Path, model_id: str, chunker: ChunkerSettings
) -> bool:
    """Whether the current index was built from exactly these articles (and these skipped
    inputs) with this model, chunker and statement rules: then an update would change nothing.
    Reads the corpus (no embedding); any doubt answers False."""
    try:
        manifest = Manifest.load(current_generation(index_dir))
    except NewsdeskError:
        return False
    if (manifest.model_id, manifest.chunker, manifest.statement_rules) != (
        model_id,
        chunker.to_dict(),
        RULES_VERSION,
    ):
        return False
    skipped: list[SkippedInput] = []
    fingerprint = hashlib.sha256()
    try:
        for article in read_corpus(corpus, skipped.append):
            fingerprint.update(article.content_hash.encode())
    except (NewsdeskError, OSError):
        return False
    return (
        fingerprint.hexdigest() == manifest.corpus_fingerprint and len(skipped) == manifest.skipped
    )
