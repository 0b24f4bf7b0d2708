"""The one answer schema shared by the CLI (`--json`), the HTTP API and the Telegram bot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AlsoIn:
    """Another article of the cited article's story cluster (a wire copy or another version)."""

    source: str | None
    date: str | None
    url: str | None
    article_id: str


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer; `quote` is `article text[start:end]` exactly.

    `speaker` is who said the quoted words, resolved to the article's fullest form of the name,
    when the quote is an attributed statement; otherwise None. `deep_url` is `url` with a text
    fragment that opens the article scrolled to the quote (see `retrieval.deep_links`), None
    when `url` is not an http(s) link. `also_in` lists the other articles that tell the same
    story (near-duplicate texts, see `index.clusters`), earliest first; they take no slot of
    their own.
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
    deep_url: str | None = None
    also_in: list[AlsoIn] = field(default_factory=list)


@dataclass(frozen=True)
class Headline:
    """An article the archive does hold near a question it cannot answer."""

    article_id: str
    title: str
    source: str | None
    date: str | None


ABSTAIN_REASONS = (
    "no_focus_match",  # no passage holds what the question is about
    "after_archive",  # the question is about a time after the archive's last article
    "no_statement_by_speaker",  # "what did X say about Y": X is not quoted on Y
    "weak_evidence",  # passages hold the focus, but no sentence answers the question
    "no_match",  # the filters leave no article
)


@dataclass(frozen=True)
class Coverage:
    """What the archive holds on `topic`. `by_source` and `by_month` ("2022-09") count
    articles, most first and in calendar order; `stories` counts near-duplicates once."""

    topic: str
    articles: int
    stories: int
    first_date: str | None = None
    last_date: str | None = None
    by_source: list[tuple[str, int]] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineEvent:
    """One dated line of a timeline: what happened on `date`, in the words of citation `n`
    (`sentence` is that citation's quote) as `source` reported it."""

    n: int
    date: str
    source: str | None
    sentence: str


@dataclass(frozen=True)
class Timeline:
    """The lines of a timeline shown now, earliest first: `offset` lines came before them and
    `more` lines follow (what "more" shows next)."""

    events: list[TimelineEvent] = field(default_factory=list)
    offset: int = 0
    more: int = 0


@dataclass(frozen=True)
class Answer:
    """`abstain_reason` (one of ABSTAIN_REASONS) and `closest` are set only on abstentions."""

    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    query: str = ""
    rewritten_query: str | None = None
    session_id: str | None = None
    abstain_reason: str | None = None
    closest: list[Headline] = field(default_factory=list)
    coverage: Coverage | None = None  # set for "What do you have on X?"
    timeline: Timeline | None = None  # set for "Timeline of X", "How did X unfold?"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
