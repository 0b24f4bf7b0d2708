"""Questions about speech: "What did X say about Y?" and "Who said …?".

Recognised from the wording alone, so the answer layer can rank statements by the person asked
about instead of sentences that merely share the question's words. The topic is what the
question asks X spoke about ("a multinational force"); for "who said" it is the words said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SAY = (
    r"(?:say|said|says|tell|told|think|thought|comment|commented|argue|argued|claim|claimed|"
    r"write|wrote|tweet|tweeted|announce|announced|warn|warned|predict|predicted|suggest|"
    r"suggested|reveal|revealed|admit|admitted|promise|promised|respond|responded|reply|"
    r"replied|mean|meant|declare|declared|state|stated|insist|insisted|call|called|report|"
    r"reported|describe|described)"
)
# "What did X call Y?" asks for the words X used for Y: "called it a “brutal act of war”".
CHARACTERIZING = frozenset(("call", "called", "describe", "described"))
ABOUT = (
    r"(?:about|on|of|regarding|concerning|over|when|after|in response to|as to|to|in|at|"
    r"following|during|with respect to)"
)
# Case matters in the frame ("What did the State Department say" must not read "State" as the
# verb "state"), so the patterns spell out both cases of the words a question starts with.
OPENER = r"^\s*(?:(?:[Aa]nd|[Bb]ut|[Ss]o)\s+)?"
WHAT_DID = re.compile(
    OPENER + r"(?:[Ww]hat|[Hh]ow)\s+(?:else\s+)?(?:did|does|do|has|have|had)\s+"
    r"(?P<who>.+?)\s+(?:had\s+to\s+|have\s+to\s+|got\s+to\s+)?(?P<verb>" + SAY + r")\b"
    r"(?P<rest>.*)$"
)
DID_COMMENT = re.compile(
    OPENER + r"(?:[Dd]id|[Hh]as|[Hh]ave|[Hh]ad|[Dd]oes)\s+(?P<who>.+?)\s+"
    r"(?:ever\s+|publicly\s+|already\s+)?"
    r"(?:say|said|comment|commented|speak|spoken|spoke|talk|talked|weigh|weighed)"
    r"(?:\s+(?:anything|something|out|in))?\b(?P<rest>.*)$"
)
VIEW = re.compile(
    OPENER + r"(?:(?:what|how)\s+(?:is|was|are|were)\s+)?(?P<who>[^?]+?)['’]s?\s+"
    r"(?:view|views|position|stance|comments?|remarks?|statements?|reaction|response|take|"
    r"opinion|thoughts|words)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
WHO_SAID = re.compile(
    OPENER + r"who\s+(?:has\s+|had\s+)?(?:said|says|called|described|warned|argued|"
    r"claimed(?=\s+that\b)|"
    r"told|tweeted|wrote|declared|stated|insisted|predicted|promised|vowed|urged|"
    r"accused|criticized|criticised|dismissed|praised|compared|labelled|labeled)\b"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
LEADING_ABOUT = re.compile(rf"^\s*(?:(?:anything|something|publicly)\s+)?{ABOUT}\s+", re.I)
TRAILING = re.compile(r"[\s?.!]+$")
PARENTHESES = re.compile(r"\s*\((?P<inside>[^()]*)\)\s*$")
NOT_SPEAKERS = re.compile(r"^(?:he|she|they|it|you|we|i|people|anyone|someone|this|that)$", re.I)

MAX_WORDS = 8  # "the man arrested for the Utah wildfire"; longer is a clause misread


@dataclass(frozen=True)
class SpeechQuestion:
    """`kind` is "said" (what did `speaker` say about `topic`) or "who_said" (who said `topic`);
    `characterizes` when it asks what the speaker called or described something as."""

    kind: str
    speaker: str | None
    topic: str
    characterizes: bool = False


def speech_question(question: str) -> SpeechQuestion | None:
    """The speech question `question` asks, or None when it asks something else.

    A follow-up rewritten by the conversation carries the earlier names in parentheses ("What
    else did Blinken say? (Gaza)"); they join the topic.
    """
    text, extra = question.strip(), ""
    if inside := PARENTHESES.search(text):
        text, extra = text[: inside.start()], inside["inside"]
    if who := WHO_SAID.match(text):
        topic = _topic(who["rest"], extra)
        return SpeechQuestion("who_said", None, topic) if topic else None
    for pattern in (WHAT_DID, DID_COMMENT, VIEW):
        found = pattern.match(text)
        if found and (speaker := _speaker(found["who"])):
            verb = found.groupdict().get("verb") or ""
            topic = _topic(found["rest"], extra)
            return SpeechQuestion("said", speaker, topic, verb.lower() in CHARACTERIZING)
    return None


def _speaker(words: str) -> str | None:
    """The person asked about as the question words it ("Blinken", "the senior administration
    official"); None for a pronoun the conversation could not resolve."""
    words = words.strip()
    if not words or NOT_SPEAKERS.match(words) or "," in words or len(words.split()) > MAX_WORDS:
        return None
    return words


def _topic(rest: str, extra: str) -> str:
    topic = TRAILING.sub("", LEADING_ABOUT.sub("", rest.strip()))
    return " ".join(part for part in (topic, TRAILING.sub("", extra)) if part)
