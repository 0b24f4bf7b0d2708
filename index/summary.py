"""What an index holds, in figures (`IndexSummary`), counted the same way for every backend:
the local store and Qdrant each hand `summary_of` their articles, stories and counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.manifest import Manifest
    from index.store import ArticleRecord

LARGEST_CLUSTERS = 5  # stories listed by size in the summary


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
    statements: int = 0
    speakers: int = 0
    top_speakers: list[tuple[str, int]] = field(default_factory=list)
    clusters: int = 0  # stories told by two or more articles
    clustered_articles: int = 0
    largest_clusters: list[tuple[str, int]] = field(default_factory=list)  # (title, members)


def summary_of(
    manifest: Manifest,
    articles: Mapping[str, ArticleRecord],
    stories: Iterable[tuple[str, ...]],
    *,
    chunks: int,
    size_bytes: int,
    path: str,
    statement_counts: tuple[int, int, list[tuple[str, int]]] = (0, 0, []),
) -> IndexSummary:
    """The summary of an index with these `articles` (id → record), `stories` (each article's
    story as its member ids, repeated per member) and `statement_counts` (statements, speakers,
    top speakers, as `stored_statements.counts` gives them)."""
    dates = sorted(a.date for a in articles.values() if a.date)
    sources = Counter(a.source for a in articles.values() if a.source)
    statements, speakers, top_speakers = statement_counts
    distinct = set(stories)
    largest = sorted(distinct, key=lambda members: (-len(members), members[0]))[:LARGEST_CLUSTERS]
    return IndexSummary(
        articles=len(articles),
        chunks=chunks,
        model=manifest.model_id,
        built_at=manifest.built_at,
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        sources=sources.most_common(),
        skipped=manifest.skipped,
        size_bytes=size_bytes,
        path=path,
        statements=statements,
        speakers=speakers,
        top_speakers=top_speakers,
        clusters=len(distinct),
        clustered_articles=sum(len(members) for members in distinct),
        largest_clusters=[(articles[m[0]].title, len(m)) for m in largest],
    )
