"""Writing an index to Qdrant: from a local generation, so both backends hold the same chunks,
vectors, term frequencies, statements and story clusters (the local build does the reading,
chunking, encoding and statement finding; this only copies).

A full build writes a new collection and then switches the alias to it in one request, so
readers never see a half-written index; if anything fails before the switch the new collection
is removed and the alias stays where it was. An update changes the aliased collection in place:
the chunks of removed and changed articles are deleted, those of new and changed ones upserted,
and the corpus point (document frequencies) rewritten last.

BM25's length normalisation needs the corpus's average chunk length. A build stores the one it
used in the corpus point and an update weighs new chunks with that same length, so every stored
weight stays comparable; the average drifts as updates add articles (a full build resets it),
which moves scores by the ratio of the averages' normalisations — small for updates that change
a small share of the corpus.
"""

from __future__ import annotations

import logging
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from index.lexical import K1, B
from index.manifest import METADATA
from index.qdrant_collection import (
    CORPUS_POINT,
    DENSE,
    SPARSE,
    alias_name,
    article_point,
)
from index.store import IndexReader, open_index
from index.stored_statements import COLUMNS

logger = logging.getLogger(__name__)

BATCH = 256
PAYLOAD_INDEXES = (("kind", "keyword"), ("source", "keyword"), ("day", "integer"),
                   ("article_id", "keyword"), ("terms", "keyword"))  # fmt: skip


def day_of(when: str | None) -> int:
    return date.fromisoformat(when).toordinal() if when else -1


def collection_name(prefix: str) -> str:
    return f"{alias_name(prefix)}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def current_collection(client: Any, prefix: str) -> str | None:
    alias = alias_name(prefix)
    return next(
        (a.collection_name for a in client.get_aliases().aliases if a.alias_name == alias), None
    )


class GenerationPoints:
    """What a local generation holds, in the shape of Qdrant points."""

    def __init__(self, reader: IndexReader, average_length: float | None = None) -> None:
        self.reader = reader
        lexical = reader.lexical
        self.chunk_ids = lexical.chunk_ids
        self.rows: sp.csr_matrix = lexical.rows(np.arange(len(self.chunk_ids)))
        lengths = np.asarray(self.rows.sum(axis=1)).ravel().astype(np.float32)
        mean = float(lengths.mean()) if len(lengths) else 1.0
        self.average_length = mean if average_length is None else average_length
        self._length_norm = K1 * (1 - B + B * lengths / max(self.average_length, 1e-9))
        self.terms = {column: term for term, column in lexical.vocabulary.items()}
        self._row_of = {int(c): row for row, c in enumerate(self.chunk_ids)}
        self._db = sqlite3.connect(
            f"file:{reader.directory / METADATA}?mode=ro", uri=True, check_same_thread=False
        )

    def close(self) -> None:
        self._db.close()

    def corpus_payload(self, idf: str) -> dict[str, object]:
        frequency = np.bincount(self.rows.indices, minlength=len(self.terms))
        vocabulary = self.reader.lexical.vocabulary
        return {
            "kind": "corpus",
            "manifest": asdict(self.reader.manifest),
            "terms": {t: [c, int(frequency[c])] for t, c in vocabulary.items() if frequency[c]},
            "average_length": self.average_length,
            "skipped": [list(item) for item in self.reader.skipped()],
            "idf": idf,
        }

    def chunk_points(self, chunk_ids: Sequence[int]) -> Iterator[Any]:
        from qdrant_client import models

        vectors = self.reader.vectors.vectors(chunk_ids)
        for chunk_id, vector in zip(chunk_ids, vectors, strict=True):
            row = self._row_of[int(chunk_id)]
            start, end = self.rows.indptr[row], self.rows.indptr[row + 1]
            frequency = self.rows.data[start:end].astype(np.float32)
            weights = frequency * (K1 + 1) / (frequency + self._length_norm[row])
            chunk = self.reader.chunk(int(chunk_id))
            record = self.reader.article(chunk.article_id)
            yield models.PointStruct(
                id=int(chunk_id),
                vector={
                    DENSE: vector.tolist(),
                    SPARSE: models.SparseVector(
                        indices=self.rows.indices[start:end].tolist(), values=weights.tolist()
                    ),
                },
                payload={
                    "kind": "chunk",
                    "article_id": chunk.article_id,
                    "source": (record.source or "").lower(),
                    "day": day_of(record.date),
                    "start": chunk.start,
                    "end": chunk.end,
                    "sentences": [list(s) for s in chunk.sentences],
                },
            )

    def article_points(self, article_ids: Iterable[str]) -> Iterator[Any]:
        from qdrant_client import models

        chunks_of: dict[str, list[int]] = {}
        for chunk_id in self.chunk_ids.tolist():
            chunks_of.setdefault(self.reader.chunk(chunk_id).article_id, []).append(chunk_id)
        position = {a: n for n, a in enumerate(self.reader.articles)}
        for article_id in article_ids:
            record = self.reader.article(article_id)
            rows = [self._row_of[c] for c in chunks_of.get(article_id, [])]
            columns = np.unique(self.rows[rows].indices) if rows else []
            statements = self._db.execute(
                f"SELECT speaker_key, {COLUMNS} FROM statements WHERE article_id = ? "
                "ORDER BY rowid",
                (article_id,),
            ).fetchall()
            story = self.reader.story(article_id)
            yield models.PointStruct(
                id=article_point(article_id),
                vector={},
                payload={
                    "kind": "article",
                    "position": position[article_id],  # the local index's order
                    "id": record.id,
                    "title": record.title,
                    "source_name": record.source,
                    "source": (record.source or "").lower(),
                    "date": record.date,
                    "day": day_of(record.date),
                    "url": record.url,
                    "origin": record.origin,
                    "content_hash": record.content_hash,
                    "text": self.reader.text(article_id),
                    "statements": [list(row) for row in statements],
                    "story": list(story) if len(story) > 1 else None,
                    "terms": sorted(self.terms[int(c)] for c in columns),
                },
            )


