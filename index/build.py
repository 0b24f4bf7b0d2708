"""Full and incremental builds: corpus → chunks → vectors + BM25 + metadata, swapped in atomically.

A build writes a new generation next to the current one and publishes it only when complete
(see `index.layout`), so a failed or killed build leaves the previous index serving. An update
reuses the chunks and vectors of articles whose content hash is unchanged; its result equals a
full build of the same folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from index import clusters, layout
from index.articles import Article, SkippedInput, log_skip, read_corpus
from index.chunking import Chunk, ChunkerSettings, chunk_article, embedding_text
from index.errors import CorpusError, IndexCorrupt, IndexIncompatible, IndexNotFound
from index.lexical import LexicalBuilder, LexicalIndex
from index.store import (
    CHUNK_TABLE,
    FORMAT_VERSION,
    LEXICAL,
    MANIFEST,
    METADATA,
    VECTORS,
    ChunkTable,
    IndexReader,
    Manifest,
    create_metadata,
    generation_files,
)
from index.stored_statements import (
    RULES_VERSION,
    copy_statements,
    find_statements,
    insert_statements,
)
from index.vectors import VectorIndex
from index.writing import is_out_of_space, write_failed, writing

logger = logging.getLogger(__name__)

EMBED_BATCH = 256


class Encoder(Protocol):
    """What a build needs of the embedding model (`index.embedder.Embedder`)."""

    @property
    def model_id(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    @property
    def max_tokens(self) -> int: ...
    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class BuildProgress:
    phase: str  # "reading", "embedding", "saving"
    done: int
    total: int | None


@dataclass(frozen=True)
class BuildReport:
    articles: int
    chunks: int
    tokens: int
    embedded_chunks: int
    reused_chunks: int
    added_articles: int
    changed_articles: int
    removed_articles: int
    skipped: list[SkippedInput] = field(default_factory=list)
    statements: int = 0
    statement_seconds: float = 0.0  # spent finding statements (not copying unchanged ones)
    clusters: int = 0  # stories told by two or more articles
    clustered_articles: int = 0
    cluster_seconds: float = 0.0  # spent hashing and pairing near-duplicate articles
    seconds: float = 0.0
    generation: str = ""
    incremental: bool = False


ProgressCallback = Callable[[BuildProgress], None]


class ChunkSource(Protocol):
    """Where a build's articles, their chunks and the chunks' vectors come from.

    The build asks for chunks only of new or changed articles and for vectors only of their
    chunks; everything else (statements, clusters, BM25, the files, the swap) it does itself, so
    a source changes where the work runs, never what is written.
    """

    def articles(
        self, corpus: Path, on_skip: Callable[[SkippedInput], None], known: Mapping[str, str]
    ) -> Iterator[Article]:
        """The corpus's articles, de-duplicated, in `read_corpus` order; `known` maps the
        previous index's article ids to their content hashes (their chunks are reused)."""
        ...

    def chunks(self, article: Article) -> list[Chunk]: ...
    def vectors(self, ids: Sequence[int], texts: Sequence[str]) -> np.ndarray: ...


SourceFactory = Callable[[Encoder, ChunkerSettings], ChunkSource]


class LocalSource:
    """Reads, chunks and encodes in this process (the default; `index.ray_build` is the other)."""

    def __init__(self, encoder: Encoder, chunker: ChunkerSettings) -> None:
        self.encoder = encoder
        self.chunker = chunker

    def articles(
        self, corpus: Path, on_skip: Callable[[SkippedInput], None], known: Mapping[str, str]
    ) -> Iterator[Article]:
        return read_corpus(corpus, on_skip)

    def chunks(self, article: Article) -> list[Chunk]:
        return chunk_article(
            article.id, article.title, article.text, self.encoder.count_tokens, self.chunker
        )

    def vectors(self, ids: Sequence[int], texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts))


