"""Naming the winner an outcome sentence only describes.

News names someone once and then describes them: "Bad Bunny recently added starring alongside
Brad Pitt … The Puerto Rican rapper took home artist of the year at this year's MTV Video Music
Awards" ("Griner is one of the best basketball players in the world. The center has won two
Olympic gold medals", "Bergeron also won the Selke in 2012 … The two-way Bruins star beat out
…"). Quoted alone, the sentence that states the outcome does not say who won. When the answer to
a "who" question opens with such a sentence and the sentence before it in the article opens with
a name, the answer says that name in place of the description, as it does for a speaker's "he"
(see `retrieval.phrasing`): the citation then starts at the verb, so every quoted word is still
the article's own.
"""

from __future__ import annotations

import re

from index.speech import word_set
from retrieval.outcomes import OutcomeQuestion
from retrieval.phrasing import Phrased

ASKS_WHO = re.compile(r"\b(?:who|which)\b", re.I)
# "The Puerto Rican rapper took home …", "The 23-year-old has won …": a description ending in a
# common noun, then a result verb.
DESCRIBED = re.compile(
    r"The\s+(?:[\w’'-]+\s+){0,3}?[a-z][\w-]*\s+"
    r"(?=(?:(?:has|have|had|also|then|finally)\s+)?"
    r"(?:won|wins|took home|takes home|defeated|beat|beats|claimed|captured|clinched"
    r"|was elected|became|becomes)\b)"
)
# A sentence opening with a name: capitalised words, then a lower-case word.
NAME_OPENING = re.compile(r"(?P<name>[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3})(?=\s+[a-z])")
NOT_NAMES = word_set(
    "A An The This That These Those It He She They We I You His Her Their Its Our In On At "
    "After Before When While As But And Or So Yet However Still Also Meanwhile Now Then There "
    "Here Last Next Some Many Most Several Both Each Every"
)
SENTENCE_END = re.compile(r"[.!?][\"”’']?\s+")


def name_described_winner(question: str, quote: str, start: int, article_text: str) -> Phrased:
    """The answer sentence for `quote` (= article_text[start:start + len(quote)]) with a
    described winner named from the sentence before it; the quote unchanged when the question
    asks no "who", the quote opens otherwise, or no name opens the sentence before."""
    unchanged = Phrased(start, quote)
    described = DESCRIBED.match(quote)
    if described is None or not ASKS_WHO.search(question) or OutcomeQuestion.of(question) is None:
        return unchanged
    name = _name_before(article_text, start)
    if name is None:
        return unchanged
    rest = start + described.end()
    return Phrased(rest, f"{name} {quote[described.end() :]}")


def _name_before(text: str, start: int) -> str | None:
    """The name that opens the sentence before `start` (a paragraph break may lie between)."""
    before = text[:start].rstrip()
    if not before or before[-1] not in '.!?"”’)':
        return None  # `start` is not where a sentence begins
    opens = [m.end() for m in SENTENCE_END.finditer(before)] + [before.rfind("\n") + 1]
    found = NAME_OPENING.match(before, max(opens))
    if found is None or found["name"].split()[0] in NOT_NAMES:
        return None
    return found["name"]
