"""An update of an index whose corpus only grew: the previous generation's files taken whole,
the new articles added at their end.

When the corpus only grew (`index.corpus_state`: every file read last time is unchanged and the
added files sort after them), a full build of it would write the previous generation's rows in
the same order and the new articles' rows after them. So instead of re-reading the corpus and
copying a million rows article by article, the update copies the metadata file and adds the new
articles' rows to it, adds their vectors to the exact index and to the stored search lists
(nearest list; new lists are trained only when the total has outgrown them, as in
`VectorIndex.save`), appends their term counts to the BM25 matrix and splices their chunks
into the chunk table. Story clusters pair only the new articles with the stored signatures.

Like every build it writes a new generation and publishes it only when complete, so a failure
leaves the previous one serving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from index import clusters, corpus_state
from index.articles import Article, text_digest
from index.chunk_table import ChunkTable
from index.chunking import Chunk, embedding_text
from index.lexical import LexicalBuilder
from index.manifest import CHUNK_TABLE, LEXICAL, METADATA, VECTORS
from index.rewriting import EMBED_BATCH
from index.store import SCHEMA, IndexReader
from index.tally import Tally


class Source(Protocol):
    """What appending needs of a build's `ChunkSource`."""

    def chunks(self, article: Article) -> list[Chunk]: ...
    def vectors(self, ids: Sequence[int], texts: Sequence[str]) -> np.ndarray: ...


logger = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]  # phase, done, total
Write = Callable[[Path], AbstractContextManager[None]]


def append_generation(
    partial: Path,
    previous: IndexReader,
    articles: Iterator[Article],
    added_files: list[corpus_state.CorpusFile],
    source: Source,
    write: Write,
    progress: Progress,
) -> Tally:
    """Write `partial` as `previous` plus `articles` (new, de-duplicated against it, read from
    `added_files`). The metadata connection is left open in the tally (the caller adds the
    skipped inputs and closes it)."""
    timings: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = now - mark
        mark = now

    with write(partial / METADATA):
        shutil.copyfile(previous.directory / METADATA, partial / METADATA)
        lap("metadata copied")
        db = sqlite3.connect(partial / METADATA, check_same_thread=False)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
            _add_missing_schema(db)
            db.execute("DELETE FROM skipped")  # the caller writes them all again
            tally = _previous_tally(db, previous)
            new = _add_articles(tally, previous, articles, source, progress)
            corpus_state.record_files(db, added_files)
            lap("new articles")
        except BaseException:
            db.close()
            raise
    ids, texts = [], []
    for article, chunks in new:
        for chunk in chunks:
            ids.append(chunk.id)
            texts.append(embedding_text(article.title, article.text[chunk.start : chunk.end]))
    progress("embedding", 0, len(ids))
    vectors = np.zeros((0, previous.vectors.dimension), dtype=np.float32)
    pieces = [vectors]
    for offset in range(0, len(ids), EMBED_BATCH):
        pieces.append(source.vectors(ids[offset : offset + EMBED_BATCH],
                                     texts[offset : offset + EMBED_BATCH]))  # fmt: skip
        progress("embedding", min(offset + EMBED_BATCH, len(ids)), len(ids))
    vectors = np.concatenate(pieces)
    lap("encoding")
    with write(partial / METADATA):
        try:
            _cluster(tally, previous, _ChunkVectors(previous, ids, vectors))
        except BaseException:
            db.close()
            raise
    lap("story clusters")
    progress("saving", 0, 1)
    chunk_ids = np.asarray(ids, dtype=np.int64)
    with write(partial / VECTORS):
        previous.vectors.save_appended(
            partial / VECTORS, previous.directory / VECTORS, chunk_ids, vectors
        )
    lap("vectors")
    terms = LexicalBuilder(previous.lexical.vocabulary)
    terms.add_rows(previous.lexical, previous.lexical.chunk_ids)
    terms.add_texts(ids, texts)
    with write(partial / LEXICAL):
        terms.finish().save(partial / LEXICAL)
    lap("BM25")
    first = len(previous.articles)
    rows = [
        (chunk.id, first + n, chunk.start, chunk.end, json.dumps(chunk.sentences))
        for n, (_, chunks) in enumerate(new)
        for chunk in chunks
    ]
    with write(partial / CHUNK_TABLE):
        previous.chunk_table.merged(ChunkTable.from_rows(rows)).save(partial / CHUNK_TABLE)
    lap("chunk table")
    spent = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    logger.info("appended %d article(s): %s", len(new), spent)
    return tally


