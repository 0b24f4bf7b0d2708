"""One index generation on disk: manifest, SQLite metadata, FAISS vectors and BM25.

manifest.json   format version, model id, dimension, chunker settings, counts, fingerprint
meta.sqlite     articles (with full text and content hash), chunks (offsets), statements (who
                said what, see `index.stored_statements`), story clusters (near-duplicate
                articles, see `index.clusters`), skipped inputs
vectors.faiss   FAISS index keyed by chunk id (exact)
vectors.ivf     the same vectors in an inverted file trained at build time (≥ 20,000 chunks);
                served memory-mapped instead of vectors.faiss (see `index.vectors`)
chunks.npz      every chunk's id, article, span and sentence spans as flat arrays (`ChunkTable`),
                read at open instead of a million rows of SQLite and JSON
bm25/           BM25 over the same chunks: term counts by chunk (what an update copies) and
                the BM25 weights by term (what a search reads, memory-mapped at open)
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from index import clusters, stored_statements
from index.chunk_table import ChunkTable
from index.errors import IndexCorrupt, IndexIncompatible
from index.layout import current_generation
from index.lexical import CHUNK_IDS, MATRIX, VOCABULARY, WEIGHT_FILES, LexicalIndex
from index.stored_statements import StoredStatement
from index.summary import IndexSummary, summary_of
from index.vectors import VectorIndex

logger = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 3: statements; 4: story clusters; 5: vectors.ivf, chunks.npz
# Version 2 lacks only the statements table, version 3 only the story clusters, version 4 only
# the inverted file and the chunk table: they still serve (no statement is found, every article
# is its own story, the inverted file is trained in memory at open, the chunk table read from
# SQLite), and `index update` upgrades them by finding what is missing without re-embedding.
READABLE_VERSIONS = (2, 3, 4, FORMAT_VERSION)
MANIFEST = "manifest.json"
METADATA = "meta.sqlite"
VECTORS = "vectors.faiss"
CHUNK_TABLE = "chunks.npz"
LEXICAL = "bm25"

SCHEMA = (
    """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, date TEXT, url TEXT,
    origin TEXT NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    sentences TEXT NOT NULL, tokens INTEGER NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_id, ordinal);
