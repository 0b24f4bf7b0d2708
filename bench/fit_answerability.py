"""Fit the answerability check's weights on labelled questions and write them to the repo.

Usage: .venv/bin/python bench/fit_answerability.py --index-dir DIR [--target 0.03] [--dry-run]

DIR must be an index of the development corpus (../shared/data/realtimeqa-2022). Answerable:
its quiz questions whose answer occurs in the articles (`answer_in_results`). Unanswerable:
tests/data/unanswerable/questions.jsonl (general knowledge, after the archive, invented
claims). A small archive behaves differently (lower cosines, fewer passages that agree), so
the script also builds an index of corpus/ plus tests/data/newsroom (eight articles, as the
tests do) and adds its seed questions (answerable) and off-topic questions (unanswerable); the
threshold stays below the seed questions there and over corpus/ alone, and below the questions
the tests ask of the newsroom (`NEWSROOM_ASKED`).
Each question is asked of the service as `newsdesk ask` would ask it (as of its date, the
check off), and the evidence the check weighs is read off the passages the service hands
`compose_answer` (`retrieval.answer.answer_evidence`). Questions the check never decides are
left out: those answered another way (from statements, as a timeline), those refused by rule
for naming a year after the archive, and those with no candidate sentence.

A logistic model is fitted (gradient descent, a little L2), and its threshold set so that at
most `--target` of the answerable development questions, and none of the seed questions, fall
below it. It prints the figures on all the data and with 5-fold cross-validation (each fold
scored by a model fitted on the other four, at the threshold chosen on those four), by kind of
unanswerable question, then writes retrieval/answerability.json (unless --dry-run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bot.answering as answering_module  # noqa: E402
from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.build import build_index  # noqa: E402
from retrieval.answer import answer_evidence  # noqa: E402
from retrieval.answerability import WEIGHTS, Evidence, after_archive  # noqa: E402
from retrieval.schema import Answer  # noqa: E402
from retrieval.search import Passage  # noqa: E402

QUIZ = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"
UNANSWERABLE = REPO / "tests" / "data" / "unanswerable" / "questions.jsonl"
NAMES = [f.name for f in fields(Evidence)]
DATA = REPO / "tests" / "data"


def lines(name: str) -> list[str]:
    text = (DATA / name).read_text().splitlines()
    return [line.split(" | ")[0] for line in text if line.strip() and not line.startswith("#")]


# Questions the tests ask of the newsroom index and expect answered (conversation turns as
# rewritten): the threshold stays below all of them, as below the seed questions.
NEWSROOM_ASKED = (
    "How many people were killed in the Hamas attack on Oct. 7?",
    "Who did Blinken meet with in Israel?",
    "Why did the Federal Reserve keep interest rates unchanged?",
    "How many bodies were recovered in Derna?",
    "Who became world chess champion?",
    "What did Arab ministers ask Blinken for in Amman?",
    "Why did oil prices fall?",
    "Who did Blinken meet with?",
    "Who did Ding Liren beat?",
)


def newsroom_questions() -> list[tuple[str, date | None, int]]:
    seed = [(q, None, 1) for q in lines("seed_questions.txt")]
    return seed + [(q, None, 0) for q in lines("off_topic_questions.txt")]


def labelled_questions() -> tuple[list[tuple[str, date | None, int]], list[str]]:
    """(question, as of, 1 answerable / 0 not), and each one's kind ("quiz" or the
    unanswerable set's kind)."""
    rows, kinds = [], []
    with gzip.open(QUIZ, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("answer_in_results"):
                rows.append((record["question"], date.fromisoformat(record["date"]), 1))
                kinds.append("quiz")
    for line in UNANSWERABLE.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            rows.append((record["question"], date.fromisoformat(record["date"]), 0))
            kinds.append(record["kind"])
    return rows, kinds


class ComposeRecorder:
    """What the service hands `compose_answer` while it answers: the passages (and their
    ranks) the answerability check decides on, after any outcome search; no call when another
    path answered (a statement, a timeline) or the question was refused before."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __enter__(self) -> ComposeRecorder:
        self.original = answering_module.compose_answer

        def recording(query: str, passages: list[Passage], *args: Any, **kwargs: Any) -> Answer:
            self.calls.append({"query": query, "passages": list(passages), **kwargs})
            return self.original(query, passages, *args, **kwargs)

        answering_module.compose_answer = recording
        return self

    def __exit__(self, *exc: object) -> None:
        answering_module.compose_answer = self.original


def features(service: NewsdeskService, rows: list[tuple[str, date | None, int]]) -> np.ndarray:
    """Each question's evidence as the service's check would weigh it (asked with the check
    off, so every path runs as it would); NaN for a question the check never decides."""
    service.answer_tuning = replace(service.answer_tuning, check_answerability=False)
    lexical, summary = service.retriever.reader.lexical, service.summary()
    out = []
    with ComposeRecorder() as recorder:
        for question, as_of, _ in rows:
            recorder.calls.clear()
            service.ask(question, session_id=f"fit:{uuid.uuid4().hex}", as_of=as_of)
            call = recorder.calls[-1] if recorder.calls else None
            evidence = None
            if call is not None and not after_archive(call["query"], summary, call["as_of"]):
                evidence = answer_evidence(call["query"], call["passages"], lexical,
                                           service.answer_tuning, call["as_of"],
                                           call.get("ranks"))  # fmt: skip
            out.append(evidence.vector() if evidence else [np.nan] * len(NAMES))
    return np.asarray(out, dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 4000) -> np.ndarray:
    """Logistic regression by gradient descent; returns [bias, weights…]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    theta = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) / len(y) + l2 * np.r_[0, theta[1:]]
        theta -= 1.0 * gradient
    return theta


