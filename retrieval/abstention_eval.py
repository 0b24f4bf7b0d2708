"""A set of questions the archive cannot answer → how often newsdesk abstains, and why.

The set (tests/data/unanswerable/questions.jsonl, see its README) holds general-knowledge
questions, questions about events after the archive, and invented claims about people the
archive quotes ("What did Zelensky say about the price of Norwegian salmon?"), each with the
day it is asked. Every question is asked in a fresh conversation as of that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.labelled_sets import Ask, ask_each, first_sentence

KINDS = ("general_knowledge", "after_archive", "invented_claim")


@dataclass
class AbstentionReport:
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [abstained, asked]
    abstain_reasons: dict[str, int] = field(default_factory=dict)
    answered: list[dict[str, str]] = field(default_factory=list)  # what it should not have said
    median_latency_ms: float = 0.0

    @property
    def rate(self) -> float:
        abstained = sum(a for a, _ in self.by_kind.values())
        asked = sum(n for _, n in self.by_kind.values())
        return abstained / asked if asked else 0.0


def is_unanswerable_set(first_record: dict[str, Any]) -> bool:
    return first_record.get("kind") in KINDS


def evaluate_abstention(questions: Sequence[dict[str, Any]], ask: Ask) -> AbstentionReport:
    report = AbstentionReport(by_kind={kind: [0, 0] for kind in KINDS})
    reasons: Counter[str] = Counter()
    answered, report.median_latency_ms = ask_each(questions, ask, "date")
    for record, answer in answered:
        tally = report.by_kind.setdefault(record["kind"], [0, 0])
        tally[0] += answer.abstained
        tally[1] += 1
        if answer.abstained:
            reasons[answer.abstain_reason or "unknown"] += 1
        else:
            report.answered.append({"kind": record["kind"], "question": record["question"],
                                    "answer": first_sentence(answer.answer)[:200]})  # fmt: skip
    report.abstain_reasons = dict(reasons.most_common())
    return report


def report_text(report: AbstentionReport) -> str:
    lines = [f"Unanswerable questions: abstained {report.rate:.3f}   (target >= 0.90)"]
    for kind, (abstained, asked) in report.by_kind.items():
        rate = abstained / asked if asked else 0.0
        lines.append(f"  {kind:<20} {abstained:>4}/{asked:<4} {rate:6.3f}")
    reasons = ", ".join(f"{name} {count}" for name, count in report.abstain_reasons.items())
    lines.append(f"Reasons: {reasons or '—'}")
    lines.append(f"Median ask latency: {report.median_latency_ms:.1f} ms")
    return "\n".join(lines)
