"""The chunks of a generation as flat arrays (`chunks.npz`), built from the metadata tables at
build time and loaded, not rebuilt, when the index is opened."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

CHUNK_QUERY = 'SELECT id, article_id, start, "end", sentences FROM chunks ORDER BY id'
ARTICLE_ORDER = "SELECT id FROM articles ORDER BY rowid"


class ChunkTable:
    """Every chunk as flat arrays sorted by id: its article (a position in the articles' rowid
    order), its span, and its sentence spans (their JSON, cut from one buffer when asked for).

    At a million chunks, dictionaries of records cost a minute to build and a gigabyte to hold;
    these arrays load in a fraction of a second and hold about 100 bytes a chunk.
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.ids = arrays["ids"]
        self.article = arrays["article"]
        self.start = arrays["start"]
        self.end = arrays["end"]
        self._sentences = arrays["sentences"]
        self._offsets = arrays["offsets"]

    @classmethod
    def from_metadata(cls, db: sqlite3.Connection) -> ChunkTable:
        """Read from the chunks and articles tables (a build, or an index written without it)."""
        position = {row[0]: n for n, row in enumerate(db.execute(ARTICLE_ORDER))}
        rows = db.execute(CHUNK_QUERY)
        return cls.from_rows((row[0], position[row[1]], *row[2:]) for row in rows)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int, int, str]]) -> ChunkTable:
        """From (id, article position, start, end, sentence spans as JSON) rows, in any order."""
        ids, article, start, end, sentences = [], [], [], [], []
        for row in sorted(rows):
            ids.append(row[0])
            article.append(row[1])
            start.append(row[2])
            end.append(row[3])
            sentences.append(row[4].encode())
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        return cls({
            "ids": np.asarray(ids, dtype=np.int64),
            "article": np.asarray(article, dtype=np.int32),
            "start": np.asarray(start, dtype=np.int32),
            "end": np.asarray(end, dtype=np.int32),
            "sentences": np.frombuffer(b"".join(sentences), dtype=np.uint8),
            "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        })  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> ChunkTable:
        with np.load(path) as arrays:
            table = cls({name: arrays[name] for name in arrays.files})
        sizes = {len(table.ids), len(table.article), len(table.start), len(table._offsets) - 1}
        if len(sizes) != 1:
            raise ValueError("arrays of different lengths")
        return table

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(handle, ids=self.ids, article=self.article, start=self.start, end=self.end,
                     sentences=self._sentences, offsets=self._offsets)  # fmt: skip

    def merged(self, other: ChunkTable) -> ChunkTable:
        """This table with `other`'s chunks (of other articles) inserted in id order: an update
        that adds a few articles to a million chunks splices them in instead of reading every
        chunk again."""
        order = np.argsort(other.ids, kind="stable")
        added = other.ids[order]
        at = np.searchsorted(self.ids, added)
        if len(self.ids) and (self.ids[np.minimum(at, len(self.ids) - 1)] == added).any():
            raise ValueError("the chunks to add are already in the table")
        pieces, done = [], 0
        for place, row in zip(at.tolist(), order.tolist(), strict=True):
            pieces.append(self._sentences[self._offsets[done] : self._offsets[place]])
            pieces.append(other._sentences[other._offsets[row] : other._offsets[row + 1]])
            done = place
        pieces.append(self._sentences[self._offsets[done] :])
        lengths = np.insert(np.diff(self._offsets), at, np.diff(other._offsets)[order])
        return ChunkTable({
            "ids": np.insert(self.ids, at, added),
            "article": np.insert(self.article, at, other.article[order]),
            "start": np.insert(self.start, at, other.start[order]),
            "end": np.insert(self.end, at, other.end[order]),
            "sentences": np.concatenate(pieces) if pieces else self._sentences,
            "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        })  # fmt: skip

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The table rows of `chunk_ids` (each must be in the table)."""
        return np.searchsorted(self.ids, chunk_ids)

    def row(self, chunk_id: int) -> int:
        row = int(np.searchsorted(self.ids, chunk_id))
        if row >= len(self.ids) or self.ids[row] != chunk_id:
            raise KeyError(chunk_id)
        return row

    def sentences(self, row: int) -> tuple[tuple[int, int], ...]:
        spans = self._sentences[self._offsets[row] : self._offsets[row + 1]].tobytes()
        return tuple(map(tuple, json.loads(spans)))
