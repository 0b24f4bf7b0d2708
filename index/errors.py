"""Domain errors raised by the index package; each edge (CLI, HTTP, Telegram) translates them."""

from __future__ import annotations

from pathlib import Path


class NewsdeskError(Exception):
    """Base class: the message is one sentence a user can act on."""


class IndexNotFound(NewsdeskError):
    """No built index at the given directory."""


class IndexIncompatible(NewsdeskError):
    """The index was built with another model or on-disk format version."""


class CorpusError(NewsdeskError):
    """The corpus (a folder or one file) is missing or holds no readable article."""


class BuildInProgress(NewsdeskError):
    """Another build holds the index lock."""


class ModelLoadError(NewsdeskError):
    """The embedding model could not be loaded."""


class ClusterError(NewsdeskError):
    """A distributed build could not start Ray, reach its cluster, or finish a stage there."""


class IndexCorrupt(NewsdeskError):
    """A file of the index is missing, truncated or unreadable; only a rebuild repairs it.

    Raised when the index is opened (cheap checks: manifest, sizes, magic bytes, SQLite's
    quick_check), so a damaged index is refused with the file's name instead of failing later
    with a library's traceback.
    """

    def __init__(self, path: Path | str, problem: str, index_dir: Path | str | None = None) -> None:
        self.path = str(path)
        self.problem = problem  # what `path` is: "missing", "truncated (…)", "not a … file"
        self.index_dir = None if index_dir is None else str(index_dir)
        if index_dir is None:
            message = f"The index file {path} is {problem}; rebuild the index with "
            message += "`newsdesk index build`."
        else:
            message = f"The index at {index_dir} is damaged: {path} is {problem}; rebuild it "
            message += f"with `newsdesk index build --index-dir {index_dir}`."
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:  # crosses the reindex child's pipe
        return type(self), (self.path, self.problem, self.index_dir)


def brief(error: BaseException) -> str:
    """An exception as a short phrase for an `IndexCorrupt` problem: its first line, cut
    (FAISS's name its C++ source)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 120 else text[:119] + "…"


class IndexWriteFailed(NewsdeskError):
    """A build could not write one of its files: a full disk, a file size limit, an I/O error.

    The build stops and removes what it wrote; the index that was current stays current.
    """

    def __init__(self, path: Path | str, reason: str, kept_previous: bool, next_step: str) -> None:
        self.path = str(path)
        self.reason = reason
        self.kept_previous = kept_previous
        self.next_step = next_step
        outcome = "the previous index is still in use" if kept_previous else "no index was made"
        super().__init__(
            f"{reason} while writing {path}; the build was stopped and {outcome}. {next_step}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.path, self.reason, self.kept_previous, self.next_step)


class QdrantUnavailable(NewsdeskError):
    """The Qdrant server (or embedded store) holding the index cannot be reached or opened."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(
            f"Qdrant at {location} is unreachable ({reason}); start it or fix "
            f"NEWSDESK_QDRANT_URL, then try again."
        )

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.location, self.reason)


class QdrantStoreBusy(QdrantUnavailable):
    """An embedded Qdrant store (a folder) that another process has open: embedded mode lets one
    process at a time use a folder, so a second `serve` or a build beside a running bot on the
    same folder must be told which folder and what to do instead."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.reason = "in use by another process"
        NewsdeskError.__init__(
            self,
            f"The embedded Qdrant store {location} is in use by another process (embedded mode "
            f"opens a folder in one process at a time); stop that process, or run a Qdrant "
            f"server and set NEWSDESK_QDRANT_URL to its http(s) URL.",
        )

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.location,)
