"""Whether the chosen sentence answers the question asked, or newsdesk should say it can't.

One threshold on cosine or term coverage cannot tell "Who painted the Mona Lisa?" (no article
says; the best sentence shares "painted") from a real question whose answer is phrased
differently. The check combines evidence the pipeline already has:

- the question's *focus* — its rare content words and names ("Mona Lisa", "Norwegian salmon"),
  not "painted" or "say" — and how much of it the chosen sentence and the passages hold;
- whether the sentence holds the question's other words, its predicate ("painted", "invented"),
  beside the focus;
- whether the sentence holds the kind of thing asked for (a number for "how many" …), and for
  "how many X" a number that counts X ("more than 300 of the spiders" does not count legs);
- whether several retrieved passages agree on the focus, and how far the best sentence is
  ahead of the best one from another article;
- the question–passage cosine (the closest passage's and the chosen sentence's own) and the
  sentence's coverage of all the question's terms.

A small logistic model weighs them; its weights are fitted on labelled questions by
`bench/fit_answerability.py` and stored beside this module (`answerability.json`). A question
about a time after the archive's last article is refused by rule, before any of this.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from index.lexical import LexicalIndex, tokenize
from index.summary import IndexSummary
from retrieval.schema import Headline
from retrieval.search import Passage

WEIGHTS = Path(__file__).with_name("answerability.json")
FOCUS_SHARE = 0.6  # a focus term is at least this rare, relative to the question's rarest
UNKNOWN_IDF = 12.0  # weight of a name no article holds: rarer than any (log of 10⁵ chunks)
NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'-]+|\b\d{4}\b")
YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
AGREEING_PASSAGES = 5
MAX_CLOSEST = 2
MAX_STEM_GAP = 2
COMMONER_FORM = 0.6  # a shorter stem with less than this share of a term's IDF is another word
COUNT_REACH = 4  # "12 new cases": words a number may stand before the thing it counts
HOW_MANY = re.compile(r"\bhow many ([\w’'-]+)", re.IGNORECASE)
WORD = re.compile(r"[\w’'-]+")
COUNT = re.compile(
    r"\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
    r"hundreds?|thousands?|millions?|billions?|half|\w+teen|\w+ty",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """What the pipeline found for a question, as numbers in [0, 1] (or near it)."""

    focus_in_sentence: float  # share of the focus weight the chosen sentence holds
    focus_in_passages: float  # … that the retrieved passages hold between them
    agreement: float  # share of the top passages holding at least half of the focus
    coverage: float  # share of all the question's term weight the sentence holds
    similarity: float  # cosine of the question and its closest passage
    kind_found: float  # 1 when the sentence holds the kind of thing asked for (or none asked)
    margin: float  # score lead of the chosen sentence over the best from another article
    known_words: float  # share of the question's words some article holds ("sourdough": none)
    counted: float  # 0 when "how many X" and no number in the sentence counts X; else 1
    chosen_similarity: float  # cosine of the question and the chosen sentence's passage
    predicate_in_sentence: float  # share of the question's other words the sentence holds

    def vector(self) -> list[float]:
        return list(asdict(self).values())


@dataclass(frozen=True)
class Focus:
    """The question's focus terms (stemmed, as the index tokenizes) with their IDF weights."""

    weights: dict[str, float]
    known: float = 1.0  # share of the question's words that some article holds
    # The question's other known words — its predicate ("painted", "keys", "evolves") — by IDF.
    predicate: dict[str, float] = field(default_factory=dict)
    # What tells a form of a term from a commoner word that happens to start it.
    lexical: LexicalIndex | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, question: str, lexical: LexicalIndex) -> Focus:
        terms = set(tokenize([question])[0])
        idf = lexical.idf(sorted(terms))
        known_share = len(idf) / len(terms) if terms else 1.0
        names = set(tokenize([" ".join(NAME.findall(question))])[0])
        # A name no article holds is the surest focus of all ("Norwegian" salmon); any other
        # unknown word may just be phrased differently in the articles.
        unknown = {t: UNKNOWN_IDF for t in (terms & names) - idf.keys()}
        if not idf:
            return cls(unknown, known_share, lexical=lexical)
        rarest = max(idf.values())
        known = {t: w for t, w in idf.items() if w >= FOCUS_SHARE * rarest or t in names}
        predicate = {t: w for t, w in idf.items() if t not in known}
        return cls(known | unknown, known_share, predicate, lexical)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def share_in(self, text: str) -> float:
        """Share of the focus weight `text` holds (a term counts in any form that shares its
        stem, as the answer layer counts "Israel" and "Israeli")."""
        if not self.weights:
            return 0.0
        return self._found(set(tokenize([text])[0]), self.weights) / self.total

    def predicate_share_in(self, text: str) -> float:
        """Share of the predicate's weight `text` holds (1 when the question is all focus):
        "the World Wide Web" without "invented" says nothing of who invented it."""
        if not self.predicate:
            return 1.0
        found = self._found(set(tokenize([text])[0]), self.predicate)
        return found / sum(self.predicate.values())

    def _found(self, held: set[str], weights: dict[str, float]) -> float:
        """The weight of the terms `held` holds, in any form — except a shorter one that is a
        much commoner word of its own ("word", from "words", is no form of "Wordle")."""
        prefixes = {t[:4] for t in weights}
        shorter = {
            o
            for o in held
            if o[:4] in prefixes and any(o != t and t.startswith(o) for t in weights)
        }
        idf = self.lexical.idf(sorted(shorter)) if self.lexical is not None and shorter else {}
        found = 0.0
        for term, weight in weights.items():
            commoner = {
                o
                for o in shorter
                if term.startswith(o) and idf.get(o, weight) < COMMONER_FORM * weight
            }
            found += weight if _holds(held - commoner if commoner else held, term) else 0.0
        return found


