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

from index.lexical import LexicalIndex, tokenize
from index.summary import IndexSummary
from retrieval.abstention_text import abstention_held, no_match_text
from retrieval.answer import passage_citation
from retrieval.dates import human_date
from retrieval.outcomes import SPECULATES, STATED, YEAR, OutcomeQuestion
from retrieval.schema import Answer, Citation, Timeline, TimelineEvent
from retrieval.search import Passage, Retriever, SearchFilters
from retrieval.sentence_kinds import is_answer_sentence
from retrieval.timeline_wording import TimelineQuestion

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
        citations.append(passage_citation(n, line.passage, line.start, line.end, line.score))
        events.append(TimelineEvent(n=n, date=line.day, source=line.passage.source,
                                    sentence=line.quote.strip()))  # fmt: skip
        outlet = f" ({line.passage.source})" if line.passage.source else ""
        text.append(f"{human_date(line.day)} — {line.quote.strip()}{outlet} [{n}]")
    more = max(0, len(lines) - offset - len(shown))
    return "\n".join(text), citations, Timeline(events=events, offset=offset, more=more)


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
