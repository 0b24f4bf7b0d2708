"""One index generation on disk: manifest, SQLite metadata, FAISS vectors and BM25.

manifest.json   format version, model id, dimension, chunker settings, counts, fingerprint
meta.sqlite     articles (with full text and content hash), chunks (offsets), skipped inputs
vectors.faiss   FAISS index keyed by chunk id
bm25/           bm25s index over the same chunks
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.errors import IndexIncompatible
from index.layout import current_generation
from index.lexical import LexicalIndex
from index.vectors import VectorIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
METADATA = "meta.sqlite"
VECTORS = "vectors.faiss"
LEXICAL = "bm25"

SCHEMA = """
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
CREATE TABLE skipped (origin TEXT NOT NULL, reason TEXT NOT NULL);
"""
CHUNK_QUERY = 'SELECT id, article_id, start, "end", sentences FROM chunks'
TEXT_QUERY = "SELECT text FROM articles WHERE id = ?"


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

    def save(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        data = json.loads((directory / MANIFEST).read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(
                f"The index at {directory.parent} has format version "
                f"{data.get('format_version')}, this newsdesk reads version {FORMAT_VERSION}; "
                "rebuild it with `newsdesk index build`."
            )
        return cls(**data)


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


@dataclass(frozen=True)
class IndexSummary:
    articles: int
    chunks: int
    model: str
    built_at: str
    first_date: str | None
    last_date: str | None
    sources: list[tuple[str, int]] = field(default_factory=list)
    skipped: int = 0
    size_bytes: int = 0
    path: str = ""


def create_metadata(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    return connection


class IndexReader:
    """A loaded, read-only generation. Thread-safe: queries share one locked connection."""

    def __init__(self, directory: Path, expected_model_id: str | None = None) -> None:
        self.directory = directory
        self.manifest = Manifest.load(directory)
        if expected_model_id is not None and expected_model_id != self.manifest.model_id:
            raise IndexIncompatible(
                f"The index at {directory.parent} was built with model "
                f"'{self.manifest.model_id}', but the configured model is '{expected_model_id}'; "
                "rebuild it with `newsdesk index build`."
            )
        self._db = sqlite3.connect(
            f"file:{directory / METADATA}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()
        self.vectors = VectorIndex.load(directory / VECTORS)
        self.lexical = LexicalIndex.load(directory / LEXICAL)
        self._articles = {
            row[0]: ArticleRecord(*row)
            for row in self._db.execute(
                "SELECT id, title, source, date, url, origin, content_hash FROM articles"
            )
        }
        self._chunks: dict[int, ChunkRecord] = {
            row[0]: ChunkRecord(
                row[0], row[1], row[2], row[3], tuple(map(tuple, json.loads(row[4])))
            )
            for row in self._db.execute(CHUNK_QUERY)
        }
        self.text = lru_cache(maxsize=2048)(self._article_text)

    def close(self) -> None:
        self._db.close()

    @property
    def articles(self) -> dict[str, ArticleRecord]:
        return self._articles

    def article(self, article_id: str) -> ArticleRecord | None:
        return self._articles.get(article_id)

    def chunk(self, chunk_id: int) -> ChunkRecord:
        return self._chunks[chunk_id]

    def chunk_ids(self) -> np.ndarray:
        return np.fromiter(self._chunks, dtype=np.int64, count=len(self._chunks))

    def _article_text(self, article_id: str) -> str:
        with self._lock:
            row = self._db.execute(TEXT_QUERY, (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return row[0]

    def skipped(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._db.execute("SELECT origin, reason FROM skipped ORDER BY origin"))

    def summary(self) -> IndexSummary:
        dates = sorted(a.date for a in self._articles.values() if a.date)
        sources = Counter(a.source for a in self._articles.values() if a.source)
        size = sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())
        return IndexSummary(
            articles=len(self._articles),
            chunks=len(self._chunks),
            model=self.manifest.model_id,
            built_at=self.manifest.built_at,
            first_date=dates[0] if dates else None,
            last_date=dates[-1] if dates else None,
            sources=sources.most_common(),
            skipped=self.manifest.skipped,
            size_bytes=size,
            path=str(self.directory.parent),
        )


def open_index(index_dir: Path, expected_model_id: str | None = None) -> IndexReader:
    """Open the current generation; refuse one built with another model or format."""
    return IndexReader(current_generation(index_dir), expected_model_id)