def build_index(
    corpus: Path,
    index_dir: Path,
    encoder: Encoder,
    *,
    incremental: bool = False,
    chunker: ChunkerSettings | None = None,
    on_progress: ProgressCallback | None = None,
    on_skip: Callable[[SkippedInput], None] | None = None,
    source: SourceFactory = LocalSource,
) -> BuildReport:
    """Build (or with `incremental`, update) the index of `corpus` in `index_dir`.

    Inputs that cannot become articles are recorded in the index and go to `on_skip`, or are
    logged without one. `source` makes the object that reads, chunks and encodes (in this
    process unless told otherwise, e.g. `index.ray_build.ray_source`).
    """
    started = time.perf_counter()
    chunker = chunker or ChunkerSettings(max_tokens=encoder.max_tokens)
    progress = on_progress or (lambda _: None)
    skipped: list[SkippedInput] = []

    report_skip = on_skip or log_skip

    def record_skip(item: SkippedInput) -> None:
        skipped.append(item)
        report_skip(item)

    try:
        with layout.build_lock(index_dir):
            for stale in layout.remove_stale(index_dir):
                logger.info("removed leftover generation %s", stale.name)
            previous = _previous_generation(index_dir, encoder, chunker) if incremental else None
            try:
                tally, final = _build_generation(
                    corpus, index_dir, encoder, chunker, previous, skipped, record_skip, progress,
                    started, source(encoder, chunker),
                )  # fmt: skip
            finally:
                if previous is not None:
                    previous.close()
            layout.remove_stale(index_dir)
            progress(BuildProgress("saving", 1, 1))
    except OSError as error:  # a full disk outside the files' own writes (lock, directories)
        if not is_out_of_space(error):
            raise
        raise write_failed(error, index_dir, None, layout.has_index(index_dir)) from error

    return BuildReport(
        articles=tally.articles,
        chunks=tally.chunks,
        tokens=tally.tokens,
        embedded_chunks=len(tally.to_embed),
        reused_chunks=len(tally.reused),
        added_articles=tally.added,
        changed_articles=tally.changed,
        removed_articles=tally.removed,
        skipped=skipped,
        statements=tally.statements,
        statement_seconds=round(tally.statement_seconds, 3),
        clusters=tally.stories.clusters if tally.stories else 0,
        clustered_articles=tally.stories.clustered if tally.stories else 0,
        cluster_seconds=round(tally.cluster_seconds, 3),
        seconds=time.perf_counter() - started,
        generation=final.name,
        incremental=previous is not None,
    )


