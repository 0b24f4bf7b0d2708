"""Request and response models of the HTTP API: validation at the edge, examples for /docs."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# No ":": ids with one belong to other edges sharing the service (Telegram's are "tg:<chat>"),
# so an HTTP client cannot read, continue or delete a Telegram conversation.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
NOT_BLANK = r"\S"  # in the schema too, so generated clients and fuzzers know blank is invalid


def _strict_iso_date(value: object) -> object:
    """Accept only `YYYY-MM-DD` strings (or dates); pydantic alone would also take timestamps."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a real calendar date (YYYY-MM-DD)") from None


IsoDate = Annotated[date, BeforeValidator(_strict_iso_date)]
SourceName = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]
SessionId = Annotated[str, Field(pattern=SESSION_ID_PATTERN)]


class _DateRange(BaseModel):
    """Shared `since`/`until`/`as_of` fields and the check that the range is not inverted."""

    since: IsoDate | None = Field(None, description="Only articles dated on or after this day.")
    until: IsoDate | None = Field(None, description="Only articles dated on or before this day.")
    as_of: IsoDate | None = Field(
        None, description="The 'today' that recency is judged against; default today."
    )

    @model_validator(mode="after")
    def _since_not_after_until(self) -> _DateRange:
        if self.since and self.until and self.since > self.until:
            raise ValueError("`since` must be on or before `until`")
        return self


class AskRequest(_DateRange):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "What did Blinken say about a multinational force?"},
                {
                    "question": "And what about a two-state solution?",
                    "session_id": "3f2c9a1e7b5d4c8e",
                    "k": 5,
                    "source": ["Bloomberg"],
                    "since": "2023-10-01",
                    "until": "2023-11-30",
                },
            ]
        },
    )

    question: str = Field(
        min_length=1,
        max_length=1000,
        pattern=NOT_BLANK,
        description="The question, 1–1000 characters, not all blank.",
    )
    session_id: SessionId | None = Field(
        None, description="Conversation to continue; a new one is issued when absent."
    )
    k: int = Field(5, ge=1, le=20, description="How many passages to draw the answer from.")
    source: list[SourceName] | None = Field(
        None, max_length=20, description="Only these outlets (case-insensitive)."
    )


class SearchQuery(_DateRange):
    """Query-string parameters of `GET /search`."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1, max_length=1000, pattern=NOT_BLANK, description="What to search for."
    )
    k: int = Field(5, ge=1, le=20, description="How many passages to return.")
    source: list[SourceName] | None = Field(
        None, max_length=20, description="Only these outlets; repeat the parameter for several."
    )


class AlsoInOut(BaseModel):
    source: str | None
    date: str | None
    url: str | None
    article_id: str


class CitationOut(BaseModel):
    n: int = Field(description="The number used in the answer's [n] marker.")
    article_id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    passage: str = Field(description="The retrieved passage the quote comes from.")
    quote: str = Field(description="The sentence used, verbatim: article text[start:end].")
    start: int
    end: int
    score: float
    speaker: str | None = Field(
        default=None,
        description="Who said the quoted words (the article's fullest form of the name) when the "
        "quote is an attributed statement; null otherwise.",
    )
    deep_url: str | None = Field(
        default=None,
        description="`url` with a text fragment (#:~:text=…) that opens the article scrolled to "
        "the quote in browsers that support text fragments; null when `url` is not http(s).",
    )
    also_in: list[AlsoInOut] = Field(
        default_factory=list,
        description="Other articles telling the same story (wire copies, other versions of a "
        "near-identical text), earliest first; they are not cited separately.",
    )


_SEED_CITATION = {
    "n": 1,
    "article_id": "6a8b8ce6f7321b4a",
    "title": "Blinken Urges More Protection for Gaza Civilians",
    "source": "Bloomberg",
    "date": "2023-11-03",
    "url": "https://www.bloomberg.com/news/articles/2023-11-03/blinken",
    "passage": "… Blinken said talk of a multinational force for Gaza was premature …",
    "quote": "Blinken said talk of a multinational force for Gaza was premature.",
    "start": 2310,
    "end": 2377,
    "score": 0.71,
    "speaker": "Antony Blinken",
    "deep_url": "https://www.bloomberg.com/news/articles/2023-11-03/blinken"
    "#:~:text=Blinken%20said%20talk%20of,for%20Gaza%20was%20premature.",
}


class HeadlineOut(BaseModel):
    article_id: str
    title: str
    source: str | None
    date: str | None


class CoverageQuery(_DateRange):
    """Query-string parameters of `GET /coverage`."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1, max_length=300, pattern=NOT_BLANK, description="What to count articles on."
    )
    source: list[SourceName] | None = Field(
        None, max_length=20, description="Only these outlets; repeat the parameter for several."
    )


