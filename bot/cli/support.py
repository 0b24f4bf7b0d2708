"""Shared pieces of the CLI: settings and the service from options, one-line errors, the build
progress bar."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bot.logs import JsonFormatter, RequestIdFilter, use_format
from bot.service import NewsdeskService
from bot.settings import Settings
from index.build import BuildProgress
from index.errors import NewsdeskError

err_console = Console(stderr=True)

IndexDirOption = Annotated[
    Path | None,
    typer.Option("--index-dir", envvar="NEWSDESK_INDEX_DIR", help="Index directory.",
                 show_default=".newsdesk/index"),
]  # fmt: skip
CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", envvar="NEWSDESK_CORPUS", help="Folder (or file) of articles.",
                 show_default="corpus", readable=False),  # an unreadable corpus: one-line error
]  # fmt: skip
ModelOption = Annotated[
    str | None,
    typer.Option("--model", envvar="NEWSDESK_MODEL",
                 help="Embedding model name or path (default: the packaged all-MiniLM-L6-v2)."),
]  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend", envvar="NEWSDESK_BACKEND", metavar="local|qdrant",
        help="Where the index is stored: local (default) or qdrant (the collection at "
        "NEWSDESK_QDRANT_URL; the build's working copy stays in --index-dir).",
    ),
]  # fmt: skip


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def load_settings(**overrides: Any) -> Settings:
    """Settings from env/.env, with the command-line options that were given on top."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        reason = first["msg"].removeprefix("Value error, ").rstrip(".")
        fail(f"invalid setting NEWSDESK_{field.upper()}: {reason}.")
    use_log_format(settings.log_format)
    if os.path.exists(settings.index_dir) and not os.path.isdir(settings.index_dir):
        fail(
            f"The index directory {settings.index_dir} is a file, not a folder; point "
            "--index-dir (or NEWSDESK_INDEX_DIR) at a folder."
        )
    return settings


def load_service(index_dir: Path | None, model: str | None = None) -> NewsdeskService:
    settings = load_settings(index_dir=index_dir, model=model)
    with friendly_errors():
        return NewsdeskService.from_settings(settings)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Domain errors become one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except NewsdeskError as error:
        fail(str(error))
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        raise typer.Exit(130) from None
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    use_log_format(os.environ.get("NEWSDESK_LOG_FORMAT", "text").strip().lower())
    for noisy in ("faiss.loader", "bm25s", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class BuildProgressBar:
    """Draws `index.build` progress: articles read, then chunks embedded with rate and ETA."""

    LABELS = {"reading": "Reading articles", "embedding": "Embedding chunks",
              "saving": "Saving"}  # fmt: skip

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Callable[[BuildProgress], None]:
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self._tasks:  # started by the first event: a build that fails early draws nothing
            self._progress.__exit__(*exc)

    def update(self, event: BuildProgress) -> None:
        if not self._tasks:
            self._progress.__enter__()
        if event.phase not in self._tasks:
            self._tasks[event.phase] = self._progress.add_task(
                self.LABELS.get(event.phase, event.phase), total=event.total, rate=""
            )
        task_id = self._tasks[event.phase]
        self._progress.update(task_id, completed=event.done, total=event.total)
        task = self._progress.tasks[task_id]
        if event.phase == "embedding" and task.speed:
            self._progress.update(task_id, rate=f"{task.speed:,.0f} chunks/s")


def use_log_format(log_format: str) -> None:
    """`json`: every line the root logger writes is a JSON object with the request id
    (NEWSDESK_LOG_FORMAT, read again once settings load, which also sees a .env file)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            use_format(handler, log_format)
        elif log_format == "json":
            handler.setFormatter(JsonFormatter())


def log_service_events() -> None:
    """Long-running commands (serve, telegram) tell the operator when they start and stop."""
    logging.getLogger("bot").setLevel(logging.INFO)
