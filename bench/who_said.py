"""Today's answers on the hand-labelled "who said what" questions, scored against their labels.

Usage: .venv/bin/python bench/who_said.py [--index-dir DIR] [--questions PATH] [--show N]

Asks every question of tests/data/who_said/questions.jsonl through `NewsdeskService.ask`, each
in a fresh conversation and at its `as_of` date, so the figures are what a user gets now. The
index must be built from the development corpus the labels point into (offsets are only
meaningful there); `--index-dir` defaults to the settings (NEWSDESK_INDEX_DIR).

A citation "hits" a labelled span when they share the article and overlap by at least half of
the labelled span (the rule bench/statements.py uses). A speaker is "named" when the last word
of the labelled speaker (case-insensitive, outer punctuation stripped) appears in the answer's
first sentence, taken as the text before its first "[1]" (the whole answer when there is none).
Abstentions count as misses everywhere except the abstention line. `--show N` prints the first
N failures of each kind so they can be read next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.errors import NewsdeskError  # noqa: E402
from retrieval.schema import Answer, Citation  # noqa: E402

QUESTIONS = REPO / "tests" / "data" / "who_said" / "questions.jsonl"


@dataclass
class Tally:
    """One figure: how many questions passed a check, with the target it is held to."""

    label: str
    target: str
    passed: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.passed += ok
        self.total += 1

    def line(self) -> str:
        rate = self.passed / self.total if self.total else 0.0
        figure = f"{self.passed:>3}/{self.total:<3} {rate:5.2f}"
        return f"  {self.label:<48} {figure}   {self.target}".rstrip()


@dataclass
class Failure:
    """What a developer needs to see to judge a miss: the question, the lead, the first source."""

    question: str
    expected: str
    failed: list[str]
    answer: Answer

    def lines(self) -> list[str]:
        first = self.answer.citations[0] if self.answer.citations else None
        source = f"{first.source or '?'} {first.date or '?'} {first.article_id}" if first else "-"
        lead = "(abstained) " if self.answer.abstained else ""
        return [
            f"  Q: {self.question}",
            f"     expected: {self.expected}; failed: {', '.join(self.failed)}",
            f"     A: {lead}{first_sentence(self.answer.answer)}",
            f"     [1]: {source}",
        ]


@dataclass
class Kind:
    tallies: dict[str, Tally]
    failures: list[Failure] = field(default_factory=list)


def first_sentence(text: str) -> str:
    """The answer's lead: everything before the first citation marker, where the claim sits."""
    return text.split("[1]", 1)[0].strip()


def surname(speaker: str) -> str:
    return speaker.split()[-1].strip("()[]\"'.,").lower()


def names(answer: Answer, speaker: str) -> bool:
    return surname(speaker) in first_sentence(answer.answer).lower()


def hits(citation: Citation, spans: Sequence[dict[str, Any]]) -> bool:
    """Whether the citation covers at least half of any of the labelled spans."""
    for span in spans:
        if span["article_id"] != citation.article_id:
            continue
        start, end = span["content_start"], span["content_end"]
        overlap = min(citation.end, end) - max(citation.start, start)
        if overlap > 0 and overlap * 2 >= end - start:
            return True
    return False


def score_said(record: dict[str, Any], answer: Answer, kind: Kind) -> list[str]:
    cited = answer.citations
    checks = {
        "first": bool(cited) and hits(cited[0], record["gold"]),
        "top5": any(hits(c, record["gold"]) for c in cited[:5]),
        "trap": bool(cited) and hits(cited[0], record["traps"]),
        "named": names(answer, record["speaker"]),
        "abstained": answer.abstained,
    }
    for name, ok in checks.items():
        kind.tallies[name].add(ok)
    bad = {"first": False, "top5": False, "trap": True, "named": False, "abstained": True}
    return [name for name, ok in checks.items() if ok == bad[name]]


def score_who_said(record: dict[str, Any], answer: Answer, kind: Kind) -> list[str]:
    ok = names(answer, record["speaker"])
    kind.tallies["named"].add(ok)
    return [] if ok else ["named"]


def score_outcome(record: dict[str, Any], answer: Answer, kind: Kind) -> list[str]:
    first = answer.citations[0] if answer.citations else None
    checks = {
        "answer": record["answer"].lower() in answer.answer.lower(),
        "dated": bool(first and first.date and first.date >= record["outcome_date"]),
        "preview": bool(first and first.article_id in record["previews"]),
    }
    for name, ok in checks.items():
        kind.tallies[name].add(ok)
    bad = {"answer": False, "dated": False, "preview": True}
    return [name for name, ok in checks.items() if ok == bad[name]]


def expected(record: dict[str, Any]) -> str:
    if record["kind"] == "outcome":
        return f"{record['answer']!r} on or after {record['outcome_date']}"
    return f"{record['speaker']} ({len(record['gold'])} gold spans)"


SCORERS: dict[str, Callable[[dict[str, Any], Answer, Kind], list[str]]] = {
    "said": score_said,
    "who_said": score_who_said,
    "outcome": score_outcome,
}


def new_kinds() -> dict[str, Kind]:
    return {
        "said": Kind({
            "first": Tally("first citation hits a gold span", "target >= 0.85"),
            "top5": Tally("any of the first five citations hits gold", "target >= 0.95"),
            "trap": Tally("first citation hits a trap", "target <= 0.05"),
            "named": Tally("speaker's surname in the first sentence", "target >= 0.95"),
            "abstained": Tally("abstained", ""),
        }),
        "who_said": Kind({
            "named": Tally("right speaker's surname in the first sentence", "target >= 0.85"),
        }),
        "outcome": Kind({
            "answer": Tally("answer text contains the outcome", "target >= 0.85"),
            "dated": Tally("first citation dated on/after the outcome", "target >= 0.90"),
            "preview": Tally("first citation is a preview article", ""),
        }),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None, help="default: the settings")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--show", type=int, default=0, help="failures to print per kind")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    try:
        service = NewsdeskService.from_settings(settings)
        summary = service.summary()
    except NewsdeskError as error:
        print(f"error: {error}")
        return 1
    print(f"index: {settings.index_dir} ({summary.articles} articles, {summary.chunks} chunks)")
    service.ask(records[0]["question"])  # first call pays for lazy loading; keep it out

    kinds = new_kinds()
    latencies: list[float] = []
    for record in records:
        as_of = date.fromisoformat(record["as_of"]) if record.get("as_of") else None
        started = time.perf_counter()
        answer = service.ask(record["question"], session_id=uuid.uuid4().hex, as_of=as_of)
        latencies.append((time.perf_counter() - started) * 1000)
        kind = kinds[record["kind"]]
        failed = SCORERS[record["kind"]](record, answer, kind)
        if failed:
            kind.failures.append(Failure(record["question"], expected(record), failed, answer))

    for name, kind in kinds.items():
        total = next(iter(kind.tallies.values())).total
        print(f"{name} ({total} questions)")
        for tally in kind.tallies.values():
            print(tally.line())
    print(f"median ask latency: {statistics.median(latencies):.1f} ms over {len(latencies)}")
    if args.show:
        for name, kind in kinds.items():
            shown = kind.failures[: args.show]
            print(f"\n{name}: first {len(shown)} of {len(kind.failures)} failures")
            for failure in shown:
                print("\n".join(failure.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
