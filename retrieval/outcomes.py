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

This module reads outcome questions and sentences; the composer's preference among sentences is
`retrieval.outcome_preference`, the note of an earlier count `retrieval.count_updates`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

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


def figure_text(sentence: str, value: float) -> str:
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
