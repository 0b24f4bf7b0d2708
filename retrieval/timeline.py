"""Timelines: how a story unfolded, one dated line per day, each line a cited sentence.

"Timeline of X", "How did X unfold?", "What happened with X since March?" ask for the dated
events about X in order rather than for one answer. The events come from a wider pool of the
passages most relevant to X than an answer reads. For each day the sentence shown is the one
that states what happened: a past-tense report, best of all the article's lede, over a preview
("will", "expected to"), background ("has been", "in 2019") or page furniture. One story told
by several outlets takes one line: search already gives a story cluster one article, and a
sentence that repeats an earlier line (a wire copy run a day later) is passed over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from index.lexical import LexicalIndex, tokenize
from index.store import IndexSummary
from retrieval.answer import abstention_held, no_match_text
from retrieval.dates import human_date
from retrieval.deep_links import deep_url
from retrieval.outcomes import MONTHS, SPECULATES, STATED, OutcomeQuestion
from retrieval.schema import Answer, Citation, Timeline, TimelineEvent
from retrieval.search import Passage, Retriever, SearchFilters
from retrieval.sentence_kinds import is_answer_sentence

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
        rf"milestones)\s+(?:of|in|on|around)\s+(?P<topic>.+?){END}",
        re.I,
    ),
)
# "What happened with X" is a timeline only over a stretch of time ("since March", "so far").
HAPPENED = re.compile(
    r"^\s*what\s+(?:has\s+|have\s+)?happen(?:ed|s)\s+(?:with|to|in|at|on|around|over)\s+"
    rf"(?P<topic>.+?){END}",
    re.I,
)

# A verb in the past: "-ed" but not as an adjective after a determiner ("the uncrewed rocket"),
# an irregular past, or a perfect ("has become").
PAST_FORM = re.compile(
    r"(?<!\ba )(?<!\ban )(?<!\bthe )(?<!\bits )(?<!\bhis )(?<!\bher )(?<!\btheir )"
    r"(?<!\bThe )(?<!\bbe )\b[a-z]{3,}ed\b"
)
PERFECT = re.compile(r"\b(?:has|have|had)\s+(?:\w+ly\s+)?(?:been|become|\w+ed|\w+en)\b")
IRREGULAR_PAST = re.compile(
    r"\b(?:was|were|took|made|went|came|got|gave|saw|became|began|fell|rose|hit|led|left|met|"
    r"ran|sold|bought|brought|held|kept|paid|shot|spent|stood|struck|sent|broke|chose|drew|"
    r"drove|flew|grew|found|fought|built|caught|lost|won|beat|quit|cut|threw|stole|told|said)\b"
)
BACKGROUND = re.compile(
    r"\b(?:has|have|had) (?:long |also |already |repeatedly |previously )?been\b|\bfor (?:years|"
    r"decades|months)\b|\bin recent (?:years|months|weeks)\b|\bhistory of\b|\bpreviously\b"
    r"|\bearlier this (?:year|month)\b|\blast (?:year|month)\b|\bsince (?:19|20)\d\d\b"
    r"|\b(?:is|are) (?:known|considered|one of)\b",
    re.I,
)
WHEN_WORD = re.compile(
    r"\b(?:on (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|yesterday|today|"
    r"this (?:morning|afternoon|evening|week)|(?:late|early) (?:on )?(?:Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday))\b"
)
# A sentence the splitter ended too early, at an abbreviation ("Roe v." | "Wade was …").
CUT_SHORT = re.compile(r"(?:^|\s)(?:v|vs|Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Sgt|No|U\.S)\.$")
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# Someone's words quoted at length: what was said, not what happened.
QUOTATION = re.compile(r"[“\"](?:\S+\s+){4,}")
# Not a report at all: an embedded post, a line introducing a list, a note about the story.
NOT_REPORT = re.compile(
    r"^(?:Turn to|Tune in|Watch|Follow|Sign up|Click|Subscribe)\b|pic\.twitter\.com|\(@\w+\)"
    r"|:\s*$|\bA version of this (?:story|article)\b|\bnewsletter\b"
    r"|\bThis (?:story|article) (?:has been|was) updated\b|\b\d{1,2}:\d\d\s*$",
    re.I,
)
WORDS = re.compile(r"[\w’'-]+")
# Opens on what came before it ("She said …", "But the …"): unclear read on its own.
LEANS_ON_CONTEXT = re.compile(r"\W*(?:He|She|It|They|This|That|These|Those|But|And|Yet|So)\b")
# Opens with a condition, a contrast or what led up to it: the news, if any, is elsewhere.
ASIDE = re.compile(
    r"\W*(?:If|While|Although|Though|Even (?:before|as|if|though)|Having|As|Before|Unlike"
    r"|Despite)\b"
)
ENDS_SENTENCE = re.compile(r"[.!?][\"'”’)\]]*\s*$")
ANY_OUTCOME = OutcomeQuestion(kinds=tuple(STATED))
# Words that frame a topic rather than name it ("the Kessler Bridge saga"): reports of it
# seldom use them, so a line need not hold them.
FRAMING_TERMS = frozenset(tokenize(["saga story stories events situation affair news"])[0])


@dataclass(frozen=True)
class TimelineQuestion:
    """What a timeline is asked about, and the days it is bounded to (None: unbounded)."""

    topic: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class TimelineTuning:
    """Pool, page size and how a day's sentence is chosen; checked on the development index."""

    pool: int = 50  # passages searched for events (an answer reads 5)
    page: int = 12  # lines shown at a time; "more" shows the next ones
    # A day's passage is about the topic when the mean of the share of the topic's words it
    # holds and its cosine to the topic reaches this.
    min_relevance: float = 0.6
    stated_weight: float = 0.6  # states an outcome (won, killed, passed, sentenced)
    past_weight: float = 0.3  # a verb in the past tense
    lede_weight: float = 0.4  # one of the article's first two sentences
    when_weight: float = 0.15  # names the day ("on Tuesday", "yesterday")
    preview_penalty: float = 0.8  # looks ahead (will, expected to); without a past: no line
    background_penalty: float = 0.5  # looks back (has been, for years, in an earlier year)
    quotation_penalty: float = 0.7  # quotes someone's words at length
    fragment_penalty: float = 0.3  # opens with "She", "It", "But" or has no full stop (a heading)
    aside_penalty: float = 0.3  # opens with a condition or a contrast ("If …", "While …")
    similarity_weight: float = 0.5  # the passage's closeness to the topic, within a day
    min_sentence_coverage: float = 0.3  # share of the topic's words a line's sentence holds
    min_line_score: float = 1.0  # a day whose best sentence scores less gets no line
    repeat_overlap: float = 0.6  # word overlap that makes a sentence a repeat of an earlier line


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


