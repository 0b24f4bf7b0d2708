"""The note an answer to a "how many" question adds when the count was reported differently
before: "(up from 5,000 reported on 7 Feb [2])".

Kept apart from outcome questions and the composer's preference among sentences: it runs once,
after the answer's sentences are chosen, and reads them and the other candidates as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from retrieval.dates import parse_date
from retrieval.outcomes import MONTHS, OutcomeQuestion, figure_text
from retrieval.search import Passage


class ScoredSentence(Protocol):
    """A candidate sentence of a passage, as the answer composer scores it."""

    passage: Passage
    start: int
    end: int
    coverage: float

    @property
    def quote(self) -> str: ...


@dataclass(frozen=True)
class UpdateNote:
    """An earlier report of the figure the answer gives, noted after it: "(up from 5,000
    reported on 7 Feb [2])". `chosen` is the answer's sentences with the earlier report second
    and without other sentences that give an older figure of the same count."""

    earlier: ScoredSentence
    chosen: list[ScoredSentence]
    change: str  # "up from 5,000 reported on 7 Feb"

    def text(self, n: int) -> str:
        return f"({self.change} [{n}])"


def describe_change(
    latest: float, earlier: float, earlier_text: str, reported: date, latest_reported: date
) -> str:
    """How the figure changed since an earlier report, as "up from 5,000 reported on 7 Feb"
    (with the year only when it differs from the latest report's)."""
    day = f"{reported.day} {MONTHS[reported.month - 1][:3]}"
    if reported.year != latest_reported.year:
        day += f" {reported.year}"
    return f"{'up' if latest > earlier else 'down'} from {earlier_text} reported on {day}"


def update_note(
    query: str,
    chosen: Sequence[ScoredSentence],
    candidates: Sequence[ScoredSentence],
    max_sentences: int,
) -> UpdateNote | None:
    """For a "how many" outcome question whose answer states a figure, the best-scoring earlier
    report of a different figure of the same count, or None (not a count, no earlier figure).

    Both reports must state the figure as an outcome, not a forecast, and the earlier one must
    match the question at least half as well as the answer.
    """
    question = OutcomeQuestion.of(query)
    if question is None or not question.counts or not chosen:
        return None
    first = chosen[0]
    latest, reported = question.figure(first.quote), parse_date(first.passage.date)
    if latest is None or reported is None or question.signal(first.quote) <= 0:
        return None
    for candidate in candidates:
        published = parse_date(candidate.passage.date)
        if published is None or published >= reported:
            continue
        if candidate.coverage < 0.5 * first.coverage or question.signal(candidate.quote) <= 0:
            continue
        figure = question.figure(candidate.quote)
        if figure is None or figure == latest:
            continue
        rest = [
            c for c in chosen[1:] if c is not candidate and not _older_figure(question, c, reported)
        ]
        change = describe_change(
            latest, figure, figure_text(candidate.quote, figure), published, reported
        )
        return UpdateNote(candidate, [first, candidate, *rest[: max_sentences - 1]], change)
    return None


def _older_figure(question: OutcomeQuestion, candidate: ScoredSentence, reported: date) -> bool:
    published = parse_date(candidate.passage.date)
    return bool(published and published < reported and question.figure(candidate.quote))
