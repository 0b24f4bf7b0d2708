"""What an abstention says: why there is no answer, what the archive holds, and its closest
headlines; and why a filtered question has nothing to search.

Separate from composing because every kind of answer (the extractive one, a speaker's statements,
a timeline) abstains in the same words, and none of them needs the composer to say so.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.speech import word_set
from index.summary import IndexSummary
from retrieval.dates import human_date
from retrieval.schema import Answer, Headline
from retrieval.search import SearchFilters

QUESTION_OPENERS = word_set(
    "who whom whose what which when where why how did does do is are was were has have had "
    "can could will would should"
)


def abstention_held(summary: IndexSummary) -> str:
    """What the archive holds, for an abstention: "4,790 articles, 2012-09-10 – 2022-12-30"."""
    return ", ".join(filter(None, (_article_count(summary), _date_span(summary))))


def abstain(
    query: str, summary: IndexSummary, reason: str, closest: Sequence[Headline] = ()
) -> Answer:
    """An abstention that says why in one line and what the archive has closest to it."""
    return Answer(
        answer=abstention_reason_text(query, summary, reason, closest),
        abstained=True,
        query=query,
        abstain_reason=reason,
        closest=list(closest),
    )


def abstention_reason_text(
    query: str, summary: IndexSummary, reason: str, closest: Sequence[Headline] = ()
) -> str:
    """ "I couldn't find who painted the Mona Lisa in these articles (4,790 articles, 2012-09-10 –
    2022-12-30). Closest: 'Title' (CNN, 12 Oct 2022)." — or where the archive ends."""
    text = f"I couldn't find {asked_phrase(query)} in these articles ({abstention_held(summary)})."
    if reason == "after_archive" and summary.last_date:
        text += f" My articles end on {human_date(summary.last_date)}."
    return text + closest_text(closest)


def closest_text(closest: Sequence[Headline]) -> str:
    """ " Closest: ‘Title’ (CNN, 12 Oct 2022)." or "" when there is none."""
    if not closest:
        return ""
    shown = "; ".join(
        f"‘{h.title}’ ({', '.join(filter(None, (h.source, human_date(h.date))))})" for h in closest
    )
    return f" Closest: {shown}."


def asked_phrase(query: str) -> str:
    """The question as a phrase to put after "I couldn't find": "Who painted the Mona Lisa?" →
    "who painted the Mona Lisa"; a question that opens otherwise → "that"."""
    words = query.strip().rstrip("?!. ").split(maxsplit=1)
    if len(words) < 2 or words[0].lower() not in QUESTION_OPENERS:
        return "that"
    return f"{words[0].lower()} {words[1]}"


def no_match_text(filters: SearchFilters, summary: IndexSummary, shown_sources: int = 8) -> str:
    """Why a filtered question has nothing to search, and what the index does hold."""
    asked = []
    if filters.sources:
        asked.append("from " + " or ".join(filters.sources))
    if filters.since and filters.until:
        asked.append(f"dated {filters.since} – {filters.until}")
    elif filters.since:
        asked.append(f"dated {filters.since} or later")
    elif filters.until:
        asked.append(f"dated {filters.until} or earlier")
    held = [name for name, _ in summary.sources[:shown_sources]]
    if len(summary.sources) > len(held):
        held.append(f"{len(summary.sources) - len(held)} more")
    span = f" ({dates})" if (dates := _date_span(summary)) else ""
    sources = f" from {', '.join(held)}" if held else ""
    return f"No article is {' and '.join(asked)}. I have {_article_count(summary)}{span}{sources}."


def _article_count(summary: IndexSummary) -> str:
    return f"{summary.articles} {'article' if summary.articles == 1 else 'articles'}"


def _date_span(summary: IndexSummary) -> str:
    if summary.first_date and summary.last_date:
        return f"{summary.first_date} – {summary.last_date}"
    return ""