def _upload(client: Any, collection: str, points: Iterable[Any]) -> int:
    batch: list[Any] = []
    written = 0
    for point in points:
        batch.append(point)
        if len(batch) >= BATCH:
            client.upsert(collection, batch, wait=True)
            written += len(batch)
            batch = []
    if batch:
        client.upsert(collection, batch, wait=True)
        written += len(batch)
    return written


def dense_quantization(quantization: str) -> Any:
    """The dense vector's quantization config: None, or for "int8" scalar quantization (a byte
    per dimension, a quarter of the float32 vectors, kept in RAM while the originals may live
    on disk; quantile 0.99 clips the rare extreme values so the other 99% keep their
    resolution). The server searches the int8 copies and rescores the best with the originals;
    the embedded client ignores it (it searches the float32 vectors)."""
    from qdrant_client import models

    if quantization == "none":
        return None
    if quantization != "int8":
        raise ValueError(f"unknown Qdrant quantization {quantization!r} (none or int8)")
    return models.ScalarQuantization(
        scalar=models.ScalarQuantizationConfig(
            type=models.ScalarType.INT8, quantile=0.99, always_ram=True
        )
    )


def _create_collection(
    client: Any, name: str, dimension: int, idf: str, quantization: str = "none"
) -> None:
    from qdrant_client import models

    modifier = models.Modifier.IDF if idf == "qdrant" else None
    dense = models.VectorParams(
        size=dimension,
        distance=models.Distance.DOT,
        quantization_config=dense_quantization(quantization),
    )
    client.create_collection(
        name,
        vectors_config={DENSE: dense},
        sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=modifier)},
    )
    schema = {"keyword": models.PayloadSchemaType.KEYWORD,
              "integer": models.PayloadSchemaType.INTEGER}  # fmt: skip
    with warnings.catch_warnings():  # embedded mode has no payload indexes, and says so
        warnings.simplefilter("ignore", UserWarning)
        for field, kind in PAYLOAD_INDEXES:
            client.create_payload_index(name, field, field_schema=schema[kind], wait=True)


def publish_generation(
    reader: IndexReader,
    client: Any,
    prefix: str,
    *,
    idf: str = "newsdesk",
    quantization: str = "none",
    on_progress: Callable[[int, int], None] | None = None,
) -> str:
    """Copy a local generation into a new collection and point the alias at it; returns the
    collection's name. The collection the alias named before is kept until the next build.
    `quantization` ("none" or "int8") configures the new collection's dense vector."""
    from qdrant_client import models

    progress = on_progress or (lambda _done, _total: None)
    name = collection_name(prefix)
    previous = current_collection(client, prefix)
    source = GenerationPoints(reader)
    try:
        _create_collection(client, name, reader.manifest.dimension, idf, quantization)
        chunk_ids = source.chunk_ids.tolist()
        total = len(chunk_ids) + len(reader.articles)
        for start in range(0, len(chunk_ids), BATCH * 8):
            _upload(client, name, source.chunk_points(chunk_ids[start : start + BATCH * 8]))
            progress(min(start + BATCH * 8, len(chunk_ids)), total)
        _upload(client, name, source.article_points(reader.articles))
        progress(total, total)
        client.upsert(
            name,
            [models.PointStruct(id=CORPUS_POINT, vector={}, payload=source.corpus_payload(idf))],
            wait=True,
        )
        switch_alias(client, prefix, name)
    except BaseException:
        _remove_quietly(client, name)
        raise
    finally:
        source.close()
    # The collection served before stays until the next build: servers still reading it
    # switch when they next look at the alias (about a second); older ones go now.
    ours = f"{alias_name(prefix)}-"
    older = [c.name for c in client.get_collections().collections
             if c.name.startswith(ours) and c.name not in (name, previous)]  # fmt: skip
    for collection in older:
        _remove_quietly(client, collection)
    return name


