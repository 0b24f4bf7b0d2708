"""Conversations: recent turns per session and follow-up rewriting without a language model.

A follow-up such as "Who did he meet with?" or "And what about a two-state solution?" leans on
the previous turn. The rewrite puts the previous turn's named entities back in (replacing a
pronoun where there is one), so retrieval sees a question that stands on its own. After a "who"
question, "he", "she" or "they" is whom the answer named rather than anyone in the question; a
question with no content of its own ("Why?") carries the previous question whole.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from index.lexical import STOP_WORDS
from retrieval.schema import Answer
from retrieval.search import SearchFilters

ENTITY = re.compile(r"\b(?:[A-Z][\w'’.-]*|[A-Z]{2,})(?:\s+(?:of\s+|de\s+)?[A-Z][\w'’.-]*)*")
NEXT_WORD = re.compile(r"\s+([\w'’-]+)")
WORDS = re.compile(r"[\w'’-]+")
POSSESSIVE_END = re.compile(r"['’]s$")
BARE_REWRITE = re.compile(r"(?P<bare>.+?\?) \((?P<topic>.+)\)")  # "When? (What did … say?)"
POSSESSIVE_PRONOUNS = {"his", "her", "their"}
FOLLOW_UP_OPENERS = re.compile(
    r"^\s*(?:and|but|also|so|then|what about|how about|and what about|what else|anything else)\b",
    re.IGNORECASE,
)
QUESTION_WORDS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "will", "can", "could", "should", "would", "has", "have", "and",
    "but", "also", "so", "then", "tell", "give", "show", "any", "anything", "i", "the", "a", "an",
}  # fmt: skip
BARE_WORDS = QUESTION_WORDS | {"many", "much", "long", "often", "far", "else", "exactly", "come"}
MORE_WORDS = re.compile(r"\b(?:else|more|other|another)\b", re.IGNORECASE)
WHAT_ABOUT = re.compile(  # "What about Z?", "And what about Z?", "And about Z?"
    r"^\s*(?:(?:and|but)\s+(?:(?:what|how)\s+)?|(?:what|how)\s+)about\s+(?P<topic>.+?)\s*\??\s*$",
    re.I,
)
ABOUT_TOPIC = re.compile(r"^(?P<frame>.*\babout\s+)(?P<topic>.+?)(?P<end>\s*\??\s*)$", re.I)
PERSONAL_PRONOUNS = re.compile(r"\b(?:he|she|him|his|her|they|them|their)\b", re.IGNORECASE)
SENTENCE_START = re.compile(r"(?:^|[.!?][\"'”’)]*\s+|\]\s+)$")  # what precedes a sentence
ASKS_FOR_PERSON = re.compile(r"^\s*(?:and\s+|but\s+)?(?:who|whom)\b", re.IGNORECASE)
NOT_NAMES = {  # capitalised words that are no names, besides the stop words
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "since", "last", "next",
}  # fmt: skip
NOT_PERSON_ENDINGS = {
    "open", "cup", "games", "league", "party", "court", "house", "council", "committee", "union",
    "association", "club", "championship", "championships", "tournament", "final", "finals",
    "university", "department", "ministry", "office", "agency", "administration", "government",
    "company", "inc", "corp", "group", "bank", "times", "news", "post", "journal", "street",
    "city", "county", "state", "states", "republic", "kingdom", "nations", "award", "awards",
    "prize", "trophy", "festival", "police", "army", "forces", "senate", "congress", "parliament",
}  # fmt: skip


def named_entities(text: str) -> list[str]:
    """Capitalised spans, leaving out question words that only start the sentence."""
    entities = []
    for match in ENTITY.finditer(text):
        entity = _entity(match)
        if entity and entity not in entities:
            entities.append(entity)
    return entities


def _entity(match: re.Match[str]) -> str:
    words = match.group().rstrip(".").split()
    while words and words[0].lower() in QUESTION_WORDS:
        words = words[1:]
    return " ".join(words)


def is_follow_up(question: str) -> bool:
    """Opens like a continuation, speaks of a person it does not name, or has no content of its
    own ("Why?")."""
    return bool(
        FOLLOW_UP_OPENERS.match(question)
        or PERSONAL_PRONOUNS.search(question)
        or _is_bare(question)
    )


def _is_bare(question: str) -> bool:
    """ "Why?", "How many?", "Who else?": a question made only of question and function words."""
    words = [word.lower() for word in WORDS.findall(question)]
    return (
        bool(words)
        and question.rstrip().endswith("?")
        and all(word in BARE_WORDS or word in STOP_WORDS for word in words)
    )


def rewrite_follow_up(
    question: str,
    previous_query: str,
    previous_answer: str = "",
    earlier_queries: Sequence[str] = (),
) -> str | None:
    """A stand-alone version of `question`, or None when it needs no context.

    Names are carried from the previous query, or when it names none ("What was the score?"),
    from the latest of `earlier_queries` (oldest first) that does."""
    if not is_follow_up(question):
        return None
    if _is_bare(question):  # "Why?" asks about the previous question as a whole
        earlier = BARE_REWRITE.fullmatch(previous_query)
        topic = earlier["topic"] if earlier and _is_bare(earlier["bare"]) else previous_query
        return f"{question.strip()} ({topic})"
    what_about, about = WHAT_ABOUT.match(question), ABOUT_TOPIC.match(previous_query)
    if what_about and about:
        return f"{about['frame']}{what_about['topic']}{about['end']}"
    carried: list[str] = []
    for query in (previous_query, *reversed(earlier_queries)):
        if entities := named_entities(query):
            carried = [POSSESSIVE_END.sub("", entity) for entity in entities]
            break
    person = _answered_person(question, previous_query, previous_answer)
    if person:
        carried = [person, *carried]
    if not carried:
        return None
    subject = carried[0]
    rewritten, replaced = _replace_first_pronoun(question, subject)
    missing = [e for e in carried if e.lower() not in rewritten.lower()]
    if missing and not (replaced and len(carried) == 1):
        rewritten = f"{rewritten.rstrip()} ({', '.join(missing)})"
    return rewritten


def _answered_person(question: str, previous_query: str, previous_answer: str) -> str | None:
    """After "Who won Wimbledon?", the "he" of "What else did he say?" (or the "they" of "Who
    did they beat?" after "Who won the final?") is the first name in the answer that its
    question did not already hold (a leading possessive such as "China's" cut).

    Not a name: one capitalised word that only starts a sentence ("With so little…"), an
    acronym ("CNN"), or a span ending in a word of events and organisations ("French Open")."""
    if not (ASKS_FOR_PERSON.match(previous_query) and PERSONAL_PRONOUNS.search(question)):
        return None
    asked = previous_query.lower()
    for match in ENTITY.finditer(previous_answer):
        name = _bare_name(_entity(match))
        if not name or name.lower() in asked or name.isupper() or POSSESSIVE_END.search(name):
            continue  # a possessive ("Britain's new prime minister") names what follows it
        only_starts_a_sentence = (
            name == match.group().rstrip(".")
            and " " not in name
            and bool(SENTENCE_START.search(previous_answer, 0, match.start()))
        )
        if not only_starts_a_sentence and name.split()[-1].lower() not in NOT_PERSON_ENDINGS:
            return name
    return None


def _bare_name(entity: str) -> str:
    """ "On Sunday" → "", "Both Anisimova" → "Anisimova", "China's Ding Liren" → "Ding Liren":
    capitalised words that are not names (function words, days, months), and a possessive
    before a name, are dropped from the front."""
    words = entity.split()
    while words and (
        words[0].lower() in NOT_NAMES
        or words[0].lower() in STOP_WORDS
        or (len(words) > 1 and POSSESSIVE_END.search(words[0]))
    ):
        words = words[1:]
    return " ".join(words)


def _replace_first_pronoun(question: str, subject: str) -> tuple[str, bool]:
    def swap(match: re.Match[str]) -> str:
        word = match.group().lower()
        if word == "her":  # "her son" (possessive) or "succeeded her", "met her in" (object)
            after = NEXT_WORD.match(question, match.end())
            possessive = after is not None and after[1].lower() not in STOP_WORDS
            return f"{subject}'s" if possessive else subject
        return f"{subject}'s" if word in POSSESSIVE_PRONOUNS else subject

    rewritten, count = PERSONAL_PRONOUNS.subn(swap, question, count=1)
    return rewritten, count > 0


@dataclass
class Turn:
    question: str
    query: str  # what retrieval saw: the rewrite, or the question itself
    k: int
    filters: SearchFilters
    as_of: date
    answer: Answer
    shown: int  # passages already returned for this query (for "more")


@dataclass
class Conversation:
    id: str
    turns: list[Turn] = field(default_factory=list)
    max_turns: int = 10

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def query_for(self, question: str) -> tuple[str, str | None]:
        """(retrieval query, rewritten query or None) for the next question."""
        last = self.last
        if last is None:
            return question, None
        answered = "" if last.answer.abstained else last.answer.answer
        earlier = [turn.query for turn in self.turns[:-1]]
        rewritten = rewrite_follow_up(question, last.query, answered, earlier)
        return (rewritten or question), rewritten

    def wants_more(self, question: str) -> bool:
        """ "What else did he say?" asks for sentences not quoted yet."""
        return (
            self.last is not None and bool(MORE_WORDS.search(question)) and is_follow_up(question)
        )

    def quoted_spans(self) -> set[tuple[str, int, int]]:
        return {
            (c.article_id, c.start, c.end) for turn in self.turns for c in turn.answer.citations
        }

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[: -self.max_turns]


class SessionStore:
    """Conversations in memory, expiring after `ttl_s` idle seconds, at most `capacity` (LRU)."""

    def __init__(self, ttl_s: float = 3600, capacity: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.capacity = capacity
        self._sessions: OrderedDict[str, tuple[float, Conversation]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Conversation:
        """The live conversation for `session_id`, or a new one (with a new id if none given)."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if session_id is not None and session_id in self._sessions:
                _, conversation = self._sessions.pop(session_id)
            else:
                conversation = Conversation(id=session_id or secrets.token_urlsafe(12))
            self._sessions[conversation.id] = (now, conversation)
            while len(self._sessions) > self.capacity:
                self._sessions.popitem(last=False)
            return conversation

    def find(self, session_id: str) -> Conversation | None:
        with self._lock:
            self._expire(time.monotonic())
            entry = self._sessions.get(session_id)
            return entry[1] if entry else None

    def save(self, conversation: Conversation) -> None:
        """Nothing to do: the conversation handed out is the one kept (a shared store copies)."""

    def drop(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self, now: float) -> None:
        while self._sessions:
            oldest_id, (touched, _) = next(iter(self._sessions.items()))
            if now - touched <= self.ttl_s:
                break
            del self._sessions[oldest_id]
