"""Direct quotes: the spans inside quote marks and the speaker named next to each."""

from __future__ import annotations

import re

from index.speakers import ABBREVIATION, inverted_subject, is_subject, last_clause
from index.speech import AUX, INVERTABLE, SPEECH_VERBS, Found, trim

# After an inverted verb the speaker runs to the next comma or full stop, but not to the stop of
# a title or an initial before more of the name: `said Dr. Eric Rubin, …`, `said John J. Ray`.
INVERTED = rf"(?:\b(?:{ABBREVIATION}|[A-Z]\.)(?=\s+[A-Z])|[^,;:“”\"])+?"


def find_quotes(text: str) -> list[tuple[int, int]]:
    """Spans inside quote marks, paired within a paragraph; an unclosed quote runs to its end."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        opened: int | None = None
        for mark in re.finditer(r"[“”\"]", line.group()):
            at = line.start() + mark.start()
            if opened is None and mark.group() != "”":
                opened = at + 1
            elif opened is not None and mark.group() != "“":
                spans.append((opened, at))
                opened = None
            elif mark.group() == "“":
                opened = at + 1
        if opened is not None and line.end() - opened > 1:
            spans.append((opened, line.end()))
    return spans


def direct_quotes(
    text: str, quotes: list[tuple[int, int]], sentences: list[tuple[int, int]]
) -> list[Found]:
    """Quotes with a speaker next to them, and the unattributed quotes that continue them."""
    found: list[Found] = []
    previous: Found | None = None
    unclosed: list[tuple[int, int]] = []  # paragraphs of a running quote, not yet attributed
    for index, (start, end) in enumerate(quotes):
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        limit = quotes[index + 1][0] - 1 if index + 1 < len(quotes) else line_end
        limit = min(limit, line_end)
        content = trim(text, start, end)
        statement = None
        if _opens_sentence(text, start):
            statement = _attributed_after(text, start, end, limit, content)
        if statement is None:
            statement = _attributed_before(text, start, end, content)
        if statement is None and previous is not None and _continues(text, previous, start):
            statement = Found(
                previous.at, previous.subject, previous.verb, "direct", *content, (start, start)
            )
        if statement is not None and content[1] - content[0] > 1:
            if unclosed and _adjacent(text, unclosed, start):
                found += [  # "“A.¶“B,” she said.": the running quote is hers from its start
                    Found(statement.at, statement.subject, statement.verb, "direct", *span, (s, s))
                    for span in unclosed
                    for s in [span[0]]
                ]
            unclosed = []
            found.append(statement)
            previous = statement
            continue
        if text.count("\n", previous.end if previous else 0, start):
            previous = None
        runs_on = end == line_end and text[start - 2 : start - 1] in ("", "\n")
        if runs_on and content[1] - content[0] > 1:
            unclosed = (
                [*unclosed, content] if unclosed and _adjacent(text, unclosed, start) else [content]
            )
        else:
            unclosed = []
    return found


def _adjacent(text: str, unclosed: list[tuple[int, int]], start: int) -> bool:
    """Whether only the end of a paragraph (and its full stop) lies between a quote and `start`."""
    return re.fullmatch(r"[.!?]?\s*", text[unclosed[-1][1] : start - 1]) is not None


def _attributed_after(
    text: str, start: int, end: int, limit: int, content: tuple[int, int]
) -> Found | None:
    tail_start = end + 1
    tail = text[tail_start:limit]
    closes_sentence = text[end - 1 : end] in (".", "!") and not tail.startswith(",")
    according = re.match(r"\s*,?\s*according to\s+([^,.;]+)", tail)
    if according:
        subject = according.group(1)
        return Found(
            tail_start,
            subject,
            "according to",
            "direct",
            *content,
            (tail_start, tail_start + according.end()),
        )
    inverted = re.match(
        rf"\s*,?\s*(?P<verb>{SPEECH_VERBS})\s+(?P<subj>{INVERTED})\s*(?:[,.;]|$)", tail
    )
    subject = inverted_subject(inverted.group("subj")) if inverted else None
    if inverted and inverted.group("verb") in INVERTABLE and subject:
        return Found(
            tail_start + inverted.start("subj"),
            subject,
            inverted.group("verb"),
            "direct",
            *content,
            (tail_start, tail_start + inverted.end()),
        )
    plain = re.match(
        rf"\s*,?\s*(?P<subj>[^,;:“”\"]{{1,80}}?)(?:,[^,;“”\"]{{1,80}},?)?\s+{AUX}"
        rf"(?P<verb>{SPEECH_VERBS})\b",
        tail,
    )
    if not plain or not is_subject(plain.group("subj")):
        return None
    rest = tail[plain.end() :]
    if closes_sentence and not re.match(r"^[^.,;]{0,60}(?:[.,;]|$)", rest):
        return None  # a new sentence that merely starts with "X said ..."
    return Found(
        tail_start + plain.start("subj"),
        plain.group("subj"),
        plain.group("verb"),
        "direct",
        *content,
        (tail_start, tail_start + plain.end()),
    )


def _attributed_before(text: str, start: int, end: int, content: tuple[int, int]) -> Found | None:
    """`X said: "…"` or `X wrote at the rally, "…"`: the speech verb just before the quote."""
    head_start = max(text.rfind("\n", 0, start) + 1, start - 200)
    head = text[head_start : start - 1]
    match = re.search(
        rf"(?P<subj>[^,;:“”\"]{{1,80}}?)\s+{AUX}(?P<verb>{SPEECH_VERBS})\b[^,;:.“”\"]{{0,50}}[,:]\s*$",
        head,
    )
    if not match:
        return None
    clause = last_clause(match.group("subj"))
    if not is_subject(clause):
        return None
    subject_at = head_start + match.end("subj") - len(clause)
    return Found(subject_at, clause, match.group("verb"), "direct", *content, (subject_at, start))


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the quote opening at `start` begins its sentence (not one quoted inside a clause)."""
    before = text[max(0, start - 200, text.rfind("\n", 0, start) + 1) : start - 1]
    return not before.strip() or re.search(r"[.?!:”\"(]\s*$", before) is not None


def _continues(text: str, previous: Found, start: int) -> bool:
    """A quote opening a sentence right after the previous quoted statement: the same speaker's.

    Within a paragraph, or a paragraph that opens with a quote after one that ended with one.
    """
    between = text[max(previous.end, previous.attribution[1]) : start - 1]
    if len(between) > 120:
        return False
    if "\n" in between:
        # a paragraph that opens with a quote, after the quote (and its attribution) ended one
        return not between.strip(' \t\n.,;:!?”"') or (
            between.count("\n\n") <= 1
            and re.fullmatch(r"[^“”\"\n]*\n+", between) is not None
            and text.rfind("\n", 0, previous.start) < previous.attribution[0]
        )
    before = text[max(0, start - 3) : start - 1].strip()
    return before in ("", ".", ",", "?", "!") or before.endswith((".", ","))
