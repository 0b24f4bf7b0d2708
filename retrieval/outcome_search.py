"""A second search for an outcome question, for the report that states the result.

Previews share more of the question's words than the result does ("Phillies and Astros face off
in the 2022 World Series" against "Houston Astros won the World Series"), so the report of the
result can rank far below them (14th, 33rd) and never reach the answer composer. A second
search asks for the result in the words reports use for it (the question with "won beat
defeated winner …" for "Who won …?"), lexically, among the reports of the 30 days before the
question's `as_of` (what a news question most likely asks about), and its passages join the
first search's. On the who-said-what set's outcome questions this found the World Series result
(ranked 14th and 21st before) and the Conservative leadership result (33rd behind previews); as
a lexical search over 40 candidates it keeps outcome questions about as fast as before (median
114 ms with it, 104–121 ms without, on the quiz set's outcome questions on a loaded machine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from retrieval.outcomes import OutcomeQuestion
from retrieval.search import Passage, SearchFilters

# Words a report of each kind of outcome states it with: added to the question for the second,
# lexical, search.
RESULT_WORDS = {
    "win": "won beat defeated winner champion elected victory",
    "loss": "lost defeated conceded ousted",
    "death": "died killed dead death toll",
    "law": "passed approved signed rejected",
    "court": "sentenced convicted verdict guilty",
}
REPORT_WINDOW_DAYS = 30  # the second search reads reports of this many days up to `as_of`
REPORT_POOL = 40  # lexical candidates it ranks (the first search ranks 100 of each kind)


def result_query(question: str, outcome: OutcomeQuestion) -> str:
    """The question with the words its kinds of outcome are reported in."""
    words = dict.fromkeys(w for kind in outcome.kinds for w in RESULT_WORDS.get(kind, "").split())
    return f"{question} {' '.join(words)}".strip()


def report_filters(filters: SearchFilters, as_of: date) -> SearchFilters | None:
    """`filters` narrowed to the reports of the window before `as_of`; None when they leave no
    day of it."""
    since = as_of - timedelta(days=REPORT_WINDOW_DAYS)
    if filters.since is not None:
        since = max(since, filters.since)
    until = as_of if filters.until is None else min(as_of, filters.until)
    if since > until:
        return None
    return replace(filters, since=since, until=until)


def merged(first: Sequence[Passage], second: Sequence[Passage]) -> tuple[list[Passage], list[int]]:
    """The first search's passages, then the second's that it lacks, with each one's rank in the
    search that found it: the composer's rank penalty then treats both searches' leaders alike,
    and the first search's passages keep their places."""
    held = {p.chunk_id for p in first}
    added = [(rank, p) for rank, p in enumerate(second) if p.chunk_id not in held]
    return [*first, *(p for _, p in added)], [*range(len(first)), *(rank for rank, _ in added)]
