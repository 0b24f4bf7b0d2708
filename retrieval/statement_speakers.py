"""Who a statement is by: whether an article's speaker is the person a question names, which
statements the index holds by them under any form of their name, and the speaker of each quote an
answer cites.

Kept apart from composing statement answers because it is about names, not scores: the same rules
pick a person's statements, decide whether an ordinary answer quotes them, and label citations.
"""

from __future__ import annotations

import re
from dataclasses import replace

from index.backend import IndexBackend
from index.speech import word_set
from index.stored_statements import StoredStatement, initials, speaker_key
from retrieval.schema import Answer

PRONOUNS = word_set("he she they it i we you him her them")
TITLES = word_set(
    "president secretary senator sen rep representative gov governor mayor judge justice chair "
    "chairman chairwoman dr mr mrs ms prime minister general gen pope king queen prince princess "
    "chancellor coach ceo speaker leader former vice deputy us u.s. uk attorney chief director "
    "commissioner captain sir lord lady dame state fed"
)
WORD = re.compile(r"[A-Za-z][\w’'-]*")
ACRONYM = re.compile(r"[A-Z]{2,6}")
LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)


def with_speakers(answer: Answer, reader: IndexBackend) -> Answer:
    """`answer` with each citation's `speaker` set when its quote is an attributed statement."""
    if not answer.citations:
        return answer
    citations = []
    for citation in answer.citations:
        speaker = None
        for statement in reader.statements_in(citation.article_id):
            start, end = statement.content_start, statement.content_end
            if start < citation.end and citation.start < end and is_named(statement):
                speaker = statement.speaker
                break
        citations.append(replace(citation, speaker=speaker))
    return replace(answer, citations=citations)


def by_person(asked: str, reader: IndexBackend) -> list[StoredStatement]:
    """Statements by the person or body `asked` names, by any form of the name an article
    uses: the full name, the last name, and a body's acronym or its spelled-out name ("WHO",
    "the World Health Organization")."""
    statements = reader.statements_by(asked)
    same = {name: same_person(asked, name) for name in {s.speaker for s in statements}}
    found = [s for s in statements if same[s.speaker]]
    name = LEADING_THE.sub("", asked)
    if ACRONYM.fullmatch(name):
        found += reader.statements_with_initials(name)
    elif acronym := initials(name):
        found += [s for s in reader.statements_by(acronym) if s.speaker == acronym]
    return list(dict.fromkeys(found))


def same_person(asked: str, speaker: str) -> bool:
    """Whether `speaker` (as resolved in an article) can be the person `asked` names: the same
    last name, and the same given name when both give one ("Jerome Powell" is not "Colin
    Powell"; "President Biden" is "Joe Biden")."""
    if speaker_key(asked) != speaker_key(speaker):
        return False
    asked_words = [w.lower() for w in WORD.findall(asked)]
    found_words = [w.lower() for w in WORD.findall(speaker)]
    given = asked_words[-2] if len(asked_words) >= 2 else None
    if given is None or given in TITLES or len(found_words) < 2:
        return True
    return given == found_words[-2]


def is_named(statement: StoredStatement) -> bool:
    """A statement whose speaker resolved to a name, not a pronoun left as written."""
    return statement.speaker.lower() not in PRONOUNS
