"""Recognising a question worded as a timeline, and the days it names.

"Timeline of X", "X timeline", "How did X unfold?", "What are the key events in X?", and "What
happened with X" over a stretch of time ("since March", "between May and July 2022", "so far")
ask how a story unfolded rather than for one answer; `retrieval.timeline` answers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from retrieval.outcomes import MONTHS

MONTH = "|".join(MONTHS) + r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
# A day as a question writes it: 2022-03-01, March 2022, March 3, 2022, 3 March, March, 2022.
DAY = (
    rf"\d{{4}}-\d{{2}}-\d{{2}}|(?:{MONTH})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTH})\.?(?:\s+\d{{4}})?|\d{{4}}"
)
SPAN = re.compile(
    rf"\s*(?:,\s*)?\b(?:(?P<between>between|from)\s+(?P<a>{DAY})\s+(?:and|to|until|till)\s+"
    rf"(?P<b>{DAY})|(?P<since>since|after|from)\s+(?P<s>{DAY})|(?P<until>until|till|before|"
    rf"up to)\s+(?P<u>{DAY}))\b\.?",
    re.I,
)
OVER_TIME = re.compile(
    r"\s*\b(?:so far|over time|to date|until now|over the (?:weeks|months))\b", re.I
)
END = r"\s*[?.!]*\s*$"
ASKS = (
    # "Timeline of X", "Give me a timeline for X", "chronology of X"
    re.compile(
        r"^\s*(?:(?:please\s+)?(?:give|show|make|build|draw|tell)\s+(?:me\s+)?|what\s+is\s+|"
        r"what's\s+)?(?:an?\s+|the\s+)?(?:timeline|chronology)\s+(?:of|for|on|about)\s+"
        rf"(?:the\s+events?\s+(?:of|in)\s+)?(?P<topic>.+?){END}",
        re.I,
    ),
    # "X timeline"
    re.compile(rf"^\s*(?P<topic>.+?)\s+(?:timeline|chronology){END}", re.I),
    # "How did X unfold?", "How has X developed?", "How did X play out?"
    re.compile(
        r"^\s*how\s+(?:did|has|have|had)\s+(?P<topic>.+?)\s+(?:unfold(?:ed)?|develop(?:ed)?"
        rf"|evolve[d]?|play(?:ed)?\s+out|progress(?:ed)?){END}",
        re.I,
    ),
    # "What are the key events in X?"
    re.compile(
        r"^\s*what\s+(?:are|were)\s+the\s+(?:key\s+|main\s+|major\s+)?(?:events|developments|"
        rf"milestones|moments|turning points)\s+(?:of|in|on|around)\s+(?P<topic>.+?){END}",
        re.I,
    ),
)
# "What happened with X" is a timeline only over a stretch of time ("since March", "so far").
HAPPENED = re.compile(
    r"^\s*what\s+(?:has\s+|have\s+)?happen(?:ed|s)\s+(?:with|to|in|at|on|around|over)\s+"
    rf"(?P<topic>.+?){END}",
    re.I,
)

WORDS = re.compile(r"[\w’'-]+")


@dataclass(frozen=True)
class TimelineQuestion:
    """What a timeline is asked about, and the days it is bounded to (None: unbounded)."""

    topic: str
    since: date | None = None
    until: date | None = None


def timeline_question(question: str, reference: date | None = None) -> TimelineQuestion | None:
    """The topic and date bounds of a question worded as a timeline, or None.

    `reference` is the day a month without a year is counted back from ("since March": the
    latest March on or before it); without one, today."""
    reference = reference or date.today()
    text = question.strip()
    since = until = None
    span = SPAN.search(text)
    if span is not None:
        since, until = _span_days(span, reference)
        text = (text[: span.start()] + text[span.end() :]).strip()
    bounded = span is not None or bool(OVER_TIME.search(text))
    text = OVER_TIME.sub("", text).strip()
    patterns = (*ASKS, HAPPENED) if bounded else ASKS
    for pattern in patterns:
        match = pattern.match(text)
        if match and (topic := _topic(match["topic"])):
            return TimelineQuestion(topic, since, until)
    return None


def _topic(text: str) -> str:
    topic = text.strip(" ,;:?.!")
    return topic if WORDS.search(topic) else ""


def _span_days(span: re.Match[str], reference: date) -> tuple[date | None, date | None]:
    if span["between"]:
        until = _day(span["b"], reference, first=False)  # "May" in "May to July 2022" is 2022's
        return _day(span["a"], until or reference, first=True), until
    if span["since"]:
        return _day(span["s"], reference, first=True), None
    return None, _day(span["u"], reference, first=False)


def _day(text: str, reference: date, *, first: bool) -> date | None:
    """The first (or last) day a phrase of DAY names."""
    text = text.strip().rstrip(".")
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1) if first else date(int(text), 12, 31)
    month = _month(text)
    if month is None:
        return None
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    year = next((n for n in numbers if n > 31), None)
    day = next((n for n in numbers if n <= 31), None)
    if year is None:
        year = reference.year if month <= reference.month else reference.year - 1
    try:
        if day is not None:
            return date(year, month, day)
        if first:
            return date(year, month, 1)
        return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    except ValueError:
        return None


def _month(text: str) -> int | None:
    for word in WORDS.findall(text):
        for number, name in enumerate(MONTHS, start=1):
            if len(word) >= 3 and name.lower().startswith(word.lower()):
                return number
    return None
