"""Write failures during a build — a full disk, a file size limit — as one domain error.

Each library reports them its own way: Python (and FAISS, which writes through a Python file)
raises OSError with ENOSPC or EFBIG, numpy a short write without an errno, SQLite "database or
disk is full" or a bare "disk I/O error". `writing(path)` turns each into IndexWriteFailed naming
the file, asking the system what ran out when the library did not say.

CPython ignores SIGXFSZ from start-up, so a write past the file size limit (RLIMIT_FSIZE) fails
with EFBIG instead of killing the build, which can then clean up and say so.
"""

from __future__ import annotations

import errno
import os
import resource
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexWriteFailed

NO_SPACE = "No space left on device"
NO_QUOTA = "Disk quota exceeded"
TOO_LARGE = "File too large (the file size limit was reached)"
_REASONS = {errno.ENOSPC: NO_SPACE, errno.EDQUOT: NO_QUOTA, errno.EFBIG: TOO_LARGE}
_NEXT_STEPS = {
    NO_SPACE: "Free some space, then run the build again.",
    NO_QUOTA: "Free some space, then run the build again.",
    TOO_LARGE: "Raise the limit (ulimit -f), then run the build again.",
}
LOW_SPACE_BYTES = 1 << 20  # less free than this after a failed write: the disk filled up


@contextmanager
def writing(path: Path, *, generation: Path, kept_previous: bool) -> Iterator[None]:
    """Turn a failure to write `path` (or the file an OSError names) of the new `generation`
    into IndexWriteFailed."""
    try:
        yield
    except IndexWriteFailed:
        raise
    except (OSError, sqlite3.Error) as error:
        raise write_failed(error, path, generation, kept_previous) from error


def write_failed(
    error: OSError | sqlite3.Error, path: Path, generation: Path | None, kept_previous: bool
) -> IndexWriteFailed:
    """The domain error for `error`, raised while writing `path` (of `generation`, if given)."""
    if isinstance(error, OSError) and error.filename:
        path = Path(os.fsdecode(error.filename))
    reason = write_failure_reason(error, path)
    next_step = _NEXT_STEPS.get(reason, "Run the build again once the disk takes writes.")
    shown = str(path)
    if generation is not None and path == generation:
        shown = f"the new index in {generation.parent}"
    elif generation is not None and path.is_relative_to(generation):
        shown = f"{path.relative_to(generation).as_posix()} of the new index in {generation.parent}"
    return IndexWriteFailed(shown, reason, kept_previous, next_step)


def is_out_of_space(error: BaseException) -> bool:
    """An OSError saying that a write found no room, wherever in a build it was raised."""
    return isinstance(error, OSError) and error.errno in _REASONS


def write_failure_reason(error: OSError | sqlite3.Error, path: Path) -> str:
    """What ran out, in a few words: from the errno when there is one, else from the system."""
    if isinstance(error, OSError) and error.errno in _REASONS:
        return _REASONS[error.errno]
    if isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", None) == 13:
        return NO_SPACE  # SQLITE_FULL
    soft_limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft_limit != resource.RLIM_INFINITY and _size(path) >= soft_limit:
        return TOO_LARGE
    try:
        disk = os.statvfs(path.parent if path.parent.exists() else path.anchor)
    except OSError:
        disk = None
    if disk is not None and disk.f_bavail * disk.f_frsize < LOW_SPACE_BYTES:
        return NO_SPACE
    return str(error).strip() or type(error).__name__


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
