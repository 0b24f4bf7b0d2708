"""Answer sentences that read on their own: no dangling connective, no unresolved "he".

A sentence quoted out of its article can open with a word that points back at the sentence
before it ("But he said …"). The quote is cut to start after such a connective, and a subject
pronoun that then opens it is replaced by the speaker the statement extractor resolves from the
whole article ("Antony Blinken said …"). The quote itself stays `article text[start:end]`; what
the answer adds or changes — the speaker's name in front, a capital first letter — lies outside
the cited span, so a reader can still find every quoted word in the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.speech import AUX, Statement
from index.statements import extract_statements

# A connective that leans on the previous sentence. "But", "And", "Yet", "So", "Or" open a clause
# without a comma, except in phrases that are not connectives ("So far", "Yet another"); the
# adverbs only count when a comma marks them off ("Still, …", not "Still unclear is …").
CONNECTIVE = re.compile(
    r"(?:(?:But|And|Yet|So|Or)(?!\s+(?:far|much|many|long|few|another|again)\b)"
    r"|(?:However|Still|Also|Meanwhile|Moreover|Furthermore|Nevertheless|Nonetheless|Instead"
    r"|Besides|Then|Thus|Therefore|Indeed|Additionally|In addition|Even so|That said"
    r"|At the same time|On the other hand)(?=,))"
    r",?\s+(?=\S)"
)
SUBJECT_PRONOUN = re.compile(r"(?P<pronoun>[Hh]e|[Ss]he|[Tt]hey)\s+(?=\w)")
MIN_REST_CHARS = 20  # a connective is kept when little would be left after it


@dataclass(frozen=True)
class Phrased:
    """Where the quote now starts in the article, and the answer sentence built around it."""

    start: int
    text: str


def phrase(quote: str, start: int, article_text: str | None = None) -> Phrased:
    """The answer sentence for `quote` (= article text[start:start + len(quote)]).

    The statement extractor reads `article_text` only when the quote, after any connective,
    opens with a subject pronoun, so ordinary sentences cost a regular expression. Without it, or
    when no speaker is found, the pronoun stays and only the connective goes.
    """
    offset = skip_connective(quote)
    rest = quote[offset:]
    named = None
    if article_text and SUBJECT_PRONOUN.match(rest):
        named = name_speaker(article_text, start + offset)
    if named is not None:
        speaker, verb_at = named
        return Phrased(verb_at, f"{speaker} {quote[verb_at - start :]}")
    if offset:
        return Phrased(start + offset, rest[0].upper() + rest[1:])
    return Phrased(start, quote)


def skip_connective(sentence: str) -> int:
    """How many leading characters of `sentence` are a dangling connective and its spaces."""
    found = CONNECTIVE.match(sentence)
    if found is None or len(sentence) - found.end() < MIN_REST_CHARS:
        return 0
    return found.end()


def name_speaker(text: str, at: int) -> tuple[str, int] | None:
    """(speaker, offset of the word after the pronoun) when the pronoun at `text[at:]` is the
    subject of a statement whose speaker the extractor resolved to a name; else None.

    Only a pronoun followed directly by the statement's verb ("he said", "she has warned") is
    replaced, so the name in front of the quote reads as that verb's subject.
    """
    pronoun = SUBJECT_PRONOUN.match(text, at)
    if pronoun is None:
        return None
    after = pronoun.end()
    for statement in _statements(text):
        if not statement.sentence_start <= at < statement.sentence_end:
            continue
        if (
            statement.speaker_as_written.lower() == pronoun["pronoun"].lower()
            and statement.speaker.lower() != statement.speaker_as_written.lower()
            and re.compile(rf"{AUX}{re.escape(statement.verb)}\b").match(text, after)
        ):
            return statement.speaker, after
    return None


@lru_cache(maxsize=256)
def _statements(text: str) -> tuple[Statement, ...]:
    """The article's statements; cached because the same article answers many questions and
    extraction takes milliseconds (keyed by the text itself, so any index's articles share it)."""
    return tuple(extract_statements(text))
