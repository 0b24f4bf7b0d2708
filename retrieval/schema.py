"""The one answer schema shared by the CLI (`--json`), the HTTP API and the Telegram bot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer; `quote` is `article text[start:end]` exactly.

    `speaker` is who said the quoted words, resolved to the article's fullest form of the name,
    when the quote is an attributed statement; otherwise None.
    """

    n: int
    article_id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    passage: str
    quote: str
    start: int
    end: int
    score: float
    speaker: str | None = None


@dataclass(frozen=True)
class Answer:
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    query: str = ""
    rewritten_query: str | None = None
    session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
