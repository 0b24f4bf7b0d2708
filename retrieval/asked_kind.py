"""What kind of thing a question asks for (a number, a date, a name), and whether a sentence
holds one the question lacks.

Separate from composing because it reads only the question and one sentence: the composer scores
sentences with it and the answerability evidence records it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ASKS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|often)\b|\bwhat (number|share)\b", re.I)
ASKS_DATE = re.compile(r"\bwhen\b|\bwhat (year|day|date|month)\b", re.I)
ASKS_NAME = re.compile(r"\b(who|whom|whose|which|where)\b", re.I)
NUMBER_WORD = re.compile(r"[\w’'-]*\d[\w’'-]*")
MONTH_OR_DAY = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|Monday|Tuesday|Wednesday|Thursday|Friday"
    r"|Saturday|Sunday|yesterday|today|\d{4})\b"
)
CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+")
WORDS = re.compile(r"[\w’'-]+")


@dataclass(frozen=True)
class AskedKind:
    """What kind of thing a question asks for — a number for "how many", a date for "when", a
    name for "who"/"which" — and the words it already holds.

    Among sentences that match the question equally well, the one that adds the missing piece is
    the answer; the one that only restates the question is not.
    """

    pattern: re.Pattern[str] | None
    known: frozenset[str]

    @classmethod
    def of(cls, question: str) -> AskedKind:
        known = frozenset(word.lower() for word in WORDS.findall(question))
        for asks, pattern in ((ASKS_NUMBER, NUMBER_WORD), (ASKS_DATE, MONTH_OR_DAY),
                              (ASKS_NAME, CAPITALISED)):  # fmt: skip
            if asks.search(question):
                return cls(pattern, known)
        return cls(None, known)

    def holds_in(self, sentence: str) -> bool:
        """Whether `sentence` holds what the question asks for; True when it asks for no kind."""
        return self.pattern is None or self.found_in(sentence)

    def found_in(self, sentence: str) -> bool:
        """Whether `sentence` holds such a thing that the question itself lacks."""
        if self.pattern is None:
            return False
        return any(m.group().lower() not in self.known for m in self.pattern.finditer(sentence))