-- What opening reads of every article, without the pages of their text (see ARTICLE_LISTING)
CREATE INDEX articles_listing ON articles(id, title, source, date, url, origin, content_hash);
CREATE TABLE skipped (origin TEXT NOT NULL, reason TEXT NOT NULL);
"""
    + stored_statements.TABLE
    + clusters.TABLE
)
TEXT_QUERY = "SELECT text FROM articles WHERE id = ?"
ARTICLE_FIELDS = "id, title, source, date, url, origin, content_hash"
# Read from the covering index where the metadata has one: at 100,000 articles the table's pages
# (each holding the start of an article's text) are 400 MB, the index's 25 MB.
ARTICLE_LISTING = f"SELECT rowid, {ARTICLE_FIELDS} FROM articles INDEXED BY articles_listing"
ARTICLE_TABLE = f"SELECT rowid, {ARTICLE_FIELDS} FROM articles"
HAS_LISTING = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'articles_listing'"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model_id: str
    dimension: int
    chunker: dict[str, object]
    articles: int
    chunks: int
    tokens: int
    skipped: int
    corpus: str
    corpus_fingerprint: str
    built_at: str
    build_seconds: float = 0.0
    # Each file's size in bytes as the build wrote it (path relative to the generation), so a
    # truncated file is caught when the index is opened. Empty in manifests written before.
    files: dict[str, int] = field(default_factory=dict)
    # Each file's modification time (ns) as the build left it. The metadata file, read only in
    # part while serving, gets SQLite's full quick_check at open only when it has changed since
    # (seconds at a million chunks); unchanged, a check of its header and schema. Empty before.
    modified_ns: dict[str, int] = field(default_factory=dict)
    statement_rules: int = 0  # the `stored_statements.RULES_VERSION` its statements were found by
    cluster_rules: int = 0  # the `clusters.RULES_VERSION` its story clusters were found by

    def save(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        """The generation's manifest; IndexCorrupt when it is missing or unreadable,
        IndexIncompatible when another format version wrote it. Unknown fields are ignored."""
        path, index_dir = directory / MANIFEST, directory.parent
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise IndexCorrupt(path, "missing", index_dir) from None
        except (OSError, ValueError) as error:  # ValueError: bad JSON or not UTF-8
            raise IndexCorrupt(path, f"not valid JSON ({_brief(error)})", index_dir) from None
        if not isinstance(data, dict):
            raise IndexCorrupt(path, "not a JSON object", index_dir)
        if data.get("format_version") not in READABLE_VERSIONS:
            raise IndexIncompatible(
                f"The index at {index_dir} has format version {data.get('format_version')} "
                f"(in {path}), this newsdesk reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}; "
                f"rebuild it with `newsdesk index build --index-dir {index_dir}`."
            )
        known = {f.name for f in fields(cls)}
        try:
            manifest = cls(**{key: value for key, value in data.items() if key in known})
        except TypeError:
            missing = sorted(known - data.keys())
            raise IndexCorrupt(path, f"incomplete (no {', '.join(missing)})", index_dir) from None
        if not all(isinstance(f, dict) for f in (manifest.files, manifest.modified_ns)) or (
            not isinstance(manifest.chunks, int)
        ):
            raise IndexCorrupt(path, "malformed (fields of the wrong type)", index_dir)
        return manifest


@dataclass(frozen=True)
class ArticleRecord:
    id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    origin: str
    content_hash: str


@dataclass(frozen=True)
class ChunkRecord:
    id: int
    article_id: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]


def create_metadata(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    return connection


REQUIRED_FILES = (METADATA, VECTORS, f"{LEXICAL}/{MATRIX}", f"{LEXICAL}/{VOCABULARY}",
                  f"{LEXICAL}/{CHUNK_IDS}")  # fmt: skip
SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_PREAMBLE = re.compile(r"^\*\*\* in database \w+ \*\*\* ")
_MAGIC = {  # what each file starts with (the FAISS file is checked by index.vectors)
    METADATA: (SQLITE_MAGIC, "not a SQLite database"),
    f"{LEXICAL}/{MATRIX}": (b"PK\x03\x04", "not a NumPy .npz archive"),
    f"{LEXICAL}/{CHUNK_IDS}": (b"\x93NUMPY", "not a NumPy array file"),
    **{f"{LEXICAL}/{name}": (b"\x93NUMPY", "not a NumPy array file") for name in WEIGHT_FILES},
}


def generation_files(directory: Path) -> dict[str, int]:
    """Every file of a generation but the manifest, with its size: what `Manifest.files` holds."""
    return {
        path.relative_to(directory).as_posix(): path.stat().st_size
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def generation_times(directory: Path) -> dict[str, int]:
    """Every file of a generation but the manifest, with its modification time in nanoseconds:
    what `Manifest.modified_ns` holds (taken when the files are final, before publishing)."""
    return {
        path.relative_to(directory).as_posix(): path.stat().st_mtime_ns
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def check_generation(directory: Path) -> Manifest:
    """Cheap checks that a generation is whole, without loading it: the manifest, each file's
    presence, size (as the build wrote it) and first bytes, and the metadata file's (see
    `_open_metadata`). Raises IndexCorrupt naming the first damaged file."""
    manifest = Manifest.load(directory)
    _check_files(directory, manifest)
    _open_metadata(directory / METADATA, directory.parent, manifest).close()
    return manifest


def _check_files(directory: Path, manifest: Manifest) -> None:
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
    if problem := VectorIndex.file_problem(directory / VECTORS):
        raise IndexCorrupt(directory / VECTORS, problem, index_dir)


def _open_metadata(path: Path, index_dir: Path, manifest: Manifest) -> sqlite3.Connection:
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
        raise IndexCorrupt(path, f"unreadable (SQLite: {_brief(error)})", index_dir) from None
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
def _reading(path: Path, index_dir: Path) -> Iterator[None]:
    """Whatever goes wrong while loading `path` is that file's damage."""
    try:
        yield
    except IndexCorrupt:
        raise
    except _Inconsistent as error:
        raise IndexCorrupt(path, f"inconsistent ({error})", index_dir) from None
    except Exception as error:  # each library fails its own way on a damaged file
        logger.debug("could not load %s", path, exc_info=True)
        raise IndexCorrupt(path, f"unreadable ({_brief(error)})", index_dir) from None


