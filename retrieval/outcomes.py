"""Outcome questions ("Who won …?", "How many died …?", "Did … pass?") answered from reports.

Before an event the news is full of previews that match its words better than the result does
("Soon, the Eagles and the Chiefs will go head-to-head …"); the answer is in the reports after
it ("… the Chiefs are the winners of Super Bowl 57"). So for a question about an outcome, a
sentence that states an outcome of the kind asked (won, beat, was elected; died, killed; passed;
was sentenced) is preferred to one that speculates (will, could, expected to, favourites, odds),
and the latest such report on or before the question's `as_of` day to earlier ones. For any
question, an article written before the time the question names ("the 2022 World Cup", "in
September", "this week") cannot report what happened then. These are preferences, never
filters: a sentence that matches the question better can still win. When a count was updated
over time (a death toll rising), the answer gives the latest figure and notes the earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

from retrieval.search import Passage

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip
MONTH = "|".join(MONTHS)
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
MONTH_YEAR = re.compile(rf"\b({MONTH})\s+(?:\d{{1,2}},?\s+)?(19[5-9]\d|20\d\d)\b")
IN_MONTH = re.compile(rf"\b(?:in|since|during|this|last|early|late|mid-)\s+({MONTH})\b(?!\s+\d)")
# Relative times a question may name, and how many days before `as_of` they reach back.
RECENT = (
    (re.compile(r"\b(this|past) week(end)?\b|\btoday\b|\byesterday\b|\btonight\b", re.I), 7),
    (re.compile(r"\blast week(end)?\b", re.I), 14),
)
THIS_MONTH = re.compile(r"\bthis month\b", re.I)
THIS_YEAR = re.compile(r"\bthis year\b|\bthis year[’']s\b", re.I)

# Kinds of outcome, as a question asks them …
ASKED_KINDS = {
    "win": r"won(?![’']t)|win|wins|winners?|beat|beaten|defeat(?:ed)?|(?:re-?)?elected|victory"
    r"|victorious|champions?|crowned|clinched|claimed|captured|score|margin",
    "loss": r"lost|lose|loses|losers?|eliminated|ousted|conceded",
    "death": r"died|dead|killed|deaths?|toll|casualties|fatalities|injured",
    "law": r"pass|passed|approve|approved|reject|rejected|overturn|overturned|veto|vetoed"
    r"|ratify|ratified|sign|signed",
    "court": r"verdict|sentenced|convict|convicted|acquit|acquitted|guilty|ruled|sentence",
    "any": r"result|results|outcome|tally",
}
# … and as a report states them.
STATED_KINDS = {
    "win": r"won(?![’']t)|wins|beat|beats|defeated|defeats|clinched|clinches|captured|captures"
    r"|secured|edged|routed|swept|sweeps|crowned|(?:re-?)?elected|became|becomes|took home"
    r"|took office|sworn in|lost to|conceded to|claimed (?:the |a |his |her |their |its )?"
    r"(?:victory|win|title|crown|championship|trophy|seat|presidency)"
    r"|(?:declared|named|pronounced|announced as|was|were|is|are|been|became)\s+(?:now\s+)?"
    r"(?:the\s+)?(?:new\s+|\d{4}\s+)?(?:winners?|champions?|victors?|president-elect)"
    r"|(?:his|her|their|its) (?:victory|win|triumph)|after (?:winning|beating|defeating)"
    # The plural present of chronologies and headlines, after a name: "The Houston Astros win
    # the World Series", "The Los Angeles Rams defeat the Cincinnati Bengals".
    r"|(?<=[A-Z][a-z]s )(?:win|defeat|beat|capture|clinch|claim|edge|rout|sweep)",
    "loss": r"lost|loses|losing|conceded|concedes|ousted|eliminated|knocked out"
    r"|(?:his|her|their|its) (?:defeat|loss)",
    "death": r"died|dies|killed|kills|dead|deaths|death toll|fatalities|passed away|perished"
    r"|lost (?:his|her|their) lives",
    "law": r"passed|approved|rejected|overturned|upheld|vetoed|signed|ratified|adopted"
    r"|struck down|voted",
    "court": r"sentenced|convicted|acquitted|found guilty|pleaded guilty|ruled|jailed"
    r"|verdict (?:was|came)",
}
ASKED = {kind: re.compile(rf"\b(?:{words})\b", re.I) for kind, words in ASKED_KINDS.items()}
STATED = {kind: re.compile(rf"\b(?:{words})\b", re.I) for kind, words in STATED_KINDS.items()}
ANSWERED_BY = {"win": ("win",), "loss": ("loss", "win"), "death": ("death",), "law": ("law",),
               "court": ("court",), "any": tuple(STATED)}  # fmt: skip
STATED_COUNT = re.compile(r"\d[\d,.]*\s+(?:\w+\s+){0,2}(?:dead|deaths|casualties)\b", re.I)

# A stated verb does not count when a modal or a condition governs it ("will win", "could be
# elected", "to win", "if Petro wins on …").
GOVERNED = re.compile(
    r"\b(will|would|could|may|might|can|shall|should|must|to|cannot)"
    r"(?:\s+(?:not|be|have|also|still|now|then|finally|easily|likely))*\s*$",
    re.I,
)
CONDITION = re.compile(r"\b(?:if|whether|unless)\b[^,;:]*$", re.I)
# A stated verb whose subject is a pronoun does not say who ("Now she has a WNBA championship
# to go along with a NCAA title she won", "in 2016, when she won her House seat"): about one in
# eight stated wins in the development corpus. The sentence that names the winner is the answer.
PRONOUN_SUBJECT = re.compile(
    r"\b(?:he|she|they|it|we|I|you)(?:\s+(?:\w+ly|also|just|then|still|had|has|have|was|were))*"
    r"\s+$",
    re.I,
)
GOVERNED_REACH = 60  # characters before a verb searched for what governs it
# A sentence speculates when it looks ahead. "may" only in lower case: "May" is the month.
SPECULATES = re.compile(
    r"\bmay\b|(?i:\b(?:will|would|could|might|shall|won[’']t|wouldn[’']t|couldn[’']t)\b"
    r"|[’']ll\b|\b(?:expected|set|poised|likely|tipped|slated|scheduled|projected|predicted"
    r"|favou?red|going|hoping|hopes?|aims?|seeks?|bids?|vying|looking) to\b"
    r"|\bon (?:course|track) to\b|\bchances? (?:to|of)\b|\bfavou?rites?\b|\bodds\b"
    r"|\bbookmakers\b|\bpreview\w*\b|\bpredict\w*\b|\bupcoming\b|\bahead of\b|\bhead-to-head\b"
    r"|\bshowdown\b|\bcontenders?\b|\bhopefuls?\b|\bnominat\w+\b|\bnominees?\b|\bif\b"
    r"|\bwhether\b|\bsoon\b|\btomorrow\b|\bnext (?:week|month|year)\b"
    r"|\bpolls? (?:show|suggest|indicate)\w*\b|\bexit polls?\b)"
)

# A sentence that opens with a named winner and its result: "The Los Angeles Rams defeat …",
# "Scottie Scheffler wins, claiming …", "Argentina beat France …".
NAMED_RESULT = re.compile(
    r"(?:The\s+)?(?!(?:This|That|These|Those|There|It|He|She|They|We)\b)"
    r"(?:[A-Z][\w.’'-]*\s+){1,5}"
    r"(?:won|wins?|beat|beats|defeat|defeats|defeated|captures?|captured|clinch(?:es|ed)?"
    r"|claim(?:s|ed)?|edged?|edges|routs?|routed|sweeps?|swept)\b"
)

ASKS_COUNT = re.compile(r"\bhow (many|much)\b|\bwhat (number|figure)\b|\btoll\b", re.I)
COUNT_SKIPPED = frozenset(("were", "was", "are", "is", "have", "has", "had", "did", "do", "does",
                           "been", "be", "the", "a", "an", "this", "that", "these", "those",
                           "people", "so", "far", "total", "overall"))  # fmt: skip
# What is counted ends where the question goes on to say where, when or why.
COUNT_END = frozenset(("in", "on", "at", "of", "by", "for", "to", "from", "after", "during",
                       "since", "when", "as", "while", "with"))  # fmt: skip
DEATH_WORDS = ("died", "dead", "death", "deaths", "killed", "killing", "kills", "toll", "bodies",
               "fatalities", "lives", "casualties")  # fmt: skip
# A figure next to what is counted: "killed at least 1,400", "5,300 bodies", "toll rose to 41".
NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s+(million|thousand|billion))?(?!\w)"
)
SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
PERCENT = re.compile(r"\s*(?:%|per ?cent)", re.I)
WORD = re.compile(r"[A-Za-z][\w’'-]*")
NEAR_WORDS = 15  # a figure belongs to a counted word at most this many words away

FULL_COVERAGE = 0.5  # a stated outcome counts fully in a sentence that matches half the question
RECENCY_HALF_LIFE_DAYS = 7.0  # a report a week older than the newest counts half as recent


class ScoredSentence(Protocol):
    """A candidate sentence of a passage, as the answer composer scores it."""

    passage: Passage
    start: int
    end: int
    coverage: float

    @property
    def quote(self) -> str: ...


@dataclass(frozen=True)
class OutcomeQuestion:
    """A question about how something turned out: the kinds of outcome that answer it, the
    years it names, and, for "how many" questions, the words of what it counts ("died" → the
    death words; empty when it asks for no figure)."""

    kinds: tuple[str, ...]
    counted: tuple[str, ...] = ()
    years: frozenset[str] = frozenset()

    @classmethod
    def of(cls, question: str) -> OutcomeQuestion | None:
        # Read the asking clause only: quiz questions often state an outcome first ("X died
        # this week.") and then ask about something else.
        asking = _asking_clause(question)
        asked = [kind for kind, pattern in ASKED.items() if pattern.search(asking)]
        if not asked:
            return None
        kinds = tuple(dict.fromkeys(k for kind in asked for k in ANSWERED_BY[kind]))
        return cls(kinds, _counted(asking), frozenset(YEAR.findall(question)))

    @property
    def counts(self) -> bool:
        return bool(self.counted)

    def signal(self, sentence: str) -> float:
        """+1 when the sentence states an outcome of an asked kind, −1 when it only speculates,
        ½ when a forward look comes before the outcome ("will become president after winning
        …"), 0 when it does neither."""
        return _signal(self.kinds, sentence)

    def figure(self, sentence: str) -> float | None:
        """The figure of what the question counts in `sentence`, or None when it holds none."""
        near = [m.start() for m in WORD.finditer(sentence) if _counts_as(m.group(), self.counted)]
        if not near:
            return None
        best: tuple[int, float] | None = None
        for match in NUMBER.finditer(sentence):
            if not _is_count(sentence, match):
                continue
            between = min(len(WORD.findall(_between(sentence, match.start(), p))) for p in near)
            if between <= NEAR_WORDS and (best is None or between <= best[0]):
                best = (between, _value(match))  # on a tie the later: "7.8 quake killed 5,000"
        return best[1] if best else None


@lru_cache(maxsize=4096)
def _signal(kinds: tuple[str, ...], sentence: str) -> float:
    """`OutcomeQuestion.signal`, kept for the sentences of recent questions: the composer reads
    each sentence's signal twice (joining a scene to its result, then scoring)."""
    stated = [
        m.start()
        for kind in kinds
        for m in STATED[kind].finditer(sentence)
        if not _governed(sentence, m.start()) and not _pronoun_subject(sentence, m.start())
    ]
    if "death" in kinds and (count := STATED_COUNT.search(sentence)):
        stated.append(count.start())
    looks_ahead = SPECULATES.search(sentence)
    if not stated:
        return -1.0 if looks_ahead else 0.0
    return 0.5 if looks_ahead and looks_ahead.start() < min(stated) else 1.0


def earliest_day(question: str, as_of: date | None) -> date | None:
    """The first day the question's events can fall on, from the times it names: a year ("the
    2022 World Cup"), a month ("in September"), or a time relative to `as_of` ("this week")."""
    starts = []
    years = [int(y) for y in YEAR.findall(question)]
    month_years = [(MONTHS.index(m) + 1, int(y)) for m, y in MONTH_YEAR.findall(question)]
    if month_years:
        starts.append(min(date(y, m, 1) for m, y in month_years))
    elif years:
        starts.append(date(min(years), 1, 1))
    if as_of is not None:
        for pattern, days in RECENT:
            if pattern.search(question):
                starts.append(as_of - timedelta(days=days))
        if THIS_MONTH.search(question):
            starts.append(as_of.replace(day=1))
        if THIS_YEAR.search(question):
            starts.append(as_of.replace(month=1, day=1))
        for month in IN_MONTH.findall(question) if not month_years else ():
            number = MONTHS.index(month) + 1
            year = as_of.year if number <= as_of.month else as_of.year - 1
            starts.append(date(year, number, 1))
    return max(starts, default=None)


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
        dates = [d for p in passages if (d := _date(p.date)) and (as_of is None or d <= as_of)]
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
        published = _date(passage.date)
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
    latest, reported = question.figure(first.quote), _date(first.passage.date)
    if latest is None or reported is None or question.signal(first.quote) <= 0:
        return None
    for candidate in candidates:
        published = _date(candidate.passage.date)
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
            latest, figure, _figure_text(candidate.quote, figure), published, reported
        )
        return UpdateNote(candidate, [first, candidate, *rest[: max_sentences - 1]], change)
    return None


