"""Reading one index generation (its files are listed in `index.manifest`): the metadata
schema, the article and chunk records, and `IndexReader`, which loads a generation and answers
lookups of articles, chunks, statements and story clusters.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from index import clusters, integrity, stored_statements
from index.chunk_table import ChunkTable
from index.errors import IndexCorrupt, IndexIncompatible
from index.layout import current_generation
from index.lexical import CHUNK_IDS, LexicalIndex
from index.manifest import CHUNK_TABLE, LEXICAL, METADATA, VECTORS, Manifest
from index.stored_statements import StoredStatement
from index.summary import IndexSummary, summary_of
from index.vectors import VectorIndex

logger = logging.getLogger(__name__)

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


class IndexReader:
    """A loaded, read-only generation. Thread-safe: queries share one locked connection.

    Opening checks the generation (see `integrity.check_generation`) and that its parts agree
    with each other and the manifest; damage raises IndexCorrupt naming the file, never a library
    error.
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
        integrity.check_files(directory, self.manifest)
        self._db = integrity.open_metadata(directory / METADATA, index_dir, self.manifest)
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
        reading = partial(integrity.reading, index_dir=index_dir)
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
                    raise integrity.Inconsistent(
                        f"chunks of more than {len(self._articles)} articles"
                    )
        chunk_ids = self.chunk_ids()
        with reading(directory / VECTORS):
            self.vectors = VectorIndex.load(directory / VECTORS)
            if self.vectors.dimension != self.manifest.dimension:
                raise integrity.Inconsistent(
                    f"{self.vectors.dimension} dimensions, the manifest says "
                    f"{self.manifest.dimension}"
                )
            if not np.array_equal(np.sort(self.vectors.ids()), chunk_ids):
                raise integrity.Inconsistent(
                    f"{len(self.vectors)} vectors for {len(chunk_ids)} chunks"
                )
        self.lexical = LexicalIndex.load(directory / LEXICAL, reading=reading)
        with reading(directory / LEXICAL / CHUNK_IDS):
            if not np.array_equal(np.sort(self.lexical.chunk_ids), chunk_ids):
                found = len(self.lexical.chunk_ids)
                raise integrity.Inconsistent(f"{found} ids for {len(chunk_ids)} chunks")
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
        with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
            row = self._db.execute(TEXT_QUERY, (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return row[0]

    def statements_by(self, name: str) -> list[StoredStatement]:
        """Statements whose resolved speaker has the last name of `name`, across articles."""
        if not self.has_statements:
            return []
        with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.by_speaker(self._db, name)

    def statements_with_initials(self, acronym: str) -> list[StoredStatement]:
        """Statements by a body whose initials are `acronym` ("WHO" → "World Health …")."""
        if not self.has_statements:
            return []
        with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.by_initials(self._db, acronym)

    def statements_in(self, article_id: str) -> list[StoredStatement]:
        if not self.has_statements:
            return []
        with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
            return stored_statements.in_article(self._db, article_id)

    def skipped(self) -> list[tuple[str, str]]:
        with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
            return list(self._db.execute("SELECT origin, reason FROM skipped ORDER BY origin"))

    def summary(self) -> IndexSummary:
        size = sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())
        statement_counts: tuple[int, int, list[tuple[str, int]]] = (0, 0, [])
        if self.has_statements:
            with self._lock, integrity.reading(self.directory / METADATA, self.directory.parent):
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
