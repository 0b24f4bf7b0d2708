"""The who-said-what development set → the figures its targets are stated in.

Two files (see tests/data/who_said/README.md): `questions.jsonl` ("said", "who_said" and
"outcome" questions, each asked at its `as_of` in a fresh conversation) and, beside it,
`statements.jsonl` (hand-labelled statements, scored against those the index stored for the
same articles). Offsets point into the development corpus, so the index must be built from it.

A citation "hits" a labelled span when they share the article and it covers at least half of
the span; a prediction matches a labelled statement by the same rule on content spans, and is
right when its resolved speaker equals the label (case-insensitive). A speaker is "named" when
the last word of the labelled speaker is in the answer's first sentence (the text before "[1]").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from retrieval.labelled_sets import Ask, ask_each, first_sentence
from retrieval.schema import Answer, Citation

STATEMENTS_FILE = "statements.jsonl"
KINDS = ("said", "who_said", "outcome")


class LabelledSpan(Protocol):
    content_start: int
    content_end: int
    speaker: str


@dataclass
class Figure:
    """How many questions (or statements) passed one check, and the target it is held to."""

    label: str
    target: str = ""
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, ok: bool) -> None:
        self.passed += ok
        self.total += 1


@dataclass
class WhoSaidReport:
    figures: dict[str, list[Figure]] = field(default_factory=dict)
    statements_labelled: int = 0
    articles_missing: list[str] = field(default_factory=list)
    median_latency_ms: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)


def is_who_said_set(first_record: dict[str, Any]) -> bool:
    return first_record.get("kind") in KINDS


def evaluate_who_said(
    questions: Sequence[dict[str, Any]],
    ask: Ask,
    labelled_statements: Sequence[dict[str, Any]] = (),
    stored_statements: Callable[[str], Sequence[LabelledSpan] | None] | None = None,
) -> WhoSaidReport:
    """Ask every question; score the answers, and the stored statements against the labels.

    `stored_statements(article_id)` gives what the index holds for an article (None when the
    article is not in the index).
    """
    report = WhoSaidReport(figures=_new_figures())
    answered, report.median_latency_ms = ask_each(questions, ask, "as_of")
    for record, answer in answered:
        failed = _score(record, answer, report.figures[record["kind"]])
        if failed:
            report.failures.append(_failure(record, answer, failed))
    if labelled_statements and stored_statements is not None:
        report.figures["statements"], report.articles_missing = score_statements(
            labelled_statements, stored_statements
        )
        report.statements_labelled = len(labelled_statements)
    return report


def score_statements(
    labelled: Sequence[dict[str, Any]],
    stored: Callable[[str], Sequence[LabelledSpan] | None],
) -> tuple[list[Figure], list[str]]:
    """Speaker precision and recall of the stored statements on the labelled articles."""
    precision = Figure("speaker precision (right speaker / statements found)", ">= 0.92")
    recall = Figure("speaker recall (labelled statements found with their speaker)", ">= 0.80")
    missing = []
    for article_id, rows in _by_article(labelled).items():
        predicted = stored(article_id)
        if predicted is None:
            missing.append(article_id)
            continue
        for p in predicted:
            precision.add(any(_same_statement(p, row) for row in rows))
        for row in rows:
            recall.add(any(_same_statement(p, row) for p in predicted))
    return [precision, recall], missing


def hits(citation: Citation, spans: Iterable[dict[str, Any]]) -> bool:
    """Whether the citation covers at least half of one of the labelled spans."""
    for span in spans:
        if span["article_id"] != citation.article_id:
            continue
        start, end = span["content_start"], span["content_end"]
        shared = min(citation.end, end) - max(citation.start, start)
        if shared > 0 and shared * 2 >= end - start:
            return True
    return False


def names(answer: Answer, speaker: str) -> bool:
    surname = speaker.split()[-1].strip("()[]\"'.,").lower()
    return surname in first_sentence(answer.answer).lower()


def _same_statement(predicted: LabelledSpan, row: dict[str, Any]) -> bool:
    shared = min(predicted.content_end, row["content_end"]) - max(
        predicted.content_start, row["content_start"]
    )
    covers = shared * 2 >= row["content_end"] - row["content_start"]
    return covers and predicted.speaker.lower() == row["speaker"].lower()


def _by_article(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["article_id"], []).append(row)
    return grouped


def _new_figures() -> dict[str, list[Figure]]:
    return {
        "said": [
            Figure("first citation is a gold statement by the person", ">= 0.85"),
            Figure("any of the first five citations is gold", ">= 0.95"),
            Figure("first citation is someone else's statement (trap)", "<= 0.05"),
            Figure("person named in the answer's first sentence", ">= 0.95"),
            Figure("abstained"),
        ],
        "who_said": [Figure("right speaker named in the first sentence", ">= 0.85")],
        "outcome": [
            Figure("answer contains the outcome", ">= 0.85"),
            Figure("first citation dated on or after the outcome", ">= 0.90"),
            Figure("first citation is a preview"),
        ],
    }


def _score(record: dict[str, Any], answer: Answer, figures: list[Figure]) -> list[str]:
    """Add the answer's checks to `figures`; the names of the checks it failed."""
    cited = answer.citations
    first = cited[0] if cited else None
    if record["kind"] == "said":
        checks = [
            bool(first) and hits(first, record["gold"]),
            any(hits(c, record["gold"]) for c in cited[:5]),
            bool(first) and hits(first, record["traps"]),
            names(answer, record["speaker"]),
            answer.abstained,
        ]
        bad = [False, False, True, False, True]
    elif record["kind"] == "who_said":
        checks, bad = [names(answer, record["speaker"])], [False]
    else:
        checks = [
            record["answer"].lower() in answer.answer.lower(),
            bool(first and first.date and first.date >= record["outcome_date"]),
            bool(first and first.article_id in record["previews"]),
        ]
        bad = [False, False, True]
    for figure, ok in zip(figures, checks, strict=True):
        figure.add(ok)
    return [f.label for f, ok, wrong in zip(figures, checks, bad, strict=True) if ok == wrong]