@dataclass(frozen=True)
class _Line:
    day: str
    passage: Passage
    start: int
    end: int
    score: float

    @property
    def quote(self) -> str:
        return self.passage.text[self.start - self.passage.start : self.end - self.passage.start]


def timeline_events(
    topic: str,
    passages: Sequence[Passage],
    lexical: LexicalIndex,
    tuning: TimelineTuning | None = None,
) -> list[_Line]:
    """Every day's line about `topic` from `passages`, earliest first (see the module's doc)."""
    tuning = tuning or TimelineTuning()
    terms = sorted(set(tokenize([topic])[0]) - FRAMING_TERMS)
    weights = lexical.idf(terms)
    candidates: dict[str, list[_Line]] = {}
    for passage in passages:
        if not passage.date or not _relevant(passage, weights, tuning):
            continue
        for line in _sentences(passage, weights, tuning):
            candidates.setdefault(passage.date, []).append(line)
    lines: list[_Line] = []
    shown: list[frozenset[str]] = []
    for day in sorted(candidates):
        for line in sorted(candidates[day], key=lambda c: -c.score):
            words = _word_set(line.quote)
            if any(_overlap(words, other) >= tuning.repeat_overlap for other in shown):
                continue
            lines.append(line)
            shown.append(words)
            break
    return lines


def _relevant(passage: Passage, weights: dict[str, float], tuning: TimelineTuning) -> bool:
    """Whether a passage is about the topic: it holds the topic's words and means much the
    same (either may make up for some of the other)."""
    coverage = _coverage(f"{passage.title}\n{passage.text}", weights)
    return (coverage + passage.similarity) / 2 >= tuning.min_relevance


def _sentences(passage: Passage, weights: dict[str, float], tuning: TimelineTuning) -> list[_Line]:
    """The passage's quotable sentences about the topic, each scored for stating what
    happened that day."""
    lines = []
    ledes = _lede_starts(passage)
    published = YEAR.search(passage.date or "")
    for start, end in _whole_sentences(passage):
        quote = passage.text[start - passage.start : end - passage.start]
        if not quote.strip() or not is_answer_sentence(quote) or NOT_REPORT.search(quote):
            continue
        coverage = _coverage(quote, weights)
        if coverage < tuning.min_sentence_coverage:
            continue
        score = coverage + tuning.similarity_weight * passage.similarity
        signal = ANY_OUTCOME.signal(quote)
        reported = SPECULATES.sub(" ", quote)  # "is expected to" is no past tense
        past = any(p.search(reported) for p in (IRREGULAR_PAST, PAST_FORM, PERFECT))
        if signal <= 0 and not past:
            continue  # nothing happened in it: a preview, or the present ("opens at 2 pm")
        if signal > 0:
            score += tuning.stated_weight * signal
        elif signal < 0:
            score -= tuning.preview_penalty
        if past:
            score += tuning.past_weight
        if BACKGROUND.search(quote) or _earlier_year(quote, published):
            score -= tuning.background_penalty
        if start in ledes:
            score += tuning.lede_weight
        if WHEN_WORD.search(quote):
            score += tuning.when_weight
        if QUOTATION.search(quote):
            score -= tuning.quotation_penalty
        if LEANS_ON_CONTEXT.match(quote) or not ENDS_SENTENCE.search(quote):
            score -= tuning.fragment_penalty
        if ASIDE.match(quote):
            score -= tuning.aside_penalty
        if score >= tuning.min_line_score:
            lines.append(_Line(passage.date or "", passage, start, end, score))
    return lines


