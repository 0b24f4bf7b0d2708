"""Statements credited with "according to": who the source is and what it is credited with.

A source may lead the sentence, close it, or stand inside it; a document's description ("court
documents filed in …", "a statement issued by X") is cut off so the source itself remains.
"""

from __future__ import annotations

import re

from index.speakers import is_subject
from index.speech import AUX, Found, trim

ACCORDING = re.compile(r"\b[Aa]ccording to\s+")
# "according to court documents filed in …": the source ends where its description starts
SOURCE_CUT = re.compile(
    r"\s+(?:filed|issued|obtained|seen|reviewed|released|published|shared|made|posted|sent|"
    r"provided|cited|which|that|who|from\s+(?:last|this|earlier))\b"
)
ISSUED_BY = re.compile(
    r"(?:(?:a|an|the)\s+)?(?:\w+\s+)?(?:statement|report|letter|release)\s+(?:issued|released|"
    r"posted|put out|sent)\s+by\s+(?P<by>.+)"
)
# A main clause's verb after "…, according to X,": the sentence is what X said.
PREDICATE = (
    r"is|are|was|were|has|have|had|will|would|could|can|should|may|might|must|finds|found|"
    r"shows|showed|remains|remained|includes|included"
)


def according_to(text: str, s_start: int, s_end: int, used: list[tuple[int, int]]) -> list[Found]:
    """`according to X, …`, `…, according to X.` and `The problem, according to X, is …`."""
    sentence = text[s_start:s_end]
    leading = re.match(r"[Aa]ccording to\s+(?P<subj>[^,]+),\s*", sentence)
    trailing = re.search(r",[”\"’]?\s*according to\s+(?P<subj>[^,]+?)(?:,[^,“”\"]*)?\W*$", sentence)
    middle = re.search(r"^[^,“”\"]{8,},\s*according to\s+(?P<subj>[^,]+),\s*(?=\w)", sentence)
    if middle and re.match(rf"(?:and\s+)?{AUX}(?:{PREDICATE})\b", sentence[middle.end() :]):
        leading = trailing = None  # "The problem, according to the bank, is that …"
    elif leading or trailing:
        middle = None
    match = leading or trailing or middle
    if not match or _inside(s_start + match.start(), used):
        return []
    issued = ISSUED_BY.fullmatch(match.group("subj"))
    source = SOURCE_CUT.split(issued.group("by") if issued else match.group("subj"))[0]
    if not is_subject(source):
        return []
    closing = 2 if sentence[match.start() + 1] in '”"’' else 0  # keep `,”` of a quoted phrase
    if middle and not (leading or trailing):
        content = trim(text, s_start, s_end)
    elif leading:
        content = trim(text, s_start + match.end(), s_end)
    else:
        content = trim(text, s_start, s_start + match.start() + closing)
    used.append((s_start + match.start(), s_start + match.end()))
    return [
        Found(
            s_start + match.start("subj"),
            source,
            "according to",
            "reported",
            *content,
            (s_start + match.start(), s_start + match.end()),
        )
    ]


def _inside(at: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= at < end for start, end in spans)