def _add_missing_schema(db: sqlite3.Connection) -> None:
    """Create the tables and indexes the schema has gained since the copied file was written
    (a full build would have them)."""
    fresh = sqlite3.connect(":memory:")
    fresh.executescript(SCHEMA + corpus_state.TABLE)
    wanted = fresh.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    fresh.close()
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    for name, sql in wanted:
        if name not in present:
            db.execute(sql)


def _cluster(tally: Tally, previous: IndexReader, chunk_vectors: clusters.ChunkVectors) -> None:
    """The story tables as a row-by-row update leaves them before clustering (every signature,
    no pairs), then clustered: the pairs not touched by the new articles are copied back."""
    db = tally.db
    db.execute("ATTACH DATABASE ? AS previous", (str(previous.directory / METADATA),))
    db.execute("DELETE FROM near_duplicates")
    db.execute("DELETE FROM story_clusters")
    tally.cluster(chunk_vectors, previous_attached=True)
    db.commit()
    db.execute("DETACH DATABASE previous")


class _ChunkVectors:
    """Chunk vectors by id: the new chunks' just encoded, the others' from `previous`."""

    def __init__(self, previous: IndexReader, ids: Sequence[int], vectors: np.ndarray) -> None:
        self._previous = previous
        self._new = {chunk_id: row for row, chunk_id in enumerate(ids)}
        self._vectors = vectors

    def __call__(self, ids: Sequence[int]) -> np.ndarray:
        return np.stack([
            self._vectors[self._new[chunk_id]] if chunk_id in self._new
            else self._previous.vectors.vectors([chunk_id])[0]
            for chunk_id in ids
        ])  # fmt: skip


def _previous_tally(db: sqlite3.Connection, previous: IndexReader) -> Tally:
    """The counts of the copied generation, as if its articles had been read again."""
    tally = Tally(db=db, fingerprint=hashlib.sha256(), appended=True)
    for record in previous.articles.values():  # in the order they were written
        tally.fingerprint.update(record.content_hash.encode())
    tally.articles = len(previous.articles)
    tally.chunks = len(previous.chunk_table)
    tally.tokens = previous.manifest.tokens
    tally.statements = db.execute("SELECT count(*) FROM statements").fetchone()[0]
    tally.reused = previous.chunk_ids().tolist()
    return tally


def _add_articles(
    tally: Tally,
    previous: IndexReader,
    articles: Iterator[Article],
    source: Source,
    progress: Progress,
) -> list[tuple[Article, list[Chunk]]]:
    """The new articles' rows, statements and text digests; their chunks, in order."""
    new = []
    for article in articles:
        if previous.article(article.id) is not None:  # de-duplication keeps these out
            raise ValueError(f"article {article.id} is already in the index")
        tally.db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.source, article.date, article.url,
             article.origin, article.content_hash, article.text),
        )  # fmt: skip
        corpus_state.record_digest(tally.db, article.id, text_digest(article.text))
        chunks = source.chunks(article)
        tally.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(c.id, c.article_id, c.ordinal, c.start, c.end, json.dumps(c.sentences), c.tokens)
             for c in chunks],
        )  # fmt: skip
        tally.add_statements(article.id, article.text, [(c.id, c.sentences) for c in chunks])
        tally.to_embed.extend(c.id for c in chunks)
        tally.fresh.append(article.id)
        tally.tokens += sum(c.tokens for c in chunks)
        tally.chunks += len(chunks)
        tally.fingerprint.update(article.content_hash.encode())
        tally.articles += 1
        tally.added += 1
        new.append((article, chunks))
        progress("reading", tally.articles, None)
    progress("reading", tally.articles, tally.articles)
    return new
