"""The corpus watcher: bursts of changes make one update, changes made during an update make the
next one, hidden files make none, a failed update is reported and the watch goes on; and the
start-up check that says whether the index already matches the corpus."""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildReport, build_index
from index.chunking import ChunkerSettings
from index.errors import BuildInProgress, CorpusError
from index.watching import WatchedUpdate, index_matches_corpus, watch_corpus
from tests.conftest import SEED_CORPUS

INTERVAL_S = 2.0
QUIET_S = 0.3
WAIT_S = 20.0


def report(generation: str = "gen-test") -> BuildReport:
    return BuildReport(1, 1, 1, 1, 0, 1, 0, 0, generation=generation, incremental=True)


@dataclass
class Watch:
    """A running watch_corpus in a thread: its updates' outcomes arrive on `outcomes`."""

    outcomes: queue.Queue[WatchedUpdate] = field(default_factory=queue.Queue)
    watching: threading.Event = field(default_factory=threading.Event)
    calls: list[float] = field(default_factory=list)

    def next(self) -> WatchedUpdate:
        return self.outcomes.get(timeout=WAIT_S)

    def none_within(self, seconds: float) -> bool:
        try:
            self.outcomes.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


@contextmanager
def watching(
    corpus: Path, update, *, needs_update=lambda: False, index_dir: Path | None = None
) -> Iterator[Watch]:
    watch = Watch()

    def counted() -> BuildReport:
        watch.calls.append(time.monotonic())
        return update()

    stop = threading.Event()
    thread = threading.Thread(
        target=watch_corpus,
        args=(corpus, counted, watch.outcomes.put),
        kwargs={
            "interval_s": INTERVAL_S,
            "quiet_s": QUIET_S,
            "needs_update": needs_update,
            "on_watching": watch.watching.set,
            "stop": stop,
            "index_dir": index_dir,
        },
        daemon=True,
    )
    thread.start()
    try:
        assert watch.watching.wait(WAIT_S)
        yield watch
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive()


def test_a_burst_of_new_files_makes_one_update(tmp_path: Path) -> None:
    with watching(tmp_path, report) as watch:
        for n in range(20):
            (tmp_path / f"article-{n}.txt").write_text(f"Story number {n}.")
        outcome = watch.next()
        assert watch.none_within(QUIET_S * 3)

    assert outcome.report is not None and outcome.cause == "changes"
    assert outcome.changes == 20


def test_changes_made_during_an_update_make_the_next_one(tmp_path: Path) -> None:
    during = threading.Event()

    def slow_update() -> BuildReport:
        if not during.is_set():
            during.set()
            (tmp_path / "while-updating.txt").write_text("Arrived during the update.")
            time.sleep(QUIET_S * 3)
        return report()

    with watching(tmp_path, slow_update) as watch:
        (tmp_path / "first.txt").write_text("The first story.")
        first, second = watch.next(), watch.next()
        assert watch.none_within(QUIET_S * 3)

    assert (first.changes, second.changes) == (1, 1)
    assert len(watch.calls) == 2 and watch.calls[1] >= watch.calls[0] + QUIET_S * 3


def test_hidden_files_and_folders_change_nothing(tmp_path: Path) -> None:
    with watching(tmp_path, report) as watch:
        (tmp_path / ".draft.txt.swp").write_text("an editor's swap file")
        (tmp_path / ".partial").mkdir()
        (tmp_path / ".partial" / "copy.txt").write_text("rsync's temporary copy")
        assert watch.none_within(QUIET_S * 3)
        (tmp_path / ".partial" / "copy.txt").rename(tmp_path / "copy.txt")  # now it counts
        assert watch.next().changes == 1


def test_a_failed_update_is_reported_and_the_watch_goes_on(tmp_path: Path) -> None:
    failures = [CorpusError("No readable article in the corpus; nothing to index.")]

    def update() -> BuildReport:
        if failures:
            raise failures.pop()
        return report()

    with watching(tmp_path, update) as watch:
        (tmp_path / "broken.txt").write_text("")
        failed = watch.next()
        assert watch.none_within(QUIET_S * 3)  # the corpus itself must change: no retry
        (tmp_path / "fixed.txt").write_text("A real story.")
        fixed = watch.next()

    assert isinstance(failed.error, CorpusError) and failed.report is None
    assert fixed.report is not None and fixed.error is None


def test_an_update_blocked_by_another_build_is_retried_after_the_interval(tmp_path: Path) -> None:
    failures = [BuildInProgress("Another build is running; try again later.")]

    def update() -> BuildReport:
        if failures:
            raise failures.pop()
        return report()

    with watching(tmp_path, update) as watch:
        (tmp_path / "story.txt").write_text("A story.")
        blocked, retried = watch.next(), watch.next()

    assert isinstance(blocked.error, BuildInProgress)
    assert retried.cause == "retry" and retried.report is not None
    assert watch.calls[1] - watch.calls[0] >= INTERVAL_S


def test_an_index_behind_its_corpus_is_updated_at_start(tmp_path: Path) -> None:
    with watching(tmp_path, report, needs_update=lambda: True) as watch:
        assert watch.next().cause == "start"


def test_index_matches_corpus_until_the_corpus_changes(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    index_dir = tmp_path / "index"
    chunker = ChunkerSettings(max_tokens=embedder.max_tokens)

    def matches() -> bool:
        return index_matches_corpus(corpus, index_dir, embedder.model_id, chunker)

    assert not matches()  # no index yet
    build_index(corpus, index_dir, embedder)
    assert matches()
    (corpus / "broken.json").write_text("{not json")
    assert not matches()  # a new skipped input is recorded by an update too
    (corpus / "broken.json").unlink()
    (corpus / "new.txt").write_text("Title: New\nA new story about the harbour.")
    assert not matches()
    assert not index_matches_corpus(corpus, index_dir, "another-model", chunker)


def test_a_corpus_that_is_one_file_is_watched_alone(tmp_path: Path) -> None:
    corpus = tmp_path / "story.txt"
    corpus.write_text("The first version.")
    with watching(corpus, report) as watch:
        (tmp_path / "neighbour.txt").write_text("Not part of the corpus.")
        assert watch.none_within(QUIET_S * 3)
        corpus.write_text("The second version.")
        assert watch.next().changes >= 1


def test_an_index_kept_inside_the_corpus_folder_sets_off_no_update(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with watching(tmp_path, report, index_dir=index_dir) as watch:
        (index_dir / "gen-1").mkdir(parents=True)
        (index_dir / "gen-1" / "manifest.json").write_text("{}")
        assert watch.none_within(QUIET_S * 3)
        (tmp_path / "story.txt").write_text("A story.")
        assert watch.next().changes == 1
