"""Question sets → retrieval and answer metrics (answer recall@k, MRR@10, answer-in-text).

The question format is the development set's: `question`, `answer`, `date`,
`answer_in_results` (only those count for recall), `strict`.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from retrieval.schema import Answer
from retrieval.search import Passage, Retriever, SearchTuning

PASSAGE_WORDS = 200
QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class Question:
    question: str
    answer: str
    as_of: date | None = None
    answerable: bool = True
    strict: bool = False


@dataclass
class ModeMetrics:
    recall: dict[int, float] = field(default_factory=dict)
    strict_recall: dict[int, float] = field(default_factory=dict)
    mrr_at_10: float = 0.0


@dataclass
class EvaluationReport:
    questions: int
    answerable: int
    strict: int
    modes: dict[str, ModeMetrics]
    answer_in_text: float
    abstention_rate: float
    abstention_rate_answerable: float
    median_latency_ms: float
    p95_latency_ms: float
    abstain_reasons: dict[str, int] = field(default_factory=dict)


def load_questions(path: Path) -> Iterator[Question]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                as_of = date.fromisoformat(row["date"]) if row.get("date") else None
                yield Question(
                    question=row["question"],
                    answer=row["answer"],
                    as_of=as_of,
                    answerable=bool(row.get("answer_in_results", True)),
                    strict=bool(row.get("strict", False)),
                )


def answer_pattern(answer: str) -> re.Pattern[str]:
    """The answer string, case-insensitive, on word boundaries, quotes stripped."""
    core = answer.strip().strip(QUOTES).strip()
    return re.compile(rf"(?<!\w){re.escape(core)}(?!\w)", re.IGNORECASE)


def first_hit(pattern: re.Pattern[str], passages: list[Passage]) -> int | None:
    """1-based rank of the first passage (cut to its first 200 words) holding the answer."""
    for rank, passage in enumerate(passages, start=1):
        if pattern.search(" ".join(passage.text.split()[:PASSAGE_WORDS])):
            return rank
    return None


def evaluate(
    questions: list[Question],
    retriever: Retriever,
    answer: Callable[[Question], Answer],
    ks: tuple[int, ...] = (1, 5, 10),
    modes: tuple[str, ...] = ("hybrid", "lexical", "dense"),
) -> EvaluationReport:
    """Recall@k and MRR@10 per retrieval mode; answer metrics and latency for the full pipeline."""
    answerable = [q for q in questions if q.answerable]
    strict = [q for q in answerable if q.strict]
    depth = max(max(ks), 10)
    metrics = {}
    for mode in modes:
        tuning = replace(retriever.tuning, mode=mode)
        if mode != "hybrid":  # the baselines are plain BM25 and plain dense search
            tuning = replace(tuning, recency_boost=0.0)
        ranks = [
            first_hit(answer_pattern(q.answer), _search(retriever, q, depth, tuning))
            for q in answerable
        ]
        strict_ranks = [rank for rank, q in zip(ranks, answerable, strict=True) if q.strict]
        metrics[mode] = ModeMetrics(
            recall={k: _recall(ranks, k) for k in ks},
            strict_recall={k: _recall(strict_ranks, k) for k in ks},
            mrr_at_10=_mean([1 / r if _within(r, 10) else 0.0 for r in ranks]),
        )
    latencies, in_text, abstained, abstained_answerable = [], 0, 0, 0
    reasons: Counter[str] = Counter()
    for q in questions:
        started = time.perf_counter()
        result = answer(q)
        latencies.append((time.perf_counter() - started) * 1000)
        abstained += result.abstained
        reasons.update([result.abstain_reason] if result.abstain_reason else [])
        if q.answerable:
            abstained_answerable += result.abstained
            in_text += bool(answer_pattern(q.answer).search(result.answer))
    return EvaluationReport(
        questions=len(questions),
        answerable=len(answerable),
        strict=len(strict),
        modes=metrics,
        answer_in_text=in_text / max(1, len(answerable)),
        abstention_rate=abstained / max(1, len(questions)),
        abstention_rate_answerable=abstained_answerable / max(1, len(answerable)),
        median_latency_ms=statistics.median(latencies) if latencies else 0.0,
        p95_latency_ms=_percentile(latencies, 95),
        abstain_reasons=dict(reasons.most_common()),
    )


def _search(retriever: Retriever, q: Question, depth: int, tuning: SearchTuning) -> list[Passage]:
    return retriever.search(q.question, depth, as_of=q.as_of, tuning=tuning)


def _within(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def _recall(ranks: list[int | None], k: int) -> float:
    return _mean([float(_within(rank, k)) for rank in ranks])


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]
