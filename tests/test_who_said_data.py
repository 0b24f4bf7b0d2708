"""The hand-labelled who-said set (tests/data/who_said) matches the articles it points into.

Skips when the development corpus is absent (it is not shipped with the project).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "who_said"
CORPUS = HERE.parents[1] / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
QUOTE_MARKS = "\"'“”‘’"
KINDS = {"direct", "reported"}


def _read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="module")
def labelled() -> tuple[list[dict], list[dict], dict[str, dict]]:
    """Statements, questions and the articles they name (the gzip is read once)."""
    if not CORPUS.exists():
        pytest.skip(f"development corpus not found at {CORPUS}")
    statements = _read_jsonl(DATA / "statements.jsonl")
    questions = _read_jsonl(DATA / "questions.jsonl")
    needed = {s["article_id"] for s in statements}
    for q in questions:
        needed.update(g["article_id"] for g in q["gold"])
        needed.update(t["article_id"] for t in q.get("traps", []))
        needed.update(q.get("previews", []))
    articles: dict[str, dict] = {}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            if article["id"] in needed:
                articles[article["id"]] = article
    missing = needed - articles.keys()
    assert not missing, f"article ids not in the corpus: {sorted(missing)[:5]}"
    return statements, questions, articles


def _check_span(text: str, start: int, end: int, what: str) -> None:
    assert isinstance(start, int) and isinstance(end, int), what
    assert 0 <= start < end <= len(text), f"{what}: [{start}, {end}) outside the article"
    span = text[start:end]
    assert span.strip() and span == span.strip(), f"{what}: empty or padded span {span!r}"


def test_statement_spans(labelled) -> None:
    statements, _, articles = labelled
    for n, s in enumerate(statements, 1):
        text = articles[s["article_id"]]["text"]
        where = f"statement {n} ({s['article_id']})"
        _check_span(text, s["sentence_start"], s["sentence_end"], where + " sentence")
        _check_span(text, s["content_start"], s["content_end"], where + " content")
        inside = s["sentence_start"] <= s["content_start"] and s["content_end"] <= s["sentence_end"]
        assert inside, f"{where}: content lies outside its sentence"
        assert s["kind"] in KINDS, f"{where}: kind {s['kind']!r}"
        if s["kind"] == "direct":
            content = text[s["content_start"] : s["content_end"]]
            assert content[0] not in QUOTE_MARKS and content[-1] not in QUOTE_MARKS, (
                f"{where}: direct quote keeps a quote mark: {content[:40]!r}…{content[-40:]!r}"
            )
        for field in ("speaker", "speaker_as_written", "verb"):
            assert isinstance(s[field], str) and s[field].strip(), f"{where}: empty {field}"


def test_statement_counts(labelled) -> None:
    statements, _, articles = labelled
    assert len(statements) >= 150
    assert len({s["article_id"] for s in statements}) >= 25
    assert len({articles[s["article_id"]]["source"] for s in statements}) >= 3
    assert set(Counter(s["kind"] for s in statements)) == KINDS
    keys = [(s["article_id"], s["content_start"], s["content_end"]) for s in statements]
    assert len(keys) == len(set(keys)), "a statement is labelled twice"


def test_question_spans(labelled) -> None:
    _, questions, articles = labelled
    for q in questions:
        assert q["kind"] in {"said", "who_said", "outcome"} and q["question"].strip()
        assert q["gold"], f"no gold for {q['question']!r}"
        if "as_of" in q:
            latest = max(articles[g["article_id"]]["date"] for g in q["gold"])
            assert latest <= q["as_of"], f"{q['question']!r}: gold published after as_of"
        if q["kind"] == "outcome":
            assert q["answer"].strip() and q["as_of"] >= q["outcome_date"]
            for g in q["gold"]:
                article = articles[g["article_id"]]
                label = f"{q['question']!r}: gold {g['article_id']}"
                assert article["date"] >= q["outcome_date"], f"{label} predates the outcome"
                assert q["answer"].lower() in article["text"].lower(), f"{label} lacks the answer"
            for aid in q["previews"]:
                assert articles[aid]["date"] < q["outcome_date"], f"preview {aid} is not earlier"
            continue
        assert q["speaker"].strip()
        for role in ("gold", "traps"):
            for g in q.get(role, []):
                text = articles[g["article_id"]]["text"]
                _check_span(text, g["content_start"], g["content_end"], f"{q['question']!r} {role}")
                if role == "traps":
                    assert g["speaker"].strip() and g["speaker"] != q["speaker"]


def test_question_counts(labelled) -> None:
    _, questions, _ = labelled
    kinds = Counter(q["kind"] for q in questions)
    assert kinds["said"] >= 60 and kinds["who_said"] >= 15 and kinds["outcome"] >= 15
    said = [q for q in questions if q["kind"] == "said"]
    assert sum(1 for q in said if q.get("traps")) * 3 >= len(said)