class _Inconsistent(ValueError):
    """A file that loads but disagrees with the manifest or the other files."""


def _size_problem(size: int, expected: int) -> str:
    if size < expected:
        return f"truncated ({size} of the {expected} bytes the build wrote)"
    return f"the wrong size ({size} bytes, the build wrote {expected})"


def _brief(error: BaseException) -> str:
    """An exception as a short phrase: its first line, cut (FAISS's name its C++ source)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 120 else text[:119] + "…"


class IndexReader:
    """A loaded, read-only generation. Thread-safe: queries share one locked connection.

    Opening checks the generation (see `check_generation`) and that its parts agree with each
    other and the manifest; damage raises IndexCorrupt naming the file, never a library error.
    """

    def __init__(self, directory: Path, expected_model_id: str | None = None) -> None:
        self.directory = directory
        index_dir = directory.parent
        self.manifest = Manifest.load(directory)
        if expected_model_id is not None and expected_model_id != self.manifest.model_id:
            raise IndexIncompatible(
                f"The index at {index_dir} was built with model "
                f"'{self.manifest.model_id}', but the configured model is '{expected_model_id}'; "
                f"rebuild it with `newsdesk index build --index-dir {index_dir}`."
            )
        _check_files(directory, self.manifest)
        self._db = _open_metadata(directory / METADATA, index_dir, self.manifest)
        self._lock = threading.Lock()
        self.has_statements = self.manifest.format_version >= 3
        if not self.has_statements:
            logger.warning(
                'The index at %s was built before statements were indexed; answers to "what '
                'did X say" questions need them: run `newsdesk index update --index-dir %s`.',
                index_dir,
                index_dir,
            )
        try:
            self._load(directory, index_dir)
        except BaseException:
            self._db.close()
            raise
        self.text = lru_cache(maxsize=2048)(self._article_text)

    def _load_clusters(self) -> dict[str, tuple[str, ...]]:
        if self.manifest.format_version < 4:
            return {}
        return clusters.read_clusters(self._db)

    def _load(self, directory: Path, index_dir: Path) -> None:
        reading = partial(_reading, index_dir=index_dir)
        with reading(directory / METADATA):
            listed = self._db.execute(HAS_LISTING).fetchone() is not None
            rows = sorted(self._db.execute(ARTICLE_LISTING if listed else ARTICLE_TABLE))
            self._articles = {row[1]: ArticleRecord(*row[1:]) for row in rows}
            del rows
            self.article_ids = list(self._articles)  # ChunkTable.article indexes this
            self._stories = self._load_clusters()
            if not (directory / CHUNK_TABLE).is_file():
                self.chunk_table = ChunkTable.from_metadata(self._db)
        if (directory / CHUNK_TABLE).is_file():
            with reading(directory / CHUNK_TABLE):
                self.chunk_table = ChunkTable.load(directory / CHUNK_TABLE)
                if len(self.chunk_table) and self.chunk_table.article.max() >= len(self._articles):
                    raise _Inconsistent(f"chunks of more than {len(self._articles)} articles")
        chunk_ids = self.chunk_ids()
        with reading(directory / VECTORS):
            self.vectors = VectorIndex.load(directory / VECTORS)
            if self.vectors.dimension != self.manifest.dimension:
                raise _Inconsistent(
                    f"{self.vectors.dimension} dimensions, the manifest says "
                    f"{self.manifest.dimension}"
                )
            if not np.array_equal(np.sort(self.vectors.ids()), chunk_ids):
                raise _Inconsistent(f"{len(self.vectors)} vectors for {len(chunk_ids)} chunks")
        self.lexical = LexicalIndex.load(directory / LEXICAL, reading=reading)
        with reading(directory / LEXICAL / CHUNK_IDS):
            if not np.array_equal(np.sort(self.lexical.chunk_ids), chunk_ids):
                found = len(self.lexical.chunk_ids)
                raise _Inconsistent(f"{found} ids for {len(chunk_ids)} chunks")
        if len(chunk_ids) != self.manifest.chunks:
            raise IndexCorrupt(
                directory / METADATA,
                f"inconsistent ({len(chunk_ids)} chunks, the manifest says {self.manifest.chunks})",
                index_dir,
            )

    def close(self) -> None:
        self._db.close()

    @property
    def articles(self) -> dict[str, ArticleRecord]:
        return self._articles

    def article(self, article_id: str) -> ArticleRecord | None:
        return self._articles.get(article_id)

    def story(self, article_id: str) -> tuple[str, ...]:
        """Every article of `article_id`'s story cluster in citing order (earliest first),
        itself included; just itself when no other article tells the same story."""
        return self._stories.get(article_id, (article_id,))

    def chunk(self, chunk_id: int) -> ChunkRecord:
        table = self.chunk_table
        row = table.row(chunk_id)
        article_id = self.article_ids[table.article[row]]
        start, end = int(table.start[row]), int(table.end[row])
        return ChunkRecord(int(chunk_id), article_id, start, end, table.sentences(row))

    def articles_of(self, chunk_ids: Sequence[int]) -> list[str]:
        """The article id of each chunk, in order (each must be in the index)."""
        table = self.chunk_table
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        rows = np.minimum(table.rows(wanted), max(len(table) - 1, 0))
        found = table.ids[rows] == wanted if len(table) else np.zeros(len(wanted), dtype=bool)
        if not found.all():
            raise KeyError(int(wanted[~found][0]))
        return [self.article_ids[n] for n in table.article[rows].tolist()]

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, in increasing order."""
        return self.chunk_table.ids

    def _article_text(self, article_id: str) -> str:
        with self._lock, _reading(self.directory / METADATA, self.directory.parent):
            row = self._db.execute(TEXT_QUERY, (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return row[0]

    def statements_by(self, name: str) -> list[StoredStatement]:
        """Statements whose resolved speaker has the last name of `name`, across articles."""
        if not self.has_statements:
            return []
        with self._lock, _reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.by_speaker(self._db, name)

    def statements_with_initials(self, acronym: str) -> list[StoredStatement]:
        """Statements by a body whose initials are `acronym` ("WHO" → "World Health …")."""
        if not self.has_statements:
            return []
        with self._lock, _reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.by_initials(self._db, acronym)

    def statements_in(self, article_id: str) -> list[StoredStatement]:
        if not self.has_statements:
            return []
        with self._lock, _reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.in_article(self._db, article_id)

    def skipped(self) -> list[tuple[str, str]]:
        with self._lock, _reading(self.directory / METADATA, self.directory.parent):
            return list(self._db.execute("SELECT origin, reason FROM skipped ORDER BY origin"))

    def summary(self) -> IndexSummary:
        size = sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())
        statement_counts: tuple[int, int, list[tuple[str, int]]] = (0, 0, [])
        if self.has_statements:
            with self._lock, _reading(self.directory / METADATA, self.directory.parent):
                statement_counts = stored_statements.counts(self._db)
        return summary_of(
            self.manifest,
            self._articles,
            self._stories.values(),
            chunks=len(self.chunk_table),
            size_bytes=size,
            path=str(self.directory.parent),
            statement_counts=statement_counts,
        )


def open_index(index_dir: Path, expected_model_id: str | None = None) -> IndexReader:
    """Open the current generation; refuse one built with another model or format."""
    return IndexReader(current_generation(index_dir), expected_model_id)
