"""A generation written row by row: every article of the corpus read, unchanged ones' rows,
statements, signatures, vectors and term counts copied from the previous generation one article
at a time, the rest chunked and encoded (a full build, or an update of a corpus that did more
than grow; `index.appending` is the other way).

New chunks are encoded while the corpus is still being read (`index.encoding`), where the
source allows it (encoding in this process); otherwise after reading, batch by batch.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index import clusters, corpus_state
from index.articles import Article, text_digest
from index.chunk_table import ChunkTable
from index.chunking import embedding_text
from index.encoding import BackgroundEncoder
from index.lexical import LexicalBuilder, LexicalIndex
from index.manifest import CHUNK_TABLE, LEXICAL, METADATA, VECTORS
from index.store import IndexReader, create_metadata
from index.stored_statements import RULES_VERSION, copy_statements
from index.tally import Tally
from index.vectors import VectorIndex

if TYPE_CHECKING:
    from index.build import ChunkSource

EMBED_BATCH = 256
Progress = Callable[[str, int, int | None], None]  # phase, done, total
Write = Callable[[Path], AbstractContextManager[None]]


def rewrite_generation(
    partial: Path,
    articles: Iterator[Article],
    previous: IndexReader | None,
    files: list[corpus_state.CorpusFile],
    dimension: int,
    source: ChunkSource,
    write: Write,
    progress: Progress,
    *,
    overlap: bool,
) -> Tally:
    """Write `partial`'s metadata, vectors, term counts and chunk table from `articles`. The
    metadata connection is left open in the tally (the caller adds the skipped inputs and
    closes it); a tally of no articles has written only the metadata."""
    background = BackgroundEncoder(source.vectors) if overlap else None
    try:
        with write(partial / METADATA):
            db = create_metadata(partial / METADATA)
            try:
                db.executescript(corpus_state.TABLE)
                corpus_state.record_files(db, files)
                tally = _fill_metadata(db, articles, previous, source, progress, background)
            except BaseException:
                db.close()
                raise
        if tally.articles == 0:
            return tally
        vectors, terms = _vectors_and_terms(tally, previous, dimension, source, progress,
                                            background)  # fmt: skip
        with write(partial / METADATA):
            _cluster(tally, previous, vectors)
    finally:
        if background is not None:
            background.abandon()  # a no-op once finished
    progress("saving", 0, 1)
    with write(partial / VECTORS):
        vectors.save(partial / VECTORS, like=previous.vectors if previous else None)
    with write(partial / LEXICAL):
        terms.save(partial / LEXICAL)
    with write(partial / CHUNK_TABLE):
        ChunkTable.from_metadata(tally.db).save(partial / CHUNK_TABLE)
    return tally


class _Batcher:
    """New chunks' texts gathered into batches for the background encoder."""

    def __init__(self, background: BackgroundEncoder) -> None:
        self.background = background
        self.ids: list[int] = []
        self.texts: list[str] = []

    def add(self, chunk_id: int, text: str) -> None:
        self.ids.append(chunk_id)
        self.texts.append(text)
        if len(self.ids) >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            self.background.submit(self.ids, self.texts)
            self.ids, self.texts = [], []


