"""Coverage questions: "What do you have on X?" — how much of the archive mentions X.

An abstention says "not in my articles"; a user deciding whether to trust it, or where to look,
wants to know what the archive does hold. So the answer counts the articles that mention every
word of X (stemmed, as search matches them), the stories they tell (near-duplicate articles
count once, see `index.clusters`), by outlet and by month, with the first and last date and the
three most relevant headlines. Counting reads the lexical index's term columns; no passage is
scored except to rank the headlines.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from index.lexical import tokenize
from retrieval.dates import MONTHS, human_date
from retrieval.schema import Coverage, Headline
from retrieval.search import Retriever, SearchFilters

COVERAGE_QUESTION = re.compile(
    r"^\s*(?:(?:what|which articles)\s+(?:do|did)\s+you\s+have|what(?:['’]ve| have)\s+you\s+"
    r"got|(?:how much|what)\s+coverage\s+(?:is there|do you have)?)\s*"
    r"(?:on|about|of|regarding|for)\s+(?P<topic>.+?)(?:\s+(?:is there|do you have))?[\s?.!]*$",
    re.IGNORECASE,
)
HEADLINES = 3
HEADLINE_POOL = 20  # passages searched to rank the headlines of the articles that mention X
SHOWN_SOURCES = 5
SHOWN_MONTHS = 12  # the latest; older months are summed


def coverage_topic(question: str) -> str | None:
    """X in "What do you have on X?", or None when the question asks something else."""
    found = COVERAGE_QUESTION.match(question)
    return found["topic"].strip() if found else None


def coverage(topic: str, retriever: Retriever, filters: SearchFilters | None = None) -> Coverage:
    """Count the articles that mention every word of `topic` (within `filters`)."""
    filters = filters or SearchFilters()
    mentioning = _articles_mentioning(topic, retriever, filters)
    if not mentioning:
        return Coverage(topic, 0, 0)
    records = [retriever.reader.articles[a] for a in sorted(mentioning)]
    dates = sorted(r.date for r in records if r.date)
    stories = {retriever.reader.story(r.id)[0] for r in records}
    sources = Counter(r.source or "unknown outlet" for r in records)
    months = Counter(r.date[:7] for r in records if r.date)
    return Coverage(
        topic,
        len(records),
        len(stories),
        dates[0] if dates else None,
        dates[-1] if dates else None,
        sorted(sources.items(), key=lambda item: (-item[1], item[0])),
        sorted(months.items()),
        _headlines(topic, retriever, filters, mentioning),
    )


def coverage_text(found: Coverage) -> str:
    """The coverage as a short paragraph for the terminal, the page and Telegram."""
    if found.articles == 0:
        return f"None of my articles mention {found.topic}."
    articles = _count(found.articles, "article")
    stories = "" if found.stories == found.articles else f" ({_count(found.stories, 'story')})"
    span = human_date(found.first_date)
    if found.last_date != found.first_date:
        span += f" – {human_date(found.last_date)}"
    verb = "mentions" if found.articles == 1 else "mention"
    lines = [f"{articles} {verb} {found.topic}{stories}, {span}."]
    outlets = ", ".join(f"{s} {n}" for s, n in found.by_source[:SHOWN_SOURCES])
    others = len(found.by_source) - SHOWN_SOURCES
    lines.append(f"By outlet: {outlets}" + (f" and {others} more." if others > 0 else "."))
    months = found.by_month[-SHOWN_MONTHS:]
    earlier = sum(n for _, n in found.by_month[:-SHOWN_MONTHS])
    by_month = ", ".join(f"{_month(m)} {n}" for m, n in months)
    lines.append(f"By month: {by_month}" + (f"; {earlier} earlier." if earlier else "."))
    if found.headlines:
        lines.append("Most relevant:")
        lines += [
            f"‘{h.title}’ ({', '.join(filter(None, (h.source, human_date(h.date))))})"
            for h in found.headlines
        ]
    return "\n".join(lines)


def _articles_mentioning(topic: str, retriever: Retriever, filters: SearchFilters) -> set[str]:
    """The articles holding every term of `topic` somewhere in their text; none when a term
    is one the archive never uses."""
    terms = sorted(set(tokenize([topic])[0]))
    return retriever.reader.articles_with_all(terms, filters)


def _headlines(
    topic: str, retriever: Retriever, filters: SearchFilters, mentioning: set[str]
) -> list[Headline]:
    """The most relevant articles that mention the topic, one per story; when search ranks
    fewer than `HEADLINES` of them, the newest of the rest."""
    reader = retriever.reader
    ranked = (p.article_id for p in retriever.search(topic, HEADLINE_POOL, filters))
    newest = sorted(mentioning, key=lambda a: (reader.articles[a].date or "", a), reverse=True)
    shown: list[Headline] = []
    stories: set[str] = set()
    for article_id in itertools.chain(ranked, newest):
        story = reader.story(article_id)[0]
        if article_id not in mentioning or story in stories:
            continue
        stories.add(story)
        record = reader.articles[article_id]
        shown.append(Headline(record.id, record.title, record.source, record.date))
        if len(shown) == HEADLINES:
            break
    return shown


def _count(n: int, noun: str) -> str:
    plural = "stories" if noun == "story" else f"{noun}s"
    return f"{n:,} {noun if n == 1 else plural}"


def _month(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"
