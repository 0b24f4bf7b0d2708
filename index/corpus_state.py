"""What the corpus held when a generation was built, so that the next update can tell whether
the corpus only grew.

Two tables beside the articles in meta.sqlite: each corpus file the build read, in reading
order, with its size and modification time as they were *before* it was read (a file written
during the build looks changed next time), and each article's text digest (what de-duplication
compares). When every file of the previous build is still there with the same size and time,
and the files added since sort after them — an archive receiving a file a day — an update reads
only the added files, de-duplicated against the stored digests, and appends (`index.appending`).
Anything else (a file changed, removed or added in between, another corpus folder, an index
written before these tables) is read in full, as before.

Generations written before these tables existed lack them; readers never look at them.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from index.articles import corpus_files

TABLE = """
CREATE TABLE IF NOT EXISTS corpus_files (
    origin TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS text_digests (article_id TEXT PRIMARY KEY, digest BLOB NOT NULL);
"""


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    origin: str
    size: int  # -1: could not be read (a broken link): never taken for unchanged
    mtime_ns: int


@dataclass(frozen=True)
class Growth:
    """A corpus that only grew since the previous build: the files to read, and what the
    previous build's articles are to de-duplication (text digest → id, id → origin)."""

    added: list[CorpusFile]
    unchanged: int
    digests: dict[bytes, str]
    origins: dict[str, str]
    skipped: list[tuple[str, str]]  # (origin, reason) of the unchanged files, in reading order


def scan(root: Path) -> list[CorpusFile]:
    """The corpus's files in reading order, each with its size and modification time now."""
    files = []
    for path, origin in corpus_files(root):
        try:
            status = os.stat(path)
        except OSError:
            files.append(CorpusFile(path, origin, -1, -1))
        else:
            files.append(CorpusFile(path, origin, status.st_size, status.st_mtime_ns))
    return files


def record_files(db: sqlite3.Connection, files: list[CorpusFile]) -> None:
    db.executemany(
        "INSERT INTO corpus_files VALUES (?, ?, ?)",
        [(item.origin, item.size, item.mtime_ns) for item in files],
    )


def record_digest(db: sqlite3.Connection, article_id: str, digest: bytes) -> None:
    db.execute("INSERT INTO text_digests VALUES (?, ?)", (article_id, digest))


def growth(metadata: Path, files: list[CorpusFile], origins: Mapping[str, str]) -> Growth | None:
    """How the corpus grew since the generation whose metadata file is `metadata` (whose
    articles came from `origins`, id → origin), or None when it did more than grow."""
    try:
        db = sqlite3.connect(f"file:{metadata}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if not {"corpus_files", "text_digests"} <= tables:
            return None
        before = db.execute("SELECT origin, size, mtime_ns FROM corpus_files ORDER BY rowid")
        before = before.fetchall()
        if len(before) > len(files) or any(
            row != (item.origin, item.size, item.mtime_ns) or item.size < 0
            for row, item in zip(before, files, strict=False)
        ):
            return None
        digests = dict(db.execute("SELECT digest, article_id FROM text_digests"))
        skipped = db.execute("SELECT origin, reason FROM skipped ORDER BY rowid").fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    if len(digests) != len(origins) or not set(digests.values()) <= origins.keys():
        return None
    return Growth(files[len(before) :], len(before), digests, dict(origins), skipped)
