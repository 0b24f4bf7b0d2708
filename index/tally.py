"""What a build has written so far, counted as it goes: shared by the two ways a generation is
written (`index.build` row by row, `index.appending` by copying the previous one whole)."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from index import clusters
from index.stored_statements import find_statements, insert_statements


@dataclass
class Tally:
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
    appended: bool = False  # written by copying the previous generation and adding to it

    def add_statements(
        self, article_id: str, text: str, spans: Sequence[tuple[int, Sequence[tuple[int, int]]]]
    ) -> None:
        """Find an article's statements and store them, timing the finding (the build report
        says what share of the build it took)."""
        started = time.perf_counter()
        rows = find_statements(article_id, text, spans)
        self.statement_seconds += time.perf_counter() - started
        self.statements += insert_statements(self.db, rows)

    def cluster(self, chunk_vectors: clusters.ChunkVectors, *, previous_attached: bool) -> None:
        """Pair the fresh articles with every signed one and write the story clusters."""
        started = time.perf_counter()
        self.stories = clusters.cluster_articles(
            self.db, self.fresh, chunk_vectors, previous_attached=previous_attached
        )
        self.cluster_seconds = time.perf_counter() - started
