"""Index generations on disk and the atomic swap between them.

    INDEX_DIR/
      current -> gen-20261125T204512Z-1a2b3c   (symlink; replaced atomically)
      gen-…/            a complete, immutable build
      gen-….partial/    a build in progress (removed by the next build if its owner died)
      .lock             held (flock) by the running build

Readers resolve `current` once and keep what they opened, so a swap never breaks them.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from index.errors import BuildInProgress, IndexNotFound

CURRENT = "current"
PARTIAL_SUFFIX = ".partial"


def current_generation(index_dir: Path) -> Path:
    link = index_dir / CURRENT
    if not link.is_symlink() or not link.resolve().is_dir():
        raise IndexNotFound(
            f"No index at {index_dir}; "
            f"build one with `newsdesk index build --index-dir {index_dir}`."
        )
    return link.resolve()


def has_index(index_dir: Path) -> bool:
    try:
        current_generation(index_dir)
    except IndexNotFound:
        return False
    return True


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time; the kernel drops the lock if the builder dies (even by SIGKILL)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgress(
                f"Another build is running on {index_dir}; try again later."
            ) from None
        yield


def new_partial(index_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = index_dir / f"gen-{stamp}-{secrets.token_hex(3)}{PARTIAL_SUFFIX}"
    path.mkdir(parents=True)
    return path


def remove_stale(index_dir: Path) -> list[Path]:
    """Delete generations that `current` does not point to (dead builds, replaced builds).

    Call only while holding `build_lock`. Processes that still have an old generation open keep
    working: their files stay readable until closed.
    """
    keep = (index_dir / CURRENT).resolve() if (index_dir / CURRENT).is_symlink() else None
    removed = []
    for path in index_dir.glob("gen-*"):
        if path.resolve() != keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def publish(index_dir: Path, partial: Path) -> Path:
    """Make a finished build the current one: rename it, then swap the symlink atomically."""
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
    _fsync_tree(partial)
    partial.rename(final)
    link_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
    link_tmp.symlink_to(final.name)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return final


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