class CoverageOut(BaseModel):
    """What the archive holds on a topic: articles that mention every word of it."""

    topic: str
    articles: int
    stories: int = Field(description="Articles counted once per story (near-duplicates merged).")
    first_date: str | None
    last_date: str | None
    by_source: list[tuple[str, int]] = Field(description="[outlet, articles], most first.")
    by_month: list[tuple[str, int]] = Field(description='["2022-09", articles], oldest first.')
    headlines: list[HeadlineOut] = Field(description="Up to three, most relevant first.")


class TimelineQuery(_DateRange):
    """Query-string parameters of `GET /timeline`."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1,
        max_length=300,
        pattern=NOT_BLANK,
        description="The story to trace (a topic, or a question such as 'How did X unfold?').",
    )
    source: list[SourceName] | None = Field(
        None, max_length=20, description="Only these outlets; repeat the parameter for several."
    )
    offset: int = Field(0, ge=0, le=10_000, description="Skip this many lines (the next page).")


class TimelineEventOut(BaseModel):
    n: int = Field(description="The citation that quotes this line's sentence.")
    date: str
    source: str | None
    sentence: str = Field(description="What happened that day: citation n's quote.")


class TimelineOut(BaseModel):
    events: list[TimelineEventOut] = Field(description="One per day, earliest first.")
    offset: int = Field(0, description="Lines before these (shown on earlier pages).")
    more: int = Field(0, description="Lines after these: what `more` (or a larger offset) shows.")


class AnswerOut(BaseModel):
    """The one answer schema, shared with `newsdesk ask --json` and Telegram."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": "Blinken said talk of a multinational force for Gaza was "
                    "premature. [1]",
                    "abstained": False,
                    "citations": [_SEED_CITATION],
                    "query": "What did Blinken say about a multinational force?",
                    "rewritten_query": None,
                    "session_id": "3f2c9a1e7b5d4c8e",
                }
            ]
        }
    )

    answer: str
    abstained: bool = Field(description="True when the articles don't say; no citations then.")
    citations: list[CitationOut]
    query: str
    rewritten_query: str | None = Field(
        None, description="The follow-up as rewritten for retrieval, when it was."
    )
    session_id: str | None
    abstain_reason: str | None = Field(
        None,
        description="Why it abstained: no_focus_match, after_archive, no_statement_by_speaker, "
        "weak_evidence or no_match; null when it answered.",
    )
    closest: list[HeadlineOut] = Field(
        default_factory=list,
        description="On an abstention, up to two articles the archive holds about what was "
        "asked (sharing its focus); empty otherwise.",
    )
    coverage: CoverageOut | None = Field(
        None, description='For "What do you have on X?": what the archive holds on X.'
    )
    timeline: TimelineOut | None = Field(
        None,
        description='For "Timeline of X", "How did X unfold?" and GET /timeline: the dated '
        "lines, each quoting a citation; null otherwise.",
    )


class SearchHit(BaseModel):
    passage: str
    score: float
    article_id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    start: int = Field(description="Offset of the passage in the article text.")
    end: int
    also_in: list[AlsoInOut] = Field(
        default_factory=list,
        description="Other articles telling the same story, earliest first (not listed again).",
    )


class SearchOut(BaseModel):
    results: list[SearchHit] = Field(description="Ranked, best first.")


class ArticleOut(BaseModel):
    id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    text: str


class SourceCount(BaseModel):
    name: str
    articles: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    generation: str | None = Field(
        None,
        description="The index generation being served (it changes when a new build is "
        "swapped in); `built_at` says when it was built.",
    )
    articles: int
    chunks: int
    model: str
    built_at: str | None = Field(description="When the index in use was built (ISO 8601).")
    first_date: str | None
    last_date: str | None
    sources: list[SourceCount] = Field(
        default_factory=list, description="Outlets, most articles first."
    )
    skipped: int = Field(0, description="Corpus inputs the last build could not read.")
    size_bytes: int = Field(0, description="Size of the index on disk.")
    uptime_s: float


class Problem(BaseModel):
    """Every error body: one sentence in `detail`; validation errors add the field list."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class ReindexStatus(BaseModel):
    state: Literal["idle", "running", "succeeded", "failed"]
    started_at: str | None = None
    finished_at: str | None = None
    progress: dict[str, Any] | None = Field(
        None, description="The latest progress report of a running job."
    )
    last_result: dict[str, Any] | None = Field(
        None, description="The build report of the last finished job."
    )
    error: str | None = Field(None, description="Why the last job failed.")
