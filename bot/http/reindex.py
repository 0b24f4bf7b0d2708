"""The admin reindex job: one incremental update at a time, in the background.

The build runs in a child process: it makes many small calls that release and re-take the
interpreter lock, and behind a busy web server each re-take waits its turn, so a build in a
thread of the server crawls (and slows the server down). The service then swaps the new
generation in atomically, so requests served meanwhile use the old one and never fail.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from bot import metrics
from index.errors import NewsdeskError

if TYPE_CHECKING:
    from bot.service import NewsdeskService
    from bot.settings import Settings
    from index.build import BuildProgress, BuildReport

logger = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def jsonable(value: Any) -> Any:
    """Turn a report (dataclass, path, tuple …) into plain JSON values for the status body."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _report_dict(report: Any) -> dict[str, Any]:
    """A build report as JSON, with its list of skipped inputs cut to a count and a sample."""
    result = jsonable(report)
    if not isinstance(result, dict):
        return {"report": result}
    skipped = result.get("skipped")
    if isinstance(skipped, list):
        result["skipped"] = len(skipped)
        result["skipped_examples"] = skipped[:5]
    return result


class ReindexJob:
    """Runs `reindex(on_progress=…)` in a daemon thread; `status()` is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "idle"
        self._started_at: str | None = None
        self._finished_at: str | None = None
        self._progress: dict[str, Any] | None = None
        self._last_result: dict[str, Any] | None = None
        self._error: str | None = None

    def start(self, reindex: Callable[..., Any]) -> bool:
        """Start a job unless one is running; False means one already is."""
        with self._lock:
            if self._state == "running":
                return False
            self._state = "running"
            self._started_at = _now()
            self._finished_at = None
            self._progress = None
            self._error = None
            run = contextvars.copy_context().run  # the app's metrics count its duration
            threading.Thread(
                target=run, args=(self._run, reindex), name="newsdesk-reindex", daemon=True
            ).start()
        return True

    def _on_progress(self, progress: BuildProgress) -> None:
        as_json = jsonable(progress)
        with self._lock:
            self._progress = as_json

    def _run(self, reindex: Callable[..., Any]) -> None:
        logger.info("reindex started")
        started = time.perf_counter()
        try:
            report = reindex(on_progress=self._on_progress)
        except NewsdeskError as exc:
            self._finish("failed", error=str(exc))
            logger.warning("reindex failed: %s", exc)
            metrics.reindexed(time.perf_counter() - started, "failed")
        except Exception as exc:  # a bug must not kill the job bookkeeping
            logger.exception("reindex crashed")
            self._finish("failed", error=f"{type(exc).__name__}: {exc}")
            metrics.reindexed(time.perf_counter() - started, "failed")
        else:
            self._finish("succeeded", result=_report_dict(report))
            logger.info("reindex finished: %s", report)
            metrics.reindexed(time.perf_counter() - started, "succeeded")

    def _finish(self, state: str, *, result: Any = None, error: str | None = None) -> None:
        with self._lock:
            self._state = state
            self._finished_at = _now()
            self._error = error
            if result is not None:
                self._last_result = result

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "state": self._state,
                "started_at": self._started_at,
                "finished_at": self._finished_at,
                "progress": self._progress,
                "last_result": self._last_result,
                "error": self._error,
            }


def reindex_isolated(
    service: NewsdeskService, settings: Settings, on_progress: Callable[[BuildProgress], None]
) -> BuildReport:
    """An incremental update of the index, built in a child process; then the service serves
    the new generation."""
    report = update_in_subprocess(settings, on_progress)
    service.refresh()  # unless the index follower has swapped it in already
    return report


def update_in_subprocess(
    settings: Settings, on_progress: Callable[[BuildProgress], None]
) -> BuildReport:
    """Run `update_index` for `settings` in a fresh process; progress and errors come back."""
    context = multiprocessing.get_context("spawn")  # fork would copy the server's threads' locks
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_update_in_child, args=(settings, sender), name="newsdesk-reindex", daemon=True
    )
    process.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process.join(timeout=10)
                raise ReindexAborted(_ended_early(process.exitcode)) from None
            if kind == "progress":
                on_progress(payload)
            elif kind == "error":
                raise payload
            else:
                return payload
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


class ReindexAborted(NewsdeskError):
    """The reindex process ended without a result (killed, out of memory, crashed)."""


def _ended_early(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        how = f"was killed by signal {-exit_code}"
        if -exit_code == signal.SIGKILL:
            how += " (out of memory?)"
    else:
        how = f"exited with status {exit_code}"
    return f"The reindex process {how} before it finished; the previous index is still in use."


def _update_in_child(settings: Settings, sender: Connection) -> None:
    try:
        from bot.factories import make_embedder
        from index.build import update_index

        report = update_index(
            settings.corpus,
            settings.index_dir,
            make_embedder(settings),
            on_progress=lambda progress: sender.send(("progress", progress)),
        )
        sender.send(("done", report))
    except BaseException as exc:  # reported to the parent, which decides what it means
        try:
            sender.send(("error", exc))
        except Exception:  # the exception itself would not pickle
            sender.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()
