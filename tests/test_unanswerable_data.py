"""The labelled unanswerable set (tests/data/unanswerable) keeps its shape and its claims.

An abstention check is only as good as its labels: a question the corpus can answer would
punish the right behaviour. The shape is checked always; the invented claims are checked
against the development corpus when it is present (it is not shipped with the project).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "data" / "unanswerable" / "questions.jsonl"
CORPUS = HERE.parents[1] / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
KINDS = {"general_knowledge", "after_archive", "invented_claim"}
ARCHIVE_FIRST = date(2012, 9, 10)
ARCHIVE_LAST = date(2022, 12, 30)
SENTENCE_BREAK = re.compile(r"\. |\n")


def _questions() -> list[dict]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _starts_word(term: str) -> re.Pattern[str]:
    """A term at a word start, any case: 'Zelensky' also finds 'Zelenskyy', 'salmon' 'salmons'."""
    return re.compile(r"\b" + re.escape(term), re.IGNORECASE)


def test_kinds_and_counts() -> None:
    questions = _questions()
    kinds = Counter(q["kind"] for q in questions)
    assert set(kinds) == KINDS
    assert all(count >= 50 for count in kinds.values()), kinds
    texts = [q["question"].strip().lower() for q in questions]
    assert len(texts) == len(set(texts)), "a question is listed twice"


def test_fields_and_dates() -> None:
    for q in _questions():
        label = repr(q.get("question"))
        assert isinstance(q["question"], str) and q["question"].strip().endswith("?"), label
        assert isinstance(q["checked"], str) and q["checked"].strip(), f"{label}: no check note"
        focus = q["focus"]
        assert isinstance(focus, list) and focus, f"{label}: no focus"
        assert all(isinstance(f, str) and f.strip() for f in focus), f"{label}: empty focus"
        asked = date.fromisoformat(q["date"])
        if q["kind"] == "after_archive":
            assert ARCHIVE_LAST < asked <= date(2025, 12, 31), f"{label}: asked {asked}"
        else:
            assert ARCHIVE_FIRST <= asked <= ARCHIVE_LAST, f"{label}: asked {asked}"
        if q["kind"] == "invented_claim":
            assert q["surname"] and q["surname"] in q["speaker"], f"{label}: speaker/surname"


def test_after_archive_questions_name_a_later_time_or_event() -> None:
    """Most name a year after the archive; the rest name an event that came later."""
    later = [q for q in _questions() if q["kind"] == "after_archive"]
    with_year = [q for q in later if re.search(r"\b20(2[3-9])\b", q["question"])]
    assert len(with_year) * 10 >= len(later) * 9


@pytest.fixture(scope="module")
def sentences_by_surname() -> dict[str, list[str]]:
    """For each invented-claim surname, the corpus sentences naming it (the gzip is read once)."""
    if not CORPUS.exists():
        pytest.skip(f"development corpus not found at {CORPUS}")
    surnames = {q["surname"] for q in _questions() if q["kind"] == "invented_claim"}
    patterns = {name: _starts_word(name) for name in surnames}
    found: dict[str, list[str]] = {name: [] for name in surnames}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            lowered = text.lower()
            named = [
                name
                for name, pattern in patterns.items()
                if name.lower() in lowered and pattern.search(text)
            ]
            if not named:
                continue
            sentences = SENTENCE_BREAK.split(text)
            for name in named:
                found[name].extend(s for s in sentences if patterns[name].search(s))
    return found


def test_invented_claims_are_absent_from_the_corpus(sentences_by_surname) -> None:
    claims = [q for q in _questions() if q["kind"] == "invented_claim"]
    for q in claims:
        sentences = sentences_by_surname[q["surname"]]
        assert sentences, f"{q['speaker']} is never named in the corpus"
        for focus in q["focus"]:
            pattern = _starts_word(focus)
            hit = next((s for s in sentences if pattern.search(s)), None)
            where = f"{q['question']!r}: {focus!r} beside {q['surname']!r}"
            assert hit is None, f"{where}: {hit[:200]!r}"
