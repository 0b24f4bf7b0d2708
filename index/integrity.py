"""Whether a generation is whole: cheap checks of its files at open, and turning whatever a
library raises on a damaged file into an `IndexCorrupt` that names the file.

Separate from the reader (`index.store`) because `newsdesk serve` checks a generation with
`check_generation` before anything loads, and the reader runs the same checks at open.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexCorrupt, brief
from index.lexical import CHUNK_IDS, MATRIX, VOCABULARY, WEIGHT_FILES
from index.manifest import LEXICAL, METADATA, VECTORS, Manifest
from index.vector_files import file_problem

logger = logging.getLogger(__name__)

REQUIRED_FILES = (METADATA, VECTORS, f"{LEXICAL}/{MATRIX}", f"{LEXICAL}/{VOCABULARY}",
                  f"{LEXICAL}/{CHUNK_IDS}")  # fmt: skip
SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_PREAMBLE = re.compile(r"^\*\*\* in database \w+ \*\*\* ")
_MAGIC = {  # what each file starts with (the FAISS file is checked by index.vector_files)
    METADATA: (SQLITE_MAGIC, "not a SQLite database"),
    f"{LEXICAL}/{MATRIX}": (b"PK\x03\x04", "not a NumPy .npz archive"),
    f"{LEXICAL}/{CHUNK_IDS}": (b"\x93NUMPY", "not a NumPy array file"),
    **{f"{LEXICAL}/{name}": (b"\x93NUMPY", "not a NumPy array file") for name in WEIGHT_FILES},
}


def check_generation(directory: Path) -> Manifest:
    """Cheap checks that a generation is whole, without loading it: the manifest, each file's
    presence, size (as the build wrote it) and first bytes, and the metadata file's (see
    `open_metadata`). Raises IndexCorrupt naming the first damaged file."""
    manifest = Manifest.load(directory)
    check_files(directory, manifest)
    open_metadata(directory / METADATA, directory.parent, manifest).close()
    return manifest


def check_files(directory: Path, manifest: Manifest) -> None:
    index_dir = directory.parent
    for name in dict.fromkeys([*REQUIRED_FILES, *manifest.files]):
        path = directory / name
        if not path.is_file():
            raise IndexCorrupt(path, "missing", index_dir)
        size, expected = path.stat().st_size, manifest.files.get(name)
        if expected is not None and size != expected:
            raise IndexCorrupt(path, _size_problem(size, expected), index_dir)
        magic, what_else = _MAGIC.get(name, (b"", ""))
        with path.open("rb") as handle:
            if not handle.read(len(magic)) == magic:
                raise IndexCorrupt(path, what_else, index_dir)
    if problem := file_problem(directory / VECTORS):
        raise IndexCorrupt(directory / VECTORS, problem, index_dir)


def open_metadata(path: Path, index_dir: Path, manifest: Manifest) -> sqlite3.Connection:
    """A read-only connection to a metadata file that passed SQLite's quick_check (about 70 ms
    for 100 MB), or, when it is unchanged since the build wrote it (the same modification time
    as the manifest recorded), a check that its header, size and schema agree."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    written = manifest.modified_ns.get(METADATA)
    try:
        if written is not None and path.stat().st_mtime_ns == written:
            problems = _header_problems(connection, path.stat().st_size)
        else:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as error:
        connection.close()
        raise IndexCorrupt(path, f"unreadable (SQLite: {brief(error)})", index_dir) from None
    if problems != ["ok"]:
        connection.close()
        found = "; ".join(_SQLITE_PREAMBLE.sub("", " ".join(p.split())) for p in problems)
        raise IndexCorrupt(path, f"corrupt (SQLite: {found})", index_dir)
    return connection


def _header_problems(connection: sqlite3.Connection, size: int) -> list[str]:
    """SQLite's own words for what is wrong with a file unchanged since it was written (["ok"]
    if nothing): its schema must parse and its pages fill the file exactly."""
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    if pages * page_size != size:
        return [f"{pages} pages of {page_size} bytes in a file of {size} bytes"]
    return ["ok"]


@contextmanager
def reading(path: Path, index_dir: Path) -> Iterator[None]:
    """Whatever goes wrong while loading `path` is that file's damage."""
    try:
        yield
    except IndexCorrupt:
        raise
    except Inconsistent as error:
        raise IndexCorrupt(path, f"inconsistent ({error})", index_dir) from None
    except Exception as error:  # each library fails its own way on a damaged file
        logger.debug("could not load %s", path, exc_info=True)
        raise IndexCorrupt(path, f"unreadable ({brief(error)})", index_dir) from None


class Inconsistent(ValueError):
    """A file that loads but disagrees with the manifest or the other files."""


def _size_problem(size: int, expected: int) -> str:
    if size < expected:
        return f"truncated ({size} of the {expected} bytes the build wrote)"
    return f"the wrong size ({size} bytes, the build wrote {expected})"
