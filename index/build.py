"""Full and incremental builds: corpus → chunks → vectors + BM25 + metadata, swapped in atomically.

A build writes a new generation next to the current one and publishes it only when complete
(see `index.layout`), so a failed or killed build leaves the previous index serving. An update
reuses the chunks and vectors of articles whose content hash is unchanged; its result equals a
full build of the same folder. It is written one of two ways: when the corpus only grew (files
added after the unchanged ones, `index.corpus_state`) by copying the previous generation whole
and appending the new articles (`index.appending`), otherwise by reading every article again
and copying the unchanged ones' rows one by one (`index.rewriting`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from index import clusters, corpus_state, layout
from index.appending import append_generation
from index.articles import (
    Article,
    check_corpus,
    log_skip,
    read_corpus,
    read_input,
    unique_articles,
)
from index.chunking import Chunk, ChunkerSettings, chunk_article
from index.corpus_formats import SkippedInput
from index.errors import CorpusError, IndexCorrupt, IndexIncompatible, IndexNotFound
from index.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    METADATA,
    Manifest,
    generation_files,
    generation_times,
)
from index.rewriting import rewrite_generation
from index.store import IndexReader
from index.stored_statements import RULES_VERSION
from index.tally import Tally
from index.writing import is_out_of_space, write_failed, writing

logger = logging.getLogger(__name__)


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
    appended: bool = False  # an update of a corpus that only grew (see `index.appending`)


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
    """Reads, chunks and encodes in this process (the default; `index.ray_build` is the other).
    A build encodes its chunks on a thread while it goes on reading (`index.encoding`)."""

    encodes_while_reading = True

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
    overlap: bool = True,
) -> BuildReport:
    """Build (or with `incremental`, update) the index of `corpus` in `index_dir`.

    Inputs that cannot become articles are recorded in the index and go to `on_skip`, or are
    logged without one. `source` makes the object that reads, chunks and encodes (in this
    process unless told otherwise, e.g. `index.ray_build.RaySource`). `overlap=False` encodes
    only after reading, as builds did before (to measure what the overlap gains).
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
                    started, source(encoder, chunker), overlap,
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
        appended=tally.appended,
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
    overlap: bool,
) -> tuple[Tally, Path]:
    """Write a new generation and publish it; on any failure remove it, so the current one
    stays. A failed write (a full disk) becomes IndexWriteFailed naming the file."""
    partial = layout.new_partial(index_dir)
    kept_previous = layout.has_index(index_dir)

    def write(path: Path) -> AbstractContextManager[None]:
        return writing(path, generation=partial, kept_previous=kept_previous)

    try:
        check_corpus(corpus)
        files = corpus_state.scan(corpus)  # before reading: a file written meanwhile is new
        grown = _growth(corpus, previous, files)
        if previous is not None and grown is not None:
            tally = _append(partial, previous, grown, record_skip, source, write, progress)
        else:
            tally = _rewrite(partial, corpus, previous, files, encoder, source, record_skip,
                             write, progress, overlap)  # fmt: skip
        with write(partial / METADATA):
            for item in skipped:
                tally.db.execute("INSERT INTO skipped VALUES (?, ?)", (item.origin, item.reason))
            tally.db.commit()
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
            modified_ns=generation_times(partial),
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


def _growth(
    corpus: Path, previous: IndexReader | None, files: list[corpus_state.CorpusFile]
) -> corpus_state.Growth | None:
    """How the corpus grew since `previous` was built from it, when an update can append
    (same corpus, same format and rules, and the corpus only grew); else None."""
    if previous is None:
        return None
    manifest = previous.manifest
    if (
        manifest.format_version != FORMAT_VERSION
        or manifest.statement_rules != RULES_VERSION
        or manifest.cluster_rules != clusters.RULES_VERSION
        or manifest.corpus != str(corpus)
    ):
        return None
    origins = {article_id: record.origin for article_id, record in previous.articles.items()}
    return corpus_state.growth(previous.directory / METADATA, files, origins)


def _append(
    partial: Path,
    previous: IndexReader,
    grown: corpus_state.Growth,
    record_skip: Callable[[SkippedInput], None],
    source: ChunkSource,
    write: Callable[[Path], AbstractContextManager[None]],
    progress: ProgressCallback,
) -> Tally:
    """The previous generation plus the articles of the files added since (see
    `index.appending`); what the unchanged files skipped is reported again."""
    logger.info(
        "the corpus only grew: reading the %d added file(s), keeping the %d unchanged",
        len(grown.added), grown.unchanged,
    )  # fmt: skip
    for origin, reason in grown.skipped:
        record_skip(SkippedInput(origin, reason))
    items = (item for f in grown.added for item in read_input(f.path, f.origin))
    articles = unique_articles(items, record_skip, (grown.digests, grown.origins))
    return append_generation(
        partial, previous, articles, grown.added, source, write,
        lambda phase, done, total: progress(BuildProgress(phase, done, total)),
    )  # fmt: skip


def _rewrite(
    partial: Path,
    corpus: Path,
    previous: IndexReader | None,
    files: list[corpus_state.CorpusFile],
    encoder: Encoder,
    source: ChunkSource,
    record_skip: Callable[[SkippedInput], None],
    write: Callable[[Path], AbstractContextManager[None]],
    progress: ProgressCallback,
    overlap: bool,
) -> Tally:
    """Every article read again (see `index.rewriting`)."""
    old = previous.articles if previous else {}
    known = {article_id: record.content_hash for article_id, record in old.items()}
    tally = rewrite_generation(
        partial, source.articles(corpus, record_skip, known), previous, files,
        encoder.dimension, source, write,
        lambda phase, done, total: progress(BuildProgress(phase, done, total)),
        overlap=overlap and getattr(source, "encodes_while_reading", False),
    )  # fmt: skip
    if tally.articles == 0:
        tally.db.close()
        raise CorpusError(f"No readable article in {corpus}; nothing to index.")
    return tally


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
