"""Fit the answerability check's weights on labelled questions and write them to the repo.

Usage: .venv/bin/python bench/fit_answerability.py --index-dir DIR [--target 0.03] [--dry-run]

DIR must be an index of the development corpus (../shared/data/realtimeqa-2022). Answerable:
its quiz questions whose answer occurs in the articles (`answer_in_results`). Unanswerable:
tests/data/unanswerable/questions.jsonl (general knowledge, after the archive, invented
claims). A small archive behaves differently (lower cosines, fewer passages that agree), so
the script also builds an index of corpus/ plus tests/data/newsroom (eight articles, as the
tests do) and adds its seed questions (answerable) and off-topic questions (unanswerable).
Each question is searched as `newsdesk ask` would (top 5 passages, as of its date), and the
evidence the check weighs is read off the best sentence (`retrieval.answer.answer_evidence`).

A logistic model is fitted (gradient descent, a little L2), and its threshold set so that at
most `--target` of the answerable development questions, and none of the seed questions, fall
below it. It prints the figures on all the data and with 5-fold cross-validation (each fold
scored by a model fitted on the other four), then writes retrieval/answerability.json (unless
--dry-run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
from dataclasses import fields
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.build import build_index  # noqa: E402
from retrieval.answer import answer_evidence  # noqa: E402
from retrieval.answerability import WEIGHTS, Evidence  # noqa: E402
from retrieval.search import SearchFilters  # noqa: E402

QUIZ = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"
UNANSWERABLE = REPO / "tests" / "data" / "unanswerable" / "questions.jsonl"
NAMES = [f.name for f in fields(Evidence)]
DATA = REPO / "tests" / "data"


def lines(name: str) -> list[str]:
    text = (DATA / name).read_text().splitlines()
    return [line.split(" | ")[0] for line in text if line.strip() and not line.startswith("#")]


def newsroom_questions() -> list[tuple[str, date | None, int]]:
    seed = [(q, None, 1) for q in lines("seed_questions.txt")]
    return seed + [(q, None, 0) for q in lines("off_topic_questions.txt")]


def labelled_questions() -> list[tuple[str, date | None, int]]:
    """(question, as of, 1 answerable / 0 not)."""
    rows = []
    with gzip.open(QUIZ, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("answer_in_results"):
                rows.append((record["question"], date.fromisoformat(record["date"]), 1))
    for line in UNANSWERABLE.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            rows.append((record["question"], date.fromisoformat(record["date"]), 0))
    return rows


def features(service: NewsdeskService, rows: list[tuple[str, date | None, int]]) -> np.ndarray:
    retriever = service.retriever
    out = []
    for question, as_of, _ in rows:
        passages = retriever.search(question, 5, SearchFilters(), as_of=as_of)
        lexical = retriever.reader.lexical
        evidence = answer_evidence(question, passages, lexical, service.answer_tuning, as_of)
        out.append(evidence.vector() if evidence else [0.0] * len(NAMES))
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


def figures(p: np.ndarray, y: np.ndarray, threshold: float) -> str:
    keep = p >= threshold
    answerable_abstain = float(np.mean(~keep[y == 1]))
    unanswerable_abstain = float(np.mean(~keep[y == 0]))
    return (
        f"answerable abstain {answerable_abstain:.3f} ({int(np.sum(~keep[y == 1]))}/"
        f"{int(np.sum(y == 1))}), unanswerable abstain {unanswerable_abstain:.3f} "
        f"({int(np.sum(~keep[y == 0]))}/{int(np.sum(y == 0))})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--target", type=float, default=0.03)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if not QUIZ.is_file():
        print(f"skipped: no development set at {QUIZ}")
        return 0
    service = NewsdeskService.from_settings(Settings(index_dir=args.index_dir))
    rows = labelled_questions()
    x = features(service, rows)
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder)
        shutil.copytree(REPO / "corpus", small / "corpus")
        shutil.copytree(DATA / "newsroom", small / "corpus" / "newsroom")
        build_index(small / "corpus", small / "index", service.embedder)
        newsroom = NewsdeskService(Settings(index_dir=small / "index"), service.embedder)
        small_rows = newsroom_questions()
        x = np.vstack([x, features(newsroom, small_rows)])
    seeds = np.r_[np.zeros(len(rows), bool), [label == 1 for _, _, label in small_rows]]
    rows += small_rows
    y = np.asarray([label for _, _, label in rows], dtype=np.float64)
    print(f"{int(y.sum())} answerable, {int(len(y) - y.sum())} unanswerable questions")

    rng = np.random.default_rng(7)
    folds = rng.permutation(len(y)) % 5
    held_out_p = np.zeros(len(y))
    for fold in range(5):
        train = folds != fold
        theta = fit(x[train], y[train])
        held_out_p[~train] = probabilities(theta, x[~train])
    theta = fit(x, y)
    p = probabilities(theta, x)
    threshold = min(threshold_for(p, y, args.target), float(p[seeds].min()) - 0.01)
    print(f"all data:         {figures(p, y, threshold)}   (threshold {threshold:.3f})")
    cv_threshold = threshold_for(held_out_p, y, args.target)
    print(f"5-fold held out:  {figures(held_out_p, y, cv_threshold)}")
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
