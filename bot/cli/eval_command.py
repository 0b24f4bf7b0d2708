"""`newsdesk eval`: score the index and the answers against a questions file.

Separate from app.py because it owns more than a command: telling a quiz set from the
labelled who-said and unanswerable sets, running each one's evaluation, and the text report.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from gzip import BadGzipFile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.support import (
    IndexDirOption,
    JsonOption,
    ModelOption,
    fail,
    friendly_errors,
    load_service,
)
from bot.render import terminal_safe
from bot.service import NewsdeskService
from index.stored_statements import StoredStatement
from retrieval.schema import Answer

console = Console()


def evaluate_command(
    questions: Annotated[Path, typer.Argument(help="Questions file (.jsonl or .jsonl.gz).")],
    k: Annotated[str, typer.Option("--k", help="Cut-offs for recall, comma-separated.")] = "1,5,10",
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N questions.")] = None,
    as_json: JsonOption = False,
    index_dir: IndexDirOption = None,
    model: ModelOption = None,
) -> None:
    """Answer recall@k, MRR@10, answer-in-text, abstention (and why) and latency, with
    BM25-only and dense-only baselines over the same index. Given the who-said-what set
    (tests/data/who_said/questions.jsonl) or the unanswerable set
    (tests/data/unanswerable/questions.jsonl), their own figures instead."""
    from retrieval.evaluate import evaluate, load_questions

    try:
        ks = tuple(sorted({int(part) for part in k.split(",") if part.strip()}))
    except ValueError:
        fail(f"--k takes numbers like 1,5,10, not {k!r}.")
    if not questions.is_file():
        fail(f"no questions file at {questions}.")
    kind = _labelled_set_kind(questions)
    if kind == "who_said":
        _evaluate_who_said(questions, limit, as_json, load_service(index_dir, model))
        return
    if kind == "unanswerable":
        _evaluate_abstention(questions, limit, as_json, load_service(index_dir, model))
        return
    with friendly_errors():
        try:
            items = list(load_questions(questions))[:limit]
        except (ValueError, LookupError, TypeError, AttributeError, EOFError, BadGzipFile) as error:
            fail(
                f"{questions} is not a questions file ({_reason(error)}); each line must be a "
                'JSON object with "question" and "answer".'
            )
    if not items:
        fail(f"no questions to evaluate in {questions}.")
    service = load_service(index_dir, model)
    with friendly_errors():
        report = evaluate(
            items,
            service.retriever,
            lambda q: service.ask(q.question, session_id=f"eval:{id(q)}", as_of=q.as_of),
            ks,
        )
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
        return
    console.print(_eval_text(report), highlight=False)


def _labelled_set_kind(path: Path) -> str | None:
    """ "who_said" or "unanswerable" for the repo's labelled sets (their questions have a
    "kind"), None for a quiz set of questions and answers."""
    from retrieval.abstention_eval import is_unanswerable_set
    from retrieval.who_said_eval import is_who_said_set

    try:
        with path.open(encoding="utf-8") as lines:
            first = json.loads(next((line for line in lines if line.strip()), "{}"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # a gzipped or broken file: the quiz-set reader says what is wrong
    if not isinstance(first, dict):
        return None
    if is_who_said_set(first):
        return "who_said"
    return "unanswerable" if is_unanswerable_set(first) else None


def _ask_afresh(service: NewsdeskService) -> Callable[[str, date | None], Answer]:
    """Ask each question in a conversation of its own, as of the given day."""
    return lambda question, as_of: service.ask(
        question, session_id=f"eval:{uuid.uuid4().hex}", as_of=as_of
    )


def _evaluate_abstention(
    path: Path, limit: int | None, as_json: bool, service: NewsdeskService
) -> None:
    """The unanswerable set: how often each kind of question gets an abstention, and why."""
    from retrieval.abstention_eval import evaluate_abstention, report_text
    from retrieval.labelled_sets import load_records

    records = load_records(path)[:limit]
    with friendly_errors():
        report = evaluate_abstention(records, _ask_afresh(service))
    if as_json:
        typer.echo(json.dumps(asdict(report) | {"rate": report.rate}, indent=2))
        return
    console.print(terminal_safe(report_text(report)), highlight=False, markup=False, soft_wrap=True)


def _evaluate_who_said(
    path: Path, limit: int | None, as_json: bool, service: NewsdeskService
) -> None:
    """The who-said-what set: questions asked as of their dates, and, when its labelled
    statements lie beside it, the stored statements scored against them."""
    from retrieval.labelled_sets import load_records
    from retrieval.who_said_eval import STATEMENTS_FILE, evaluate_who_said, report_text

    records = load_records(path)[:limit]
    labelled_path = path.parent / STATEMENTS_FILE
    labelled = load_records(labelled_path) if labelled_path.is_file() else []
    reader = service.retriever.reader

    def stored(article_id: str) -> list[StoredStatement] | None:
        return reader.statements_in(article_id) if reader.article(article_id) else None

    with friendly_errors():
        report = evaluate_who_said(records, _ask_afresh(service), labelled, stored)
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
        return
    console.print(terminal_safe(report_text(report)), highlight=False, markup=False, soft_wrap=True)


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"a line has no {error.args[0]!r}"
    return str(error).split("\n")[0] or type(error).__name__


def _eval_text(report: object) -> str:
    lines = [
        f"Questions {report.questions}; answerable (answer_in_results) {report.answerable}; "
        f"strict {report.strict}",
        f"{'mode':<8} "
        + " ".join(f"R@{k:<5}" for k in report.modes["hybrid"].recall)
        + " MRR@10  (strict "
        + " ".join(f"R@{k}" for k in report.modes["hybrid"].recall)
        + ")",
    ]
    for mode, metrics in report.modes.items():
        recall = " ".join(f"{value:<7.3f}" for value in metrics.recall.values())
        strict = " ".join(f"{value:.3f}" for value in metrics.strict_recall.values())
        lines.append(f"{mode:<8} {recall} {metrics.mrr_at_10:.3f}   ({strict})")
    lines += [
        f"Answer string in composed answer: {report.answer_in_text:.3f} of answerable",
        f"Abstained: {report.abstention_rate:.3f} of all, "
        f"{report.abstention_rate_answerable:.3f} of answerable"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in report.abstain_reasons.items()) + ")"
            if report.abstain_reasons
            else ""
        ),
        f"Latency per question: median {report.median_latency_ms:.1f} ms, "
        f"p95 {report.p95_latency_ms:.1f} ms",
    ]
    return "\n".join(lines)