def _failure(record: dict[str, Any], answer: Answer, failed: list[str]) -> dict[str, Any]:
    first = answer.citations[0] if answer.citations else None
    return {
        "question": record["question"],
        "kind": record["kind"],
        "failed": failed,
        "answer": first_sentence(answer.answer),
        "first_citation": f"{first.source} {first.date} {first.article_id}" if first else None,
    }


def report_text(report: WhoSaidReport, show_failures: int = 0) -> str:
    lines = []
    titles = {
        "said": "What did X say about Y",
        "who_said": "Who said …",
        "outcome": "What happened (as of a date after it)",
        "statements": f"Statement extraction ({report.statements_labelled} labelled statements)",
    }
    for kind, figures in report.figures.items():
        total = figures[0].total if figures else 0
        unit = "predictions/labels" if kind == "statements" else "questions"
        lines.append(f"{titles[kind]} ({total} {unit})" if kind != "statements" else titles[kind])
        for figure in figures:
            target = f"target {figure.target}" if figure.target else ""
            lines.append(
                f"  {figure.label:<62} {figure.passed:>4}/{figure.total:<4} {figure.rate:6.3f}"
                f"   {target}".rstrip()
            )
    if report.articles_missing:
        lines.append(
            f"  ({len(report.articles_missing)} labelled articles are not in this index: "
            "build it from the development corpus)"
        )
    lines.append(f"Median ask latency: {report.median_latency_ms:.1f} ms")
    for failure in report.failures[:show_failures]:
        lines += [
            f"- {failure['question']}  [{', '.join(failure['failed'])}]",
            f"    {failure['answer'][:200]}  ({failure['first_citation']})",
        ]
    return "\n".join(lines)