@dataclass(frozen=True)
class Model:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1 / (1 + math.exp(-z))

    def answers(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold


@cache
def model() -> Model:
    """The fitted model (`bench/fit_answerability.py` writes it)."""
    data = json.loads(WEIGHTS.read_text())
    names = list(Evidence.__dataclass_fields__)
    return Model(tuple(data["weights"][n] for n in names), data["bias"], data["threshold"])


def evidence_of(
    question: str,
    focus: Focus,
    chosen_sentence: str,
    chosen_article: str,
    chosen_score: float,
    coverage: float,
    kind_found: bool,
    ranked: Sequence[tuple[str, float]],
    passages: Sequence[Passage],
    chosen_similarity: float,
) -> Evidence:
    """`ranked` holds (article id, score) of the candidate sentences, best first."""
    top = passages[:AGREEING_PASSAGES]
    shares = [focus.share_in(p.text) for p in top]
    runner_up = next((score for article, score in ranked if article != chosen_article), 0.0)
    return Evidence(
        focus_in_sentence=focus.share_in(chosen_sentence),
        focus_in_passages=focus.share_in(" ".join(p.text for p in top)),
        agreement=sum(share >= 0.5 for share in shares) / max(len(top), 1),
        coverage=coverage,
        similarity=max((p.similarity for p in passages), default=0.0),
        kind_found=float(kind_found),
        margin=chosen_score - runner_up,
        known_words=focus.known,
        counted=float(counts_asked(question, chosen_sentence)),
        chosen_similarity=chosen_similarity,
        predicate_in_sentence=focus.predicate_share_in(chosen_sentence),
    )


def counts_asked(question: str, sentence: str) -> bool:
    """Whether `sentence` holds a number counting what "how many X" asks about (True when the
    question asks for no count): "How many legs does a spider have?" is not answered by "more
    than 300 of the spiders", nor "how many players" by a sentence with no number of players."""
    asked = HOW_MANY.search(question)
    counted = tokenize([asked.group(1)])[0] if asked else []
    if not counted:
        return True
    words = WORD.findall(sentence)
    stems = tokenize(words)
    return any(
        COUNT.fullmatch(word)
        and any(_holds(set(after), counted[0]) for after in stems[n + 1 : n + 1 + COUNT_REACH])
        for n, word in enumerate(words)
    )


def after_archive(question: str, summary: IndexSummary, as_of: date | None = None) -> bool:
    """Whether the question, asked after the archive's last article, names a later year
    ("Eurovision 2024" against articles ending in 2022). Asked while the archive was still
    being written, a later year is a plan the articles may report ("the 2026 World Cup")."""
    if not summary.last_date:
        return False
    last = date.fromisoformat(summary.last_date)
    if as_of is not None and as_of <= last:
        return False
    return any(int(year) > last.year for year in YEAR.findall(question))


def closest_headlines(focus: Focus, passages: Sequence[Passage]) -> list[Headline]:
    """Up to two articles among `passages` whose titles hold part of the question's focus —
    what the archive has near the question; none when no title shares it."""
    found: list[Headline] = []
    for passage in passages:
        if len(found) >= MAX_CLOSEST:
            break
        if any(h.article_id == passage.article_id for h in found):
            continue
        if focus.share_in(passage.title) > 0:
            found.append(Headline(passage.article_id, passage.title, passage.source, passage.date))
    return found


def _holds(terms: set[str], term: str) -> bool:
    """`term` or a form of it: one stem extends the other by at most two letters ("isra" for
    "Israeli" and "israel"), so "euro" is no form of "Eurovision"."""
    if term in terms:
        return True
    return len(term) >= 4 and any(
        o[:4] == term[:4]
        and (o.startswith(term) or term.startswith(o))
        and abs(len(o) - len(term)) <= MAX_STEM_GAP
        for o in terms
    )