def _whole_sentences(passage: Passage) -> list[tuple[int, int]]:
    """The passage's sentence spans, a sentence cut short at an abbreviation ("Roe v.") joined
    to the next; a joined span is still one stretch of the article's text."""
    spans: list[tuple[int, int]] = []
    for start, end in passage.sentences:
        previous = spans[-1] if spans else None
        if previous and CUT_SHORT.search(
            passage.text[previous[0] - passage.start : previous[1] - passage.start]
        ):
            spans[-1] = (previous[0], end)
        else:
            spans.append((start, end))
    return spans


def _lede_starts(passage: Passage) -> set[int]:
    """Where the article's first two quotable sentences start, when the passage opens it."""
    if passage.start != 0:
        return set()
    starts = []
    for start, end in passage.sentences:
        if is_answer_sentence(passage.text[start - passage.start : end - passage.start]):
            starts.append(start)
        if len(starts) == 2:
            break
    return set(starts)


def _earlier_year(sentence: str, published: re.Match[str] | None) -> bool:
    """Names only years before the article's: history, not that day's news."""
    years = YEAR.findall(sentence)
    return bool(published and years and all(int(y) < int(published.group()) for y in years))


def _coverage(text: str, weights: dict[str, float]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    held = set(tokenize([text])[0])
    return sum(w for term, w in weights.items() if term in held) / total


def _word_set(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in WORDS.findall(text))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared words over the shorter sentence's words: a repeat, even trimmed or extended."""
    return len(a & b) / max(1, min(len(a), len(b)))


def timeline_page(
    lines: Sequence[_Line], offset: int = 0, page: int = TimelineTuning.page
) -> tuple[str, list[Citation], Timeline]:
    """The answer text, citations and `Timeline` of lines `offset` … `offset + page`."""
    shown = list(lines[offset : offset + page])
    citations, events, text = [], [], []
    for n, line in enumerate(shown, start=1):
        citations.append(_citation(n, line))
        events.append(TimelineEvent(n=n, date=line.day, source=line.passage.source,
                                    sentence=line.quote.strip()))  # fmt: skip
        outlet = f" ({line.passage.source})" if line.passage.source else ""
        text.append(f"{human_date(line.day)} — {line.quote.strip()}{outlet} [{n}]")
    more = max(0, len(lines) - offset - len(shown))
    return "\n".join(text), citations, Timeline(events=events, offset=offset, more=more)


def _citation(n: int, line: _Line) -> Citation:
    passage = line.passage
    text, offset = (
        (passage.article_text, 0) if passage.article_text else (passage.text, passage.start)
    )
    return Citation(
        n=n,
        article_id=passage.article_id,
        title=passage.title,
        source=passage.source,
        date=passage.date,
        url=passage.url,
        passage=passage.text,
        quote=line.quote,
        start=line.start,
        end=line.end,
        score=round(line.score, 4),
        deep_url=deep_url(passage.url, text, line.start - offset, line.end - offset),
        also_in=list(passage.also_in),
    )


def answer_timeline(
    asked: TimelineQuestion,
    retriever: Retriever,
    filters: SearchFilters,
    summary: IndexSummary,
    *,
    offset: int = 0,
    tuning: TimelineTuning | None = None,
) -> Answer:
    """The timeline of `asked.topic` within `filters` and the question's own bounds, lines
    `offset` … `offset + page`, as an answer whose citations are its lines' sentences; an
    abstention when no passage about the topic is dated."""
    tuning = tuning or TimelineTuning()
    bounded = bounded_filters(filters, asked)
    if not retriever.matches_any(bounded):
        return Answer(no_match_text(bounded, summary), abstained=True, query=asked.topic,
                      abstain_reason="no_match")  # fmt: skip
    passages = retriever.search(asked.topic, tuning.pool, bounded)
    lines = timeline_events(asked.topic, passages, retriever.reader.lexical, tuning)
    if not lines:
        text = f"I couldn't find dated reports about {asked.topic} in these articles "
        return Answer(text + f"({abstention_held(summary)}).", abstained=True, query=asked.topic,
                      abstain_reason="no_focus_match")  # fmt: skip
    text, citations, timeline = timeline_page(lines, offset, tuning.page)
    if not citations:
        return Answer("That's the whole timeline.", abstained=True, query=asked.topic,
                      timeline=timeline, abstain_reason="no_focus_match")  # fmt: skip
    return Answer(text, abstained=False, citations=citations, query=asked.topic,
                  timeline=timeline)  # fmt: skip


def bounded_filters(filters: SearchFilters, asked: TimelineQuestion) -> SearchFilters:
    """`filters` narrowed to the days the question names ("since March")."""
    since = max(filter(None, (filters.since, asked.since)), default=None)
    until = min(filter(None, (filters.until, asked.until)), default=None)
    return replace(filters, since=since, until=until)
