"""Statements in the index: found per article at build time, read back by speaker or article.

Answers to "What did X say about Y?" look up every statement by X across the archive, so the
extractor (`index.statements`) runs once per article when it is indexed, not per question. Each
row keeps the chunk its sentence lies in, so a statement can be scored with that chunk's vector.
An unchanged article's rows are copied by `index update` unless the extraction rules changed
(`RULES_VERSION` in the manifest differs), in which case they are found again — without
re-embedding anything.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.speech import Statement
from index.statements import extract_statements

# Raise when the extraction rules change, so `index update` finds statements again.
# 2: keys without doubled letters; 3: titles, departments, first person; 4: groups, bodies named
# by description, when and where it was said, called/described, who added, according to inside;
# 5: hyphenated titles ("Secretary-General"), "called it a “…”"; 6: unnamed officials, and
# content that ends where another speaker's clause begins
RULES_VERSION = 6

TABLE = """
CREATE TABLE statements (
    article_id TEXT NOT NULL REFERENCES articles(id), chunk_id INTEGER NOT NULL,
    speaker_key TEXT NOT NULL, speaker TEXT NOT NULL, speaker_as_written TEXT NOT NULL,
    verb TEXT NOT NULL, kind TEXT NOT NULL, content_start INTEGER NOT NULL,
    content_end INTEGER NOT NULL, sentence_start INTEGER NOT NULL, sentence_end INTEGER NOT NULL
);
CREATE INDEX statements_by_speaker ON statements(speaker_key);
CREATE INDEX statements_by_article ON statements(article_id);
CREATE INDEX statements_by_name ON statements(speaker); -- `counts` at open: 0.3 s, not 6, at 1.5M
"""
COLUMNS = (
    "article_id, chunk_id, speaker, speaker_as_written, verb, kind, content_start, content_end, "
    "sentence_start, sentence_end"
)
INSERT = f"INSERT INTO statements (speaker_key, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
NAME_WORD = re.compile(r"[\w’'.-]+")
POSSESSIVE = re.compile(r"[’']s?$")
REPEATED_LETTER = re.compile(r"(\w)\1+")
NOT_LETTER = re.compile(r"[^\w]+")
ACRONYM_GLUE = frozenset({"of", "for", "and", "the", "on", "&"})


@dataclass(frozen=True)
class StoredStatement:
    """A statement of one indexed article, with the chunk that holds its sentence."""

    article_id: str
    chunk_id: int
    speaker: str
    speaker_as_written: str
    verb: str
    kind: str
    content_start: int
    content_end: int
    sentence_start: int
    sentence_end: int


def speaker_key(name: str) -> str:
    """The lookup key of a name: its last word, lower-cased, without a possessive or doubled
    letters ("Blinken's" → "blinken", "Zelenskyy" and "Zelensky" → "zelensky"), so "Blinken" in
    a question finds statements resolved to "Antony Blinken", whichever spelling an outlet uses."""
    words = NAME_WORD.findall(name)
    if not words:
        return ""
    last = NOT_LETTER.sub("", POSSESSIVE.sub("", words[-1]).lower())
    return REPEATED_LETTER.sub(r"\1", last)


def initials(name: str) -> str:
    """ "World Health Organization" → "WHO"; "" unless every other word is capitalised."""
    words = [w for w in NAME_WORD.findall(name) if w.lower() not in ACRONYM_GLUE]
    if len(words) < 2 or not all(w[0].isupper() for w in words):
        return ""
    return "".join(w[0] for w in words)


def find_statements(
    article_id: str, text: str, chunks: Sequence[tuple[int, Sequence[tuple[int, int]]]]
) -> list[tuple[object, ...]]:
    """Rows for the statements of one article; `chunks` are (chunk id, sentence spans) in order.

    The chunks' sentences (consecutive chunks share one) together are the article's sentence
    split, so the extractor does not split the text again.
    """
    sentences = sorted({span for _, spans in chunks for span in spans})
    if not sentences:
        return []
    starts = [min(span[0] for span in spans) if spans else 0 for _, spans in chunks]
    rows: list[tuple[object, ...]] = []
    for statement in extract_statements(text, sentences):
        at = max(bisect.bisect_right(starts, statement.sentence_start) - 1, 0)
        rows.append(_row(article_id, chunks[at][0], statement))
    return rows


def _row(article_id: str, chunk_id: int, statement: Statement) -> tuple[object, ...]:
    return (
        speaker_key(statement.speaker),
        article_id,
        chunk_id,
        statement.speaker,
        statement.speaker_as_written,
        statement.verb,
        statement.kind,
        statement.content_start,
        statement.content_end,
        statement.sentence_start,
        statement.sentence_end,
    )


def insert_statements(db: sqlite3.Connection, rows: Iterable[tuple[object, ...]]) -> int:
    rows = list(rows)
    db.executemany(INSERT, rows)
    return len(rows)


def copy_statements(db: sqlite3.Connection, article_id: str) -> int:
    """Copy an unchanged article's statements from the attached previous generation."""
    cursor = db.execute(
        f"INSERT INTO statements (speaker_key, {COLUMNS}) "
        f"SELECT speaker_key, {COLUMNS} FROM previous.statements WHERE article_id = ?",
        (article_id,),
    )
    return cursor.rowcount


def by_speaker(db: sqlite3.Connection, name: str) -> list[StoredStatement]:
    """Every statement whose resolved speaker ends with the last word of `name`."""
    query = f"SELECT {COLUMNS} FROM statements WHERE speaker_key = ? ORDER BY rowid"
    return [StoredStatement(*row) for row in db.execute(query, (speaker_key(name),))]


def by_initials(db: sqlite3.Connection, acronym: str) -> list[StoredStatement]:
    """Statements whose speaker's initials spell `acronym` ("WHO": "World Health Organization")."""
    pattern = " ".join(f"{letter}%" for letter in acronym)
    query = f"SELECT {COLUMNS} FROM statements WHERE speaker LIKE ? ORDER BY rowid"
    found = [StoredStatement(*row) for row in db.execute(query, (pattern,))]
    return [s for s in found if initials(s.speaker) == acronym]


def in_article(db: sqlite3.Connection, article_id: str) -> list[StoredStatement]:
    query = f"SELECT {COLUMNS} FROM statements WHERE article_id = ? ORDER BY content_start"
    return [StoredStatement(*row) for row in db.execute(query, (article_id,))]


def counts(db: sqlite3.Connection, top: int = 8) -> tuple[int, int, list[tuple[str, int]]]:
    """Statements, distinct speakers, and the `top` speakers by statements."""
    total, speakers = db.execute(
        "SELECT count(*), count(DISTINCT speaker) FROM statements"
    ).fetchone()
    most = db.execute(
        "SELECT speaker, count(*) AS n FROM statements GROUP BY speaker ORDER BY n DESC, speaker "
        "LIMIT ?",
        (top,),
    ).fetchall()
    return total, speakers, [(name, n) for name, n in most]
