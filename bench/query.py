"""Question latency after the model has loaded: `service.ask` over the development questions.

Usage: .venv/bin/python bench/query.py [--index-dir .newsdesk/dev-index] [--questions N]

Build the index first (`bench/index_build.py --index-dir .newsdesk/dev-index` or
`newsdesk index build`). Prints p50/p95/max of the whole answer pipeline, and of its parts:
query encoding, hybrid search, answer composition. Skips when the dev set is absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from retrieval.evaluate import load_questions  # noqa: E402

DEV_QUESTIONS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"


def summary(name: str, millis: list[float]) -> str:
    ordered = sorted(millis)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name:<22} p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {ordered[-1]:6.1f} ms"
    )


def timed(call, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=REPO / ".newsdesk" / "dev-index")
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    if not DEV_QUESTIONS.exists():
        print(f"skipped: development questions not found at {DEV_QUESTIONS}")
        return 0
    service = NewsdeskService.from_settings(Settings(_env_file=None, index_dir=args.index_dir))
    questions = [q.question for q in load_questions(DEV_QUESTIONS)][: args.questions]
    summary_ = service.summary()
    print(f"index: {summary_.articles} articles, {summary_.chunks} chunks; "
          f"{len(questions)} questions; {service.embedder.threads} threads")  # fmt: skip
    for question in questions[:10]:
        service.ask(question)

    encode, search, ask = [], [], []
    for question in questions:
        encode.append(timed(service.embedder.encode_query, question)[1])
        search.append(timed(service.search, question, k=5)[1])
        ask.append(timed(service.ask, question)[1])
    print(summary("ask (whole pipeline)", ask))
    print(summary("  encode question", encode))
    print(summary("  search (hybrid)", search))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