def probabilities(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(theta[0] + x @ theta[1:])))


def threshold_for(p: np.ndarray, y: np.ndarray, target: float) -> float:
    """The highest threshold at which at most `target` of the answerable fall below it."""
    answerable = np.sort(p[y == 1])
    allowed = int(np.floor(target * len(answerable)))
    return float(answerable[allowed]) if allowed < len(answerable) else 0.0


def operating_point(
    p: np.ndarray, y: np.ndarray, quiz: np.ndarray, guarded: np.ndarray, target: float
) -> float:
    """The threshold: at most `target` of the answerable development questions below it, and
    every guarded question (`guarded`: their probabilities) above it."""
    threshold = threshold_for(p[quiz], y[quiz], target)
    return min(threshold, float(guarded.min()) - 0.01) if len(guarded) else threshold


def figures(p: np.ndarray, y: np.ndarray, threshold: float | np.ndarray, kinds: list[str]) -> str:
    """Abstention on each side at `threshold` (one per question in cross-validation)."""
    keep = p >= threshold
    by_kind = "  ".join(
        f"{kind} {int(np.sum(~keep[mask]))}/{int(np.sum(mask))}"
        for kind in dict.fromkeys(k for k in kinds if k != "quiz")
        if (mask := np.asarray([k == kind for k in kinds])).any()
    )
    answerable_abstain = float(np.mean(~keep[y == 1]))
    unanswerable_abstain = float(np.mean(~keep[y == 0]))
    return (
        f"answerable abstain {answerable_abstain:.3f} ({int(np.sum(~keep[y == 1]))}/"
        f"{int(np.sum(y == 1))}), unanswerable abstain {unanswerable_abstain:.3f} "
        f"({int(np.sum(~keep[y == 0]))}/{int(np.sum(y == 0))})\n    {by_kind}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--target", type=float, default=0.034)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if not QUIZ.is_file():
        print(f"skipped: no development set at {QUIZ}")
        return 0
    service = NewsdeskService.from_settings(Settings(index_dir=args.index_dir))
    rows, kinds = labelled_questions()
    x = features(service, rows)
    seed_rows = [(q, None, 1) for q in lines("seed_questions.txt")]
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder)
        shutil.copytree(REPO / "corpus", small / "corpus")
        shutil.copytree(DATA / "newsroom", small / "corpus" / "newsroom")
        build_index(small / "corpus", small / "index", service.embedder)
        build_index(REPO / "corpus", small / "seed-index", service.embedder)
        newsroom = NewsdeskService(Settings(index_dir=small / "index"), service.embedder)
        seed_only = NewsdeskService(Settings(index_dir=small / "seed-index"), service.embedder)
        small_rows = newsroom_questions()
        x = np.vstack([x, features(newsroom, small_rows)])
        guards = np.vstack([
            features(seed_only, seed_rows),
            features(newsroom, [(q, None, 1) for q in NEWSROOM_ASKED]),
        ])  # fmt: skip
    guards = guards[~np.isnan(guards).any(axis=1)]
    seeds = np.r_[np.zeros(len(rows), bool), [label == 1 for _, _, label in small_rows]]
    rows += small_rows
    kinds += ["seed" if label else "off_topic" for _, _, label in small_rows]
    y = np.asarray([label for _, _, label in rows], dtype=np.float64)
    decided = ~np.isnan(x).any(axis=1)  # the others are answered or refused another way
    x, y, seeds = x[decided], y[decided], seeds[decided]
    kinds = [kind for kind, keep in zip(kinds, decided, strict=True) if keep]
    print(f"{int(y.sum())} answerable, {int(len(y) - y.sum())} unanswerable questions")

    rng = np.random.default_rng(7)
    folds = rng.permutation(len(y)) % 5
    quiz = np.asarray([k == "quiz" for k in kinds])
    held_out_p, held_out_threshold = np.zeros(len(y)), np.zeros(len(y))
    for fold in range(5):
        train = folds != fold
        theta = fit(x[train], y[train])
        train_p = probabilities(theta, x[train])
        held_out_p[~train] = probabilities(theta, x[~train])
        guarded = np.r_[train_p[seeds[train]], probabilities(theta, guards)]
        held_out_threshold[~train] = operating_point(
            train_p, y[train], quiz[train], guarded, args.target
        )
    theta = fit(x, y)
    p = probabilities(theta, x)
    guarded = np.r_[p[seeds], probabilities(theta, guards)]
    threshold = operating_point(p, y, quiz, guarded, args.target)
    print(f"all data:         {figures(p, y, threshold, kinds)}   (threshold {threshold:.3f})")
    print(f"5-fold held out:  {figures(held_out_p, y, held_out_threshold, kinds)}")
    for name, weight in zip(["bias", *NAMES], theta, strict=True):
        print(f"  {name:<18} {weight:+.3f}")
    if not args.dry_run:
        data = {
            "weights": dict(zip(NAMES, map(float, theta[1:]), strict=True)),
            "bias": float(theta[0]),
            "threshold": threshold,
            "fitted_on": {"answerable": int(y.sum()), "unanswerable": int(len(y) - y.sum())},
            "fitted_by": "bench/fit_answerability.py",
        }
        WEIGHTS.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {WEIGHTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