def _build_generation(
    corpus: Path,
    index_dir: Path,
    encoder: Encoder,
    chunker: ChunkerSettings,
    previous: IndexReader | None,
    skipped: list[SkippedInput],
    record_skip: Callable[[SkippedInput], None],
    progress: ProgressCallback,
    started: float,
    source: ChunkSource,
) -> tuple[_Tally, Path]:
    """Write a new generation and publish it; on any failure remove it, so the current one
    stays. A failed write (a full disk) becomes IndexWriteFailed naming the file."""
    partial = layout.new_partial(index_dir)
    kept_previous = layout.has_index(index_dir)

    def write(path: Path) -> AbstractContextManager[None]:
        return writing(path, generation=partial, kept_previous=kept_previous)

    try:
        old = previous.articles if previous else {}
        known = {article_id: record.content_hash for article_id, record in old.items()}
        articles = source.articles(corpus, record_skip, known)
        with write(partial / METADATA):
            db = create_metadata(partial / METADATA)
            try:
                tally = _fill_metadata(db, articles, previous, source, progress)
            except BaseException:
                db.close()
                raise
            for item in skipped:
                tally.db.execute("INSERT INTO skipped VALUES (?, ?)", (item.origin, item.reason))
            tally.db.commit()
        if tally.articles == 0:
            raise CorpusError(f"No readable article in {corpus}; nothing to index.")
        vectors, terms = _vectors_and_terms(tally, previous, encoder, source, progress)
        progress(BuildProgress("saving", 0, 1))
        with write(partial / VECTORS):
            vectors.save(partial / VECTORS, like=previous.vectors if previous else None)
        with write(partial / LEXICAL):
            terms.save(partial / LEXICAL)
        with write(partial / CHUNK_TABLE):
            ChunkTable.from_metadata(tally.db).save(partial / CHUNK_TABLE)
        with write(partial / METADATA):
            tally.db.close()
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model_id=encoder.model_id,
            dimension=encoder.dimension,
            chunker=chunker.to_dict(),
            articles=tally.articles,
            chunks=tally.chunks,
            tokens=tally.tokens,
            skipped=len(skipped),
            corpus=str(corpus),
            corpus_fingerprint=tally.fingerprint.hexdigest(),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
            files=generation_files(partial),
            statement_rules=RULES_VERSION,
            cluster_rules=clusters.RULES_VERSION,
        )
        with write(partial / MANIFEST):
            manifest.save(partial)
        with write(partial):
            final = layout.publish(index_dir, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return tally, final


def update_index(corpus: Path, index_dir: Path, encoder: Encoder, **options: object) -> BuildReport:
    """Embed only new or changed articles; falls back to a full build when there is no index."""
    return build_index(corpus, index_dir, encoder, incremental=True, **options)  # type: ignore[arg-type]


def _previous_generation(
    index_dir: Path, encoder: Encoder, chunker: ChunkerSettings
) -> IndexReader | None:
    try:
        previous = IndexReader(layout.current_generation(index_dir), encoder.model_id)
    except IndexNotFound:
        return None
    except IndexCorrupt as error:  # nothing of it can be trusted
        logger.warning("%s is %s; doing a full build instead.", error.path, error.problem)
        return None
    except IndexIncompatible as error:
        logger.warning("%s Doing a full build instead.", error)
        return None
    if previous.manifest.chunker != chunker.to_dict():
        logger.warning("chunker settings changed; doing a full build")
        previous.close()
        return None
    return previous


@dataclass
class _Tally:
    db: sqlite3.Connection
    fingerprint: hashlib._Hash
    articles: int = 0
    chunks: int = 0
    tokens: int = 0
    statements: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    reused: list[int] = field(default_factory=list)
    to_embed: list[int] = field(default_factory=list)
    statement_seconds: float = 0.0
    fresh: list[str] = field(default_factory=list)  # articles to hash for story clusters
    stories: clusters.ClusterTally | None = None
    cluster_seconds: float = 0.0

    def add_statements(
        self, article_id: str, text: str, spans: Sequence[tuple[int, Sequence[tuple[int, int]]]]
    ) -> None:
        """Find an article's statements and store them, timing the finding (the build report
        says what share of the build it took)."""
        started = time.perf_counter()
        rows = find_statements(article_id, text, spans)
        self.statement_seconds += time.perf_counter() - started
        self.statements += insert_statements(self.db, rows)


def _fill_metadata(
    db: sqlite3.Connection,
    articles: Iterator[Article],
    previous: IndexReader | None,
    source: ChunkSource,
    progress: ProgressCallback,
) -> _Tally:
    """Pass 1: articles, chunk offsets and statements into SQLite; decides which chunks need
    embedding."""
    tally = _Tally(db=db, fingerprint=hashlib.sha256())
    same_rules = previous is not None and previous.manifest.statement_rules == RULES_VERSION
    same_clusters = (
        previous is not None and previous.manifest.cluster_rules == clusters.RULES_VERSION
    )
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
            progress(BuildProgress("reading", tally.articles, None))
    progress(BuildProgress("reading", tally.articles, tally.articles))
    started = time.perf_counter()
    tally.stories = clusters.cluster_articles(db, tally.fresh, previous_attached=same_clusters)
    tally.cluster_seconds = time.perf_counter() - started
    if previous is not None:
        tally.removed = sum(1 for article_id in previous.articles if article_id not in seen)
        db.commit()
        db.execute("DETACH DATABASE previous")
    return tally


def _vectors_and_terms(
    tally: _Tally,
    previous: IndexReader | None,
    encoder: Encoder,
    source: ChunkSource,
    progress: ProgressCallback,
) -> tuple[VectorIndex, LexicalIndex]:
    """Pass 2: reuse vectors and term rows of unchanged chunks; embed and tokenize the rest."""
    vectors = VectorIndex.empty(encoder.dimension)
    terms = LexicalBuilder(previous.lexical.vocabulary if previous else None)
    if previous is not None and tally.reused:
        reused = np.asarray(tally.reused, dtype=np.int64)
        vectors.add(reused, previous.vectors.vectors(reused))
        terms.add_rows(previous.lexical, reused)
    total = len(tally.to_embed)
    progress(BuildProgress("embedding", 0, total))
    done = 0
    for batch in _embedding_batches(tally.db, tally.to_embed):
        ids, texts = zip(*batch, strict=True)
        vectors.add(np.asarray(ids, dtype=np.int64), source.vectors(ids, texts))
        terms.add_texts(ids, texts)
        done += len(batch)
        progress(BuildProgress("embedding", done, total))
    return vectors, terms.finish()


def _embedding_batches(
    db: sqlite3.Connection, chunk_ids: list[int]
) -> Iterator[list[tuple[int, str]]]:
    query = (
        'SELECT c.id, a.title, substr(a.text, c.start + 1, c."end" - c.start) '
        "FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id = ?"
    )
    for offset in range(0, len(chunk_ids), EMBED_BATCH):
        batch = []
        for chunk_id in chunk_ids[offset : offset + EMBED_BATCH]:
            row = db.execute(query, (chunk_id,)).fetchone()
            batch.append((row[0], embedding_text(row[1], row[2])))
        yield batch