def _older_figure(question: OutcomeQuestion, candidate: ScoredSentence, reported: date) -> bool:
    published = _date(candidate.passage.date)
    return bool(published and published < reported and question.figure(candidate.quote))


def _figure_text(sentence: str, value: float) -> str:
    """The figure as the sentence writes it ("5,000", "1.2 million")."""
    for match in NUMBER.finditer(sentence):
        if _value(match) == value:
            return match.group()
    return f"{value:,.0f}"


def _asking_clause(question: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", question.strip())
    return sentences[-1]


def _counted(asking: str) -> tuple[str, ...]:
    """The words of what a count question counts: those after "how many" up to the first
    preposition ("how many people died in …" → died); a death word stands for all of them."""
    found = ASKS_COUNT.search(asking)
    if not found:
        return ()
    words = []
    for word in (w.lower() for w in WORD.findall(asking[found.end() :])):
        if word in COUNT_END:
            break
        if word not in COUNT_SKIPPED:
            words.append(word)
    if found.group().lower() == "toll" or any(_counts_as(w, DEATH_WORDS) for w in words):
        return DEATH_WORDS
    return tuple(words[:3])


def _counts_as(word: str, counted: Sequence[str]) -> bool:
    """The same word, or one with the same first five letters ("injured", "injuries")."""
    word = word.lower()
    return any(word == c or (len(word) >= 5 and word[:5] == c[:5]) for c in counted)


def _governed(sentence: str, position: int) -> bool:
    before = sentence[max(0, position - GOVERNED_REACH) : position]
    return bool(GOVERNED.search(before) or CONDITION.search(before))


def _gap(passage: Passage, sentences: Sequence[tuple[int, int]], n: int) -> str:
    """The text between sentence `n` and the next (a paragraph break ends a scene)."""
    return passage.text[sentences[n][1] - passage.start : sentences[n + 1][0] - passage.start]


def _pronoun_subject(sentence: str, position: int) -> bool:
    return bool(PRONOUN_SUBJECT.search(sentence[max(0, position - GOVERNED_REACH) : position]))


def _between(sentence: str, a: int, b: int) -> str:
    return sentence[min(a, b) : max(a, b)]


def _is_count(sentence: str, match: re.Match[str]) -> bool:
    """A year is a date and a percentage a rate; other numbers may be counts."""
    year = YEAR.fullmatch(match.group(1)) and not match.group(2)
    return not (year or PERCENT.match(sentence, match.end()))


def _value(match: re.Match[str]) -> float:
    return float(match.group(1).replace(",", "")) * SCALE.get((match.group(2) or "").lower(), 1)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
