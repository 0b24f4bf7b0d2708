"""The answer composer's preference among sentences for a question asked on a day: recent reports
first, a stated outcome over a forecast for an outcome question, and no report written before the
time the question names.

Kept apart from reading outcome questions and sentences (`retrieval.outcomes`), which timelines,
the second search and winner naming use too: this is how the composer weighs what they read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from retrieval.dates import parse_date
from retrieval.outcomes import YEAR, OutcomeQuestion, earliest_day
from retrieval.search import Passage

# A sentence that opens with a named winner and its result: "The Los Angeles Rams defeat …",
# "Scottie Scheffler wins, claiming …", "Argentina beat France …".
NAMED_RESULT = re.compile(
    r"(?:The\s+)?(?!(?:This|That|These|Those|There|It|He|She|They|We)\b)"
    r"(?:[A-Z][\w.’'-]*\s+){1,5}"
    r"(?:won|wins?|beat|beats|defeat|defeats|defeated|captures?|captured|clinch(?:es|ed)?"
    r"|claim(?:s|ed)?|edged?|edges|routs?|routed|sweeps?|swept)\b"
)

FULL_COVERAGE = 0.5  # a stated outcome counts fully in a sentence that matches half the question
RECENCY_HALF_LIFE_DAYS = 7.0  # a report a week older than the newest counts half as recent


@dataclass(frozen=True)
class OutcomePreference:
    """The answer composer's preference among sentences for one question asked on `as_of`.

    Every sentence gains up to `recency_weight` for how recent its report is among those on or
    before `as_of` (news questions ask what is known by then); for an outcome question it gains
    `outcome_weight` times its `signal`; and one from an article written before the time the
    question names loses `outcome_weight`.
    """

    question: OutcomeQuestion | None
    earliest: date | None = None
    as_of: date | None = None
    newest: date | None = None  # the newest article on or before `as_of` among the passages
    outcome_weight: float = 0.3
    recency_weight: float = 0.25

    @classmethod
    def of(
        cls,
        query: str,
        passages: Sequence[Passage],
        as_of: date | None,
        outcome_weight: float = 0.3,
        recency_weight: float = 0.25,
    ) -> OutcomePreference:
        dates = [d for p in passages if (d := parse_date(p.date)) and (as_of is None or d <= as_of)]
        return cls(
            OutcomeQuestion.of(query),
            earliest_day(query, as_of),
            as_of,
            max(dates, default=None),
            outcome_weight,
            recency_weight,
        )

    def score(self, passage: Passage, sentence: str, coverage: float) -> float:
        """What to add to the score of `sentence`, which holds `coverage` of the question's
        term weight (see the class). A stated outcome counts in proportion to that coverage up
        to `FULL_COVERAGE`: the outcome of some other event ("The AFC defeats the NFC") is no
        answer."""
        published = parse_date(passage.date)
        if published and self.earliest and published < self.earliest:
            return -self.outcome_weight  # written before the event: at most a preview of it
        score = self.recency_weight * self.freshness(published)
        if self.question is not None:
            signal = self.question.signal(sentence)
            if signal > 0 and self._other_edition(sentence):
                signal = 0.0  # "The Lightning won the last two Stanley Cups in 2020 and 2021."
            if signal > 0:
                signal *= min(1.0, coverage / FULL_COVERAGE)
            score += self.outcome_weight * signal
        return score

    def spans(self, passage: Passage) -> list[tuple[int, int]]:
        """The spans of `passage` to score as answers: its sentences and, for an outcome
        question, each sentence that sets a scene without an outcome ("Super Bowl LVI takes place
        at SoFi Stadium") joined to the next when that one states the outcome without naming the
        event ("The Los Angeles Rams defeat the Cincinnati Bengals, 23-20"): the pair answers
        what neither does alone."""
        sentences = list(passage.sentences)
        if self.question is None:
            return sentences
        text = [passage.text[a - passage.start : b - passage.start] for a, b in sentences]
        joined = [
            (sentences[n][0], sentences[n + 1][1])
            for n in range(len(sentences) - 1)
            if NAMED_RESULT.match(text[n + 1])  # the cheap test first
            and "\n\n" not in _gap(passage, sentences, n)
            and self.question.signal(text[n]) == 0
            and self.question.signal(text[n + 1]) > 0
        ]
        return sentences + joined

    def freshness(self, published: date | None) -> float:
        """1 for the newest report on or before `as_of`, halving each week before it; 0 for
        undated reports and reports after `as_of` (not out yet on the day asked)."""
        if published is None or self.newest is None:
            return 0.0
        if self.as_of is not None and published > self.as_of:
            return 0.0
        return 0.5 ** (max(0, (self.newest - published).days) / RECENCY_HALF_LIFE_DAYS)

    def _other_edition(self, sentence: str) -> bool:
        """Whether the sentence names only years the question does not (another season)."""
        asked = self.question.years if self.question else frozenset()
        named = set(YEAR.findall(sentence))
        return bool(asked) and bool(named) and not named & asked


def _gap(passage: Passage, sentences: Sequence[tuple[int, int]], n: int) -> str:
    """The text between sentence `n` and the next (a paragraph break ends a scene)."""
    return passage.text[sentences[n][1] - passage.start : sentences[n + 1][0] - passage.start]