def switch_alias(client: Any, prefix: str, collection: str) -> None:
    """Point the alias at `collection` in one request (Qdrant applies the actions atomically)."""
    from qdrant_client import models

    alias = alias_name(prefix)
    actions: list[Any] = []
    if current_collection(client, prefix) is not None:
        actions.append(
            models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        )
    actions.append(
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
        )
    )
    client.update_collection_aliases(change_aliases_operations=actions)


def _remove_quietly(client: Any, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception:  # the build's own error matters more
        logger.warning("could not remove the Qdrant collection %s", name, exc_info=True)


def update_published(
    reader: IndexReader, client: Any, prefix: str, *, quantization: str = "none"
) -> tuple[int, int]:
    """Bring the aliased collection in line with `reader` (an updated local generation) in
    place; returns (articles written, articles removed). An existing collection keeps its
    quantization; `quantization` applies only when there is none yet."""
    from qdrant_client import models

    name = current_collection(client, prefix)
    if name is None:
        publish_generation(reader, client, prefix, quantization=quantization)
        return len(reader.articles), 0
    corpus = client.retrieve(name, [CORPUS_POINT])[0].payload
    stored = _stored_articles(client, name)
    wanted = {a: (r.content_hash, reader.story(a)) for a, r in reader.articles.items()}
    removed = [a for a in stored if a not in wanted]
    changed = [a for a, (content, _) in wanted.items() if stored.get(a, (None,))[0] != content]
    restoried = [a for a, (_, story) in wanted.items()
                 if a in stored and a not in changed and stored[a][1] != story]  # fmt: skip
    gone = [*removed, *(a for a in changed if a in stored)]
    if gone:
        client.delete(name, _chunks_of(gone), wait=True)
    if removed:  # an empty list of points is refused, not a no-op
        client.delete(name, [article_point(a) for a in removed], wait=True)
    source = GenerationPoints(reader, average_length=corpus.get("average_length"))
    try:
        new_chunks = [c for c in source.chunk_ids.tolist()
                      if reader.chunk(c).article_id in set(changed)]  # fmt: skip
        _upload(client, name, source.chunk_points(new_chunks))
        _upload(client, name, source.article_points([*changed, *restoried]))
        payload = source.corpus_payload(corpus.get("idf", "newsdesk"))
        client.upsert(
            name, [models.PointStruct(id=CORPUS_POINT, vector={}, payload=payload)], wait=True
        )
    finally:
        source.close()
    return len(changed), len(removed)


def _chunks_of(article_ids: Sequence[str]) -> Any:
    from qdrant_client import models

    return models.FilterSelector(
        filter=models.Filter(
            must=[
                models.FieldCondition(key="kind", match=models.MatchValue(value="chunk")),
                models.FieldCondition(
                    key="article_id", match=models.MatchAny(any=list(article_ids))
                ),
            ]
        )
    )


def _stored_articles(client: Any, name: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Article id → (content hash, story) of the articles in the collection."""
    from qdrant_client import models

    kind = models.Filter(
        must=[models.FieldCondition(key="kind", match=models.MatchValue(value="article"))]
    )
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    offset = None
    while True:
        points, offset = client.scroll(
            name, scroll_filter=kind, limit=2048, offset=offset,
            with_payload=["id", "content_hash", "story"], with_vectors=False,
        )  # fmt: skip
        for p in points:
            story = tuple(p.payload.get("story") or (p.payload["id"],))
            found[p.payload["id"]] = (p.payload["content_hash"], story)
        if offset is None:
            return found


def publish_current(
    index_dir: Path, client: Any, prefix: str, *, incremental: bool, quantization: str = "none"
) -> str:
    """Copy the current local generation of `index_dir` (the build's working copy) to Qdrant:
    a new collection behind the alias, or with `incremental` the aliased one changed in place.
    Returns the collection's name."""
    reader = open_index(index_dir)
    try:
        if incremental and current_collection(client, prefix) is not None:
            update_published(reader, client, prefix)
            return current_collection(client, prefix) or ""
        return publish_generation(reader, client, prefix, quantization=quantization)
    finally:
        reader.close()