def _fill_metadata(
    db: sqlite3.Connection,
    articles: Iterator[Article],
    previous: IndexReader | None,
    source: ChunkSource,
    progress: Progress,
    background: BackgroundEncoder | None,
) -> Tally:
    """Pass 1: articles, chunk offsets and statements into SQLite; decides which chunks need
    embedding (and hands them to `background`, when there is one)."""
    tally = Tally(db=db, fingerprint=hashlib.sha256())
    batcher = _Batcher(background) if background is not None else None
    same_rules = previous is not None and previous.manifest.statement_rules == RULES_VERSION
    same_clusters = _same_cluster_rules(previous)
    if previous is not None:
        db.execute("ATTACH DATABASE ? AS previous", (str(previous.directory / METADATA),))
    seen: set[str] = set()
    for article in articles:
        content_hash = article.content_hash
        old = previous.article(article.id) if previous else None
        db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.source, article.date, article.url,
             article.origin, content_hash, article.text),
        )  # fmt: skip
        corpus_state.record_digest(db, article.id, text_digest(article.text))
        if old is not None and old.content_hash == content_hash:
            rows = db.execute(
                'SELECT id, ordinal, start, "end", sentences, tokens FROM previous.chunks '
                "WHERE article_id = ? ORDER BY ordinal",
                (article.id,),
            ).fetchall()
            tally.reused.extend(row[0] for row in rows)
            tally.tokens += sum(row[5] for row in rows)
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(row[0], article.id, *row[1:]) for row in rows],
            )
            tally.chunks += len(rows)
            if same_rules:
                tally.statements += copy_statements(db, article.id)
            else:
                spans = [(row[0], [tuple(span) for span in json.loads(row[4])]) for row in rows]
                tally.add_statements(article.id, article.text, spans)
            if not (same_clusters and clusters.copy_signature(db, article.id)):
                tally.fresh.append(article.id)
        else:
            chunks = source.chunks(article)
            if batcher is not None:
                for c in chunks:
                    batcher.add(c.id, embedding_text(article.title, article.text[c.start : c.end]))
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c.id, c.article_id, c.ordinal, c.start, c.end, json.dumps(c.sentences), c.tokens)
                 for c in chunks],
            )  # fmt: skip
            spans = [(c.id, c.sentences) for c in chunks]
            tally.add_statements(article.id, article.text, spans)
            tally.to_embed.extend(c.id for c in chunks)
            tally.fresh.append(article.id)
            tally.tokens += sum(c.tokens for c in chunks)
            tally.chunks += len(chunks)
            if old is None:
                tally.added += 1
            else:
                tally.changed += 1
        seen.add(article.id)
        tally.fingerprint.update(content_hash.encode())
        tally.articles += 1
        if tally.articles % 50 == 0:
            progress("reading", tally.articles, None)
            if background is not None and background.encoded:
                progress("embedding", background.encoded, None)
    if batcher is not None:
        batcher.flush()
    progress("reading", tally.articles, tally.articles)
    if previous is not None:
        tally.removed = sum(1 for article_id in previous.articles if article_id not in seen)
    return tally


def _same_cluster_rules(previous: IndexReader | None) -> bool:
    """Whether `previous` was clustered by today's rules (its signatures and pairs can be kept)."""
    return previous is not None and previous.manifest.cluster_rules == clusters.RULES_VERSION


def _cluster(tally: Tally, previous: IndexReader | None, vectors: VectorIndex) -> None:
    """Story clusters, once every chunk has its vector (a revision must be on one subject);
    the previous generation, attached while reading, is detached after."""
    tally.cluster(vectors.vectors, previous_attached=_same_cluster_rules(previous))
    if previous is not None:
        tally.db.commit()
        tally.db.execute("DETACH DATABASE previous")


def _vectors_and_terms(
    tally: Tally,
    previous: IndexReader | None,
    dimension: int,
    source: ChunkSource,
    progress: Progress,
    background: BackgroundEncoder | None,
) -> tuple[VectorIndex, LexicalIndex]:
    """Pass 2: reuse vectors and term rows of unchanged chunks; embed (or collect what the
    background encoder made) and tokenize the rest."""
    vectors = VectorIndex.empty(dimension)
    terms = LexicalBuilder(previous.lexical.vocabulary if previous else None)
    if previous is not None and tally.reused:
        reused = np.asarray(tally.reused, dtype=np.int64)
        vectors.add(reused, previous.vectors.vectors(reused))
        terms.add_rows(previous.lexical, reused)
    total = len(tally.to_embed)
    progress("embedding", 0 if background is None else background.encoded, total)
    if background is not None:
        batches = background.finish(lambda done: progress("embedding", done, total))
    else:
        batches = _encoded_batches(tally, source, lambda done: progress("embedding", done, total))
    for ids, texts, encoded in batches:
        vectors.add(np.asarray(ids, dtype=np.int64), encoded)
        terms.add_texts(ids, texts)
    progress("embedding", total, total)
    return vectors, terms.finish()


def _encoded_batches(
    tally: Tally, source: ChunkSource, done: Callable[[int], None]
) -> Iterator[tuple[list[int], list[str], np.ndarray]]:
    """The new chunks' texts read back from the metadata and encoded, batch by batch."""
    query = (
        'SELECT c.id, a.title, substr(a.text, c.start + 1, c."end" - c.start) '
        "FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id = ?"
    )
    count = 0
    for offset in range(0, len(tally.to_embed), EMBED_BATCH):
        ids, texts = [], []
        for chunk_id in tally.to_embed[offset : offset + EMBED_BATCH]:
            row = tally.db.execute(query, (chunk_id,)).fetchone()
            ids.append(row[0])
            texts.append(embedding_text(row[1], row[2]))
        encoded = source.vectors(ids, texts)
        count += len(ids)
        done(count)
        yield ids, texts, encoded
